"""The exact decision boundary: marching squares on a grid, each vertex refined on the model.

The probability grid says which grid edges the level (0.5) crosses; each crossing becomes a
vertex found on the model itself, by a bracketed root search along its edge, so that the
model's probability there is within :data:`LEVEL_TOLERANCE` of the level. Vertices are joined
through the cells into polylines, closed ones repeating their first vertex, and thinned
(Douglas-Peucker) where the curve is straighter than a tenth of a grid cell.
"""

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.arrays import FloatArray
from core.figures.grid import PlaneGrid, PredictProba, probabilities_at
from core.network import DEFAULT_THRESHOLD

IdArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

LEVEL_TOLERANCE = 1e-6
"""Every vertex's probability lies within this of the level (see :func:`level_curves`)."""
REFINE_TOLERANCE = 1e-10
"""What the root search aims for: far inside :data:`LEVEL_TOLERANCE`."""
MAX_REFINE_STEPS = 100
SIMPLIFY_CELLS = 0.1
"""Vertices closer than this many grid cells to the chord that skips them are dropped."""
_SMALLEST_PROBABILITY = 1e-300
_LARGEST_PROBABILITY = 1.0 - 2.0**-53
_SMALLEST_BRACKET = 4 * float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class EdgeCrossings:
    """Segments across the level: ``starts`` and ``ends`` (v, 2), with the model's
    probabilities there, ``start_values`` and ``end_values`` (v,), on either side of it."""

    starts: FloatArray
    ends: FloatArray
    start_values: FloatArray
    end_values: FloatArray


def level_curves(
    predict_proba: PredictProba,
    grid: PlaneGrid,
    probabilities: FloatArray,
    level: float = DEFAULT_THRESHOLD,
    simplify_cells: float = SIMPLIFY_CELLS,
) -> list[FloatArray]:
    """The ``level`` set of ``predict_proba`` over ``grid`` as polylines, each of shape (k, 2).

    ``probabilities`` (ny, nx) are the model's values on the grid; a grid point is above the
    level when its probability exceeds it (the figures' rule for class 1). A saddle cell (two
    opposite corners above, two below) is resolved by the model's value at the cell's centre.
    A closed curve repeats its first vertex at its end; a curve that leaves the grid ends on
    its border. No crossing gives an empty list. Every vertex's probability is within
    :data:`LEVEL_TOLERANCE` of ``level`` unless the model jumps across the level between two
    adjacent floating-point numbers; then the vertex is the closer of those two.
    """
    above = probabilities > level
    horizontal = above[:, :-1] != above[:, 1:]  # (ny, nx - 1): edge (j, i) to (j, i + 1)
    vertical = above[:-1, :] != above[1:, :]  # (ny - 1, nx): edge (j, i) to (j + 1, i)
    n_horizontal = int(horizontal.sum())
    n_vertices = n_horizontal + int(vertical.sum())
    if n_vertices == 0:
        return []
    horizontal_id = np.full(horizontal.shape, -1, dtype=np.intp)
    horizontal_id[horizontal] = np.arange(n_horizontal)
    vertical_id = np.full(vertical.shape, -1, dtype=np.intp)
    vertical_id[vertical] = np.arange(n_horizontal, n_vertices)

    crossings = _crossed_edges(grid, probabilities, horizontal, vertical)
    vertices = refine_crossings(predict_proba, crossings, level)
    segments = _cell_segments(predict_proba, grid, above, (horizontal_id, vertical_id), level)
    curves = [vertices[path] for path in _join(segments, n_vertices)]
    if simplify_cells <= 0:
        return curves
    return _thinned(curves, grid, simplify_cells)


def _thinned(curves: list[FloatArray], grid: PlaneGrid, tolerance_cells: float) -> list[FloatArray]:
    """``curves`` without the vertices closer than ``tolerance_cells`` grid cells to the
    chord that skips them (distances measured in cells, so both axes count alike)."""
    lengths = [curve.shape[0] for curve in curves]
    chained = np.concatenate(curves)
    step = np.array([grid.xs[1] - grid.xs[0], grid.ys[1] - grid.ys[0]])
    keep = _douglas_peucker(chained / step, lengths, tolerance_cells)
    bounds = np.cumsum([0, *lengths])
    return [chained[start:end][keep[start:end]] for start, end in itertools.pairwise(bounds)]


def _crossed_edges(
    grid: PlaneGrid,
    probabilities: FloatArray,
    horizontal: NDArray[np.bool_],
    vertical: NDArray[np.bool_],
) -> EdgeCrossings:
    """Every crossed edge of the grid, with the probabilities at its ends.

    Horizontal edges come first, each kind in row-major order: the order of the vertex ids.
    """
    rows, columns = np.nonzero(horizontal)
    up_rows, up_columns = np.nonzero(vertical)
    starts = np.column_stack(
        [grid.xs[np.concatenate([columns, up_columns])], grid.ys[np.concatenate([rows, up_rows])]]
    )
    ends = np.column_stack(
        [
            grid.xs[np.concatenate([columns + 1, up_columns])],
            grid.ys[np.concatenate([rows, up_rows + 1])],
        ]
    )
    start_values = np.concatenate(
        [probabilities[rows, columns], probabilities[up_rows, up_columns]]
    )
    end_values = np.concatenate(
        [probabilities[rows, columns + 1], probabilities[up_rows + 1, up_columns]]
    )
    return EdgeCrossings(starts, ends, start_values, end_values)


def refine_crossings(
    predict_proba: PredictProba, crossings: EdgeCrossings, level: float = DEFAULT_THRESHOLD
) -> FloatArray:
    """Points (v, 2), one on each of the ``crossings``, where the model meets ``level``.

    The search is regula falsi with the Illinois correction on the logit, which is exact in
    one step wherever the logit is linear along the segment (a ReLU network's is,
    piecewise), and falls back on bisection when a step would leave the bracket. All
    unfinished segments move together, one model call per step; a segment is finished when
    its best point is within :data:`REFINE_TOLERANCE` of the level or its bracket cannot
    shrink any more.
    """
    below_at_start = crossings.start_values <= level
    low = np.where(below_at_start[:, None], crossings.starts, crossings.ends)  # at or below
    high = np.where(below_at_start[:, None], crossings.ends, crossings.starts)
    low_values = np.where(below_at_start, crossings.start_values, crossings.end_values)
    high_values = np.where(below_at_start, crossings.end_values, crossings.start_values)
    low_is_closer = np.abs(low_values - level) <= np.abs(high_values - level)
    best = np.where(low_is_closer[:, None], low, high)
    best_error = np.minimum(np.abs(low_values - level), np.abs(high_values - level))

    # The unfinished segments, compacted after each step: the point at t is low + t * span.
    target = _logit(np.array(level))
    index = np.flatnonzero(best_error > REFINE_TOLERANCE)
    origin, span = low[index], high[index] - low[index]
    t_low, t_high = np.zeros(index.size), np.ones(index.size)
    g_low, g_high = _logit(low_values[index]) - target, _logit(high_values[index]) - target
    moved_low_last = np.zeros(index.size, dtype=bool)
    moved_high_last = np.zeros(index.size, dtype=bool)
    for _ in range(MAX_REFINE_STEPS):
        if index.size == 0:
            break
        t = t_low - g_low * (t_high - t_low) / (g_high - g_low)
        t = np.where((t > t_low) & (t < t_high), t, 0.5 * (t_low + t_high))
        points = origin + t[:, None] * span
        values = probabilities_at(predict_proba, points)
        error = np.abs(values - level)
        better = error < best_error[index]
        best[index[better]] = points[better]
        best_error[index[better]] = error[better]

        g = _logit(values) - target
        below = values <= level
        # Illinois: when the same end moves twice in a row, halve the other end's value.
        g_high = np.where(below & moved_low_last, 0.5 * g_high, g_high)
        g_low = np.where(~below & moved_high_last, 0.5 * g_low, g_low)
        t_low, g_low = np.where(below, t, t_low), np.where(below, g, g_low)
        t_high, g_high = np.where(below, t_high, t), np.where(below, g_high, g)
        moved_low_last, moved_high_last = below, ~below
        going = (best_error[index] > REFINE_TOLERANCE) & (t_high - t_low > _SMALLEST_BRACKET)
        index, origin, span = index[going], origin[going], span[going]
        t_low, t_high, g_low, g_high = t_low[going], t_high[going], g_low[going], g_high[going]
        moved_low_last, moved_high_last = moved_low_last[going], moved_high_last[going]
    return best


def _logit(probabilities: FloatArray) -> FloatArray:
    """log(p / (1 - p)), elementwise, finite even where p is 0 or 1."""
    p = np.clip(probabilities, _SMALLEST_PROBABILITY, _LARGEST_PROBABILITY)
    return np.log(p) - np.log1p(-p)


def _cell_segments(
    predict_proba: PredictProba,
    grid: PlaneGrid,
    above: NDArray[np.bool_],
    edge_ids: tuple[IdArray, IdArray],
    level: float,
) -> IdArray:
    """The segments (s, 2) of vertex ids that marching squares draws through the cells.

    ``edge_ids`` are the vertex ids of the horizontal (ny, nx - 1) and vertical (ny - 1, nx)
    edges, -1 where the level does not cross.
    """
    horizontal_id, vertical_id = edge_ids
    # Each cell's edges, (cells, 4): bottom, right, top, left; -1 where the level does not cross.
    edges = np.stack(
        [horizontal_id[:-1, :], vertical_id[:, 1:], horizontal_id[1:, :], vertical_id[:, :-1]],
        axis=-1,
    ).reshape(-1, 4)
    crossings = (edges >= 0).sum(axis=1)
    # Two crossed edges: one segment joining them (ids sort above the -1s).
    simple = -np.sort(-edges[crossings == 2], axis=1)[:, :2]
    saddles = np.flatnonzero(crossings == 4)
    if saddles.size == 0:
        return simple
    columns = grid.xs.shape[0] - 1
    rows, cols = np.divmod(saddles, columns)
    centres = np.column_stack(
        [0.5 * (grid.xs[cols] + grid.xs[cols + 1]), 0.5 * (grid.ys[rows] + grid.ys[rows + 1])]
    )
    centre_above = probabilities_at(predict_proba, centres) > level
    bottom, right, top, left = edges[saddles].T
    # The centre joins the two corners on its side: the curves cut off the other two.
    joins_bottom_left = centre_above == above[rows, cols]
    first = np.where(
        joins_bottom_left[:, None],
        np.column_stack([bottom, right]),  # cut off the bottom-right corner
        np.column_stack([left, bottom]),  # cut off the bottom-left corner
    )
    second = np.where(
        joins_bottom_left[:, None],
        np.column_stack([top, left]),  # cut off the top-left corner
        np.column_stack([right, top]),  # cut off the top-right corner
    )
    return np.concatenate([simple, first, second])


def _join(segments: IdArray, n_vertices: int) -> list[list[int]]:
    """Chain ``segments`` (s, 2) into paths of vertex ids: open ones first, then closed ones.

    Every vertex has one or two segments: one on the grid's border, two inside. A path
    starts at its lowest border vertex (open) or its lowest vertex (closed, then repeated).
    """
    ends = segments.ravel()
    others = segments[:, ::-1].ravel()
    order = np.argsort(ends, kind="stable")
    sorted_others = others[order]
    degree = np.bincount(ends, minlength=n_vertices)
    first_slot = np.concatenate([[0], np.cumsum(degree)[:-1]])
    last_slot = np.minimum(first_slot + 1, len(ends) - 1)
    first = np.where(degree >= 1, sorted_others[np.minimum(first_slot, len(ends) - 1)], -1)
    second = np.where(degree == 2, sorted_others[last_slot], -1)
    neighbours = list(zip(first.tolist(), second.tolist(), strict=True))
    visited = [False] * n_vertices
    paths = []
    border_first = [*np.flatnonzero(degree == 1).tolist(), *range(n_vertices)]
    for start in border_first:
        if visited[start]:
            continue
        path, previous, current = [start], -1, start
        visited[start] = True
        while True:
            one, other = neighbours[current]
            following = one if one != previous else other
            if following == -1:
                break
            if following == start:
                path.append(start)
                break
            path.append(following)
            visited[following] = True
            previous, current = current, following
        paths.append(path)
    return paths


def _douglas_peucker(chained: FloatArray, lengths: list[int], tolerance: float) -> BoolArray:
    """Which vertices of the curves chained in ``chained`` (sum(lengths), 2) to keep: each
    curve's ends and every vertex farther than ``tolerance`` from the chord that would
    replace it (Douglas-Peucker), all curves' ranges split together, level by level."""
    keep = np.zeros(chained.shape[0], dtype=bool)
    last = np.cumsum(lengths) - 1
    first = last - np.asarray(lengths) + 1
    keep[first] = keep[last] = True
    while True:
        wide = last - first >= 2
        first, last = first[wide], last[wide]
        if first.size == 0:
            return keep
        inner_counts = last - first - 1
        range_of = np.repeat(np.arange(first.size), inner_counts)  # the range of each inner
        range_starts = np.cumsum(inner_counts) - inner_counts  # where each range's inners begin
        inner = first[range_of] + 1 + np.arange(range_of.size) - range_starts[range_of]
        chord = (chained[last] - chained[first])[range_of]
        offset = chained[inner] - chained[first][range_of]
        length_squared = np.einsum("ij,ij->i", chord, chord)
        # Distance to the chord as a segment (a closed curve's first chord has length 0).
        along = np.einsum("ij,ij->i", offset, chord) / np.where(
            length_squared > 0, length_squared, 1
        )
        along = np.clip(along, 0.0, 1.0)
        distance = np.hypot(*(offset - along[:, None] * chord).T)
        farthest = np.maximum.reduceat(distance, range_starts)
        at_farthest = np.flatnonzero(distance == farthest[range_of])
        _, first_of_range = np.unique(range_of[at_farthest], return_index=True)
        chosen = inner[at_farthest[first_of_range]]  # one per range, in range order
        split = farthest > tolerance
        keep[chosen[split]] = True
        first = np.concatenate([first[split], chosen[split]])
        last = np.concatenate([chosen[split], last[split]])
