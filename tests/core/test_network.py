"""Tests of prediction: logits, probabilities and labels against a hand-written forward pass."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from core.arrays import FloatArray
from core.errors import ConfigError, DataError
from core.network import Network, accuracy
from core.parameters import Parameters, make_parameters

HIDDEN_FUNCTIONS: dict[str, Callable[[FloatArray], FloatArray]] = {
    "relu": lambda z: np.maximum(0.0, z),
    "tanh": np.tanh,
    "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
    "leaky_relu": lambda z: np.where(z > 0.0, z, 0.01 * z),
    "identity": lambda z: z,
}
HIDDEN_LAYERS = [(), (4,), (6, 3), (5, 2, 7)]
CHUNK_ROWS = 65_536


def _points(n: int, seed: int = 0) -> FloatArray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, 2))


def _random_parameters(
    hidden_layers: tuple[int, ...], seed: int, activation: str = "relu"
) -> Parameters:
    """Random parameters whose output bias puts the boundary through the middle of
    :func:`_points`, so that both classes are predicted."""
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden_layers, 1)
    weights = [rng.normal(size=(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)]
    biases = [rng.normal(scale=0.3, size=sizes[i + 1]) for i in range(len(sizes) - 1)]
    biases[-1] = np.zeros(1)
    unbiased = _hand_logits(make_parameters(weights, biases), activation, _points(101, seed))
    biases[-1] = np.array([-np.median(unbiased)])
    return make_parameters(weights, biases)


def _hand_logits(parameters: Parameters, activation: str, points: FloatArray) -> FloatArray:
    """The tutorial's forward pass generalized to any depth, over all points at once."""
    a = points
    for weights, bias in zip(parameters.weights[:-1], parameters.biases[:-1], strict=True):
        a = HIDDEN_FUNCTIONS[activation](np.dot(a, weights) + bias)
    logits: FloatArray = (np.dot(a, parameters.weights[-1]) + parameters.biases[-1])[:, 0]
    return logits


@pytest.mark.parametrize("hidden_layers", HIDDEN_LAYERS, ids=str)
@pytest.mark.parametrize("activation", sorted(HIDDEN_FUNCTIONS))
def test_predictions_match_a_hand_written_forward_pass(
    hidden_layers: tuple[int, ...], activation: str
) -> None:
    parameters = _random_parameters(hidden_layers, seed=len(hidden_layers), activation=activation)
    network = Network(parameters, activation)
    points = _points(50, seed=len(hidden_layers))
    expected_logits = _hand_logits(parameters, activation, points)
    expected_proba = 1.0 / (1.0 + np.exp(-expected_logits))

    logits = network.logits(points)
    proba = network.predict_proba(points)
    labels = network.predict(points)
    assert logits.shape == proba.shape == labels.shape == (50,)
    assert proba.dtype == np.float64
    assert labels.dtype == np.int64
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(proba, expected_proba, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(labels, (proba > 0.5).astype(np.int64))
    # The boundary passes through the points, so one of them may lie within rounding of 0.5:
    # there the engines may round to either side. Everywhere else the labels are the same.
    clear = np.abs(expected_proba - 0.5) > 1e-12
    np.testing.assert_array_equal(labels[clear], (expected_proba[clear] > 0.5).astype(np.int64))
    assert clear.sum() >= 49
    assert 0 < labels.sum() < 50  # both classes occur, so the labels test something


def test_the_network_keeps_its_parameters_and_activation_and_leaves_inputs_alone() -> None:
    parameters = _random_parameters((4,), seed=1)
    network = Network(parameters, "tanh")
    assert network.parameters is parameters
    assert network.activation == "tanh"
    assert Network(parameters).activation == "relu"
    points = _points(10)
    original = points.copy()
    network.predict_proba(points)
    np.testing.assert_array_equal(points, original)


def test_points_may_be_nested_lists() -> None:
    network = Network(_random_parameters((3,), seed=2))
    points = [[0.5, -1.0], [2.0, 0.0]]
    np.testing.assert_array_equal(
        network.predict_proba(points), network.predict_proba(np.array(points))
    )


def test_an_unknown_activation_raises_a_config_error() -> None:
    with pytest.raises(ConfigError, match="activation"):
        Network(_random_parameters((4,), seed=0), "swish")


def test_a_zero_logit_is_probability_one_half_and_label_zero_as_in_the_tutorial() -> None:
    # The tutorial predicts (A2 > 0.5): a point exactly on the boundary is class 0.
    zero = make_parameters([np.zeros((2, 3)), np.zeros((3, 1))], [np.zeros(3), np.zeros(1)])
    network = Network(zero)
    points = _points(5)
    np.testing.assert_array_equal(network.predict_proba(points), 0.5)
    np.testing.assert_array_equal(network.predict(points), 0)
    np.testing.assert_array_equal(network.predict(points, threshold=0.49), 1)


@pytest.mark.parametrize("threshold", [0.0, 0.1, 0.3, 0.5, 0.7, 0.95, 1.0])
def test_labels_are_one_exactly_where_the_probability_exceeds_the_threshold(
    threshold: float,
) -> None:
    network = Network(_random_parameters((6,), seed=3, activation="tanh"), "tanh")
    points = _points(400, seed=3)
    proba = network.predict_proba(points)
    labels = network.predict(points, threshold=threshold)
    np.testing.assert_array_equal(labels, (proba > threshold).astype(np.int64))
    if threshold == 0.0:
        assert labels.all()
    if threshold == 1.0:
        assert not labels.any()


def test_a_higher_threshold_never_adds_class_one_labels() -> None:
    network = Network(_random_parameters((6,), seed=4), "relu")
    points = _points(400, seed=4)
    counts = [int(network.predict(points, threshold=t).sum()) for t in (0.2, 0.4, 0.6, 0.8)]
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > counts[-1]


@pytest.mark.parametrize("n_points", [CHUNK_ROWS, CHUNK_ROWS + 1, 100_000, 2 * CHUNK_ROWS + 3])
def test_huge_inputs_give_the_same_as_the_unchunked_computation(n_points: int) -> None:
    parameters = _random_parameters((5, 3), seed=5)
    network = Network(parameters, "tanh")
    points = _points(n_points, seed=n_points)
    expected = _hand_logits(parameters, "tanh", points)
    logits = network.logits(points)
    np.testing.assert_allclose(logits, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        network.predict_proba(points), 1.0 / (1.0 + np.exp(-expected)), rtol=1e-12, atol=1e-15
    )
    # Rows on either side of every chunk boundary agree with the same rows predicted alone.
    for boundary in range(CHUNK_ROWS, n_points, CHUNK_ROWS):
        rows = slice(boundary - 2, boundary + 2)
        np.testing.assert_allclose(logits[rows], network.logits(points[rows]), rtol=1e-12)


@pytest.mark.parametrize(
    "points",
    [
        [],
        [1.0, 2.0],
        [[1.0, 2.0, 3.0]],
        [[1.0], [2.0]],
        [[[1.0, 2.0]]],
        [[0.0, float("nan")]],
        [[float("inf"), 0.0]],
        [["a", "b"]],
        "points",
        [[True, False]],
    ],
)
def test_bad_points_raise_a_data_error(points: Any) -> None:
    network = Network(_random_parameters((4,), seed=6))
    for method in (network.logits, network.predict_proba, network.predict):
        with pytest.raises(DataError, match="points"):
            method(points)


def test_accuracy_is_the_fraction_of_matching_labels() -> None:
    predicted = np.array([0, 1, 1, 0, 1], dtype=np.int64)
    labels = np.array([0, 1, 0, 0, 0], dtype=np.int64)
    assert accuracy(predicted, labels) == pytest.approx(0.6)
    assert accuracy(labels, labels) == 1.0
    assert accuracy(1 - labels, labels) == 0.0


@pytest.mark.parametrize("hidden_layers", HIDDEN_LAYERS, ids=str)
@pytest.mark.parametrize("activation", ["relu", "tanh"])
@pytest.mark.parametrize("n_points", [1, 3, 257, CHUNK_ROWS + 5])
def test_valid_points_predict_bit_for_bit_as_through_the_checks(
    hidden_layers: tuple[int, ...], activation: str, n_points: int
) -> None:
    network = Network(_random_parameters(hidden_layers, seed=3, activation=activation), activation)
    points = _points(n_points, seed=n_points)
    proba = network.predict_proba_of_valid(points)
    logits = network.logits_of_valid(points)
    np.testing.assert_array_equal(proba, network.predict_proba(points.tolist()))
    np.testing.assert_array_equal(logits, network.logits(points.tolist()))
    assert proba.shape == logits.shape == (n_points,)
    # Each chunk of rows gives what it gives alone, as in one pass over it.
    for start in range(0, n_points, CHUNK_ROWS):
        rows = slice(start, start + CHUNK_ROWS)
        np.testing.assert_array_equal(logits[rows], network.logits_of_valid(points[rows]))
    np.testing.assert_allclose(
        logits, _hand_logits(network.parameters, activation, points), rtol=1e-12, atol=1e-12
    )
    assert np.array_equal(points, _points(n_points, seed=n_points))  # the input is untouched
