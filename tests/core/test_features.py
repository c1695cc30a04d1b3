"""Tests of input features: the table, their checks, networks over them, learning with them."""

import numpy as np
import pytest

from core.arrays import FloatArray
from core.errors import ConfigError, ParameterError
from core.features import DEFAULT_FEATURES, FEATURES, apply_features, check_features
from core.generators import generate
from core.initializers import initialize
from core.network import Network
from core.parameters import make_parameters
from core.serialization import parameters_from_dict, parameters_to_dict
from core.training import TrainingConfig, evaluate, train

# Written out independently of the table: the features TensorFlow Playground offers.
EXPECTED: dict[str, object] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1**2,
    "x2^2": lambda x1, x2: x2**2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}
SQUARES = ("x1^2", "x2^2")


def _points(n: int, seed: int = 0) -> FloatArray:
    return np.random.default_rng(seed).normal(scale=1.5, size=(n, 2))


def test_the_table_holds_playgrounds_features_and_the_default_is_the_plain_coordinates() -> None:
    assert sorted(FEATURES) == sorted(EXPECTED)
    assert DEFAULT_FEATURES == ("x1", "x2")
    assert TrainingConfig().features == DEFAULT_FEATURES


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_feature_computes_its_formula(name: str) -> None:
    points = _points(40)
    expected = EXPECTED[name](points[:, 0], points[:, 1])  # type: ignore[operator]
    np.testing.assert_allclose(apply_features(points, (name,))[:, 0], expected, rtol=1e-15)


def test_features_are_columns_in_the_order_asked() -> None:
    points = _points(7)
    names = ("sin(x2)", "x1*x2", "x1")
    columns = apply_features(points, names)
    assert columns.shape == (7, 3)
    for column, name in enumerate(names):
        expected = EXPECTED[name](points[:, 0], points[:, 1])  # type: ignore[operator]
        np.testing.assert_array_equal(columns[:, column], expected)
    assert apply_features(points, DEFAULT_FEATURES) is points


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ((), "choose at least one of"),
        (("x1", "x3"), "unknown feature 'x3'; choose one of"),
        (("x1", "x2", "x1"), r"listed once, but \['x1'\] repeat"),
    ],
)
def test_bad_feature_lists_are_refused_naming_the_field(
    names: tuple[str, ...], message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as error:
        check_features(names)
    assert str(error.value).startswith("features:")
    with pytest.raises(ConfigError, match=message):
        TrainingConfig(features=names)


def test_an_unknown_feature_is_refused_with_the_sorted_list_of_known_ones() -> None:
    with pytest.raises(ConfigError) as error:
        check_features(("cos(x1)",))
    assert str(sorted(FEATURES)) in str(error.value)


def test_the_first_layer_takes_one_input_per_feature() -> None:
    config = TrainingConfig(features=("x1", "x2", "x1*x2"), hidden_layers=(4, 3))
    assert config.layer_sizes == (3, 4, 3, 1)
    initial = initialize(config.layer_sizes, config.init, np.random.default_rng(0))
    assert initial.weights[0].shape == (3, 4)


def test_a_network_applies_its_features_to_plain_points() -> None:
    rng = np.random.default_rng(2)
    names = ("x1^2", "sin(x2)", "x1*x2")
    parameters = make_parameters(
        [rng.normal(size=(3, 5)), rng.normal(size=(5, 1))],
        [rng.normal(size=5), rng.normal(size=1)],
        features=names,
    )
    network = Network(parameters, "tanh", names)
    points = _points(30, seed=2)
    x1, x2 = points[:, 0], points[:, 1]
    inputs = np.column_stack([x1**2, np.sin(x2), x1 * x2])
    hidden = np.tanh(inputs @ parameters.weights[0] + parameters.biases[0])
    expected = (hidden @ parameters.weights[1] + parameters.biases[1])[:, 0]
    assert network.features == names
    np.testing.assert_allclose(network.logits(points), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(network.predict(points), (expected > 0).astype(np.int64))


def test_parameters_that_do_not_fit_the_features_are_refused() -> None:
    weights, biases = [np.ones((2, 3)), np.ones((3, 1))], [np.zeros(3), np.zeros(1)]
    with pytest.raises(ParameterError, match=r"one input per feature .* \(3, fan_out\)"):
        make_parameters(weights, biases, features=("x1", "x2", "x1^2"))
    with pytest.raises(ParameterError, match=r"weights\[0\] has shape \(2, 3\)"):
        Network(make_parameters(weights, biases), "relu", ("x1",))
    with pytest.raises(ParameterError, match=r"weights\[0\]"):
        train(
            TrainingConfig(features=(*SQUARES, "x1"), epochs=1),
            generate("blobs", 20, 0.2, 0),
            initial_parameters=make_parameters(weights, biases),
        )


def test_squared_features_learn_the_circles_a_linear_model_cannot() -> None:
    circles = generate("circles", n_samples=300, noise=0.05, seed=3)
    linear = TrainingConfig(hidden_layers=(), epochs=600, optimizer="adam", learning_rate=0.05)
    squares = TrainingConfig(
        hidden_layers=(), features=SQUARES, epochs=600, optimizer="adam", learning_rate=0.05
    )
    plain = train(linear, circles)
    featured = train(squares, circles)
    assert featured.network.parameters.weights[0].shape == (2, 1)
    assert featured.network.features == SQUARES
    assert evaluate(featured.network, circles).accuracy >= 0.97
    assert evaluate(plain.network, circles).accuracy <= 0.7
    # The exported parameters and the features rebuild the same predictions from plain points.
    rebuilt = Network(
        parameters_from_dict(parameters_to_dict(featured.network.parameters)), "relu", SQUARES
    )
    np.testing.assert_array_equal(
        rebuilt.predict(circles.points), featured.network.predict(circles.points)
    )
