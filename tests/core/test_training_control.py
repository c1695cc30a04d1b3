"""Tests of the training loop's control: validation, early stopping, progress, errors."""

import math
from collections.abc import Callable

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset, train_validation_split
from core.errors import (
    CoreError,
    ParameterError,
    TrainingCancelled,
    TrainingDiverged,
)
from core.network import Network
from core.training import (
    EarlyStopping,
    Progress,
    TrainingConfig,
    evaluate,
    train,
)
from tests.helpers.parameters import small_parameters


def _replay_early_stopping(losses: FloatArray, rule: EarlyStopping) -> tuple[int, int]:
    """(epoch at which the rule stops, best epoch) for a monitored loss history."""
    best_loss, best_epoch = math.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < best_loss - rule.min_delta:
            best_loss, best_epoch = float(loss), epoch
        elif epoch - best_epoch >= rule.patience:
            return epoch, best_epoch
    raise AssertionError("the rule never stops on this history")


# --- validation and early stopping -------------------------------------------------------------


def test_a_validation_set_gets_its_own_history(moons: Dataset) -> None:
    train_set, validation_set = train_validation_split(moons, 0.25, seed=0)
    assert validation_set is not None
    start = small_parameters((5,), seed=5)
    result = train(
        TrainingConfig(epochs=60, hidden_layers=(5,)),
        train_set,
        validation_set,
        initial_parameters=start,
    )
    history = result.validation_loss_history
    assert history is not None
    assert history.shape == (60,)
    assert np.isfinite(history).all()
    # Full batch: epoch 0's validation loss is that of the initial parameters.
    assert history[0] == pytest.approx(evaluate(Network(start), validation_set).loss, rel=1e-12)
    assert history[-1] < history[0]


def test_mini_batch_validation_is_measured_after_the_epochs_updates(moons: Dataset) -> None:
    train_set, validation_set = train_validation_split(moons, 0.25, seed=1)
    assert validation_set is not None
    config = TrainingConfig(epochs=20, optimizer="sgd", batch_size=25, learning_rate=0.2)
    result = train(config, train_set, validation_set)
    assert result.validation_loss_history is not None
    final = evaluate(result.network, validation_set).loss
    assert result.validation_loss_history[-1] == pytest.approx(final, rel=1e-12)


def test_early_stopping_waits_patience_epochs_after_the_best(moons: Dataset) -> None:
    # No epoch improves on the first by a whole nat, so epoch 0 stays the best.
    start = small_parameters((4,), seed=6)
    rule = EarlyStopping(patience=15, min_delta=1.0, restore_best=True)
    config = TrainingConfig(epochs=1000, early_stopping=rule)
    result = train(config, moons, initial_parameters=start)
    assert result.stopped_early is True
    assert result.best_epoch == 0
    assert result.epochs_run == 16
    assert result.loss_history.shape == (16,)
    # The best epoch's parameters are those before its update: the initial ones.
    assert result.network.parameters.equals(start)


def test_early_stopping_does_not_stop_while_the_loss_improves(blobs: Dataset) -> None:
    result = train(TrainingConfig(epochs=300, early_stopping=EarlyStopping(patience=5)), blobs)
    assert result.stopped_early is False
    assert result.epochs_run == 300
    assert result.best_epoch == 299


def test_restore_best_returns_the_best_epochs_network(moons: Dataset) -> None:
    # Momentum at a high rate overshoots: the loss bottoms out, then climbs.
    rule = EarlyStopping(patience=30, min_delta=1e-4, restore_best=True)
    config = TrainingConfig(
        epochs=2000, optimizer="momentum", learning_rate=2.0, early_stopping=rule
    )
    result = train(config, moons)
    stop_epoch, best_epoch = _replay_early_stopping(result.loss_history, rule)
    assert result.stopped_early is True
    assert result.epochs_run == stop_epoch + 1
    assert result.best_epoch == best_epoch
    best_loss = result.loss_history[best_epoch]
    assert result.loss_history[-1] > best_loss  # the restore has something to undo
    assert evaluate(result.network, moons).loss == pytest.approx(best_loss, rel=1e-12)


def test_without_restore_best_the_last_network_is_returned(moons: Dataset) -> None:
    rule = EarlyStopping(patience=30, min_delta=1e-4, restore_best=False)
    config = TrainingConfig(
        epochs=2000, optimizer="momentum", learning_rate=2.0, early_stopping=rule
    )
    result = train(config, moons)
    assert result.stopped_early is True
    # Full batch: the stopping epoch's loss is of the current parameters, left un-updated.
    final_loss = evaluate(result.network, moons).loss
    assert final_loss == pytest.approx(result.loss_history[-1], rel=1e-12)
    assert result.best_epoch is not None
    assert final_loss > result.loss_history[result.best_epoch]


def test_early_stopping_monitors_the_validation_loss_when_there_is_one(moons: Dataset) -> None:
    train_set, validation_set = train_validation_split(moons, 0.3, seed=2)
    assert validation_set is not None
    rule = EarlyStopping(patience=20, min_delta=1e-4)
    config = TrainingConfig(
        epochs=2000, optimizer="momentum", learning_rate=2.0, early_stopping=rule
    )
    result = train(config, train_set, validation_set)
    assert result.validation_loss_history is not None
    stop_epoch, best_epoch = _replay_early_stopping(result.validation_loss_history, rule)
    assert result.epochs_run == stop_epoch + 1
    assert result.best_epoch == best_epoch
    assert evaluate(result.network, validation_set).loss == pytest.approx(
        result.validation_loss_history[best_epoch], rel=1e-12
    )


# --- progress, cancellation and divergence -----------------------------------------------------


def _record_progress(snapshots: list[Progress]) -> Callable[[Progress], None]:
    def on_progress(progress: Progress) -> None:
        # The histories are views into the run's buffers: copy to keep them.
        snapshots.append(
            Progress(
                epoch=progress.epoch,
                epochs=progress.epochs,
                loss=progress.loss,
                validation_loss=progress.validation_loss,
                validation_accuracy=progress.validation_accuracy,
                loss_history=progress.loss_history.copy(),
                validation_loss_history=None
                if progress.validation_loss_history is None
                else progress.validation_loss_history.copy(),
                elapsed_seconds=progress.elapsed_seconds,
            )
        )

    return on_progress


def test_progress_every_epoch_with_a_zero_interval_and_consistent_fields(moons: Dataset) -> None:
    train_set, validation_set = train_validation_split(moons, 0.25, seed=3)
    snapshots: list[Progress] = []
    result = train(
        TrainingConfig(epochs=25),
        train_set,
        validation_set,
        on_progress=_record_progress(snapshots),
        progress_interval=0.0,
    )
    epochs_seen = [p.epoch for p in snapshots]
    assert set(epochs_seen) == set(range(1, 26))
    assert epochs_seen == sorted(epochs_seen)
    assert epochs_seen[-1] == 25
    assert len(snapshots) <= 26  # every epoch, and at most once more at the end
    assert result.validation_loss_history is not None
    elapsed = [p.elapsed_seconds for p in snapshots]
    assert elapsed == sorted(elapsed)
    for progress in snapshots:
        assert progress.epochs == 25
        assert progress.loss_history.shape == (progress.epoch,)
        np.testing.assert_array_equal(progress.loss_history, result.loss_history[: progress.epoch])
        assert progress.loss == progress.loss_history[-1]
        assert progress.validation_loss_history is not None
        assert progress.validation_loss_history.shape == (progress.epoch,)
        assert progress.validation_loss == progress.validation_loss_history[-1]
        assert progress.validation_accuracy is not None
        assert 0.0 <= progress.validation_accuracy <= 1.0


def test_progress_without_validation_has_no_validation_fields(blobs: Dataset) -> None:
    snapshots: list[Progress] = []
    train(
        TrainingConfig(epochs=3),
        blobs,
        on_progress=_record_progress(snapshots),
        progress_interval=0.0,
    )
    assert snapshots
    for progress in snapshots:
        assert progress.validation_loss is None
        assert progress.validation_accuracy is None
        assert progress.validation_loss_history is None


def test_a_long_interval_reports_once_at_the_end_and_never_asks_to_cancel(blobs: Dataset) -> None:
    snapshots: list[Progress] = []
    cancel_checks: list[int] = []

    def should_cancel() -> bool:
        cancel_checks.append(1)
        return True

    result = train(
        TrainingConfig(epochs=500),
        blobs,
        on_progress=_record_progress(snapshots),
        should_cancel=should_cancel,
        progress_interval=3600.0,
    )
    assert [p.epoch for p in snapshots] == [500]
    np.testing.assert_array_equal(snapshots[0].loss_history, result.loss_history)
    assert cancel_checks == []


def test_early_stopping_reports_the_epochs_actually_run(moons: Dataset) -> None:
    snapshots: list[Progress] = []
    rule = EarlyStopping(patience=10, min_delta=1.0)
    result = train(
        TrainingConfig(epochs=1000, early_stopping=rule),
        moons,
        on_progress=_record_progress(snapshots),
        progress_interval=3600.0,
    )
    assert [p.epoch for p in snapshots] == [result.epochs_run] == [11]
    assert snapshots[0].epochs == 1000


def test_should_cancel_stops_training_with_training_cancelled(blobs: Dataset) -> None:
    calls: list[int] = []

    def should_cancel() -> bool:
        calls.append(1)
        return len(calls) == 5

    with pytest.raises(TrainingCancelled) as error:
        train(
            TrainingConfig(epochs=1000), blobs, should_cancel=should_cancel, progress_interval=0.0
        )
    assert error.value.epoch == 5
    assert len(calls) == 5
    assert not isinstance(error.value, CoreError)  # a request, not an error of the input


def test_a_validation_loss_that_overflows_stops_training_as_diverged(
    blobs: Dataset,
) -> None:
    # Training points are sane; validation points far out overflow the logits to inf - inf.
    far_points = np.array([[1.7e308, 1.7e308], [-1.7e308, -1.7e308]])
    validation = Dataset(points=far_points, labels=np.array([0, 1], dtype=np.int64))
    config = TrainingConfig(hidden_layers=(16, 16), init="he", epochs=50, seed=3)
    with pytest.raises(TrainingDiverged):
        train(config, blobs, validation)


@pytest.mark.parametrize(
    "config",
    [
        TrainingConfig(activation="identity", learning_rate=1e6, epochs=500),
        TrainingConfig(activation="identity", learning_rate=1e6, epochs=500, optimizer="momentum"),
        TrainingConfig(
            activation="identity", learning_rate=1e6, epochs=500, optimizer="sgd", batch_size=16
        ),
    ],
    ids=["gd", "momentum", "sgd"],
)
def test_divergence_raises_training_diverged_not_a_nan_model(
    blobs: Dataset, config: TrainingConfig
) -> None:
    snapshots: list[Progress] = []
    with pytest.raises(TrainingDiverged) as error:
        train(config, blobs, on_progress=_record_progress(snapshots), progress_interval=0.0)
    assert isinstance(error.value, CoreError)
    assert "diverged" in str(error.value)
    assert "learning rate" in str(error.value)
    assert 0 <= error.value.epoch < 500
    assert not math.isfinite(error.value.loss)
    # Nothing non-finite was ever reported as progress.
    for progress in snapshots:
        assert np.isfinite(progress.loss_history).all()


@pytest.mark.parametrize(
    ("hidden_layers", "given"),
    [((4,), (3,)), ((4,), (4, 4)), ((4,), ()), ((), (4,)), ((8, 2), (8, 3))],
)
def test_initial_parameters_of_the_wrong_shape_raise_a_parameter_error(
    blobs: Dataset, hidden_layers: tuple[int, ...], given: tuple[int, ...]
) -> None:
    config = TrainingConfig(hidden_layers=hidden_layers, epochs=1)
    with pytest.raises(ParameterError, match="hidden layers"):
        train(config, blobs, initial_parameters=small_parameters(given))
