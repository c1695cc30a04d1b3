"""Schemas of predictions: points in, labels and class-1 probabilities out."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from core.dataset import MAX_COORDINATE
from core.network import DEFAULT_THRESHOLD
from service.schemas.common import Point, RequestModel

POINTS_DESCRIPTION = (
    f"the points to classify, as [x, y] pairs of numbers within ±{MAX_COORDINATE:g}"
)
MODEL_ID_MAX_LENGTH = 64

Threshold = Annotated[
    float,
    Field(
        strict=True,
        gt=0,
        lt=1,
        description=(
            "a point is labelled 1 when its class-1 probability exceeds this "
            f"(0 < threshold < 1, default {DEFAULT_THRESHOLD:g}); it never changes probabilities"
        ),
    ),
]
"""The probability above which a point is labelled 1, as every prediction route takes it."""


class PointsBody(RequestModel):
    """Points to classify with the model named in the path."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"points": [[1.0, 1.0], [-1.0, -1.0], [0.2, -0.4]]}]}
    )

    points: list[Point] = Field(min_length=1, description=POINTS_DESCRIPTION)


class PredictBody(PointsBody):
    """Points to classify with ``model_id``, or with the newest trained model when it is absent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "5f0c3d1e9a7b4c2d8e6f1a2b3c4d5e6f",
                    "points": [[1.0, 1.0], [-1.0, -1.0]],
                },
                {"points": [[0.5, 0.5]]},
            ]
        }
    )

    model_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MODEL_ID_MAX_LENGTH,
        description="the model to use; absent or null means the newest trained model",
    )


class Prediction(BaseModel):
    """One label and one class-1 probability per point, in the order of the points."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "5f0c3d1e9a7b4c2d8e6f1a2b3c4d5e6f",
                    "labels": [0, 1],
                    "probabilities": [0.0121, 0.9934],
                }
            ]
        }
    )

    model_id: str = Field(description="the model that answered")
    labels: list[int] = Field(
        description=f"1 where the class-1 probability exceeds {DEFAULT_THRESHOLD:g}, else 0"
    )
    probabilities: list[float] = Field(description="the probability of class 1 for each point")
