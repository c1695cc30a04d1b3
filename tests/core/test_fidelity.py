"""Fidelity: the core reproduces the tutorial's run (tests.helpers.tutorial) to 1e-9."""

# The tutorial's names (X, W1, dZ2, ...) are kept so the two texts can be read side by side.
# ruff: noqa: N806

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from core.dataset import make_dataset
from core.network import Network
from core.parameters import make_parameters
from core.training import TrainingConfig, TrainingResult, evaluate, train
from tests.helpers.tutorial import (
    Arrays,
    generate_data,
    initialize_parameters,
    predict,
    train_network,
)


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
