"""Schemas of the model registry: a trained model's metadata and metrics."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.store.records import ModelRecord

MODEL_EXAMPLE: dict[str, Any] = {
    "id": "5f0c3d1e9a7b4c2d8e6f1a2b3c4d5e6f",
    "name": "two-blobs",
    "created_at": "2025-01-01T12:00:00Z",
    "job_id": "0123456789abcdef0123456789abcdef",
    "config": {
        "data": {"generator": "blobs", "n_samples": 200, "noise": 0.2, "seed": 42},
        "hidden_layers": [4],
        "activation": "relu",
        "epochs": 20000,
        "learning_rate": 0.5,
        "optimizer": "gd",
    },
    "metrics": {
        "train_accuracy": 1.0,
        "train_loss": 0.0012,
        "validation_accuracy": None,
        "validation_loss": None,
        "epochs_run": 20000,
        "train_seconds": 1.8,
    },
}


class ModelMetrics(BaseModel):
    """How well the model fits: accuracy in [0, 1] and binary cross-entropy loss.

    The validation members are null when the job kept no validation split.
    """

    model_config = ConfigDict(extra="ignore")

    train_accuracy: float
    train_loss: float
    validation_accuracy: float | None = None
    validation_loss: float | None = None
    epochs_run: int
    train_seconds: float
    stopped_early: bool | None = Field(
        default=None, description="whether early stopping ended training before its epochs"
    )
    best_epoch: int | None = Field(
        default=None, description="the epoch whose parameters were kept, with early stopping"
    )


class ModelOut(BaseModel):
    """A trained model: the training body as run (defaults filled in) and its metrics."""

    model_config = ConfigDict(json_schema_extra={"examples": [MODEL_EXAMPLE]})

    id: str = Field(description="32 hex digits")
    name: str | None
    created_at: datetime
    job_id: str | None = Field(description="the job that trained it (null once that job is gone)")
    config: dict[str, Any]
    metrics: ModelMetrics

    @classmethod
    def from_record(cls, record: ModelRecord) -> "ModelOut":
        return cls(
            id=record.id,
            name=record.name,
            created_at=record.created_at,
            job_id=record.job_id,
            config=record.config,
            metrics=ModelMetrics.model_validate(record.metrics),
        )
