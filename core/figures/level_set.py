"""The exact decision boundary: marching squares on a grid, each vertex refined on the model.

The probability grid says which grid edges the level (0.5) crosses; each crossing becomes a
vertex found on the model itself, by a bracketed root search along its edge, so that the
model's probability there is within :data:`LEVEL_TOLERANCE` of the level. Vertices are joined
through the cells into polylines, closed ones repeating their first vertex, and thinned
(Douglas-Peucker) where the curve is straighter than a tenth of a grid cell.
"""

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from core.arrays import FloatArray
from core.figures.grid import PlaneGrid, PredictProba, probabilities_at
from core.network import DEFAULT_THRESHOLD

IdArray = NDArray[np.intp]

LEVEL_TOLERANCE = 1e-6
"""Every vertex's probability lies within this of the level (see :func:`level_curves`)."""
REFINE_TOLERANCE = 1e-10
"""What the root search aims for: far inside :data:`LEVEL_TOLERANCE`."""
MAX_REFINE_STEPS = 100
SIMPLIFY_CELLS = 0.1
"""Vertices closer than this many grid cells to the chord that skips them are dropped."""
_SMALLEST_PROBABILITY = 1e-300
_LARGEST_PROBABILITY = 1.0 - 2.0**-53


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
    step = np.array([grid.xs[1] - grid.xs[0], grid.ys[1] - grid.ys[0]])
    curves = []
    for path in _join(segments, n_vertices):
        curve = vertices[path]
        if simplify_cells > 0 and curve.shape[0] > 2:
            curve = curve[_douglas_peucker(curve / step, simplify_cells)]
        curves.append(curve)
    return curves


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

    The search is regula falsi with the Illinois
    correction on the logit, which is exact in one step wherever the logit is linear along
    the segment (a ReLU network's is, piecewise), and falls back on bisection when a step
    would leave the bracket. All segments move together: one model call per step.
    """
    starts, ends = crossings.starts, crossings.ends
    start_values, end_values = crossings.start_values, crossings.end_values
    below_at_start = start_values <= level
    low = np.where(below_at_start[:, None], starts, ends)  # the end at or below the level
    high = np.where(below_at_start[:, None], ends, starts)
    low_values = np.where(below_at_start, start_values, end_values)
    high_values = np.where(below_at_start, end_values, start_values)
    target = _logit(np.array(level))

    t_low, t_high = np.zeros(len(low)), np.ones(len(low))
    g_low, g_high = _logit(low_values) - target, _logit(high_values) - target
    low_is_closer = np.abs(low_values - level) <= np.abs(high_values - level)
    best = np.where(low_is_closer[:, None], low, high)
    best_error = np.minimum(np.abs(low_values - level), np.abs(high_values - level))
    kept_side = np.zeros(len(low), dtype=np.int8)  # -1: low moved last; +1: high moved last
    done = best_error <= REFINE_TOLERANCE
    for _ in range(MAX_REFINE_STEPS):
        active = np.flatnonzero(~done)
        if active.size == 0:
            break
        tl, th, gl, gh = t_low[active], t_high[active], g_low[active], g_high[active]
        t = tl - gl * (th - tl) / (gh - gl)
        t = np.where((t > tl) & (t < th), t, 0.5 * (tl + th))
        points = low[active] + t[:, None] * (high[active] - low[active])
        values = probabilities_at(predict_proba, points)
        error = np.abs(values - level)
        better = error < best_error[active]
        best[active[better]] = points[better]
        best_error[active[better]] = error[better]

        g = _logit(values) - target
        below = values <= level
        moved_low, moved_high = active[below], active[~below]
        g_high[moved_low[kept_side[moved_low] == -1]] *= 0.5
        g_low[moved_high[kept_side[moved_high] == 1]] *= 0.5
        t_low[moved_low], g_low[moved_low] = t[below], g[below]
        t_high[moved_high], g_high[moved_high] = t[~below], g[~below]
        kept_side[moved_low], kept_side[moved_high] = -1, 1
        exhausted = t_high[active] - t_low[active] <= 4 * np.finfo(np.float64).eps
        done[active] = (best_error[active] <= REFINE_TOLERANCE) | exhausted
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


def _douglas_peucker(curve: FloatArray, tolerance: float) -> IdArray:
    """Indices of the vertices of ``curve`` (k, 2) to keep: the ends and every vertex farther
    than ``tolerance`` from the chord that would replace it (Douglas-Peucker)."""
    keep = np.zeros(curve.shape[0], dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, curve.shape[0] - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        chord = curve[last] - curve[first]
        offsets = curve[first + 1 : last] - curve[first]
        length_squared = float(chord @ chord)
        along = np.zeros(offsets.shape[0])
        if length_squared > 0:  # a closed curve's chord from its start back to itself is 0
            along = np.clip(offsets @ chord / length_squared, 0.0, 1.0)
        distances = np.hypot(*(offsets - np.multiply.outer(along, chord)).T)
        farthest = int(np.argmax(distances))
        if distances[farthest] > tolerance:
            middle = first + 1 + farthest
            keep[middle] = True
            stack += [(first, middle), (middle, last)]
    return np.flatnonzero(keep)
