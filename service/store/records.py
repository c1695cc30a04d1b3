"""Plain, immutable records the repository returns, so callers never hold ORM objects."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import numpy as np
from numpy.typing import NDArray

from core.dataset import Dataset
from core.parameters import Parameters
from service.domain import JobStatus

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class Page(Generic[ItemT]):
    """One page of a list, newest first, with the total count over all pages."""

    items: list[ItemT]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class JobRecord:
    """A job as clients see it: status, progress and outcome (no bulky arrays)."""

    id: str
    name: str | None
    status: JobStatus
    config: dict[str, Any]
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


@dataclass(frozen=True)
class ClaimedJob:
    """What a worker needs to run a job it has just claimed, with the lease it must show."""

    id: str
    lease: str
    name: str | None
    config: dict[str, Any]
    training_data: Dataset | None
    initial_parameters: Parameters | None


@dataclass(frozen=True)
class ProgressAck:
    """The store's answer to a progress write: may the worker go on, and was cancel asked?"""

    lease_held: bool
    cancel_requested: bool


@dataclass(frozen=True)
class LossHistory:
    """Training loss per epoch so far, shape (epochs_run,), and the validation loss if split."""

    loss: NDArray[np.float64]
    validation_loss: NDArray[np.float64] | None


@dataclass(frozen=True)
class ModelRecord:
    """A model's metadata: configuration (the training body as run) and metrics."""

    id: str
    name: str | None
    created_at: datetime
    job_id: str | None
    config: dict[str, Any]
    metrics: dict[str, Any]

    @property
    def activation(self) -> str:
        """The hidden-layer activation the model was trained with."""
        return str(self.config.get("activation", "relu"))


@dataclass(frozen=True)
class ModelArtifacts:
    """Everything a model's figures need: parameters, loss histories and its data."""

    parameters: Parameters
    activation: str
    loss_history: LossHistory
    train_set: Dataset
    validation_set: Dataset | None


@dataclass(frozen=True)
class NewModel:
    """A trained model the worker hands to the store, already encoded as the core's bytes."""

    name: str | None
    config: dict[str, Any]
    metrics: dict[str, Any]
    parameters: bytes
    loss_history: bytes
    datasets: bytes
