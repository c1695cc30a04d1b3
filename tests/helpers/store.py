"""Reading back what the store holds, for assertions: a model's arrays, a job's configuration."""

from dataclasses import dataclass
from typing import Any

from core.dataset import Dataset
from core.parameters import Parameters
from service.domain.records import LossHistory, ModelRecord
from service.domain.training import JobConfig
from service.runner.identity import parse_worker_name
from service.schemas.jobs import TrainingRequest
from service.store.repository import Repository


@dataclass(frozen=True)
class ModelArtifacts:
    """Everything stored with a model: parameters, loss histories and its data."""

    parameters: Parameters
    activation: str
    loss_history: LossHistory
    train_set: Dataset
    validation_set: Dataset | None


def model_artifacts(repository: Repository, model_id: str) -> tuple[ModelRecord, ModelArtifacts]:
    """A model's record and every array stored with it, decoded."""
    record, parameters = repository.model_parameters(model_id)
    datasets = repository.model_datasets(model_id)
    artifacts = ModelArtifacts(
        parameters=parameters,
        activation=record.config.activation,
        loss_history=repository.model_loss_history(model_id),
        train_set=datasets.train_set,
        validation_set=datasets.validation_set,
    )
    return record, artifacts


def job_config(body: dict[str, Any] | None = None) -> JobConfig:
    """The configuration a job stores for this training body (the tutorial's when empty)."""
    return TrainingRequest.model_validate(body or {}).job_config()


def local_pid(worker: str) -> int | None:
    """The pid of a worker of this host, boot and PID namespace; None for any other worker."""
    identity = parse_worker_name(worker)
    if identity is None or not identity.is_local():
        return None
    return identity.pid
