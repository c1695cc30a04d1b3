"""Schemas of figures: Plotly figure JSON, ready for ``Plotly.newPlot(div, data, layout)``."""

from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from core.figures import MAX_RESOLUTION, BoundaryMode

__all__ = ["DEFAULT_BOUNDARY_RESOLUTION", "DEFAULT_LOSS_POINTS", "MAX_LOSS_POINTS", "BoundaryMode"]

DEFAULT_LOSS_POINTS = 1000
MAX_LOSS_POINTS = 100_000
DEFAULT_BOUNDARY_RESOLUTION = 200
MAX_THUMBNAIL_RESOLUTION = 100
"""Finest grid per axis of a replay's frames and of neuron maps (every frame or map is one)."""

BoundaryResolution = Annotated[
    int | None,
    Query(
        ge=2,
        description=(
            f"grid points per axis; default {DEFAULT_BOUNDARY_RESOLUTION} (or the limit "
            "max_boundary_resolution when lower); over that limit is 413"
        ),
        json_schema_extra={"maximum": MAX_RESOLUTION},
    ),
]
BoundaryModeQuery = Annotated[
    BoundaryMode,
    Query(
        description=(
            "regions: the two classes' regions and the exact boundary; probability: "
            "P(class 1); contour: the exact boundary curve alone (a small answer)"
        )
    ),
]


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
