"""Schemas of training jobs: the training body (defaults reproduce the tutorial) and the job."""

from collections import Counter
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

from core.dataset import MAX_COORDINATE, Dataset, make_dataset
from service.domain.jobs import JobStatus
from service.domain.training import (
    GeneratorData,
    GivenParameters,
    GivenPoints,
    JobConfig,
    TrainingSettings,
)
from service.schemas.common import Label, ParametersBody, Point, RequestModel

NAME_MAX_LENGTH = 200
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""No control characters: they serve no label, and PostgreSQL's text refuses NUL outright."""


class PointsData(RequestModel):
    """The training points themselves, with one label (0 or 1) per point."""

    points: list[Point] = Field(
        min_length=1, description=f"[[x, y], ...], numbers within ±{MAX_COORDINATE:g}"
    )
    labels: list[Label] = Field(min_length=1)

    @field_validator("labels")
    @classmethod
    def _one_label_per_point(cls, labels: list[int], info: Any) -> list[int]:
        points = info.data.get("points")
        if points is not None and len(points) != len(labels):
            raise ValueError(f"there are {len(labels)} labels for {len(points)} points")
        return labels

    @property
    def class_sizes(self) -> tuple[int, int]:
        """Points labelled 0 and points labelled 1."""
        counts = Counter(self.labels)
        return counts[0], counts[1]

    def dataset(self) -> Dataset:
        """The points (n, 2) and labels (n,) as a validated core dataset."""
        return make_dataset(self.points, self.labels)


def _data_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        keys = value.keys()
    elif isinstance(value, BaseModel):
        keys = type(value).model_fields.keys()
    else:
        return None
    return "points-data" if "points" in keys or "labels" in keys else "generator-data"


TrainingData = Annotated[
    Annotated[GeneratorData, Tag("generator-data")] | Annotated[PointsData, Tag("points-data")],
    Discriminator(
        _data_kind,
        custom_error_type="data_source",
        custom_error_message="give either {generator, n_samples, noise, seed} or {points, labels}",
    ),
]


class TrainingRequest(TrainingSettings):
    """What to train: the data, the network and the training. The defaults are the tutorial's."""

    name: str | None = Field(
        default=None,
        max_length=NAME_MAX_LENGTH,
        pattern=NAME_PATTERN,
        description=(
            "the registered name whose next version the model becomes (letters, digits, '.', "
            "'-', '_'); other text without control characters is kept as a label, and the "
            "model is then addressed by its id only"
        ),
    )
    data: TrainingData = Field(default_factory=GeneratorData)
    initial_parameters: ParametersBody | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "two-blobs",
                    "data": {"generator": "blobs", "n_samples": 200, "noise": 0.2, "seed": 42},
                    "hidden_layers": [4],
                    "activation": "relu",
                    "epochs": 20000,
                    "learning_rate": 0.5,
                    "optimizer": "gd",
                    "batch_size": None,
                    "seed": 42,
                }
            ]
        }
    )

    @property
    def n_training_points(self) -> int:
        if isinstance(self.data, PointsData):
            return len(self.data.points)
        return self.data.n_samples

    def job_config(self) -> JobConfig:
        """The configuration to store and run: this body without its name and arrays."""
        settings = self.model_dump(exclude={"name", "data", "initial_parameters"})
        data = (
            GivenPoints(n_points=len(self.data.points))
            if isinstance(self.data, PointsData)
            else self.data
        )
        parameters = None
        if self.initial_parameters is not None:
            parameters = GivenParameters(layer_sizes=self.initial_parameters.layer_sizes)
        return JobConfig(**settings, data=data, initial_parameters=parameters)


class JobProgress(BaseModel):
    """How far a job has come; ``fraction`` is epoch / epochs (1 once succeeded)."""

    model_config = ConfigDict(from_attributes=True)

    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    fraction: float
    elapsed_seconds: float | None = Field(description="since the job started running")
    eta_seconds: float | None = Field(description="estimated time left, while running")


class JobOut(BaseModel):
    """A training job; built from a job record by its attributes."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None
    status: JobStatus
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    progress: JobProgress
    model_id: str | None
    error: str | None
    cancel_requested: bool
    config: JobConfig = Field(description="the training body as run, defaults filled in")
