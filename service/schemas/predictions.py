"""Schemas of predictions: points in, labels and class-1 probabilities out."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.dataset import MAX_COORDINATE
from core.network import DEFAULT_THRESHOLD
from service.domain.references import REFERENCE_HELP, REFERENCE_MAX_LENGTH
from service.schemas.common import Label, Point, RequestModel

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
    threshold: Threshold = DEFAULT_THRESHOLD


class PredictBody(PointsBody):
    """Points to classify with the model ``model`` (a reference) or ``model_id`` names, or
    with the newest trained model when both are absent."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "5f0c3d1e9a7b4c2d8e6f1a2b3c4d5e6f",
                    "points": [[1.0, 1.0], [-1.0, -1.0]],
                },
                {"model": "two-blobs@champion", "points": [[0.5, 0.5]], "threshold": 0.8},
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
    model: str | None = Field(
        default=None,
        min_length=1,
        max_length=REFERENCE_MAX_LENGTH,
        description=f"the model to use: {REFERENCE_HELP} (instead of `model_id`)",
    )

    @model_validator(mode="after")
    def _one_model(self) -> "PredictBody":
        if self.model is not None and self.model_id is not None:
            raise ValueError("give the model as `model` or as `model_id`, not both")
        return self


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
        description="1 where the class-1 probability exceeds the threshold "
        f"(default {DEFAULT_THRESHOLD:g}), else 0"
    )
    probabilities: list[float] = Field(description="the probability of class 1 for each point")


class EvaluateBody(PointsBody):
    """Labelled points to measure a model on, and the threshold its labels use."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"points": [[1.0, 1.0], [-1.0, -1.0]], "labels": [1, 0], "threshold": 0.5}]
        }
    )

    labels: list[Label] = Field(min_length=1, description="the true class of each point")

    @model_validator(mode="after")
    def _one_label_per_point(self) -> "EvaluateBody":
        if len(self.labels) != len(self.points):
            raise ValueError(
                f"give one label per point: {len(self.points)} points, {len(self.labels)} labels"
            )
        return self
