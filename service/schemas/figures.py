"""Schemas of figures: Plotly figure JSON, ready for ``Plotly.newPlot(div, data, layout)``."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.figures import BoundaryMode

__all__ = ["DEFAULT_BOUNDARY_RESOLUTION", "DEFAULT_LOSS_POINTS", "MAX_LOSS_POINTS", "BoundaryMode"]

DEFAULT_LOSS_POINTS = 1000
MAX_LOSS_POINTS = 100_000
DEFAULT_BOUNDARY_RESOLUTION = 200


class Figure(BaseModel):
    """A Plotly figure: its traces and its layout."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "type": "scatter",
                            "mode": "lines",
                            "x": [0, 1, 2],
                            "y": [0.69, 0.41, 0.23],
                            "name": "Training loss",
                        }
                    ],
                    "layout": {"title": {"text": "Training loss over epochs"}},
                }
            ]
        }
    )

    data: list[dict[str, Any]] = Field(description="Plotly traces")
    layout: dict[str, Any] = Field(description="Plotly layout")
