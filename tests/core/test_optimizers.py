"""Tests of the optimizers' updates against hand-written reference rules."""

import numpy as np
import pytest

from core.arrays import FloatArray
from core.errors import ConfigError
from core.optimizers import (
    OPTIMIZERS,
    Adam,
    GradientDescent,
    Hyperparameters,
    Momentum,
    check_optimizer,
    make_optimizer,
)

SIZE = 7
STEPS = 6


def _gradients(seed: int = 0) -> list[tuple[FloatArray, float]]:
    """A few (gradient, scale) pairs of varied signs, sizes and batch scales."""
    rng = np.random.default_rng(seed)
    return [(rng.normal(scale=3.0, size=SIZE), 1.0 / rng.integers(1, 50)) for _ in range(STEPS)]


def _start() -> FloatArray:
    return np.random.default_rng(99).normal(size=SIZE)


def test_the_table_holds_the_four_optimizers() -> None:
    assert set(OPTIMIZERS) == {"gd", "sgd", "momentum", "adam"}


@pytest.mark.parametrize("name", ["gd", "sgd"])
def test_gradient_descent_step_is_p_minus_lr_times_scale_times_g(name: str) -> None:
    optimizer = make_optimizer(name, SIZE, Hyperparameters(learning_rate=0.3))
    assert isinstance(optimizer, GradientDescent)
    parameters = _start()
    expected = parameters.copy()
    buffer = parameters  # updated in place: the caller's array is the one that moves
    for gradient, scale in _gradients():
        gradient_before = gradient.copy()
        optimizer.step(parameters, gradient, scale)
        expected = expected - 0.3 * scale * gradient
        np.testing.assert_allclose(parameters, expected, rtol=1e-14, atol=1e-15)
        np.testing.assert_array_equal(gradient, gradient_before)
    assert buffer is parameters


def test_momentum_matches_the_heavy_ball_reference() -> None:
    learning_rate, momentum = 0.2, 0.8
    optimizer = make_optimizer(
        "momentum", SIZE, Hyperparameters(learning_rate=learning_rate, momentum=momentum)
    )
    assert isinstance(optimizer, Momentum)
    parameters = _start()
    expected = parameters.copy()
    velocity = np.zeros(SIZE)
    for gradient, scale in _gradients(1):
        optimizer.step(parameters, gradient, scale)
        velocity = momentum * velocity - learning_rate * scale * gradient
        expected = expected + velocity
        np.testing.assert_allclose(parameters, expected, rtol=1e-13, atol=1e-14)


def test_momentum_zero_is_gradient_descent() -> None:
    plain = make_optimizer("gd", SIZE, Hyperparameters(learning_rate=0.1))
    heavy = make_optimizer("momentum", SIZE, Hyperparameters(learning_rate=0.1, momentum=0.0))
    first, second = _start(), _start()
    for gradient, scale in _gradients(2):
        plain.step(first, gradient, scale)
        heavy.step(second, gradient, scale)
    np.testing.assert_allclose(first, second, rtol=1e-14)


@pytest.mark.parametrize(
    ("beta1", "beta2", "epsilon"), [(0.9, 0.999, 1e-8), (0.5, 0.9, 1e-3), (0.0, 0.99, 1e-8)]
)
def test_adam_matches_the_bias_corrected_reference(
    beta1: float, beta2: float, epsilon: float
) -> None:
    learning_rate = 0.05
    optimizer = make_optimizer(
        "adam",
        SIZE,
        Hyperparameters(learning_rate=learning_rate, beta1=beta1, beta2=beta2, epsilon=epsilon),
    )
    assert isinstance(optimizer, Adam)
    parameters = _start()
    expected = parameters.copy()
    first, second = np.zeros(SIZE), np.zeros(SIZE)
    for t, (gradient, scale) in enumerate(_gradients(3), start=1):
        optimizer.step(parameters, gradient, scale)
        g = gradient * scale
        first = beta1 * first + (1.0 - beta1) * g
        second = beta2 * second + (1.0 - beta2) * g**2
        first_hat = first / (1.0 - beta1**t)
        second_hat = second / (1.0 - beta2**t)
        expected = expected - learning_rate * first_hat / (np.sqrt(second_hat) + epsilon)
        np.testing.assert_allclose(parameters, expected, rtol=1e-12, atol=1e-14)


def test_adams_first_step_moves_each_parameter_by_the_learning_rate() -> None:
    optimizer = make_optimizer("adam", SIZE, Hyperparameters(learning_rate=0.01))
    parameters = np.zeros(SIZE)
    gradient = np.array([5.0, -2.0, 0.3, -1e3, 7.0, -0.5, 1e-2])
    optimizer.step(parameters, gradient, 0.5)
    np.testing.assert_allclose(parameters, -0.01 * np.sign(gradient), rtol=1e-5)


def test_each_optimizer_keeps_its_own_state() -> None:
    hyperparameters = Hyperparameters(learning_rate=0.1)
    for name in ("momentum", "adam"):
        first = make_optimizer(name, SIZE, hyperparameters)
        second = make_optimizer(name, SIZE, hyperparameters)
        a, b = _start(), _start()
        gradient, scale = _gradients(4)[0]
        first.step(a, gradient, scale)
        first.step(a, gradient, scale)
        second.step(b, gradient, scale)
        second.step(b, gradient, scale)
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["rmsprop", "", "Adam", "SGD"])
def test_unknown_name_raises_a_config_error_listing_the_known_names(name: str) -> None:
    for call in (
        lambda: check_optimizer(name),
        lambda: make_optimizer(name, SIZE, Hyperparameters(learning_rate=0.1)),
    ):
        with pytest.raises(ConfigError) as error:
            call()
        message = str(error.value)
        assert message.startswith("optimizer:")
        assert repr(name) in message
        assert str(["adam", "gd", "momentum", "sgd"]) in message
