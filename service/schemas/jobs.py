"""Schemas of training jobs: the training body (defaults reproduce the tutorial) and the job."""

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, JsonValue, Tag, field_validator

from core.activations import ACTIVATIONS
from core.dataset import MAX_COORDINATE, Dataset, make_dataset
from core.errors import ConfigError
from core.features import DEFAULT_FEATURES, FEATURES, check_features
from core.generators import GENERATORS, MAX_NOISE, MIN_SAMPLES
from core.initializers import INITIALIZERS
from core.optimizers import OPTIMIZERS
from service.domain import JobStatus
from service.schemas.common import FiniteFloat, Label, Page, ParametersBody, Point, RequestModel
from service.store.records import JobRecord

NAME_MAX_LENGTH = 200
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*$"
"""No control characters: they serve no label, and PostgreSQL's text refuses NUL outright."""


def _enum(known: dict[str, Any]) -> dict[str, JsonValue]:
    """The known names as an OpenAPI ``enum``: the core's tables are the one list of them."""
    names: list[JsonValue] = [*sorted(known)]
    return {"enum": names}


def _one_of(name: str, value: str, known: dict[str, Any]) -> str:
    if value not in known:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(known)}")
    return value


class GeneratorData(RequestModel):
    """Points drawn by one of the core's generators."""

    generator: str = Field(default="blobs", json_schema_extra=_enum(GENERATORS))
    n_samples: int = Field(default=200, ge=MIN_SAMPLES)
    noise: FiniteFloat = Field(default=0.2, ge=0.0, le=MAX_NOISE)
    seed: int | None = Field(default=42, ge=0)

    @field_validator("generator")
    @classmethod
    def _known_generator(cls, value: str) -> str:
        return _one_of("generator", value, GENERATORS)


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


class EarlyStoppingBody(RequestModel):
    """Stop when the monitored loss (validation if split, else training) stops improving."""

    patience: int = Field(default=100, ge=1)
    min_delta: FiniteFloat = Field(default=0.0, ge=0.0)
    restore_best: bool = True


class TrainingRequest(RequestModel):
    """What to train: the data, the network and the training. The defaults are the tutorial's."""

    name: str | None = Field(
        default=None,
        max_length=NAME_MAX_LENGTH,
        pattern=NAME_PATTERN,
        description="a label for people: any text without control characters",
    )
    data: TrainingData = Field(default_factory=GeneratorData)
    hidden_layers: list[Annotated[int, Field(ge=1)]] = Field(default_factory=lambda: [4])
    features: list[Annotated[str, Field(json_schema_extra=_enum(FEATURES))]] = Field(
        default_factory=lambda: list(DEFAULT_FEATURES),
        min_length=1,
        description="the network's inputs, computed from each point (x1, x2); each once",
    )
    activation: str = Field(default="relu", json_schema_extra=_enum(ACTIVATIONS))
    init: str = Field(default="normal", json_schema_extra=_enum(INITIALIZERS))
    epochs: int = Field(default=20_000, ge=1)
    learning_rate: FiniteFloat = Field(default=0.5, gt=0.0)
    optimizer: str = Field(default="gd", json_schema_extra=_enum(OPTIMIZERS))
    batch_size: int | None = Field(default=None, ge=1, description="null: full batch")
    l2: FiniteFloat = Field(default=0.0, ge=0.0)
    l1: FiniteFloat = Field(default=0.0, ge=0.0)
    momentum: FiniteFloat = Field(default=0.9, ge=0.0, lt=1.0)
    beta1: FiniteFloat = Field(default=0.9, ge=0.0, lt=1.0)
    beta2: FiniteFloat = Field(default=0.999, ge=0.0, lt=1.0)
    epsilon: FiniteFloat = Field(default=1e-8, gt=0.0)
    seed: int | None = Field(default=42, ge=0)
    validation_fraction: FiniteFloat = Field(
        default=0.0, ge=0.0, lt=1.0, description="share of points held out; 0: no split"
    )
    early_stopping: EarlyStoppingBody | None = None
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

    @field_validator("activation")
    @classmethod
    def _known_activation(cls, value: str) -> str:
        return _one_of("activation", value, ACTIVATIONS)

    @field_validator("features")
    @classmethod
    def _known_features(cls, value: list[str]) -> list[str]:
        try:
            check_features(value)
        except ConfigError as error:
            raise ValueError(str(error).removeprefix("features: ")) from None
        return value

    @field_validator("init")
    @classmethod
    def _known_init(cls, value: str) -> str:
        return _one_of("init", value, INITIALIZERS)

    @field_validator("optimizer")
    @classmethod
    def _known_optimizer(cls, value: str) -> str:
        return _one_of("optimizer", value, OPTIMIZERS)

    @property
    def n_training_points(self) -> int:
        if isinstance(self.data, PointsData):
            return len(self.data.points)
        return self.data.n_samples

    def stored_config(self) -> dict[str, Any]:
        """The body as run, defaults filled in, with given arrays summarised.

        Given points become ``{"kind": "points", "n_points": n}`` and initial parameters
        ``{"layer_sizes": [...]}``: the arrays themselves are stored as bytes beside the
        job, so listing jobs and models stays small.
        """
        config = self.model_dump(mode="json", exclude={"data", "initial_parameters", "name"})
        if isinstance(self.data, PointsData):
            config["data"] = {"kind": "points", "n_points": len(self.data.points)}
        else:
            config["data"] = self.data.model_dump(mode="json")
        config["initial_parameters"] = None
        if self.initial_parameters is not None:
            weights = self.initial_parameters.weights
            layer_sizes = [len(weights[0])] + [len(layer[0]) if layer else 0 for layer in weights]
            config["initial_parameters"] = {"layer_sizes": layer_sizes}
        return config


class JobProgress(BaseModel):
    """How far a job has come; ``fraction`` is epoch / epochs (1 once succeeded)."""

    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    fraction: float
    elapsed_seconds: float | None = Field(description="since the job started running")
    eta_seconds: float | None = Field(description="estimated time left, while running")


class JobOut(BaseModel):
    """A training job."""

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
    config: dict[str, Any] = Field(description="the training body as run, defaults filled in")

    @classmethod
    def from_record(cls, job: JobRecord, now: datetime | None = None) -> "JobOut":
        return cls(
            id=job.id,
            name=job.name,
            status=job.status,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            progress=job_progress(job, now or datetime.now(UTC)),
            model_id=job.model_id,
            error=job.error,
            cancel_requested=job.cancel_requested,
            config=job.config,
        )


def job_progress(job: JobRecord, now: datetime) -> JobProgress:
    """Progress with the derived figures: fraction done, time elapsed and time left."""
    epochs = job.epochs or int(job.config.get("epochs", 0))
    fraction = 1.0 if job.status is JobStatus.SUCCEEDED else job.epoch / epochs if epochs else 0.0
    elapsed = None
    if job.started_at is not None:
        elapsed = max(0.0, ((job.finished_at or now) - job.started_at).total_seconds())
    eta = None
    if job.status is JobStatus.RUNNING and elapsed is not None and job.epoch > 0:
        eta = elapsed * (epochs - job.epoch) / job.epoch
    elif job.status is JobStatus.SUCCEEDED:
        eta = 0.0
    return JobProgress(
        epoch=job.epoch,
        epochs=epochs,
        loss=job.loss,
        validation_loss=job.validation_loss,
        fraction=min(1.0, fraction),
        elapsed_seconds=elapsed,
        eta_seconds=eta,
    )


JobPage = Page[JobOut]
