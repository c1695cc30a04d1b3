"""Schemas of models: a trained model's metadata, metrics, version, aliases and tags."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from service.domain.records import ModelMetrics
from service.domain.training import JobConfig

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
    "version": 3,
    "aliases": ["champion"],
    "tags": {"team": "geometry"},
    "description": "blobs at noise 0.2",
    "metrics": {
        "train_accuracy": 1.0,
        "train_loss": 0.0012,
        "validation_accuracy": None,
        "validation_loss": None,
        "epochs_run": 20000,
        "train_seconds": 1.8,
    },
}


class ModelOut(BaseModel):
    """A trained model: the training body as run (defaults filled in) and its metrics."""

    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [MODEL_EXAMPLE]})

    id: str = Field(description="32 hex digits")
    name: str | None
    created_at: datetime
    job_id: str | None = Field(description="the job that trained it (null once that job is gone)")
    config: JobConfig = Field(description="the training body as run, defaults filled in")
    metrics: ModelMetrics
    version: int | None = Field(
        description="its version under `name` (null: the name is not registrable, see README)"
    )
    aliases: list[str] = Field(description="the aliases of `name` that point at this version")
    tags: dict[str, str]
    description: str | None
