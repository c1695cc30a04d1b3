"""Figures as the API sends them (Plotly figure JSON), or as ``plotly`` Figures on request."""

from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from planenet._models import Evaluation

Figure = dict[str, Any]
"""Plotly figure JSON: ``{"data": [traces], "layout": {...}}``, for ``Plotly.newPlot``."""

PlotlyFigure = Any
"""A ``plotly.graph_objects.Figure`` (plotly ships no type information)."""


def to_plotly(figure: Figure) -> PlotlyFigure:
    """``figure`` as a ``plotly.graph_objects.Figure``; plotly must be installed."""
    try:
        import plotly.graph_objects as go  # noqa: PLC0415 (optional: only this needs it)
    except ImportError as error:
        raise ImportError(
            "as_plotly=True needs the plotly package (pip install plotly); "
            "without it, figures come back as dicts"
        ) from error
    return go.Figure(figure)


def with_plotly_figures(evaluation: "Evaluation") -> "Evaluation":
    """``evaluation`` with its figures as ``plotly.graph_objects.Figure`` (plotly is needed)."""
    figures = {name: to_plotly(figure) for name, figure in (evaluation.figures or {}).items()}
    return replace(evaluation, figures=figures)
