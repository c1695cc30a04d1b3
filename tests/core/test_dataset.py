"""Tests of user-data validation and the stratified train/validation split."""

import math

import numpy as np
import pytest

from core.dataset import (
    MAX_COORDINATE,
    Dataset,
    make_dataset,
    train_validation_split,
    validate_points,
)
from core.errors import DataError
from core.generators import generate

GOOD_POINTS = [[0.0, 0.5], [1.0, -1.0], [-2.0, 3.5], [4.0, 4.0]]
GOOD_LABELS = [0, 1, 1, 0]


def _dataset(n_class0: int, n_class1: int) -> Dataset:
    """A dataset whose row i sits at (i, -i), so rows can be told apart after a split."""
    n_rows = n_class0 + n_class1
    points = np.column_stack((np.arange(n_rows), -np.arange(n_rows))).astype(np.float64)
    labels = np.repeat([0, 1], [n_class0, n_class1])
    return make_dataset(points, labels)


def test_good_data_is_accepted_as_float64_and_int64() -> None:
    dataset = make_dataset(GOOD_POINTS, GOOD_LABELS)
    assert dataset.points.dtype == np.float64
    assert dataset.labels.dtype == np.int64
    np.testing.assert_array_equal(dataset.points, np.array(GOOD_POINTS))
    np.testing.assert_array_equal(dataset.labels, np.array(GOOD_LABELS))
    assert len(dataset) == 4


def test_integer_points_float_labels_and_boolean_labels_are_accepted() -> None:
    from_ints = make_dataset([[0, 1], [2, 3]], [1.0, 0.0])
    assert from_ints.points.dtype == np.float64
    assert from_ints.labels.tolist() == [1, 0]
    from_mask = make_dataset(np.zeros((3, 2)), np.array([1, -1, 1]) > 0)
    assert from_mask.labels.tolist() == [1, 0, 1]


def test_the_dataset_does_not_share_memory_with_the_input() -> None:
    points = np.array(GOOD_POINTS)
    labels = np.array(GOOD_LABELS)
    dataset = make_dataset(points, labels)
    points[0, 0] = 99.0
    labels[0] = 1
    assert dataset.points[0, 0] == 0.0
    assert dataset.labels[0] == 0


@pytest.mark.parametrize(
    ("points", "message"),
    [
        ([1.0, 2.0, 3.0, 4.0], r"shape \(n, 2\).*got shape \(4,\)"),
        ([[1.0, 2.0, 3.0]] * 4, r"shape \(n, 2\).*got shape \(4, 3\)"),
        ([[[1.0, 2.0]]] * 4, r"shape \(n, 2\).*got shape \(4, 1, 2\)"),
        (5.0, r"shape \(n, 2\).*got shape \(\)"),
        ([[1.0, 2.0], [3.0]], "points: not a list of \\[x, y\\] pairs of numbers"),
    ],
)
def test_points_of_the_wrong_shape_are_refused(points: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        make_dataset(points, GOOD_LABELS)  # type: ignore[arg-type]


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_training_coordinates_beyond_the_bound_are_refused(sign: float) -> None:
    points = [row.copy() for row in GOOD_POINTS]
    points[1][0] = sign * MAX_COORDINATE * 1.5
    with pytest.raises(DataError, match=r"points\[1\]: coordinates must lie within"):
        make_dataset(points, GOOD_LABELS)
    points[1][0] = sign * MAX_COORDINATE
    assert make_dataset(points, GOOD_LABELS).points[1, 0] == sign * MAX_COORDINATE


@pytest.mark.parametrize("bad_value", [math.nan, math.inf, -math.inf])
def test_non_finite_points_are_refused_by_row(bad_value: float) -> None:
    points = [row.copy() for row in GOOD_POINTS]
    points[2][1] = bad_value
    with pytest.raises(DataError, match=r"points\[2\]: coordinates must be finite"):
        make_dataset(points, GOOD_LABELS)


@pytest.mark.parametrize(
    "points",
    [
        [["a", "b"], ["c", "d"], ["e", "f"], ["g", "h"]],
        [["1", "2"], ["3", "4"], ["5", "6"], ["7", "8"]],
        [[1 + 2j, 0], [0, 0], [0, 0], [0, 0]],
        [[True, False], [False, True], [True, True], [False, False]],
        [[10**400, 0], [0, 0], [0, 0], [0, 0]],
        [[{}, 0], [0, 0], [0, 0], [0, 0]],
        "points",
    ],
)
def test_non_numeric_points_are_refused(points: object) -> None:
    with pytest.raises(DataError, match="points: not a list of \\[x, y\\] pairs of numbers"):
        make_dataset(points, GOOD_LABELS)  # type: ignore[arg-type]


def test_missing_coordinates_are_refused() -> None:
    with pytest.raises(DataError, match=r"points\[1\]: coordinates must be finite numbers"):
        make_dataset([[0, 0], [None, 1], [1, 1], [2, 2]], GOOD_LABELS)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ([0, 1, 2, 0], r"labels\[2\]: must be 0 or 1, got 2"),
        ([0, -1, 1, 0], r"labels\[1\]: must be 0 or 1, got -1"),
        ([0, 1, 0.5, 0], r"labels\[2\]: must be 0 or 1, got 0.5"),
        ([math.nan, 1, 0, 1], r"labels\[0\]: must be 0 or 1, got nan"),
        (["0", "1", "1", "0"], "labels: not a list of 0s and 1s"),
        (["a", "b", "c", "d"], "labels: not a list of 0s and 1s"),
        ([[0], [1], [1], [0]], r"labels: expected a flat list of 0s and 1s, got shape \(4, 1\)"),
    ],
)
def test_labels_outside_zero_and_one_are_refused(labels: object, message: str) -> None:
    with pytest.raises(DataError, match=message):
        make_dataset(GOOD_POINTS, labels)  # type: ignore[arg-type]


@pytest.mark.parametrize("labels", [[0, 1, 1], [0, 1, 1, 0, 1], []])
def test_a_label_count_other_than_the_point_count_is_refused(labels: list[int]) -> None:
    expected = rf"there are {len(labels)} labels for 4 points"
    with pytest.raises(DataError, match=expected):
        make_dataset(GOOD_POINTS, labels)


@pytest.mark.parametrize("label", [0, 1])
def test_a_single_class_is_refused(label: int) -> None:
    with pytest.raises(DataError, match=f"both classes .* must be present, got only class {label}"):
        make_dataset(GOOD_POINTS, [label] * 4)


@pytest.mark.parametrize("points", [[], np.empty((0, 2))])
def test_empty_input_is_refused(points: object) -> None:
    with pytest.raises(DataError, match="points: at least one point is required"):
        make_dataset(points, [])  # type: ignore[arg-type]


def test_validate_points_names_the_field_it_checks() -> None:
    np.testing.assert_array_equal(validate_points([[1, 2]], name="query"), [[1.0, 2.0]])
    with pytest.raises(DataError, match=r"query\[0\]: coordinates must be finite"):
        validate_points([[math.nan, 0.0]], name="query")


def test_fraction_zero_returns_the_dataset_and_no_validation_set() -> None:
    dataset = _dataset(10, 10)
    train, validation = train_validation_split(dataset, 0.0, seed=1)
    assert train is dataset
    assert validation is None


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize(("n_class0", "n_class1"), [(100, 100), (37, 63), (5, 120)])
def test_split_is_stratified(fraction: float, n_class0: int, n_class1: int) -> None:
    train, validation = train_validation_split(_dataset(n_class0, n_class1), fraction, seed=3)
    assert validation is not None
    for label, size in ((0, n_class0), (1, n_class1)):
        n_validation = int((validation.labels == label).sum())
        n_train = int((train.labels == label).sum())
        assert abs(n_validation - fraction * size) <= 1
        assert n_train + n_validation == size
        assert n_train >= 1
        assert n_validation >= 1


@pytest.mark.parametrize("fraction", [0.2, 0.5])
def test_split_loses_nothing_and_overlaps_nowhere(fraction: float) -> None:
    dataset = generate("moons", n_samples=301, noise=0.2, seed=4)
    train, validation = train_validation_split(dataset, fraction, seed=5)
    assert validation is not None
    assert len(train) + len(validation) == len(dataset)
    combined = np.vstack((train.points, validation.points))
    combined_labels = np.concatenate((train.labels, validation.labels))
    # every original row appears exactly once, with its own label
    order = np.lexsort((combined[:, 1], combined[:, 0]))
    original_order = np.lexsort((dataset.points[:, 1], dataset.points[:, 0]))
    np.testing.assert_array_equal(combined[order], dataset.points[original_order])
    np.testing.assert_array_equal(combined_labels[order], dataset.labels[original_order])
    train_rows = {tuple(row) for row in train.points.tolist()}
    validation_rows = {tuple(row) for row in validation.points.tolist()}
    assert train_rows.isdisjoint(validation_rows)


def test_split_is_reproducible_for_a_seed() -> None:
    dataset = _dataset(50, 50)
    first_train, first_validation = train_validation_split(dataset, 0.3, seed=11)
    second_train, second_validation = train_validation_split(dataset, 0.3, seed=11)
    assert first_validation is not None
    assert second_validation is not None
    np.testing.assert_array_equal(first_train.points, second_train.points)
    np.testing.assert_array_equal(first_validation.points, second_validation.points)
    np.testing.assert_array_equal(first_validation.labels, second_validation.labels)


def test_split_differs_with_another_seed() -> None:
    dataset = _dataset(50, 50)
    _, first_validation = train_validation_split(dataset, 0.3, seed=11)
    _, second_validation = train_validation_split(dataset, 0.3, seed=12)
    assert first_validation is not None
    assert second_validation is not None
    assert not np.array_equal(first_validation.points, second_validation.points)


def test_split_leaves_the_input_untouched() -> None:
    dataset = _dataset(20, 20)
    points_before = dataset.points.copy()
    labels_before = dataset.labels.copy()
    train_validation_split(dataset, 0.25, seed=0)
    np.testing.assert_array_equal(dataset.points, points_before)
    np.testing.assert_array_equal(dataset.labels, labels_before)


@pytest.mark.parametrize("fraction", [-0.1, 1.0, 1.5, math.nan])
def test_invalid_fractions_are_refused(fraction: float) -> None:
    with pytest.raises(DataError, match="validation_fraction: must be at least 0 and below 1"):
        train_validation_split(_dataset(10, 10), fraction, seed=0)


@pytest.mark.parametrize(
    ("n_class0", "n_class1", "fraction", "small_class"),
    [(1, 10, 0.2, 0), (10, 1, 0.2, 1), (10, 10, 0.99, 0), (2, 30, 0.8, 0)],
)
def test_classes_too_small_to_split_are_refused(
    n_class0: int, n_class1: int, fraction: float, small_class: int
) -> None:
    expected = f"class {small_class} has {(n_class0, n_class1)[small_class]} points, too few"
    with pytest.raises(DataError, match=expected):
        train_validation_split(_dataset(n_class0, n_class1), fraction, seed=0)
