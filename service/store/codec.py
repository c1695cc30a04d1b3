"""Encoding of the stored arrays (loss histories, datasets, snapshots) as compact npz bytes."""

import numpy as np
from numpy.typing import NDArray

from core.arrays import FloatArray
from core.dataset import Dataset
from core.serialization import arrays_from_bytes, arrays_to_bytes
from service.domain.records import LossHistory, ModelDatasets, ParameterSnapshots


def encode_loss_history(
    loss: FloatArray,
    validation_loss: FloatArray | None = None,
    accuracy: FloatArray | None = None,
    validation_accuracy: FloatArray | None = None,
) -> bytes:
    """Bytes of a loss history: ``loss`` (epochs_run,), each other array the same or None.

    The accuracies per epoch are kept beside the losses when given (a model's, not a job's
    progress); a history without them (every v1 history) decodes with them None.
    """
    given = {
        "loss": loss,
        "validation_loss": validation_loss,
        "accuracy": accuracy,
        "validation_accuracy": validation_accuracy,
    }
    arrays = {
        key: np.asarray(values, dtype=np.float64)
        for key, values in given.items()
        if values is not None
    }
    return arrays_to_bytes(arrays)


def decode_loss_history(data: bytes) -> LossHistory:
    arrays = arrays_from_bytes(data)
    return LossHistory(
        loss=arrays["loss"],
        validation_loss=arrays.get("validation_loss"),
        accuracy=arrays.get("accuracy"),
        validation_accuracy=arrays.get("validation_accuracy"),
    )


def encode_dataset(dataset: Dataset) -> bytes:
    """Bytes of one dataset: points (n, 2) float64 and labels (n,) int64."""
    return arrays_to_bytes({"points": dataset.points, "labels": dataset.labels})


def decode_dataset(data: bytes) -> Dataset:
    arrays = arrays_from_bytes(data)
    return Dataset(points=arrays["points"], labels=arrays["labels"])


def encode_datasets(train_set: Dataset, validation_set: Dataset | None) -> bytes:
    """Bytes of a model's training set and, when split, its validation set."""
    arrays = {"train_points": train_set.points, "train_labels": train_set.labels}
    if validation_set is not None:
        arrays["validation_points"] = validation_set.points
        arrays["validation_labels"] = validation_set.labels
    return arrays_to_bytes(arrays)


def decode_datasets(data: bytes) -> ModelDatasets:
    arrays = arrays_from_bytes(data)
    train_set = Dataset(points=arrays["train_points"], labels=arrays["train_labels"])
    if "validation_points" not in arrays:
        return ModelDatasets(train_set, None)
    validation_set = Dataset(points=arrays["validation_points"], labels=arrays["validation_labels"])
    return ModelDatasets(train_set, validation_set)


def encode_snapshots(epochs: NDArray[np.int64], vectors: FloatArray) -> bytes:
    """Bytes of parameter snapshots: ``epochs`` (k,) and the flat ``vectors`` (k, size)."""
    return arrays_to_bytes(
        {"epochs": np.asarray(epochs, dtype=np.int64), "vectors": np.asarray(vectors)}
    )


def decode_snapshots(data: bytes) -> ParameterSnapshots:
    arrays = arrays_from_bytes(data)
    return ParameterSnapshots(epochs=arrays["epochs"], vectors=arrays["vectors"])
