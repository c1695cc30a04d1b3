"""Typed, immutable records the repository returns, so callers never hold ORM objects."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from core.arrays import FloatArray
from core.dataset import Dataset
from core.parameters import Parameters
from service.domain.jobs import JobStatus
from service.domain.training import JobConfig

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class RecordPage(Generic[ItemT]):
    """One page of a list, newest first, with the total count over all pages."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ProgressState:
    """How far a job has come, with the figures derived from its times."""

    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    fraction: float
    elapsed_seconds: float | None
    eta_seconds: float | None


@dataclass(frozen=True)
class JobRecord:
    """A job as clients see it: status, progress and outcome (no bulky arrays)."""

    id: str
    name: str | None
    status: JobStatus
    config: JobConfig
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    progress_at: datetime | None
    cancel_requested: bool
    error: str | None
    model_id: str | None
    worker: str | None

    @property
    def progress(self) -> ProgressState:
        """Progress now: fraction done, time elapsed and time left."""
        return self.progress_at_time(datetime.now(UTC))

    def progress_at_time(self, now: datetime) -> ProgressState:
        """Progress as of ``now`` (elapsed time runs until the job finished)."""
        epochs = self.epochs or self.config.epochs
        succeeded = self.status is JobStatus.SUCCEEDED
        fraction = 1.0 if succeeded else self.epoch / epochs if epochs else 0.0
        elapsed = None
        if self.started_at is not None:
            elapsed = max(0.0, ((self.finished_at or now) - self.started_at).total_seconds())
        eta = None
        if self.status is JobStatus.RUNNING and elapsed is not None and self.epoch > 0:
            eta = elapsed * (epochs - self.epoch) / self.epoch
        elif succeeded:
            eta = 0.0
        return ProgressState(
            epoch=self.epoch,
            epochs=epochs,
            loss=self.loss,
            validation_loss=self.validation_loss,
            fraction=min(1.0, fraction),
            elapsed_seconds=elapsed,
            eta_seconds=eta,
        )


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs to run a job it has just claimed, with the lease it must show."""

    id: str
    lease: str
    name: str | None
    config: JobConfig
    training_data: Dataset | None
    initial_parameters: Parameters | None


@dataclass(frozen=True)
class ProgressAck:
    """The store's answer to a progress write: may the worker go on, and was cancel asked?"""

    lease_held: bool
    cancel_requested: bool


@dataclass(frozen=True)
class LossHistory:
    """Training loss per epoch so far, shape (epochs_run,), and the validation loss if split.

    A model's history also holds its training and validation accuracy per epoch (None for
    models trained before they were recorded, and for a job's progress).
    """

    loss: FloatArray
    validation_loss: FloatArray | None
    accuracy: FloatArray | None = None
    validation_accuracy: FloatArray | None = None


@dataclass(frozen=True)
class ParameterSnapshots:
    """A run's flat parameter vectors (k, size) after ``epochs`` (k,) updates, increasing."""

    epochs: NDArray[np.int64]
    vectors: FloatArray


@dataclass(frozen=True)
class LiveParameters:
    """A job's newest parameters as stored while it trains: after ``epoch`` updates."""

    epoch: int
    parameters: Parameters


@dataclass(frozen=True)
class JobFigureInputs:
    """What a running job's figures draw: its configuration and points, its newest parameters
    (None before the first are stored)."""

    config: JobConfig
    status: JobStatus
    training_data: Dataset | None
    live: LiveParameters | None


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state as last read for live watchers, with its loss histories (epochs_so_far,).

    ``history_version`` is the stored history's version the arrays were decoded from (0
    before the first history write): what tells the next read whether to decode again.
    """

    status: JobStatus
    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    model_id: str | None
    error: str | None
    progress_at: datetime | None
    losses: FloatArray
    validation_losses: FloatArray | None
    history_version: int
    live: LiveParameters | None = None


class ConfusionCounts(BaseModel):
    """True negatives, false positives, false negatives and true positives."""

    model_config = ConfigDict(frozen=True)

    tn: int
    fp: int
    fn: int
    tp: int


class EvaluationSummary(BaseModel):
    """How class-1 probabilities at a threshold match labels (see core.evaluation).

    ``roc_auc`` is null when the labels hold one class, with the reason beside it.
    ``support`` is the number of points of class 0 and of class 1.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    threshold: float
    accuracy: float
    log_loss: float
    precision: float
    recall: float
    f1: float
    roc_auc: float | None
    roc_auc_undefined_reason: str | None = None
    confusion_matrix: ConfusionCounts
    support: tuple[int, int]


class ModelMetrics(BaseModel):
    """How well a model fits: accuracy in [0, 1] and binary cross-entropy loss.

    The validation members are null when the job kept no validation split.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    train_accuracy: float
    train_loss: float
    validation_accuracy: float | None = None
    validation_loss: float | None = None
    epochs_run: int
    train_seconds: float
    train_evaluation: EvaluationSummary | None = Field(
        default=None, description="every evaluation metric on the training set, at 0.5"
    )
    validation_evaluation: EvaluationSummary | None = Field(
        default=None, description="every evaluation metric on the validation set, at 0.5"
    )
    stopped_early: bool | None = Field(
        default=None, description="whether early stopping ended training before its epochs"
    )
    best_epoch: int | None = Field(
        default=None, description="the epoch whose parameters were kept, with early stopping"
    )


@dataclass(frozen=True)
class ModelRecord:
    """A model's metadata: configuration (the training body as run) and metrics."""

    id: str
    name: str | None
    created_at: datetime
    job_id: str | None
    config: JobConfig
    metrics: ModelMetrics
    version: int | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisteredModelRecord:
    """A registered name: its metadata, aliases (alias -> version) and newest version.

    ``versions`` (newest first) is filled only when one registered model is asked for.
    """

    name: str
    created_at: datetime
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: ModelRecord | None
    versions: list[ModelRecord] | None = None


@dataclass(frozen=True)
class ModelDatasets:
    """The points a model was trained on, and its validation points when the job split them."""

    train_set: Dataset
    validation_set: Dataset | None


@dataclass(frozen=True)
class NewModel:
    """A trained model the worker hands to the store, its arrays already the core's bytes."""

    name: str | None
    config: JobConfig
    metrics: ModelMetrics
    parameters: bytes
    loss_history: bytes
    datasets: bytes
    snapshots: bytes | None = None
