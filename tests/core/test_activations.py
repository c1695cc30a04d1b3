"""Tests of the hidden-layer activations: forward formulas, derivatives, stability, errors."""

from collections.abc import Callable

import numpy as np
import pytest

from core.activations import ACTIVATIONS, LEAKY_RELU_SLOPE, get_activation
from core.arrays import FloatArray
from core.errors import ConfigError

NAMES = ("relu", "tanh", "sigmoid", "leaky_relu", "identity")

# Forty points evenly spread over [-3, 3]: none is within 0.07 of the kink at zero.
Z_VALUES = np.linspace(-3.0, 3.0, 40).reshape(5, 8)


def _textbook(name: str) -> Callable[[FloatArray], FloatArray]:
    """The plain formula of each activation, written independently of the code under test."""
    formulas: dict[str, Callable[[FloatArray], FloatArray]] = {
        "relu": lambda z: np.maximum(0.0, z),
        "tanh": np.tanh,
        "sigmoid": lambda z: 1.0 / (1.0 + np.exp(-z)),
        "leaky_relu": lambda z: np.where(z > 0.0, z, 0.01 * z),
        "identity": lambda z: z.copy(),
    }
    return formulas[name]


def _forward(name: str, z: FloatArray) -> FloatArray:
    out = np.full_like(z, np.nan)
    get_activation(name).forward(z, out)
    return out


def test_the_table_holds_the_five_activations() -> None:
    assert set(ACTIVATIONS) == set(NAMES)
    for name in NAMES:
        assert ACTIVATIONS[name].name == name
        assert get_activation(name) is ACTIVATIONS[name]


def test_leaky_relu_slope_is_the_usual_one() -> None:
    assert LEAKY_RELU_SLOPE == 0.01


@pytest.mark.parametrize("name", NAMES)
def test_forward_matches_the_textbook_formula(name: str) -> None:
    z = Z_VALUES.copy()
    np.testing.assert_allclose(_forward(name, z), _textbook(name)(Z_VALUES), rtol=1e-13, atol=0)
    np.testing.assert_array_equal(z, Z_VALUES)  # the input is left alone


@pytest.mark.parametrize("name", NAMES)
def test_forward_may_write_over_its_input(name: str) -> None:
    # The network computes activations in place to save memory on large inputs.
    z = Z_VALUES.copy()
    get_activation(name).forward(z, z)
    np.testing.assert_allclose(z, _textbook(name)(Z_VALUES), rtol=1e-13, atol=0)


@pytest.mark.parametrize("name", NAMES)
def test_backward_is_grad_times_a_central_difference_derivative(name: str) -> None:
    step = 1e-5
    formula = _textbook(name)
    numeric_derivative = (formula(Z_VALUES + step) - formula(Z_VALUES - step)) / (2.0 * step)
    grad_a = np.random.default_rng(0).normal(size=Z_VALUES.shape)
    out = np.full_like(Z_VALUES, np.nan)
    get_activation(name).backward(grad_a, Z_VALUES, formula(Z_VALUES), out)
    np.testing.assert_allclose(out, grad_a * numeric_derivative, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize(
    ("name", "derivative"),
    [
        ("relu", lambda z: (z > 0.0).astype(np.float64)),
        ("tanh", lambda z: 1.0 - np.tanh(z) ** 2),
        ("sigmoid", lambda z: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
        ("leaky_relu", lambda z: np.where(z > 0.0, 1.0, 0.01)),
        ("identity", np.ones_like),
    ],
)
def test_backward_matches_the_analytic_derivative(
    name: str, derivative: Callable[[FloatArray], FloatArray]
) -> None:
    grad_a = np.random.default_rng(1).normal(size=Z_VALUES.shape)
    out = np.full_like(Z_VALUES, np.nan)
    get_activation(name).backward(grad_a, Z_VALUES, _textbook(name)(Z_VALUES), out)
    np.testing.assert_allclose(out, grad_a * derivative(Z_VALUES), rtol=1e-12, atol=1e-15)


def test_relu_passes_no_gradient_at_zero_or_below_as_the_tutorial_does() -> None:
    # The tutorial's mask is (Z1 > 0): zero at z = 0 itself.
    z = np.array([[-2.0, -1e-300, 0.0, 1e-300, 2.0]])
    grad_a = np.full_like(z, 3.0)
    out = np.full_like(z, np.nan)
    get_activation("relu").backward(grad_a, z, np.maximum(z, 0.0), out)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.0, 3.0, 3.0]])


def test_leaky_relu_uses_the_small_slope_at_zero_and_below() -> None:
    z = np.array([[-2.0, 0.0, 2.0]])
    out = np.full_like(z, np.nan)
    get_activation("leaky_relu").backward(np.ones_like(z), z, _forward("leaky_relu", z), out)
    np.testing.assert_array_equal(out, [[0.01, 0.01, 1.0]])


def test_sigmoid_is_finite_and_exact_at_huge_inputs() -> None:
    # 1 / (1 + exp(-z)) would overflow at z = -1e4; pytest turns that warning into an error.
    z = np.array([[-1e4, -800.0, 0.0, 800.0, 1e4]])
    a = _forward("sigmoid", z)
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, [[0.0, 0.0, 0.5, 1.0, 1.0]])
    out = np.full_like(z, np.nan)
    get_activation("sigmoid").backward(np.ones_like(z), z, a, out)
    np.testing.assert_array_equal(out, [[0.0, 0.0, 0.25, 0.0, 0.0]])


def test_tanh_is_finite_at_huge_inputs() -> None:
    z = np.array([[-1e4, 1e4]])
    np.testing.assert_array_equal(_forward("tanh", z), [[-1.0, 1.0]])


def test_unknown_name_raises_a_config_error_listing_the_known_names() -> None:
    with pytest.raises(ConfigError, match="swish") as error:
        get_activation("swish")
    message = str(error.value)
    assert "activation" in message
    assert str(sorted(NAMES)) in message


@pytest.mark.parametrize("name", ["", "ReLU", "relu ", "softmax"])
def test_names_are_matched_exactly(name: str) -> None:
    with pytest.raises(ConfigError):
        get_activation(name)
