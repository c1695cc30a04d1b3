"""Central-difference checks of the backpropagated gradient, for every activation, depth and
penalty."""

import zlib

import numpy as np
import pytest

from core.activations import ACTIVATIONS, get_activation
from core.arrays import FloatArray
from core.backprop import FlatParameters, Workspace, labels_row, with_ones_row
from core.features import apply_features

HIDDEN_LAYERS = [(), (5,), (3, 6), (4, 2, 5)]
N_POINTS = 11
STEP = 1e-5
# Hidden pre-activations (the ReLU kink) and weights (the L1 kink) must stay this far from 0
# so that a step of STEP in any parameter cannot cross a kink.
KINK_MARGIN = 1e-2
PENALTIES = [(0.0, 0.0), (0.7, 0.0), (0.0, 0.3), (0.7, 0.3)]
"""(l2, l1) pairs."""


def _random_problem(
    layer_sizes: tuple[int, ...],
    workspace: Workspace,
    rng: np.random.Generator,
    features: tuple[str, ...] = ("x1", "x2"),
) -> tuple[FloatArray, FloatArray, FlatParameters]:
    """Points (as ``features``), labels and parameters whose hidden pre-activations and
    weights avoid 0."""
    for _ in range(100):
        points = with_ones_row(apply_features(rng.normal(size=(N_POINTS, 2)), features))
        labels = labels_row(np.tile([0, 1], N_POINTS)[:N_POINTS])
        parameters = FlatParameters(layer_sizes)
        parameters.vector[:] = rng.normal(scale=0.8, size=parameters.vector.size)
        workspace.forward(points, parameters)
        hidden_logits = workspace.logits[:-1]
        values = [*hidden_logits, *parameters.weights]
        if all(np.abs(value).min() > KINK_MARGIN for value in values):
            return points, labels, parameters
    raise AssertionError("could not draw a problem away from the kinks")


@pytest.mark.parametrize("hidden_layers", HIDDEN_LAYERS, ids=str)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize(("l2", "l1"), PENALTIES)
def test_gradient_matches_central_differences(
    hidden_layers: tuple[int, ...], activation: str, l2: float, l1: float
) -> None:
    layer_sizes = (2, *hidden_layers, 1)
    rng = np.random.default_rng(zlib.crc32(repr((hidden_layers, activation, l2, l1)).encode()))
    workspace = Workspace(layer_sizes, N_POINTS, get_activation(activation))
    points, labels, parameters = _random_problem(layer_sizes, workspace, rng)

    gradient = FlatParameters(layer_sizes)
    workspace.loss_and_gradient(points, labels, parameters, gradient, l2=l2, l1=l1)
    # The engine leaves out the 1 / n of the mean: it writes n times the true gradient.
    analytic = gradient.vector / N_POINTS

    def loss_at(vector: FloatArray) -> float:
        shifted = FlatParameters(layer_sizes, vector)
        return workspace.loss_and_gradient(
            points, labels, shifted, FlatParameters(layer_sizes), l2=l2, l1=l1
        )

    numeric = np.empty_like(analytic)
    for i in range(analytic.size):
        step = np.zeros_like(analytic)
        step[i] = STEP
        vector = parameters.vector
        numeric[i] = (loss_at(vector + step) - loss_at(vector - step)) / (2.0 * STEP)

    relative_error = np.linalg.norm(analytic - numeric) / (
        np.linalg.norm(analytic) + np.linalg.norm(numeric)
    )
    assert relative_error < 1e-6, (relative_error, analytic, numeric)
    assert np.linalg.norm(analytic) > 1e-3  # a vanishing gradient would check nothing


@pytest.mark.parametrize(
    "features",
    [("x1^2", "x2^2"), ("x1", "x2", "x1*x2", "sin(x1)", "sin(x2)"), ("sin(x2)",)],
    ids=str,
)
@pytest.mark.parametrize("hidden_layers", [(), (4,), (3, 5)], ids=str)
def test_gradient_over_input_features_matches_central_differences(
    features: tuple[str, ...], hidden_layers: tuple[int, ...]
) -> None:
    layer_sizes = (len(features), *hidden_layers, 1)
    rng = np.random.default_rng(zlib.crc32(repr((features, hidden_layers)).encode()))
    workspace = Workspace(layer_sizes, N_POINTS, get_activation("tanh"))
    points, labels, parameters = _random_problem(layer_sizes, workspace, rng, features)
    gradient = FlatParameters(layer_sizes)
    workspace.loss_and_gradient(points, labels, parameters, gradient, l2=0.2, l1=0.1)
    analytic = gradient.vector / N_POINTS

    def loss_at(vector: FloatArray) -> float:
        shifted = FlatParameters(layer_sizes, vector)
        return workspace.loss_and_gradient(
            points, labels, shifted, FlatParameters(layer_sizes), l2=0.2, l1=0.1
        )

    numeric = np.array(
        [
            (loss_at(parameters.vector + step) - loss_at(parameters.vector - step)) / (2.0 * STEP)
            for step in np.eye(analytic.size) * STEP
        ]
    )
    relative_error = np.linalg.norm(analytic - numeric) / (
        np.linalg.norm(analytic) + np.linalg.norm(numeric)
    )
    assert relative_error < 1e-6, (relative_error, analytic, numeric)
    # The features' own weights get a gradient, so the check covers them.
    assert np.linalg.norm(gradient.weights[0]) / N_POINTS > 1e-3


@pytest.mark.parametrize("hidden_layers", HIDDEN_LAYERS, ids=str)
def test_loss_is_the_mean_cross_entropy_plus_the_penalties_on_weights_only(
    hidden_layers: tuple[int, ...],
) -> None:
    layer_sizes = (2, *hidden_layers, 1)
    rng = np.random.default_rng(len(hidden_layers))
    activation = get_activation("tanh")
    workspace = Workspace(layer_sizes, N_POINTS, activation)
    points, labels, parameters = _random_problem(layer_sizes, workspace, rng)
    l2, l1 = 0.4, 0.25

    # An independent sample-major forward pass over the (fan_in + 1, fan_out) blocks.
    hidden = points[:-1].T
    for block in parameters.blocks[:-1]:
        hidden = np.tanh(hidden @ block[:-1] + block[-1])
    logits = hidden @ parameters.blocks[-1][:-1] + parameters.blocks[-1][-1]
    y = labels[0]
    p = 1.0 / (1.0 + np.exp(-logits[:, 0]))
    cross_entropy = -np.mean(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    weight_squares = sum(float(np.sum(block[:-1] ** 2)) for block in parameters.blocks)
    weight_magnitudes = sum(float(np.sum(np.abs(block[:-1]))) for block in parameters.blocks)
    expected = cross_entropy + l2 / (2.0 * N_POINTS) * weight_squares
    l1_term = l1 / N_POINTS * weight_magnitudes

    gradient = FlatParameters(layer_sizes)
    loss = workspace.loss_and_gradient(points, labels, parameters, gradient, l2=l2)
    assert loss == pytest.approx(expected, rel=1e-12)
    loss = workspace.loss_and_gradient(points, labels, parameters, gradient, l2=l2, l1=l1)
    assert loss == pytest.approx(expected + l1_term, rel=1e-12)
    assert workspace.loss_and_gradient(points, labels, parameters, gradient) == pytest.approx(
        cross_entropy, rel=1e-12
    )


@pytest.mark.parametrize(("l2", "l1"), PENALTIES[1:])
def test_penalties_leave_the_bias_gradient_alone(l2: float, l1: float) -> None:
    layer_sizes = (2, 3, 1)
    rng = np.random.default_rng(5)
    workspace = Workspace(layer_sizes, N_POINTS, get_activation("sigmoid"))
    points, labels, parameters = _random_problem(layer_sizes, workspace, rng)
    plain, penalized = FlatParameters(layer_sizes), FlatParameters(layer_sizes)
    workspace.loss_and_gradient(points, labels, parameters, plain)
    workspace.loss_and_gradient(points, labels, parameters, penalized, l2=l2, l1=l1)
    for layer, block in enumerate(parameters.blocks):
        weights = block[:-1]
        np.testing.assert_allclose(
            penalized.blocks[layer][:-1],
            plain.blocks[layer][:-1] + l2 * weights + l1 * np.sign(weights),
            rtol=1e-13,
        )
        np.testing.assert_array_equal(penalized.blocks[layer][-1], plain.blocks[layer][-1])


def test_flat_parameters_round_trip_and_fold_the_bias_as_the_last_row() -> None:
    layer_sizes = (2, 4, 3, 1)
    flat = FlatParameters(layer_sizes)
    flat.vector[:] = np.arange(flat.vector.size, dtype=np.float64)
    assert flat.vector.size == 3 * 4 + 5 * 3 + 4 * 1
    parameters = flat.to_parameters()
    assert parameters.layer_sizes == layer_sizes
    for block, weight, bias in zip(flat.blocks, parameters.weights, parameters.biases, strict=True):
        np.testing.assert_array_equal(weight, block[:-1])
        np.testing.assert_array_equal(bias, block[-1])
    flat.vector[:] = 0.0  # the copies taken out do not share memory with the vector
    assert parameters.weights[0][0, 1] == 1.0
    assert FlatParameters.from_parameters(parameters).to_parameters().equals(parameters)


def test_with_ones_row_and_labels_row_are_feature_major() -> None:
    points = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    np.testing.assert_array_equal(
        with_ones_row(points), [[1.0, 3.0, 5.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]]
    )
    row = labels_row(np.array([0, 1, 1], dtype=np.int64))
    assert row.shape == (1, 3)
    assert row.dtype == np.float64
    np.testing.assert_array_equal(row, [[0.0, 1.0, 1.0]])
