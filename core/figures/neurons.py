"""Neuron maps: each unit's activation over the plane, one small heat map per unit."""

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from core.arrays import FloatArray
from core.dataset import Dataset
from core.errors import ConfigError
from core.figures.boundary import Figure
from core.figures.grid import PlaneGrid, plane_grid
from core.figures.points import plane_points
from core.figures.style import ACTIVATION_COLORSCALE, BACKGROUND_COLOR, round_axis, round_to_span

LayerActivations = Callable[[FloatArray], Sequence[ArrayLike]]
"""Each layer's activations at points (m, 2): the hidden layers' (m, units) in order, then
the output's class-1 probability (m, 1)."""

NEURON_RESOLUTION = 40
MAX_UNITS_PER_LAYER = 8
"""Units drawn per layer (Playground's widest layer); wider layers show their first ones."""
_THUMBNAIL = 100  # pixels per map
_GAP_X, _GAP_Y = 16, 40  # pixels between maps; below each sits its unit's label
_MARGIN = {"l": 90, "r": 110, "t": 80, "b": 40}


def neuron_figure(
    layer_activations: LayerActivations,
    dataset: Dataset,
    *,
    validation: Dataset | None = None,
    resolution: int = NEURON_RESOLUTION,
    max_units: int = MAX_UNITS_PER_LAYER,
) -> Figure:
    """A grid of heat maps, a row per layer (hidden layers, then the output), a map per unit.

    ``layer_activations`` is called once with the grid's (resolution**2, 2) points, the grid
    spanning the points as in :func:`boundary_figure`. Each layer has one colour axis: a
    hidden layer's is symmetric around 0 (grey), red below and blue above, up to its largest
    magnitude; the output's is the probability from 0 (red, class 0) to 1 (blue, class 1).
    """
    if isinstance(max_units, bool) or not isinstance(max_units, int) or max_units < 1:
        raise ConfigError(f"max_units: must be a positive integer, got {max_units!r}")
    grid = plane_grid(plane_points(dataset, validation), resolution)
    layers = _checked_layers(layer_activations(grid.points), grid)
    columns = min(max_units, max(layer.shape[1] for layer in layers))
    width = _MARGIN["l"] + _MARGIN["r"] + columns * _THUMBNAIL + (columns - 1) * _GAP_X
    height = _MARGIN["t"] + _MARGIN["b"] + len(layers) * (_THUMBNAIL + _GAP_Y)
    plot_width = width - _MARGIN["l"] - _MARGIN["r"]
    plot_height = height - _MARGIN["t"] - _MARGIN["b"]
    traces: list[dict[str, Any]] = []
    layout: dict[str, Any] = {
        "title": {"text": "Neuron activations over the plane (x: Feature 1, y: Feature 2)"},
        "width": width,
        "height": height,
        "margin": _MARGIN,
        "plot_bgcolor": BACKGROUND_COLOR,
        "showlegend": False,
    }
    xs, ys = round_axis(grid.xs).tolist(), round_axis(grid.ys).tolist()
    for row, values in enumerate(layers):
        is_output = row == len(layers) - 1
        name = "Output" if is_output else f"Hidden layer {row + 1}"
        shown = min(values.shape[1], max_units)
        label = name if shown == values.shape[1] else f"{name} (1-{shown} of {values.shape[1]})"
        color_axis = "coloraxis" if row == 0 else f"coloraxis{row + 1}"
        top = 1.0 - row * (_THUMBNAIL + _GAP_Y) / plot_height
        bottom = top - _THUMBNAIL / plot_height
        bar_title = "P(class 1)" if is_output else name
        layout[color_axis] = _color_axis(values, is_output, bar_title, (bottom, top))
        for unit in range(shown):
            index = len(traces) + 1
            suffix = "" if index == 1 else str(index)
            left = unit * (_THUMBNAIL + _GAP_X) / plot_width
            layout[f"xaxis{suffix}"] = _thumbnail_axis(
                f"unit {unit + 1}", (left, left + _THUMBNAIL / plot_width), f"y{suffix}"
            )
            layout[f"yaxis{suffix}"] = _thumbnail_axis(
                label if unit == 0 else "", (bottom, top), f"x{suffix}"
            )
            traces.append(
                {
                    "type": "heatmap",
                    "x": xs,
                    "y": ys,
                    "z": values[:, unit].reshape(grid.shape).tolist(),
                    "coloraxis": color_axis,
                    "xaxis": f"x{suffix}",
                    "yaxis": f"y{suffix}",
                    "name": f"{name}, unit {unit + 1}",
                }
            )
    return {"data": traces, "layout": layout}


def _checked_layers(layers: Sequence[ArrayLike], grid: PlaneGrid) -> list[FloatArray]:
    """Each layer's activations as (m, units) finite floats, rounded to 4 digits of the
    layer's largest magnitude; the last must be probabilities in [0, 1]."""
    points = grid.shape[0] * grid.shape[1]
    if len(layers) == 0:
        raise ValueError("layer_activations returned no layers; the output layer is required")
    checked = []
    for index, layer in enumerate(layers):
        values = np.asarray(layer, dtype=np.float64)
        if values.ndim != 2 or values.shape[0] != points or values.shape[1] == 0:
            raise ValueError(
                f"layer_activations: layer {index} has shape {values.shape}, expected "
                f"({points}, units) for {points} points"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(f"layer_activations: layer {index} holds a value that is not finite")
        magnitude = float(np.abs(values).max())
        checked.append(round_to_span(values, magnitude if magnitude > 0 else None))
    output = checked[-1]
    if output.min() < 0.0 or output.max() > 1.0:
        raise ValueError("layer_activations: the last layer must be the output's probabilities")
    return checked


def _color_axis(
    values: FloatArray, is_output: bool, title: str, rows: tuple[float, float]
) -> dict[str, Any]:
    """One layer's colour scale: symmetric around 0 for a hidden layer, 0 to 1 for the output,
    with its colour bar beside the layer's row (``rows``: bottom and top, as plot fractions)."""
    if is_output:
        low, high = 0.0, 1.0
    else:
        reach = float(np.abs(values).max()) or 1.0
        low, high = -reach, reach
    bottom, top = rows
    return {
        "colorscale": ACTIVATION_COLORSCALE,
        "cmin": low,
        "cmax": high,
        "colorbar": {
            "title": {"text": title},
            "x": 1.02,
            "xanchor": "left",
            "y": 0.5 * (bottom + top),
            "yanchor": "middle",
            "len": top - bottom,
            "thickness": 10,
        },
    }


def _thumbnail_axis(title: str, domain: tuple[float, float], anchor: str) -> dict[str, Any]:
    """A bare axis over ``domain`` (plot fractions), anchored to its partner, with a title."""
    return {
        "domain": list(domain),
        "anchor": anchor,
        "title": {"text": title, "font": {"size": 11}, "standoff": 4},
        "showticklabels": False,
        "ticks": "",
        "showgrid": False,
        "zeroline": False,
    }
