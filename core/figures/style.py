"""The figures' palette, sizes and number rounding: each fact about how figures look, once."""

import math
from typing import Any

import numpy as np

from core.arrays import FloatArray

CLASS_COLORS = ("#fa5252", "#4c6ef5")
REGION_COLORSCALE = [[0, "#ffc9c9"], [1, "#a5d8ff"]]
BACKGROUND_COLOR = "#e9ecef"
ACTIVATION_COLORSCALE = [[0, CLASS_COLORS[0]], [0.5, BACKGROUND_COLOR], [1, CLASS_COLORS[1]]]
"""Neuron maps: class 0's red below the middle of a layer's range, class 1's blue above."""
TRAINING_LOSS_COLOR = "#7048e8"
VALIDATION_LOSS_COLOR = "#f08c00"
BOUNDARY_LINE_COLOR = "#343a40"
MARKER_SIZE = 8
VALIDATION_SYMBOL = "circle-open"
"""Validation points are drawn hollow, training points filled."""
BOUNDARY_LINE_WIDTH = 2
REGION_OPACITY = 0.4
POINT_SIGNIFICANT_DIGITS = 4
FLOAT_DIGITS = 15


def axes_layout(title: str) -> dict[str, Any]:
    """Title, the two feature axes and the grey plot background shared by point figures."""
    return {
        "title": {"text": title},
        "xaxis": {"title": {"text": "Feature 1"}},
        "yaxis": {"title": {"text": "Feature 2"}},
        "plot_bgcolor": BACKGROUND_COLOR,
    }


def round_axis(axis: FloatArray) -> FloatArray:
    """Round grid coordinates (n,) to three significant digits of their step (stays increasing)."""
    step = float(axis[1] - axis[0])
    if not step > 0:
        return axis
    decimals = max(0, 2 - math.floor(math.log10(step)))
    return np.round(axis, decimals)


def round_to_span(values: FloatArray, scale: float | None = None) -> FloatArray:
    """Round ``values`` (any shape) to four significant digits of their range (or ``scale``).

    The step is at most a ten-thousandth of the range (of the largest magnitude when all
    values are equal): far finer than a pixel of any figure, yet a number takes about 7
    characters instead of up to 20. When that step would be finer than float precision,
    the values are returned as they are.
    """
    if values.size == 0:
        return values
    magnitude = float(np.abs(values).max())
    if scale is None:
        scale = float(values.max() - values.min())
    if not scale > 0:
        scale = magnitude
    if not scale > 0 or not magnitude > 0:
        return values
    decimals = POINT_SIGNIFICANT_DIGITS - math.floor(math.log10(scale))
    if decimals + math.floor(math.log10(magnitude)) >= FLOAT_DIGITS:
        return values
    return np.round(values, decimals)
