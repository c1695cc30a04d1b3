"""Plotly figure JSON (plain dicts) for the data, the loss curve and the decision boundary."""

import math
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.dataset import Dataset
from core.errors import ConfigError, DataError
from core.thinning import thin_indices

Figure = dict[str, Any]
PredictProba = Callable[[NDArray[np.float64]], ArrayLike]

CLASS_COLORS = ("#fa5252", "#4c6ef5")
REGION_COLORSCALE = [[0, "#ffc9c9"], [1, "#a5d8ff"]]
TRAINING_LOSS_COLOR = "#7048e8"
VALIDATION_LOSS_COLOR = "#f08c00"
BOUNDARY_LINE_COLOR = "#343a40"
BACKGROUND_COLOR = "#e9ecef"
MARKER_SIZE = 8
GRID_MARGIN = 0.5
MIN_RESOLUTION = 2
MAX_RESOLUTION = 1000
PROBABILITY_DECIMALS = 4
POINT_SIGNIFICANT_DIGITS = 4
FLOAT_DIGITS = 15
BOUNDARY_MODES = ("regions", "probability")


def data_figure(dataset: Dataset) -> Figure:
    """The points of ``dataset`` as one scatter trace per class, class 0 red and class 1 blue."""
    return {
        "data": _class_traces(dataset),
        "layout": {
            **_axes_layout("Synthetic classification data"),
            "width": 600,
            "height": 400,
            "showlegend": True,
        },
    }


def loss_figure(
    loss_history: ArrayLike,
    validation_loss_history: ArrayLike | None = None,
    max_points: int = 1000,
) -> Figure:
    """The training loss per epoch (shape (epochs,)), and the validation loss when given.

    Each curve is thinned to at most ``max_points`` points by :func:`thin_indices`; the x
    values are the epoch indices of the points kept, so thinning never shifts the curve.
    The y axis starts at 0 and ends 10 % above the highest loss, as in the tutorial.
    """
    training = _history(loss_history, "loss_history")
    curves = [("Training loss", training, TRAINING_LOSS_COLOR)]
    if validation_loss_history is not None:
        validation = _history(validation_loss_history, "validation_loss_history")
        curves.append(("Validation loss", validation, VALIDATION_LOSS_COLOR))
    traces = []
    for name, values, color in curves:
        kept = thin_indices(values, max_points)
        traces.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": kept.tolist(),
                "y": values[kept].tolist(),
                "name": name,
                "line": {"color": color},
            }
        )
    highest = max((float(values.max()) for _, values, _ in curves if values.size), default=0.0)
    return {
        "data": traces,
        "layout": {
            "title": {"text": "Training loss over epochs"},
            "xaxis": {"title": {"text": "Epoch"}},
            "yaxis": {
                "title": {"text": "Binary cross-entropy loss"},
                "range": [0.0, highest * 1.1 if highest > 0 else 1.0],
            },
            "width": 600,
            "height": 400,
            "showlegend": len(curves) > 1,
        },
    }


def boundary_figure(
    predict_proba: PredictProba,
    dataset: Dataset,
    resolution: int = 200,
    mode: Literal["regions", "probability"] = "regions",
) -> Figure:
    """The model's decision over a grid around ``dataset``, with the training points on top.

    The grid spans the points' bounding box widened by 0.5 on every side, with
    ``resolution`` points per axis; ``predict_proba`` is called once with the grid's
    (resolution**2, 2) points and returns their (resolution**2,) class-1 probabilities.
    Mode ``"regions"`` draws the tutorial's two regions (label 1 where the probability
    exceeds 0.5); mode ``"probability"`` draws the probability itself on a colour bar, with
    the 0.5 level traced as a line by the same contour trace (one copy of the grid keeps the
    JSON small). Coordinates and probabilities are rounded to keep a 200 x 200 grid small.
    """
    if mode not in BOUNDARY_MODES:
        raise ConfigError(
            f"mode: unknown boundary mode {mode!r}; known modes: {', '.join(BOUNDARY_MODES)}"
        )
    _check_resolution(resolution)
    xs = _grid_axis(dataset.points[:, 0], resolution)
    ys = _grid_axis(dataset.points[:, 1], resolution)
    grid_x, grid_y = np.meshgrid(xs, ys)
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    probabilities = _grid_probabilities(predict_proba, grid).reshape(resolution, resolution)
    surface: dict[str, Any] = {
        "type": "contour",
        "x": _round_axis(xs).tolist(),
        "y": _round_axis(ys).tolist(),
    }
    if mode == "regions":
        surface |= {
            "z": (probabilities > 0.5).astype(np.int64).tolist(),
            "colorscale": REGION_COLORSCALE,
            "opacity": 0.4,
            "showscale": False,
            "name": "Decision boundary",
        }
    else:
        surface |= {
            "z": np.round(probabilities, PROBABILITY_DECIMALS).tolist(),
            "zmin": 0.0,
            "zmax": 1.0,
            "colorscale": REGION_COLORSCALE,
            "opacity": 0.6,
            "autocontour": False,
            "contours": {
                "coloring": "heatmap",
                "start": 0.5,
                "end": 0.5,
                "size": 1.0,
                "showlines": True,
            },
            "line": {"color": BOUNDARY_LINE_COLOR, "width": 2},
            "colorbar": {"title": {"text": "P(class 1)"}},
            "name": "Class 1 probability",
        }
    return {
        "data": [surface, *_class_traces(dataset)],
        "layout": {
            **_axes_layout("Decision boundary"),
            "width": 600,
            "height": 450,
            "showlegend": True,
        },
    }


def _class_traces(dataset: Dataset) -> list[dict[str, Any]]:
    """One marker trace per class, in class order, with the tutorial's colours.

    Coordinates are rounded by :func:`_round_coordinates` over the whole dataset, so a
    figure of 100,000 points stays a few megabytes.
    """
    xs = _round_coordinates(dataset.points[:, 0])
    ys = _round_coordinates(dataset.points[:, 1])
    traces = []
    for label, color in enumerate(CLASS_COLORS):
        of_class = dataset.labels == label
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": xs[of_class].tolist(),
                "y": ys[of_class].tolist(),
                "name": f"Class {label}",
                "marker": {"color": color, "size": MARKER_SIZE},
            }
        )
    return traces


def _axes_layout(title: str) -> dict[str, Any]:
    """Title, the two feature axes and the grey plot background shared by point figures."""
    return {
        "title": {"text": title},
        "xaxis": {"title": {"text": "Feature 1"}},
        "yaxis": {"title": {"text": "Feature 2"}},
        "plot_bgcolor": BACKGROUND_COLOR,
    }


def _history(values: ArrayLike, name: str) -> NDArray[np.float64]:
    """``values`` as a flat float64 array of finite losses, shape (epochs,)."""
    try:
        history = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise DataError(f"{name}: not a sequence of numbers ({error})") from None
    if history.ndim != 1:
        raise DataError(f"{name}: expected a flat sequence of losses, got shape {history.shape}")
    if not np.all(np.isfinite(history)):
        raise DataError(f"{name}: every loss must be a finite number")
    return history


def _check_resolution(resolution: object) -> None:
    """Refuse a grid resolution that is not an integer in the supported range."""
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ConfigError(f"resolution: must be an integer, got {resolution!r}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ConfigError(
            f"resolution: must be from {MIN_RESOLUTION} to {MAX_RESOLUTION}, got {resolution}"
        )


def _grid_axis(coordinates: NDArray[np.float64], resolution: int) -> NDArray[np.float64]:
    """``resolution`` evenly spaced values from min - 0.5 to max + 0.5 of ``coordinates``."""
    low = float(coordinates.min()) - GRID_MARGIN
    high = float(coordinates.max()) + GRID_MARGIN
    if not math.isfinite(high - low):
        raise DataError("points: the coordinates span too wide a range to draw a grid over")
    return np.linspace(low, high, resolution)


def _round_axis(axis: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round grid coordinates to three significant digits of the grid step (stays increasing)."""
    step = float(axis[1] - axis[0])
    if not step > 0:
        return axis
    decimals = max(0, 2 - math.floor(math.log10(step)))
    return np.round(axis, decimals)


def _round_coordinates(values: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round one axis of points, shape (n,), to four significant digits of its range.

    The step is at most a ten-thousandth of the range (of the largest magnitude when all
    values are equal): far finer than a pixel of any figure, yet a number takes about 7
    characters instead of up to 20. When that step would be finer than float precision,
    the values are returned as they are.
    """
    if values.size == 0:
        return values
    span = float(values.max() - values.min())
    magnitude = float(np.abs(values).max())
    scale = span if span > 0 else magnitude
    if not scale > 0:
        return values
    decimals = POINT_SIGNIFICANT_DIGITS - math.floor(math.log10(scale))
    if decimals + math.floor(math.log10(magnitude)) >= FLOAT_DIGITS:
        return values
    return np.round(values, decimals)


def _grid_probabilities(
    predict_proba: PredictProba, grid: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Class-1 probabilities of the (m, 2) ``grid``, checked to be m finite numbers."""
    probabilities = np.asarray(predict_proba(grid), dtype=np.float64).reshape(-1)
    if probabilities.shape[0] != grid.shape[0]:
        raise ValueError(
            f"predict_proba returned {probabilities.shape[0]} values for {grid.shape[0]} points"
        )
    if not np.all(np.isfinite(probabilities)):
        raise ValueError("predict_proba returned a value that is not a finite number")
    return probabilities
