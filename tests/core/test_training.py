"""Tests of the training loop: configuration, determinism, updates and learning."""

import dataclasses
import math

import numpy as np
import pytest

from core.arrays import FloatArray
from core.dataset import Dataset
from core.errors import (
    ConfigError,
)
from core.losses import binary_cross_entropy
from core.network import Network
from core.parameters import Parameters
from core.training import (
    EarlyStopping,
    TrainingConfig,
    TrainingResult,
    evaluate,
    train,
)
from tests.helpers.parameters import small_parameters

OPTIMIZER_SETUPS = [("gd", None), ("sgd", 32), ("momentum", None), ("adam", 16), ("adam", None)]


def _assert_parameters_close(
    trained: Parameters, reference: list[FloatArray], rtol: float, atol: float
) -> None:
    """A 2-h-1 network's parameters against a reference [W1, b1, W2, b2]."""
    for got, expected in zip(
        (trained.weights[0], trained.biases[0], trained.weights[1], trained.biases[1]),
        reference,
        strict=True,
    ):
        np.testing.assert_allclose(got, expected, rtol=rtol, atol=atol)


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
    assert config.l1 == 0.0
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
        ({"l1": -0.1}, "l1"),
        ({"l1": math.nan}, "l1"),
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
    start = small_parameters((4,))
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
    start = small_parameters((4,))
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
    start = small_parameters((4,))
    kept = [w.copy() for w in (*start.weights, *start.biases)]
    result = train(TrainingConfig(epochs=1), blobs, initial_parameters=start)
    for before, now in zip(kept, (*start.weights, *start.biases), strict=True):
        np.testing.assert_array_equal(before, now)
    # The first recorded loss is that of the given parameters, before any update.
    assert result.loss_history[0] == pytest.approx(evaluate(Network(start), blobs).loss, rel=1e-12)


def test_full_batch_gd_takes_the_tutorials_steps(blobs: Dataset) -> None:
    start = small_parameters((4,), seed=1)
    reference = [start.weights[0], start.biases[0], start.weights[1], start.biases[1]]
    labels = blobs.labels.astype(np.float64)
    losses = []
    for _ in range(3):
        loss, gradients = _relu_loss_and_gradient(reference, blobs.points, labels)
        losses.append(loss)
        reference = [p - 0.5 * g for p, g in zip(reference, gradients, strict=True)]
    result = train(TrainingConfig(epochs=3), blobs, initial_parameters=start)
    _assert_parameters_close(result.network.parameters, reference, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.loss_history, losses, rtol=1e-12)


def test_mini_batches_are_reshuffled_every_epoch_and_keep_the_remainder(moons: Dataset) -> None:
    # 200 points in batches of 64: three full batches and a remainder of 8. Initial
    # parameters are given, so the run's Generator (seeded with the config's seed) draws
    # nothing but one permutation per epoch.
    start = small_parameters((4,), seed=2)
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

    _assert_parameters_close(result.network.parameters, reference, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(result.loss_history, epoch_losses, rtol=1e-12)


def test_a_mini_batch_epoch_loss_weighs_the_remainder_batch_by_its_size(moons: Dataset) -> None:
    # With a negligible step the parameters stay put, so the epoch's loss must equal the
    # full-data loss however the 200 points fall into batches of 64, 64, 64 and 8.
    start = small_parameters((4,), seed=3)
    config = TrainingConfig(epochs=2, optimizer="sgd", batch_size=64, learning_rate=1e-12)
    result = train(config, moons, initial_parameters=start)
    full_loss = evaluate(Network(start), moons).loss
    np.testing.assert_allclose(result.loss_history, full_loss, rtol=1e-9)


def test_l2_adds_its_penalty_to_the_recorded_loss(blobs: Dataset) -> None:
    start = small_parameters((4,), seed=4)
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


def test_l1_adds_its_penalty_to_the_recorded_loss(blobs: Dataset) -> None:
    start = small_parameters((4,), seed=4)
    result = train(TrainingConfig(epochs=1, l1=0.5), blobs, initial_parameters=start)
    penalty = 0.5 / len(blobs) * sum(float(np.sum(np.abs(w))) for w in start.weights)
    expected = evaluate(Network(start), blobs).loss + penalty
    assert result.loss_history[0] == pytest.approx(expected, rel=1e-12)


def test_l1_shrinks_the_weights_and_leaves_many_near_zero(moons: Dataset) -> None:
    plain = train(TrainingConfig(epochs=300, hidden_layers=(8,), optimizer="adam"), moons)
    penalized = train(
        TrainingConfig(epochs=300, hidden_layers=(8,), optimizer="adam", l1=5.0), moons
    )

    def weights_of(result: TrainingResult) -> FloatArray:
        return np.concatenate([w.ravel() for w in result.network.parameters.weights])

    assert np.abs(weights_of(penalized)).sum() < 0.5 * np.abs(weights_of(plain)).sum()
    assert np.mean(np.abs(weights_of(penalized)) < 0.02) > np.mean(np.abs(weights_of(plain)) < 0.02)


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


def test_training_accuracy_per_epoch_is_that_of_the_parameters_each_loss_measured(
    moons: Dataset,
) -> None:
    """Full batch: epoch e's accuracy is that of the network a run of e - 1 epochs returns."""
    config = TrainingConfig(hidden_layers=(4,), epochs=30, learning_rate=0.5, seed=3)
    result = train(config, moons, engine="numpy")
    assert result.accuracy_history is not None
    assert result.accuracy_history.shape == (30,)
    for epoch in (2, 12, 30):
        earlier = train(dataclasses.replace(config, epochs=epoch - 1), moons, engine="numpy")
        expected = evaluate(earlier.network, moons).accuracy
        assert result.accuracy_history[epoch - 1] == expected


def test_mini_batch_training_accuracy_counts_every_point_once(moons: Dataset) -> None:
    config = TrainingConfig(hidden_layers=(4,), epochs=20, optimizer="adam", batch_size=32, seed=1)
    result = train(config, moons, engine="numpy")
    n = len(moons)
    assert result.accuracy_history is not None
    assert result.accuracy_history.shape == (20,)
    # Each epoch's accuracy is a count of points labelled right over n.
    np.testing.assert_allclose(result.accuracy_history * n, np.round(result.accuracy_history * n))
    assert result.accuracy_history[-1] > result.accuracy_history[0]


@pytest.mark.parametrize("batch_size", [None, 32], ids=str)
def test_the_compiled_kernel_records_the_same_training_accuracy_per_epoch(
    moons: Dataset, batch_size: int | None
) -> None:
    config = TrainingConfig(hidden_layers=(4,), epochs=40, seed=1, batch_size=batch_size)
    compiled = train(config, moons, engine="compiled").accuracy_history
    reference = train(config, moons, engine="numpy").accuracy_history
    assert compiled is not None
    assert reference is not None
    assert compiled.shape == (40,)
    np.testing.assert_array_equal(compiled, reference)
