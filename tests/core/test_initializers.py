"""Tests of the initial weights: shapes, the tutorial's draw, He and Glorot scales, errors."""

import math

import numpy as np
import pytest

from core.errors import ConfigError
from core.initializers import INITIALIZERS, check_initializer, initialize

NAMES = ("normal", "he", "glorot")
# A wide layer: 200,000 weights pin a standard deviation down to well under 1 %.
WIDE = (400, 500)


def test_the_table_holds_the_three_initializers() -> None:
    assert set(INITIALIZERS) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("layer_sizes", [(2, 1), (2, 4, 1), (2, 5, 3, 1), (2, 8, 8, 8, 1)])
def test_shapes_dtypes_and_zero_biases(name: str, layer_sizes: tuple[int, ...]) -> None:
    parameters = initialize(layer_sizes, name, np.random.default_rng(0))
    assert parameters.layer_sizes == layer_sizes
    assert len(parameters.weights) == len(parameters.biases) == len(layer_sizes) - 1
    for i, (weights, bias) in enumerate(zip(parameters.weights, parameters.biases, strict=True)):
        assert weights.shape == (layer_sizes[i], layer_sizes[i + 1])
        assert bias.shape == (layer_sizes[i + 1],)
        assert weights.dtype == bias.dtype == np.float64
        np.testing.assert_array_equal(bias, 0.0)
        assert np.all(weights != 0.0)


def test_normal_is_the_tutorials_draw_layer_by_layer_from_the_same_generator() -> None:
    parameters = initialize((2, 4, 3, 1), "normal", np.random.default_rng(42))
    manual = np.random.default_rng(42)
    expected = [manual.standard_normal(shape) * 0.01 for shape in [(2, 4), (4, 3), (3, 1)]]
    for weights, reference in zip(parameters.weights, expected, strict=True):
        np.testing.assert_array_equal(weights, reference)


def test_the_draw_consumes_the_generator_so_later_draws_follow_it() -> None:
    rng = np.random.default_rng(3)
    initialize((2, 4, 1), "normal", rng)
    manual = np.random.default_rng(3)
    manual.standard_normal((2, 4))
    manual.standard_normal((4, 1))
    assert rng.standard_normal() == manual.standard_normal()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_weights_and_other_seed_other_weights(name: str) -> None:
    first = initialize((2, 6, 1), name, np.random.default_rng(7))
    assert first.equals(initialize((2, 6, 1), name, np.random.default_rng(7)))
    assert not first.equals(initialize((2, 6, 1), name, np.random.default_rng(8)))


@pytest.mark.parametrize(
    ("name", "expected_std"),
    [
        ("normal", 0.01),
        ("he", math.sqrt(2.0 / WIDE[0])),
        ("glorot", math.sqrt(6.0 / sum(WIDE)) / math.sqrt(3.0)),
    ],
)
def test_scale_on_a_wide_layer(name: str, expected_std: float) -> None:
    weights = initialize(WIDE, name, np.random.default_rng(11)).weights[0]
    assert weights.std() == pytest.approx(expected_std, rel=0.01)
    assert abs(weights.mean()) < 5.0 * expected_std / math.sqrt(weights.size)


def test_he_scales_by_fan_in_not_fan_out() -> None:
    narrow_in = initialize((50, 800), "he", np.random.default_rng(1)).weights[0]
    wide_in = initialize((800, 50), "he", np.random.default_rng(1)).weights[0]
    assert narrow_in.std() == pytest.approx(math.sqrt(2.0 / 50), rel=0.02)
    assert wide_in.std() == pytest.approx(math.sqrt(2.0 / 800), rel=0.02)


def test_he_draws_are_normal_not_uniform() -> None:
    weights = initialize(WIDE, "he", np.random.default_rng(2)).weights[0]
    standardized = weights / math.sqrt(2.0 / WIDE[0])
    # About 4.6 % of a standard normal lies beyond 2; a uniform of the same std has none.
    assert np.mean(np.abs(standardized) > 2.0) == pytest.approx(0.0455, abs=0.003)


def test_glorot_is_uniform_within_its_bounds() -> None:
    limit = math.sqrt(6.0 / sum(WIDE))
    weights = initialize(WIDE, "glorot", np.random.default_rng(12)).weights[0]
    assert np.abs(weights).max() <= limit
    assert weights.max() > 0.999 * limit
    assert weights.min() < -0.999 * limit
    # A uniform puts a quarter of its mass in each quarter of its range.
    counts, _ = np.histogram(weights, bins=4, range=(-limit, limit))
    np.testing.assert_allclose(counts / weights.size, 0.25, atol=0.005)


@pytest.mark.parametrize("name", ["xavier", "", "Normal", "he_uniform"])
def test_unknown_name_raises_a_config_error_listing_the_known_names(name: str) -> None:
    for call in (
        lambda: check_initializer(name),
        lambda: initialize((2, 1), name, np.random.default_rng(0)),
    ):
        with pytest.raises(ConfigError) as error:
            call()
        message = str(error.value)
        assert message.startswith("init:")
        assert repr(name) in message
        assert str(sorted(NAMES)) in message
