"""The decision boundary figure: regions, probability or the exact curve, with the points."""

from typing import Any, Literal

import numpy as np

from core.arrays import FloatArray
from core.dataset import Dataset
from core.errors import ConfigError
from core.figures.grid import PlaneGrid, PredictProba, grid_probabilities, plane_grid
from core.figures.level_set import level_curves
from core.figures.points import plane_points, point_traces
from core.figures.style import (
    BOUNDARY_LINE_COLOR,
    BOUNDARY_LINE_WIDTH,
    REGION_COLORSCALE,
    REGION_OPACITY,
    axes_layout,
    round_axis,
)
from core.network import DEFAULT_THRESHOLD

Figure = dict[str, Any]
BoundaryMode = Literal["regions", "probability", "contour"]
BOUNDARY_MODES: tuple[BoundaryMode, ...] = ("regions", "probability", "contour")
PROBABILITY_DECIMALS = 4
BOUNDARY_CURVE_NAME = "Boundary (P = 0.5)"


def boundary_figure(
    predict_proba: PredictProba,
    dataset: Dataset,
    resolution: int = 200,
    mode: BoundaryMode = "regions",
    *,
    validation: Dataset | None = None,
    epoch: int | None = None,
) -> Figure:
    """The model's decision over a grid around the points, with the points on top.

    The grid spans the bounding box of ``dataset``'s points (and ``validation``'s, drawn
    hollow, when given) widened by 0.5 on every side, with ``resolution`` points per axis;
    ``predict_proba`` is called once with the grid's (resolution**2, 2) points and returns
    their class-1 probabilities (resolution**2,), then a few times with the points where the
    boundary crosses the grid. Mode ``"regions"`` draws the tutorial's two regions (class 1
    where the probability exceeds 0.5) and the exact boundary curve; ``"contour"`` only the
    curve (every vertex within 1e-6 of probability 0.5, see :func:`level_curves`), a fraction
    of the JSON; ``"probability"`` the probability itself on a colour bar, with the 0.5 level
    traced by the same contour trace. Grid coordinates and probabilities are rounded to keep
    a 200 x 200 grid small; the curve's vertices are not, so they stay on the boundary.
    ``epoch`` marks a snapshot taken during training: the title names it, and so does
    ``layout.meta.epoch``.
    """
    if mode not in BOUNDARY_MODES:
        raise ConfigError(
            f"mode: unknown boundary mode {mode!r}; known modes: {', '.join(BOUNDARY_MODES)}"
        )
    grid = plane_grid(plane_points(dataset, validation), resolution)
    probabilities = grid_probabilities(predict_proba, grid)
    if mode == "probability":
        surfaces = [probability_surface(grid, probabilities)]
    else:
        curve = boundary_curve_trace(level_curves(predict_proba, grid, probabilities))
        surfaces = [regions_surface(grid, probabilities), curve] if mode == "regions" else [curve]
    layout = axes_layout(
        "Decision boundary" if epoch is None else f"Decision boundary at epoch {epoch}"
    )
    if epoch is not None:
        layout["meta"] = {"epoch": epoch}
    if mode == "contour":  # no surface to frame the plot: frame it on the grid
        layout["xaxis"]["range"] = [float(grid.xs[0]), float(grid.xs[-1])]
        layout["yaxis"]["range"] = [float(grid.ys[0]), float(grid.ys[-1])]
    return {
        "data": [*surfaces, *point_traces(dataset, validation)],
        "layout": {**layout, "width": 600, "height": 450, "showlegend": True},
    }


def regions_surface(grid: PlaneGrid, probabilities: FloatArray) -> dict[str, Any]:
    """A filled contour of the two regions: 0 for class 0, 1 for class 1, ``probabilities``
    of shape (ny, nx); its edges are not drawn (the exact curve is)."""
    return {
        "type": "contour",
        "x": round_axis(grid.xs).tolist(),
        "y": round_axis(grid.ys).tolist(),
        "z": (probabilities > DEFAULT_THRESHOLD).astype(np.int64).tolist(),
        "zmin": 0,
        "zmax": 1,
        "colorscale": REGION_COLORSCALE,
        "opacity": REGION_OPACITY,
        "showscale": False,
        "autocontour": False,
        "contours": {
            "start": DEFAULT_THRESHOLD,
            "end": DEFAULT_THRESHOLD,
            "size": 1.0,
            "showlines": False,
        },
        "name": "Decision boundary",
    }


def probability_surface(grid: PlaneGrid, probabilities: FloatArray) -> dict[str, Any]:
    """The class-1 probability (ny, nx) as a heat map with its 0.5 contour line."""
    return {
        "type": "contour",
        "x": round_axis(grid.xs).tolist(),
        "y": round_axis(grid.ys).tolist(),
        "z": np.round(probabilities, PROBABILITY_DECIMALS).tolist(),
        "zmin": 0.0,
        "zmax": 1.0,
        "colorscale": REGION_COLORSCALE,
        "opacity": 0.6,
        "autocontour": False,
        "contours": {
            "coloring": "heatmap",
            "start": DEFAULT_THRESHOLD,
            "end": DEFAULT_THRESHOLD,
            "size": 1.0,
            "showlines": True,
        },
        "line": {"color": BOUNDARY_LINE_COLOR, "width": BOUNDARY_LINE_WIDTH},
        "colorbar": {"title": {"text": "P(class 1)"}},
        "name": "Class 1 probability",
    }


def boundary_curve_trace(curves: list[FloatArray]) -> dict[str, Any]:
    """One line trace of every polyline in ``curves`` (each (k, 2)), separated by gaps.

    There is always a trace, empty when no boundary crosses the grid, so that figures
    keep the same traces in the same places.
    """
    xs: list[float | None] = []
    ys: list[float | None] = []
    for curve in curves:
        if xs:
            xs.append(None)
            ys.append(None)
        xs += curve[:, 0].tolist()
        ys += curve[:, 1].tolist()
    return {
        "type": "scatter",
        "mode": "lines",
        "x": xs,
        "y": ys,
        "name": BOUNDARY_CURVE_NAME,
        "line": {"color": BOUNDARY_LINE_COLOR, "width": BOUNDARY_LINE_WIDTH},
        "connectgaps": False,
        "hoverinfo": "skip",
    }
