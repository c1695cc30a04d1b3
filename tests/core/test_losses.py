"""Tests of the cross-entropy computed from logits: accuracy, stability and its gradient."""

import math

import numpy as np
import pytest

from core.arrays import FloatArray
from core.losses import bce_with_gradient, binary_cross_entropy, sigmoid

HUGE_LOGITS = np.array([1e4, 1e4, -1e4, -1e4])
HUGE_LABELS = np.array([1.0, 0.0, 1.0, 0.0])


def _naive_bce(logits: FloatArray, labels: FloatArray) -> float:
    """The textbook mean of -[y log p + (1 - y) log(1 - p)] with p = 1 / (1 + exp(-z))."""
    p = 1.0 / (1.0 + np.exp(-logits))
    return float(-np.mean(labels * np.log(p) + (1.0 - labels) * np.log(1.0 - p)))


def _moderate_batch(n: int, seed: int = 0) -> tuple[FloatArray, FloatArray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(-6.0, 6.0, n), rng.integers(0, 2, n).astype(np.float64)


def _with_gradient(logits: FloatArray, labels: FloatArray) -> tuple[float, dict[str, FloatArray]]:
    """Call :func:`bce_with_gradient` on (1, n) rows; returns the sum and the filled buffers."""
    row_logits, row_labels = logits.reshape(1, -1), labels.reshape(1, -1)
    buffers = {
        name: np.full_like(row_logits, np.nan)
        for name in ("softplus", "probabilities", "grad_logits")
    }
    loss_sum = bce_with_gradient(row_logits, row_labels, ones=np.ones_like(row_logits), **buffers)
    return loss_sum, buffers


def test_sigmoid_matches_the_formula_on_moderate_logits() -> None:
    z = np.linspace(-20.0, 20.0, 81)
    np.testing.assert_allclose(sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-13, atol=0)
    np.testing.assert_allclose(sigmoid(-z), 1.0 - sigmoid(z), rtol=0, atol=1e-15)


def test_sigmoid_is_finite_and_warning_free_at_huge_logits() -> None:
    z = np.array([-1e4, -1e3, 0.0, 1e3, 1e4])
    np.testing.assert_array_equal(sigmoid(z), [0.0, 0.0, 0.5, 1.0, 1.0])


def test_sigmoid_keeps_the_shape() -> None:
    assert sigmoid(np.zeros((3, 5))).shape == (3, 5)


@pytest.mark.parametrize("n", [1, 7, 200])
def test_binary_cross_entropy_equals_the_naive_formula_on_moderate_logits(n: int) -> None:
    logits, labels = _moderate_batch(n)
    loss = binary_cross_entropy(logits, labels)
    assert isinstance(loss, float)
    assert loss == pytest.approx(_naive_bce(logits, labels), rel=1e-12)


def test_binary_cross_entropy_of_a_zero_logit_is_log_two() -> None:
    assert binary_cross_entropy(np.zeros(4), np.array([0.0, 1.0, 0.0, 1.0])) == pytest.approx(
        math.log(2.0), rel=1e-15
    )


def test_binary_cross_entropy_is_finite_and_exact_at_huge_logits() -> None:
    # Right answers cost 0, wrong ones cost |z| exactly; an epsilon would cap them near 18.4.
    assert binary_cross_entropy(HUGE_LOGITS, HUGE_LABELS) == 5000.0
    assert binary_cross_entropy(np.array([1e4]), np.array([1.0])) == 0.0
    assert binary_cross_entropy(np.array([1e4]), np.array([0.0])) == 1e4
    assert binary_cross_entropy(np.array([-1e4]), np.array([1.0])) == 1e4


def test_binary_cross_entropy_is_exact_in_the_far_tail() -> None:
    # -log(1 - sigmoid(-40)) = log1p(exp(-40)) ~ 4.25e-18, far below any epsilon.
    assert binary_cross_entropy(np.array([-40.0]), np.array([0.0])) == pytest.approx(
        math.exp(-40.0), rel=1e-12
    )
    assert binary_cross_entropy(np.array([40.0]), np.array([1.0])) == pytest.approx(
        math.exp(-40.0), rel=1e-12
    )
    assert binary_cross_entropy(np.array([40.0]), np.array([0.0])) == pytest.approx(40.0, rel=1e-15)


def test_bce_with_gradient_returns_the_sum_and_fills_its_buffers() -> None:
    logits, labels = _moderate_batch(9, seed=1)
    loss_sum, buffers = _with_gradient(logits, labels)
    assert loss_sum == pytest.approx(9 * _naive_bce(logits, labels), rel=1e-12)
    probabilities = 1.0 / (1.0 + np.exp(-logits))
    np.testing.assert_allclose(buffers["grad_logits"][0], probabilities - labels, atol=1e-15)
    np.testing.assert_allclose(buffers["probabilities"][0], probabilities, rtol=1e-13)
    np.testing.assert_allclose(buffers["softplus"][0], np.log1p(np.exp(logits)), rtol=1e-13)


def test_bce_gradient_matches_a_central_difference() -> None:
    logits, labels = _moderate_batch(6, seed=2)
    _, buffers = _with_gradient(logits, labels)
    step = 1e-6
    numeric = np.empty_like(logits)
    for i in range(logits.size):
        shift = np.zeros_like(logits)
        shift[i] = step
        numeric[i] = (
            binary_cross_entropy(logits + shift, labels)
            - binary_cross_entropy(logits - shift, labels)
        ) * (logits.size / (2.0 * step))
    np.testing.assert_allclose(buffers["grad_logits"][0], numeric, rtol=1e-7, atol=1e-9)


def test_bce_with_gradient_is_finite_and_exact_at_huge_logits() -> None:
    loss_sum, buffers = _with_gradient(HUGE_LOGITS, HUGE_LABELS)
    assert loss_sum == 2e4
    np.testing.assert_array_equal(buffers["grad_logits"][0], [0.0, 1.0, -1.0, 0.0])
    np.testing.assert_array_equal(buffers["probabilities"][0], [1.0, 1.0, 0.0, 0.0])
