"""Tests of the snapshot schedule and of the bounded snapshot recorder."""

import itertools
from typing import Any

import numpy as np
import pytest

from core.backprop import FlatParameters
from core.errors import ConfigError
from core.network import Network
from core.parameters import make_parameters
from core.snapshots import MAX_SNAPSHOT_BYTES, SnapshotRecorder, snapshot_epochs


@pytest.mark.parametrize("total_epochs", [0, 1, 2, 5, 198, 199, 200, 201, 1000, 20_000, 10**7])
@pytest.mark.parametrize("max_snapshots", [2, 3, 10, 200])
def test_the_schedule_keeps_both_ends_in_order_within_budget(
    total_epochs: int, max_snapshots: int
) -> None:
    epochs = snapshot_epochs(total_epochs, max_snapshots)
    assert epochs.dtype == np.int64
    assert epochs[0] == 0
    assert epochs[-1] == total_epochs
    assert np.all(np.diff(epochs) > 0)
    assert epochs.shape[0] == min(total_epochs + 1, max_snapshots)


def test_a_short_run_keeps_every_epoch() -> None:
    np.testing.assert_array_equal(snapshot_epochs(150), np.arange(151))


def test_the_schedule_is_log_spaced_so_early_epochs_are_dense() -> None:
    epochs = snapshot_epochs(20_000, 200)
    # Every one of the first epochs, where the boundary moves fastest...
    np.testing.assert_array_equal(epochs[:20], np.arange(20))
    # ...then a nearly constant ratio between consecutive epochs (+ 1): a log scale.
    ratios = (epochs[1:] + 1) / (epochs[:-1] + 1)
    late = ratios[100:]
    assert late.max() / late.min() < 1.02
    assert np.all(np.diff(epochs) >= 1)
    # Half of the snapshots fall in the first few percent of the run.
    assert epochs[100] < 0.05 * 20_000


@pytest.mark.parametrize(
    ("total_epochs", "max_snapshots"), [(-1, 200), (10, 1), (10, 0), (2.5, 200), (True, 200)]
)
def test_the_schedule_refuses_impossible_requests(total_epochs: Any, max_snapshots: Any) -> None:
    with pytest.raises(ConfigError, match=r"total_epochs|max_snapshots"):
        snapshot_epochs(total_epochs, max_snapshots)


def _state(epoch: int, size: int = 3) -> np.ndarray:
    """A parameter vector that says which epoch it belongs to."""
    return np.full(size, float(epoch))


def test_a_recorder_hooked_into_every_epoch_keeps_the_schedule() -> None:
    total = 5000
    recorder = SnapshotRecorder(total, parameter_count=3)
    vector = _state(0)
    recorder.record(0, vector)
    for epoch in range(total):
        vector[:] = epoch + 1  # the epoch's update, in place as the training loop does
        if recorder.due(epoch + 1):
            recorder.record(epoch + 1, vector)
    recorder.finish(total, vector)
    np.testing.assert_array_equal(recorder.epochs, recorder.schedule)
    assert recorder.epochs.shape[0] == 200
    # Copies, not views of the live vector.
    np.testing.assert_array_equal(recorder.vectors[:, 0], recorder.epochs.astype(float))


def test_an_early_stop_keeps_the_last_state() -> None:
    recorder = SnapshotRecorder(20_000, parameter_count=3)
    recorder.record(0, _state(0))
    for epoch in range(1, 778):
        if recorder.due(epoch):
            recorder.record(epoch, _state(epoch))
    recorder.finish(777, _state(777))
    recorder.finish(777, _state(777))  # twice is once
    epochs = recorder.epochs
    assert epochs[0] == 0
    assert epochs[-1] == 777
    assert np.all(np.diff(epochs) > 0)
    assert epochs.shape[0] <= 200
    np.testing.assert_array_equal(recorder.vectors[:, 0], epochs.astype(float))


def test_a_recorder_checked_now_and_then_records_at_or_after_each_due_epoch() -> None:
    total = 20_000
    recorder = SnapshotRecorder(total, parameter_count=2)
    recorder.record(0, _state(0, 2))
    for epoch in range(37, total + 1, 37):  # as a progress callback would see them
        if recorder.due(epoch):
            recorder.record(epoch, _state(epoch, 2))
    recorder.finish(total, _state(total, 2))
    epochs = recorder.epochs
    assert (epochs[0], epochs[-1]) == (0, total)
    assert np.all(np.diff(epochs) > 0)
    assert all(epoch % 37 == 0 for epoch in epochs[1:-1])
    # Between two snapshots lies at least one scheduled epoch: nothing is taken twice.
    scheduled = recorder.schedule
    for earlier, later in itertools.pairwise(epochs):
        assert np.any((scheduled > earlier) & (scheduled <= later))
    np.testing.assert_array_equal(recorder.vectors[:, 0], epochs.astype(float))


def test_a_wide_network_keeps_fewer_snapshots_within_the_memory_bound() -> None:
    parameter_count = 459_521  # 8 hidden layers of 256 units
    recorder = SnapshotRecorder(20_000, parameter_count=parameter_count)
    capacity = recorder.schedule.shape[0]
    assert 2 <= capacity < 200
    assert capacity * parameter_count * 8 <= MAX_SNAPSHOT_BYTES
    assert (recorder.schedule[0], recorder.schedule[-1]) == (0, 20_000)
    huge = SnapshotRecorder(100, parameter_count=10**8)
    np.testing.assert_array_equal(huge.schedule, [0, 100])  # never fewer than two


def test_a_full_recorder_replaces_its_last_snapshot_with_the_newest() -> None:
    recorder = SnapshotRecorder(10, parameter_count=1, max_snapshots=3)
    for epoch in (0, 4, 7, 9):
        recorder.record(epoch, _state(epoch, 1))
    np.testing.assert_array_equal(recorder.epochs, [0, 4, 9])
    np.testing.assert_array_equal(recorder.vectors[:, 0], [0.0, 4.0, 9.0])


def test_snapshots_must_come_in_increasing_epochs() -> None:
    recorder = SnapshotRecorder(10, parameter_count=1)
    recorder.record(3, _state(3, 1))
    with pytest.raises(ConfigError, match="increasing"):
        recorder.record(3, _state(3, 1))
    with pytest.raises(ConfigError, match="parameter_count"):
        SnapshotRecorder(10, parameter_count=0)


def test_a_recorded_vector_becomes_the_same_network_again() -> None:
    rng = np.random.default_rng(8)
    sizes = (2, 5, 3, 1)
    parameters = make_parameters(
        [rng.normal(size=(a, b)) for a, b in itertools.pairwise(sizes)],
        [rng.normal(size=b) for b in sizes[1:]],
    )
    flat = FlatParameters.from_parameters(parameters)
    recorder = SnapshotRecorder(10, parameter_count=flat.vector.size)
    recorder.record(0, flat.vector)
    flat.vector[:] = 0.0  # training moves on; the snapshot keeps its copy
    restored = FlatParameters(sizes, recorder.vectors[0].copy()).to_parameters()
    assert restored.equals(parameters)
    points = rng.normal(size=(50, 2))
    np.testing.assert_array_equal(
        Network(restored, "tanh").predict_proba(points),
        Network(parameters, "tanh").predict_proba(points),
    )
