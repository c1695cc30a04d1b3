"""Labelled 2-D points: the dataset container, its validation and the train/validation split."""

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.arrays import FloatArray, LabelArray
from core.errors import DataError

MAX_COORDINATE = 1e6
"""Largest coordinate magnitude accepted for training data: far beyond any sensible plane
picture, and small enough that a network's activations cannot overflow."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Points of shape (n, 2), float64, with labels of shape (n,), int64 in {0, 1}.

    Build one with :func:`make_dataset` (which validates) or a generator from
    :mod:`core.generators`; the constructor itself trusts its arguments.
    """

    points: FloatArray
    labels: LabelArray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def subset(self, indices: NDArray[np.intp]) -> "Dataset":
        """The rows at ``indices``, in that order."""
        return Dataset(points=self.points[indices], labels=self.labels[indices])


def _as_float_array(values: ArrayLike, name: str, expected: str, allow_bool: bool) -> FloatArray:
    """``values`` as a float64 array of any shape; strings, complex numbers and values too
    large for a float are refused with a :class:`DataError` (as are booleans unless allowed).
    """
    refused_kinds = "USc" if allow_bool else "USbc"
    try:
        raw = np.asarray(values)
        if raw.dtype.kind in refused_kinds:
            raise TypeError(f"got values of type {raw.dtype}")
        return raw.astype(np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise DataError(f"{name}: not {expected} ({error})") from None


def validate_points(points: ArrayLike, name: str = "points") -> FloatArray:
    """Return ``points`` as a float64 array of shape (n, 2), n >= 1, with finite values.

    Raises :class:`DataError` naming what is wrong otherwise.
    """
    array = _as_float_array(points, name, "a list of [x, y] pairs of numbers", allow_bool=False)
    if array.ndim >= 1 and array.shape[0] == 0:
        raise DataError(f"{name}: at least one point is required, got none")
    if array.ndim != 2 or array.shape[1] != 2:
        raise DataError(
            f"{name}: expected a list of [x, y] pairs (shape (n, 2)), got shape {array.shape}"
        )
    finite = np.isfinite(array).all(axis=1)
    if not finite.all():
        first_bad = int(np.argmin(finite))
        raise DataError(f"{name}[{first_bad}]: coordinates must be finite numbers")
    return array


def make_dataset(points: ArrayLike, labels: ArrayLike) -> Dataset:
    """Validate user data and return it as a :class:`Dataset`.

    ``points`` must be (n, 2) finite numbers of magnitude at most :data:`MAX_COORDINATE` and
    ``labels`` n values in {0, 1}, with both classes present (a classifier cannot learn a
    boundary from one class).
    """
    point_array = validate_points(points)
    in_range = (np.abs(point_array) <= MAX_COORDINATE).all(axis=1)
    if not in_range.all():
        first_bad = int(np.argmin(in_range))
        raise DataError(f"points[{first_bad}]: coordinates must lie within ±{MAX_COORDINATE:g}")
    label_values = _as_float_array(labels, "labels", "a list of 0s and 1s", allow_bool=True)
    if label_values.ndim != 1:
        raise DataError(
            f"labels: expected a flat list of 0s and 1s, got shape {label_values.shape}"
        )
    if label_values.shape[0] != point_array.shape[0]:
        raise DataError(
            f"labels: there are {label_values.shape[0]} labels for {point_array.shape[0]} "
            "points; give one label per point"
        )
    is_binary = (label_values == 0) | (label_values == 1)
    if not is_binary.all():
        first_bad = int(np.argmin(is_binary))
        raise DataError(f"labels[{first_bad}]: must be 0 or 1, got {label_values[first_bad]}")
    label_array = label_values.astype(np.int64)
    present = np.unique(label_array)
    if present.size < 2:
        raise DataError(
            f"labels: both classes (0 and 1) must be present, got only class {present[0]}"
        )
    return Dataset(points=point_array, labels=label_array)


def validation_rows(label: int, class_size: int, validation_fraction: float) -> int:
    """How many of class ``label``'s ``class_size`` points the split keeps for validation.

    ``round(fraction * class_size)``, at least one for a positive fraction. Raises
    :class:`DataError` for a fraction outside [0, 1) or when the class would keep no point
    for training.
    """
    _check_fraction(validation_fraction)
    if validation_fraction == 0.0:
        return 0
    n_validation = max(1, round(validation_fraction * class_size))
    if n_validation >= class_size:
        raise DataError(
            f"validation_fraction: class {label} has {class_size} points, too few to keep "
            "some for both training and validation"
        )
    return n_validation


def _check_fraction(validation_fraction: float) -> None:
    if not 0.0 <= validation_fraction < 1.0:
        raise DataError(
            f"validation_fraction: must be at least 0 and below 1, got {validation_fraction}"
        )


def train_validation_split(
    dataset: Dataset, validation_fraction: float, seed: int | None = None
) -> tuple[Dataset, Dataset | None]:
    """Split ``dataset`` into training and validation sets, stratified by class.

    Each class gives :func:`validation_rows` of its points to validation, chosen by a NumPy
    ``Generator`` seeded with ``seed``, so the split is reproducible. A fraction of 0 returns
    ``(dataset, None)``. Both sets keep both classes; a split that cannot do that raises
    :class:`DataError`.
    """
    _check_fraction(validation_fraction)
    if validation_fraction == 0.0:
        return dataset, None
    rng = np.random.default_rng(seed)
    validation_index: list[NDArray[np.intp]] = []
    train_index: list[NDArray[np.intp]] = []
    for label in (0, 1):
        rows = np.flatnonzero(dataset.labels == label)
        rng.shuffle(rows)
        n_validation = validation_rows(label, rows.size, validation_fraction)
        validation_index.append(rows[:n_validation])
        train_index.append(rows[n_validation:])
    return (
        dataset.subset(np.sort(np.concatenate(train_index))),
        dataset.subset(np.sort(np.concatenate(validation_index))),
    )
