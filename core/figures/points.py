"""The labelled points on a figure: training points filled, validation points hollow."""

from typing import Any

import numpy as np

from core.arrays import FloatArray
from core.dataset import Dataset
from core.figures.style import (
    CLASS_COLORS,
    MARKER_SIZE,
    VALIDATION_SYMBOL,
    axes_layout,
    round_to_span,
)

Trace = dict[str, Any]


def data_figure(dataset: Dataset, validation: Dataset | None = None) -> dict[str, Any]:
    """The points of ``dataset`` as one scatter trace per class, class 0 red and class 1 blue.

    With ``validation``, its points follow as two more traces, hollow.
    """
    return {
        "data": point_traces(dataset, validation),
        "layout": {
            **axes_layout("Synthetic classification data"),
            "width": 600,
            "height": 400,
            "showlegend": True,
        },
    }


def point_traces(dataset: Dataset, validation: Dataset | None = None) -> list[Trace]:
    """One marker trace per class of ``dataset``, then (when given) per class of ``validation``.

    Coordinates are rounded by :func:`round_to_span` over all the points drawn, so a figure
    of 100,000 points stays a few megabytes.
    """
    every_point = dataset.points if validation is None else plane_points(dataset, validation)
    spans = np.ptp(every_point, axis=0)
    traces = _class_traces(dataset, spans, "", {})
    if validation is not None:
        hollow = {"symbol": VALIDATION_SYMBOL, "line": {"width": 2}}
        traces += _class_traces(validation, spans, " (validation)", hollow)
    return traces


def plane_points(dataset: Dataset, validation: Dataset | None = None) -> FloatArray:
    """Every point a figure of ``dataset`` (and ``validation``) shows, shape (n, 2)."""
    if validation is None:
        return dataset.points
    return np.concatenate([dataset.points, validation.points])


def _class_traces(
    dataset: Dataset, spans: FloatArray, suffix: str, marker: dict[str, Any]
) -> list[Trace]:
    """One marker trace per class, in class order, each axis rounded to its ``spans`` (2,)."""
    xs = round_to_span(dataset.points[:, 0], _span_or_none(spans[0]))
    ys = round_to_span(dataset.points[:, 1], _span_or_none(spans[1]))
    traces = []
    for label, color in enumerate(CLASS_COLORS):
        of_class = dataset.labels == label
        traces.append(
            {
                "type": "scatter",
                "mode": "markers",
                "x": xs[of_class].tolist(),
                "y": ys[of_class].tolist(),
                "name": f"Class {label}{suffix}",
                "marker": {"color": color, "size": MARKER_SIZE, **marker},
            }
        )
    return traces


def _span_or_none(span: np.floating[Any]) -> float | None:
    """A positive span, or None to let :func:`round_to_span` fall back on the magnitude."""
    value = float(span)
    return value if value > 0 else None
