"""Tests of the training loop: configuration, determinism, histories, stopping and errors."""

import math
from collections.abc import Callable

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset, train_validation_split
from core.errors import (
    ConfigError,
    CoreError,
    ParameterError,
    TrainingCancelled,
    TrainingDiverged,
)
from core.generators import generate
from core.losses import binary_cross_entropy
from core.network import Network
from core.parameters import Parameters, make_parameters
from core.training import (
    EarlyStopping,
    Progress,
    TrainingConfig,
    TrainingResult,
    evaluate,
    train,
)

OPTIMIZER_SETUPS = [("gd", None), ("sgd", 32), ("momentum", None), ("adam", 16), ("adam", None)]


@pytest.fixture(scope="module")
def blobs() -> Dataset:
    """The tutorial's task: two clouds of 100 points around (1, 1) and (-1, -1)."""
    return generate("blobs", n_samples=200, noise=0.2, seed=42)


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return generate("moons", n_samples=200, noise=0.3, seed=1)


def _small_parameters(hidden_layers: tuple[int, ...], seed: int = 0) -> Parameters:
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden_layers, 1)
    return make_parameters(
        [rng.normal(scale=0.5, size=(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)],
        [np.zeros(sizes[i + 1]) for i in range(len(sizes) - 1)],
    )


def _relu_loss_and_gradient(
    parameters: list[FloatArray], points: FloatArray, labels: FloatArray
) -> tuple[float, list[FloatArray]]:
    """The tutorial's forward and backward pass for a 2-h-1 ReLU net; returns the mean loss
    and the mean gradients [dW1, db1, dW2, db2]."""
    w1, b1, w2, b2 = parameters
    m = points.shape[0]
    z1 = points @ w1 + b1
    a1 = np.maximum(0.0, z1)
    z2 = (a1 @ w2 + b2)[:, 0]
    a2 = 1.0 / (1.0 + np.exp(-z2))
    loss = float(-np.mean(labels * np.log(a2) + (1.0 - labels) * np.log(1.0 - a2)))
    dz2 = (a2 - labels).reshape(-1, 1)
    dz1 = (dz2 @ w2.T) * (z1 > 0)
    return loss, [points.T @ dz1 / m, dz1.sum(0) / m, a1.T @ dz2 / m, dz2.sum(0) / m]


def _replay_early_stopping(losses: FloatArray, rule: EarlyStopping) -> tuple[int, int]:
    """(epoch at which the rule stops, best epoch) for a monitored loss history."""
    best_loss, best_epoch = math.inf, 0
    for epoch, loss in enumerate(losses):
        if loss < best_loss - rule.min_delta:
            best_loss, best_epoch = float(loss), epoch
        elif epoch - best_epoch >= rule.patience:
            return epoch, best_epoch
    raise AssertionError("the rule never stops on this history")


# --- configuration ---------------------------------------------------------------------------


def test_defaults_reproduce_the_tutorials_configuration() -> None:
    config = TrainingConfig()
    assert config.hidden_layers == (4,)
    assert config.layer_sizes == (2, 4, 1)
    assert config.activation == "relu"
    assert config.init == "normal"
    assert config.epochs == 20_000
    assert config.learning_rate == 0.5
    assert config.optimizer == "gd"
    assert config.batch_size is None
    assert config.l2 == 0.0
    assert config.early_stopping is None
    assert config.hyperparameters.learning_rate == 0.5


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"epochs": -1}, "epochs"),
        ({"epochs": 0}, "epochs"),
        ({"optimizer": "rmsprop"}, "optimizer"),
        ({"activation": "swish"}, "activation"),
        ({"init": "xavier"}, "init"),
        ({"momentum": 1.5}, "momentum"),
        ({"momentum": -0.1}, "momentum"),
        ({"beta1": 1.0}, "beta1"),
        ({"beta2": math.nan}, "beta2"),
        ({"hidden_layers": (4, 0)}, "hidden_layers"),
        ({"hidden_layers": (-3,)}, "hidden_layers"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"learning_rate": -0.5}, "learning_rate"),
        ({"learning_rate": math.inf}, "learning_rate"),
        ({"learning_rate": math.nan}, "learning_rate"),
        ({"batch_size": 0}, "batch_size"),
        ({"l2": -1.0}, "l2"),
        ({"l2": math.inf}, "l2"),
        ({"epsilon": 0.0}, "epsilon"),
    ],
)
def test_bad_configuration_raises_a_config_error_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError) as error:
        TrainingConfig(**changes)  # type: ignore[arg-type]
    assert str(error.value).startswith(f"{field}:")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"patience": 0}, "patience"),
        ({"min_delta": -1.0}, "min_delta"),
        ({"min_delta": math.nan}, "min_delta"),
    ],
)
def test_bad_early_stopping_raises_a_config_error_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(ConfigError, match=f"early_stopping.{field}"):
        EarlyStopping(**changes)  # type: ignore[arg-type]


# --- results and determinism -----------------------------------------------------------------


def test_a_result_describes_the_whole_run(blobs: Dataset) -> None:
    config = TrainingConfig(epochs=150, activation="tanh", hidden_layers=(3, 5))
    result = train(config, blobs)
    assert isinstance(result, TrainingResult)
    assert result.epochs_run == 150
    assert result.loss_history.shape == (150,)
    assert result.loss_history.dtype == np.float64
    assert np.isfinite(result.loss_history).all()
    assert result.validation_loss_history is None
    assert result.best_epoch is None
    assert result.stopped_early is False
    assert result.train_seconds >= 0.0
    assert result.network.activation == "tanh"
    assert result.network.parameters.layer_sizes == (2, 3, 5, 1)


@pytest.mark.parametrize(("optimizer", "batch_size"), OPTIMIZER_SETUPS)
def test_the_same_configuration_gives_bit_identical_runs(
    moons: Dataset, optimizer: str, batch_size: int | None
) -> None:
    config = TrainingConfig(
        epochs=40, optimizer=optimizer, batch_size=batch_size, learning_rate=0.05, init="he", seed=3
    )
    first, second = train(config, moons), train(config, moons)
    assert first.network.parameters.equals(second.network.parameters)
    np.testing.assert_array_equal(first.loss_history, second.loss_history)

    other_seed = train(
        TrainingConfig(
            epochs=40,
            optimizer=optimizer,
            batch_size=batch_size,
            learning_rate=0.05,
            init="he",
            seed=4,
        ),
        moons,
    )
    assert not first.network.parameters.equals(other_seed.network.parameters)
    assert not np.array_equal(first.loss_history, other_seed.loss_history)


def test_the_seed_drives_the_shuffling_of_mini_batches(moons: Dataset) -> None:
    start = _small_parameters((4,))
    runs = [
        train(
            TrainingConfig(epochs=5, optimizer="sgd", batch_size=20, learning_rate=0.1, seed=seed),
            moons,
            initial_parameters=start,
        )
        for seed in (5, 5, 6)
    ]
    assert runs[0].network.parameters.equals(runs[1].network.parameters)
    assert not runs[0].network.parameters.equals(runs[2].network.parameters)


def test_a_batch_at_least_as_large_as_the_data_is_the_full_batch(moons: Dataset) -> None:
    start = _small_parameters((4,))
    full = train(TrainingConfig(epochs=30), moons, initial_parameters=start)
    for batch_size in (len(moons), 10 * len(moons)):
        batched = train(
            TrainingConfig(epochs=30, optimizer="sgd", batch_size=batch_size),
            moons,
            initial_parameters=start,
        )
        assert batched.network.parameters.equals(full.network.parameters)
        np.testing.assert_array_equal(batched.loss_history, full.loss_history)


def test_initial_parameters_are_used_and_left_unchanged(blobs: Dataset) -> None:
    start = _small_parameters((4,))
    kept = [w.copy() for w in (*start.weights, *start.biases)]
    result = train(TrainingConfig(epochs=1), blobs, initial_parameters=start)
    for before, now in zip(kept, (*start.weights, *start.biases), strict=True):
        np.testing.assert_array_equal(before, now)
    # The first recorded loss is that of the given parameters, before any update.
    assert result.loss_history[0] == pytest.approx(evaluate(Network(start), blobs).loss, rel=1e-12)


def test_full_batch_gd_takes_the_tutorials_steps(blobs: Dataset) -> None:
    start = _small_parameters((4,), seed=1)
    reference = [start.weights[0], start.biases[0], start.weights[1], start.biases[1]]
    labels = blobs.labels.astype(np.float64)
    losses = []
    for _ in range(3):
        loss, gradients = _relu_loss_and_gradient(reference, blobs.points, labels)
        losses.append(loss)
        reference = [p - 0.5 * g for p, g in zip(reference, gradients, strict=True)]
    result = train(TrainingConfig(epochs=3), blobs, initial_parameters=start)
    trained = result.network.parameters
    for got, expected in zip(
        (trained.weights[0], trained.biases[0], trained.weights[1], trained.biases[1]),
        reference,
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.loss_history, losses, rtol=1e-12)


def test_mini_batches_are_reshuffled_every_epoch_and_keep_the_remainder(moons: Dataset) -> None:
    # 200 points in batches of 64: three full batches and a remainder of 8. Initial
    # parameters are given, so the run's Generator (seeded with the config's seed) draws
    # nothing but one permutation per epoch.
    start = _small_parameters((4,), seed=2)
    config = TrainingConfig(epochs=3, optimizer="sgd", batch_size=64, learning_rate=0.3, seed=9)
    result = train(config, moons, initial_parameters=start)

    rng = np.random.default_rng(9)
    reference = [start.weights[0], start.biases[0], start.weights[1], start.biases[1]]
    labels = moons.labels.astype(np.float64)
    epoch_losses = []
    for _ in range(3):
        order = rng.permutation(len(moons))
        epoch_loss = 0.0
        for start_row in range(0, len(moons), 64):
            rows = order[start_row : start_row + 64]
            loss, gradients = _relu_loss_and_gradient(reference, moons.points[rows], labels[rows])
            reference = [p - 0.3 * g for p, g in zip(reference, gradients, strict=True)]
            epoch_loss += loss * rows.size / len(moons)
        epoch_losses.append(epoch_loss)

    trained = result.network.parameters
    for got, expected in zip(
        (trained.weights[0], trained.biases[0], trained.weights[1], trained.biases[1]),
        reference,
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(result.loss_history, epoch_losses, rtol=1e-12)


def test_a_mini_batch_epoch_loss_weighs_the_remainder_batch_by_its_size(moons: Dataset) -> None:
    # With a negligible step the parameters stay put, so the epoch's loss must equal the
    # full-data loss however the 200 points fall into batches of 64, 64, 64 and 8.
    start = _small_parameters((4,), seed=3)
    config = TrainingConfig(epochs=2, optimizer="sgd", batch_size=64, learning_rate=1e-12)
    result = train(config, moons, initial_parameters=start)
    full_loss = evaluate(Network(start), moons).loss
    np.testing.assert_allclose(result.loss_history, full_loss, rtol=1e-9)


def test_l2_adds_its_penalty_to_the_recorded_loss(blobs: Dataset) -> None:
    start = _small_parameters((4,), seed=4)
    result = train(TrainingConfig(epochs=1, l2=0.5), blobs, initial_parameters=start)
    penalty = 0.5 / (2 * len(blobs)) * sum(float(np.sum(w**2)) for w in start.weights)
    expected = evaluate(Network(start), blobs).loss + penalty
    assert result.loss_history[0] == pytest.approx(expected, rel=1e-12)


def test_l2_shrinks_the_weights(moons: Dataset) -> None:
    plain = train(TrainingConfig(epochs=300, hidden_layers=(8,)), moons)
    penalized = train(TrainingConfig(epochs=300, hidden_layers=(8,), l2=5.0), moons)

    def squared_norm(result: TrainingResult) -> float:
        return sum(float(np.sum(w**2)) for w in result.network.parameters.weights)

    assert squared_norm(penalized) < 0.8 * squared_norm(plain)


# --- learning ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("optimizer", "batch_size"), OPTIMIZER_SETUPS)
def test_loss_decreases_on_blobs(blobs: Dataset, optimizer: str, batch_size: int | None) -> None:
    learning_rate = 0.05 if optimizer == "adam" else 0.5
    config = TrainingConfig(
        epochs=300, optimizer=optimizer, batch_size=batch_size, learning_rate=learning_rate
    )
    history = train(config, blobs).loss_history
    assert history[0] == pytest.approx(math.log(2.0), abs=0.01)  # tiny initial weights
    assert history[-1] < 0.1 * history[0]
    assert history[-20:].mean() < history[:20].mean()


def test_evaluate_after_the_tutorials_training_gives_full_accuracy(blobs: Dataset) -> None:
    result = train(TrainingConfig(), blobs)
    metrics = evaluate(result.network, blobs)
    assert metrics.accuracy == 1.0
    assert metrics.loss < 0.01
    assert metrics.loss == pytest.approx(result.loss_history[-1], rel=0.01)


def test_evaluate_matches_a_direct_computation(moons: Dataset) -> None:
    network = train(TrainingConfig(epochs=50, hidden_layers=(6,)), moons).network
    metrics = evaluate(network, moons)
    logits = network.logits(moons.points)
    labels = moons.labels.astype(np.float64)
    assert metrics.loss == pytest.approx(binary_cross_entropy(logits, labels), rel=1e-14)
    assert metrics.accuracy == pytest.approx(np.mean(network.predict(moons.points) == moons.labels))
    assert 0.5 < metrics.accuracy < 1.0


def test_zero_hidden_layers_is_logistic_regression_and_trains(blobs: Dataset) -> None:
    result = train(TrainingConfig(hidden_layers=(), epochs=500), blobs)
    assert result.network.parameters.layer_sizes == (2, 1)
    assert evaluate(result.network, blobs).accuracy == 1.0
    assert result.loss_history[-1] < 0.05


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "leaky_relu", "identity"])
def test_every_activation_trains_a_deeper_network(blobs: Dataset, activation: str) -> None:
    config = TrainingConfig(
        hidden_layers=(6, 4),
        activation=activation,
        init="glorot",
        epochs=300,
        optimizer="adam",
        learning_rate=0.01,
    )
    result = train(config, blobs)
    assert evaluate(result.network, blobs).accuracy == 1.0


# --- validation and early stopping -------------------------------------------------------------


def test_a_validation_set_gets_its_own_history(moons: Dataset) -> None:
    train_set, validation_set = train_validation_split(moons, 0.25, seed=0)
    assert validation_set is not None
    start = _small_parameters((5,), seed=5)
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
    start = _small_parameters((4,), seed=6)
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
        train(config, blobs, initial_parameters=_small_parameters(given))
