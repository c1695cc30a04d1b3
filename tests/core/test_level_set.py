"""Tests of the exact boundary: marching squares with every vertex refined on the model."""

from collections.abc import Callable

import numpy as np
import pytest

from core.arrays import FloatArray
from core.figures.grid import PlaneGrid, grid_probabilities
from core.figures.level_set import LEVEL_TOLERANCE, level_curves
from core.generators import generate
from core.network import Network
from core.training import TrainingConfig, train

Classifier = Callable[[FloatArray], FloatArray]


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -700.0, 700.0))))


def _square_grid(low: float, high: float, resolution: int) -> PlaneGrid:
    axis = np.linspace(low, high, resolution)
    return PlaneGrid(xs=axis, ys=axis.copy())


def _disc(points: FloatArray, centre: tuple[float, float] = (0.0, 0.0)) -> FloatArray:
    """Class 1 inside the unit circle around ``centre``."""
    offsets = points - np.asarray(centre)
    return _sigmoid(4.0 * (1.0 - (offsets**2).sum(axis=1)))


class _Counting:
    """A classifier that counts its calls and refuses to be called with no points."""

    def __init__(self, function: Classifier) -> None:
        self.function = function
        self.sizes: list[int] = []

    def __call__(self, points: FloatArray) -> FloatArray:
        assert points.shape[0] > 0, "called with no points"
        assert points.shape[1] == 2
        self.sizes.append(points.shape[0])
        return self.function(points)


def _curves(proba: Classifier, grid: PlaneGrid, simplify_cells: float = 0.1) -> list[FloatArray]:
    probabilities = grid_probabilities(proba, grid)
    return level_curves(proba, grid, probabilities, simplify_cells=simplify_cells)


def _assert_on_the_level(proba: Classifier, curves: list[FloatArray]) -> None:
    for curve in curves:
        assert np.abs(proba(curve) - 0.5).max() <= LEVEL_TOLERANCE


def test_a_disc_gives_one_closed_curve_on_the_circle() -> None:
    grid = _square_grid(-2.0, 2.0, 50)
    proba = _Counting(_disc)
    (curve,) = _curves(proba, grid)
    np.testing.assert_array_equal(curve[0], curve[-1])  # closed: first vertex repeated
    _assert_on_the_level(_disc, [curve])
    radii = np.hypot(curve[:, 0], curve[:, 1])
    np.testing.assert_allclose(radii, 1.0, atol=1e-9)
    assert curve.shape[0] >= 17  # a round curve keeps many vertices
    # The polygon encloses almost exactly the disc's area (shoelace formula).
    area = 0.5 * abs(np.dot(curve[:-1, 0], curve[1:, 1]) - np.dot(curve[1:, 0], curve[:-1, 1]))
    assert area == pytest.approx(np.pi, rel=0.02)
    # The grid once, then few refinement rounds on the crossings only.
    assert proba.sizes[0] == 50 * 50
    assert len(proba.sizes) <= 8
    assert all(size < 200 for size in proba.sizes[1:])


def test_without_thinning_every_crossed_edge_gives_a_vertex() -> None:
    grid = _square_grid(-2.0, 2.0, 50)
    probabilities = grid_probabilities(_disc, grid)
    above = probabilities > 0.5
    crossed = int((above[:, 1:] != above[:, :-1]).sum() + (above[1:, :] != above[:-1, :]).sum())
    (curve,) = level_curves(_disc, grid, probabilities, simplify_cells=0)
    assert curve.shape[0] == crossed + 1  # each crossing once, the first again at the end
    assert np.unique(curve[:-1], axis=0).shape[0] == crossed
    (thinned,) = level_curves(_disc, grid, probabilities)
    assert thinned.shape[0] < curve.shape[0]
    # Thinning keeps a subset of the vertices, in order.
    kept = [int(np.flatnonzero((curve == vertex).all(axis=1))[0]) for vertex in thinned[:-1]]
    assert kept == sorted(kept)


def test_separate_regions_give_separate_closed_curves() -> None:
    def two_discs(points: FloatArray) -> FloatArray:
        return np.maximum(_disc(points, (-1.5, -1.0)), _disc(points, (1.5, 1.0)))

    grid = _square_grid(-3.0, 3.0, 120)
    curves = _curves(two_discs, grid)
    assert len(curves) == 2
    _assert_on_the_level(two_discs, curves)
    centres = sorted(tuple(np.round(curve[:-1].mean(axis=0), 1)) for curve in curves)
    assert centres == [(-1.5, -1.0), (1.5, 1.0)]
    for curve in curves:
        np.testing.assert_array_equal(curve[0], curve[-1])


def test_a_boundary_across_the_grid_is_an_open_polyline_ending_on_the_border() -> None:
    def linear(points: FloatArray) -> FloatArray:
        return _sigmoid(3.0 * (2.0 * points[:, 0] - points[:, 1] + 0.3))

    grid = _square_grid(-2.0, 2.0, 60)
    (curve,) = _curves(linear, grid)
    _assert_on_the_level(linear, [curve])
    assert not np.array_equal(curve[0], curve[-1])
    for end in (curve[0], curve[-1]):
        assert np.isclose(np.abs(end), 2.0).any()  # on the grid's border
    # A straight boundary needs no vertex between its two ends.
    assert curve.shape[0] == 2
    (unthinned,) = _curves(linear, grid, simplify_cells=0)
    assert unthinned.shape[0] > 40
    np.testing.assert_allclose(2.0 * unthinned[:, 0] - unthinned[:, 1] + 0.3, 0.0, atol=1e-9)


def test_one_class_everywhere_gives_no_curve_and_no_extra_call() -> None:
    proba = _Counting(lambda points: np.full(points.shape[0], 0.97))
    assert _curves(proba, _square_grid(-1.0, 1.0, 30)) == []
    assert proba.sizes == [900]


@pytest.mark.parametrize("shift", [1e-3, -1e-3])
def test_saddle_cells_are_resolved_by_the_model_at_their_centre(shift: float) -> None:
    """Near the saddle of x*y + shift = 0 the four corners of the middle cell alternate.

    The branches of the hyperbola lie where x*y has the sign of -shift; reading the saddle
    the wrong way would join the branches across the middle cell.
    """

    def saddle(points: FloatArray) -> FloatArray:
        return _sigmoid(50.0 * (points[:, 0] * points[:, 1] + shift))

    grid = _square_grid(-1.0, 1.0, 20)  # the origin is the centre of a cell
    probabilities = grid_probabilities(saddle, grid)
    corners = probabilities[9:11, 9:11] > 0.5
    assert corners[0, 0] == corners[1, 1] != corners[0, 1] == corners[1, 0]
    curves = level_curves(saddle, grid, probabilities)
    assert len(curves) == 2
    _assert_on_the_level(saddle, curves)
    for curve in curves:
        assert np.all(np.sign(curve[:, 0] * curve[:, 1]) == -np.sign(shift))
        assert not np.array_equal(curve[0], curve[-1])
        # Each branch stays in its own quadrant: it never crosses the middle cell.
        assert np.unique(np.sign(curve[:, 0])).size == 1


@pytest.mark.parametrize("steepness", [1e-2, 1.0, 1e3, 1e6])
def test_vertices_reach_the_level_however_steep_the_model(steepness: float) -> None:
    def ring(points: FloatArray) -> FloatArray:
        radius = np.hypot(points[:, 0], points[:, 1])
        return _sigmoid(steepness * (1.2 - radius) * (1.0 + 0.3 * np.sin(5.0 * points[:, 0])))

    curves = _curves(ring, _square_grid(-2.0, 2.0, 80))
    assert curves
    _assert_on_the_level(ring, curves)


def test_vertices_of_a_trained_network_lie_on_its_boundary() -> None:
    moons = generate("moons", n_samples=200, noise=0.2, seed=1)
    config = TrainingConfig(
        hidden_layers=(8, 8), activation="relu", epochs=1500, learning_rate=0.3, init="he", seed=2
    )
    network: Network = train(config, moons).network
    grid = _square_grid(-2.5, 2.5, 200)
    curves = _curves(network.predict_proba, grid)
    assert curves
    for curve in curves:
        # The network itself, on the vertices as they are, agrees to 1e-6.
        assert np.abs(network.predict_proba(curve) - 0.5).max() <= LEVEL_TOLERANCE
    above = grid_probabilities(network.predict_proba, grid) > 0.5
    assert 0 < above.sum() < above.size
