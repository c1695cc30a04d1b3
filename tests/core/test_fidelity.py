"""Fidelity: the core reproduces the tutorial's run, re-implemented plainly here, to 1e-9.

The functions below are the tutorial's, written as it writes them (legacy global NumPy RNG
seeded with 42, (1, n) bias rows, an epsilon inside the logs), except that the lines it
prints are collected instead of printed.
"""

# The tutorial's names (X, W1, dZ2, ...) are kept so the two texts can be read side by side.
# ruff: noqa: N803, N806

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from core.dataset import make_dataset
from core.network import Network
from core.parameters import make_parameters
from core.training import TrainingConfig, TrainingResult, evaluate, train

Arrays = dict[str, Any]


def generate_data(n_samples: int = 100, noise: float = 0.1) -> tuple[Any, Any]:
    X0 = np.random.randn(n_samples // 2, 2) * noise + np.array([1, 1])
    Y0 = np.zeros((n_samples // 2, 1))
    X1 = np.random.randn(n_samples // 2, 2) * noise + np.array([-1, -1])
    Y1 = np.ones((n_samples // 2, 1))
    X = np.vstack((X0, X1))
    Y = np.vstack((Y0, Y1))
    permutation = np.random.permutation(n_samples)
    X = X[permutation]
    Y = Y[permutation]
    return X, Y


def initialize_parameters(n_in: int, n_hid: int, n_out: int) -> Arrays:
    W1 = np.random.randn(n_in, n_hid) * 0.01
    b1 = np.zeros((1, n_hid))
    W2 = np.random.randn(n_hid, n_out) * 0.01
    b2 = np.zeros((1, n_out))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def sigmoid(Z: Any) -> Any:
    return 1 / (1 + np.exp(-Z))


def relu(Z: Any) -> Any:
    return np.maximum(0, Z)


def forward_propagation(X: Any, parameters: Arrays) -> tuple[Any, Arrays]:
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(X, W1) + b1
    A1 = relu(Z1)
    Z2 = np.dot(A1, W2) + b2
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_loss(A2: Any, Y: Any) -> Any:
    m = Y.shape[0]
    epsilon = 1e-8
    loss = -(1 / m) * np.sum(Y * np.log(A2 + epsilon) + (1 - Y) * np.log(1 - A2 + epsilon))
    return np.squeeze(loss)


def backward_propagation(parameters: Arrays, cache: Arrays, X: Any, Y: Any) -> Arrays:
    m = X.shape[0]
    W2 = parameters["W2"]
    A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(A1.T, dZ2)
    db2 = (1 / m) * np.sum(dZ2, axis=0, keepdims=True)
    dA1 = np.dot(dZ2, W2.T)
    dZ1 = dA1 * (Z1 > 0)
    dW1 = (1 / m) * np.dot(X.T, dZ1)
    db1 = (1 / m) * np.sum(dZ1, axis=0, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters: Arrays, gradients: Arrays, learning_rate: float) -> Arrays:
    return {
        name: parameters[name] - learning_rate * gradients["d" + name]
        for name in ("W1", "b1", "W2", "b2")
    }


def train_network(
    X: Any, Y: Any, n_hidden: int, num_epochs: int, learning_rate: float, *, printed: list[str]
) -> tuple[Arrays, list[Any], Arrays]:
    """The tutorial's loop; also returns the initial parameters it draws for itself."""
    n_input = X.shape[1]
    n_output = Y.shape[1]
    losses = []
    parameters = initialize_parameters(n_input, n_hidden, n_output)
    initial = parameters
    for i in range(num_epochs):
        A2, cache = forward_propagation(X, parameters)
        loss = compute_loss(A2, Y)
        losses.append(loss)
        gradients = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, gradients, learning_rate)
        if i % 1000 == 0:
            printed.append(f"{loss:.4f}")
    printed.append(f"{loss:.4f}")
    return parameters, losses, initial


def predict(parameters: Arrays, X: Any) -> Any:
    A2, _ = forward_propagation(X, parameters)
    return (A2 > 0.5).astype(int)


@dataclass(frozen=True)
class TutorialRun:
    X: Any
    Y: Any
    initial: Arrays
    trained: Arrays
    losses: list[Any]
    printed: list[str]


@pytest.fixture(scope="module")
def tutorial() -> Iterator[TutorialRun]:
    """The tutorial's script from top to bottom; the global RNG is restored afterwards."""
    saved_state = np.random.get_state()
    try:
        np.random.seed(42)
        X_train, Y_train = generate_data(n_samples=200, noise=0.2)
        n_input, n_hidden, n_output = X_train.shape[1], 4, 1
        # The script draws parameters once to print their shapes, and train_network draws
        # the ones it trains from again, right after.
        initialize_parameters(n_input, n_hidden, n_output)
        printed: list[str] = []
        trained, losses, initial = train_network(
            X_train, Y_train, n_hidden, num_epochs=20000, learning_rate=0.5, printed=printed
        )
        yield TutorialRun(X_train, Y_train, initial, trained, losses, printed)
    finally:
        np.random.set_state(saved_state)


@pytest.fixture(scope="module")
def core_run(tutorial: TutorialRun) -> TrainingResult:
    initial = make_parameters(
        [tutorial.initial["W1"], tutorial.initial["W2"]],
        [tutorial.initial["b1"].ravel(), tutorial.initial["b2"].ravel()],
    )
    dataset = make_dataset(tutorial.X, tutorial.Y.ravel())
    return train(TrainingConfig(), dataset, initial_parameters=initial)


def test_the_tutorial_run_is_what_the_tutorial_describes(tutorial: TutorialRun) -> None:
    assert tutorial.X.shape == (200, 2)
    assert sorted(np.unique(tutorial.Y).tolist()) == [0.0, 1.0]
    assert len(tutorial.losses) == 20000
    assert len(tutorial.printed) == 21
    accuracy = np.mean(predict(tutorial.trained, tutorial.X) == tutorial.Y) * 100
    assert f"{accuracy:.2f}%" == "100.00%"


def test_trained_parameters_match_the_tutorials_to_1e9(
    tutorial: TutorialRun, core_run: TrainingResult
) -> None:
    parameters = core_run.network.parameters
    assert parameters.layer_sizes == (2, 4, 1)
    pairs = [
        (parameters.weights[0], tutorial.trained["W1"]),
        (parameters.biases[0], tutorial.trained["b1"].ravel()),
        (parameters.weights[1], tutorial.trained["W2"]),
        (parameters.biases[1], tutorial.trained["b2"].ravel()),
    ]
    for got, expected in pairs:
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-9)
    # The parameters moved far from their start, so the match above is not a trivial one.
    assert np.abs(tutorial.trained["W1"] - tutorial.initial["W1"]).max() > 0.5


def test_every_loss_matches_to_four_decimals(
    tutorial: TutorialRun, core_run: TrainingResult
) -> None:
    assert core_run.epochs_run == 20000
    losses = core_run.loss_history
    expected = np.array(tutorial.losses, dtype=np.float64)
    assert losses.shape == expected.shape
    np.testing.assert_allclose(losses, expected, rtol=0, atol=5e-5)
    printed = [f"{loss:.4f}" for loss in losses[::1000]] + [f"{losses[-1]:.4f}"]
    assert printed == tutorial.printed


def test_the_trained_network_classifies_the_training_set_perfectly(
    tutorial: TutorialRun, core_run: TrainingResult
) -> None:
    network = core_run.network
    assert isinstance(network, Network)
    np.testing.assert_array_equal(
        network.predict(tutorial.X), predict(tutorial.trained, tutorial.X).ravel()
    )
    metrics = evaluate(network, make_dataset(tutorial.X, tutorial.Y.ravel()))
    assert metrics.accuracy == 1.0
