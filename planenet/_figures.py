"""Figures as the API sends them (Plotly figure JSON), or as ``plotly`` Figures on request."""

from typing import Any

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
