"""Tests of the synthetic dataset generators: shapes, reproducibility, geometry and errors."""

import math

import numpy as np
import pytest
from numpy.typing import NDArray

from core.dataset import Dataset
from core.errors import ConfigError, DataError
from core.generators import GENERATORS, generate

NAMES = sorted(GENERATORS)


def test_the_table_holds_the_five_generators() -> None:
    assert set(GENERATORS) == {"blobs", "moons", "circles", "xor", "spiral"}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_samples", [4, 5, 200, 201])
def test_shapes_dtypes_and_balanced_labels(name: str, n_samples: int) -> None:
    dataset = generate(name, n_samples=n_samples, noise=0.2, seed=0)
    assert isinstance(dataset, Dataset)
    assert dataset.points.shape == (n_samples, 2)
    assert dataset.points.dtype == np.float64
    assert dataset.labels.shape == (n_samples,)
    assert dataset.labels.dtype == np.int64
    assert len(dataset) == n_samples
    assert np.isfinite(dataset.points).all()
    # class 0 gets n // 2 points, class 1 the rest (the extra one when n is odd)
    assert np.bincount(dataset.labels).tolist() == [n_samples // 2, n_samples - n_samples // 2]


@pytest.mark.parametrize("name", NAMES)
def test_table_functions_follow_the_documented_signature(name: str) -> None:
    points, labels = GENERATORS[name](10, 0.1, np.random.default_rng(3))
    assert points.shape == (10, 2)
    assert points.dtype == np.float64
    assert labels.shape == (10,)
    assert labels.dtype == np.int64
    assert set(labels.tolist()) == {0, 1}


@pytest.mark.parametrize("name", NAMES)
def test_defaults_are_the_tutorials(name: str) -> None:
    assert len(generate(name)) == 200
    default = generate(name, seed=5)
    explicit = generate(name, n_samples=200, noise=0.2, seed=5)
    np.testing.assert_array_equal(default.points, explicit.points)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_gives_bit_identical_data(name: str) -> None:
    first = generate(name, n_samples=150, noise=0.3, seed=42)
    second = generate(name, n_samples=150, noise=0.3, seed=42)
    assert first.points.tobytes() == second.points.tobytes()
    assert first.labels.tobytes() == second.labels.tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_another_seed_gives_other_data(name: str) -> None:
    first = generate(name, n_samples=150, noise=0.3, seed=1)
    second = generate(name, n_samples=150, noise=0.3, seed=2)
    assert not np.array_equal(first.points, second.points)


@pytest.mark.parametrize("name", NAMES)
def test_data_is_shuffled(name: str) -> None:
    labels = generate(name, n_samples=200, seed=7).labels
    assert not np.array_equal(labels, np.sort(labels))
    assert not np.array_equal(labels, np.sort(labels)[::-1])


@pytest.mark.parametrize("name", NAMES)
def test_coordinates_stay_near_the_unit_square(name: str) -> None:
    points = generate(name, n_samples=1000, noise=0.0, seed=0).points
    assert np.abs(points).max() <= 2.0 + 1e-12


def test_blobs_centres_are_the_tutorials() -> None:
    dataset = generate("blobs", n_samples=4000, noise=0.2, seed=0)
    class0 = dataset.points[dataset.labels == 0]
    class1 = dataset.points[dataset.labels == 1]
    np.testing.assert_allclose(class0.mean(axis=0), [1.0, 1.0], atol=0.03)
    np.testing.assert_allclose(class1.mean(axis=0), [-1.0, -1.0], atol=0.03)


@pytest.mark.parametrize("noise", [0.05, 0.2, 0.5, 1.0])
def test_blobs_spread_is_the_noise(noise: float) -> None:
    dataset = generate("blobs", n_samples=4000, noise=noise, seed=1)
    for label in (0, 1):
        spread = dataset.points[dataset.labels == label].std(axis=0)
        np.testing.assert_allclose(spread, [noise, noise], rtol=0.1)


def test_blobs_without_noise_sit_on_their_centres() -> None:
    dataset = generate("blobs", n_samples=20, noise=0.0, seed=0)
    expected = np.where(dataset.labels[:, None] == 0, 1.0, -1.0) * np.ones((20, 2))
    np.testing.assert_array_equal(dataset.points, expected)


def _fit_circle(points: NDArray[np.float64]) -> tuple[NDArray[np.float64], float, float]:
    """Least-squares circle through points (n, 2): centre (2,), radius, largest residual."""
    design = np.column_stack((2 * points, np.ones(len(points))))
    target = (points**2).sum(axis=1)
    solution = np.linalg.lstsq(design, target, rcond=None)[0]
    centre = solution[:2]
    radius = math.sqrt(solution[2] + centre @ centre)
    residual = float(np.abs(np.linalg.norm(points - centre, axis=1) - radius).max())
    return centre, radius, residual


def test_moons_are_two_interleaving_half_circles() -> None:
    dataset = generate("moons", n_samples=400, noise=0.0, seed=3)
    upper = dataset.points[dataset.labels == 0]
    lower = dataset.points[dataset.labels == 1]
    upper_centre, upper_radius, upper_residual = _fit_circle(upper)
    lower_centre, lower_radius, lower_residual = _fit_circle(lower)
    assert upper_residual < 1e-9
    assert lower_residual < 1e-9
    assert upper_radius == pytest.approx(lower_radius)
    # class 0 is an upper half circle, class 1 a lower one
    assert (upper[:, 1] >= upper_centre[1] - 1e-9).all()
    assert (lower[:, 1] <= lower_centre[1] + 1e-9).all()
    # interleaving: each moon's tip reaches past the other's centre, yet the moons never touch
    assert lower[:, 1].max() > upper_centre[1]
    assert upper[:, 1].min() < lower_centre[1]
    assert upper_centre[0] < lower_centre[0]
    gaps = np.linalg.norm(upper[:, None, :] - lower[None, :, :], axis=2)
    assert gaps.min() > 0.2
    # centred on the origin
    np.testing.assert_allclose((upper_centre + lower_centre) / 2, [0.0, 0.0], atol=1e-9)


def test_moons_noise_moves_points_off_the_arcs() -> None:
    dataset = generate("moons", n_samples=400, noise=0.1, seed=3)
    _, _, residual = _fit_circle(dataset.points[dataset.labels == 0])
    assert residual > 0.05


def test_circles_without_noise_are_two_concentric_circles() -> None:
    dataset = generate("circles", n_samples=400, noise=0.0, seed=4)
    radii = np.linalg.norm(dataset.points, axis=1)
    outer = radii[dataset.labels == 0]
    inner = radii[dataset.labels == 1]
    np.testing.assert_allclose(outer, outer[0], rtol=1e-12)
    np.testing.assert_allclose(inner, inner[0], rtol=1e-12)
    assert inner[0] < outer[0]
    assert dataset.points.mean(axis=0) == pytest.approx([0.0, 0.0], abs=0.1)


def test_circles_class_radii_separate_at_low_noise() -> None:
    dataset = generate("circles", n_samples=1000, noise=0.05, seed=4)
    radii = np.linalg.norm(dataset.points, axis=1)
    assert radii[dataset.labels == 1].max() < radii[dataset.labels == 0].min()


def test_xor_label_is_the_sign_rule_without_noise() -> None:
    dataset = generate("xor", n_samples=1000, noise=0.0, seed=5)
    x, y = dataset.points[:, 0], dataset.points[:, 1]
    assert (x != 0).all()
    assert (y != 0).all()
    np.testing.assert_array_equal(dataset.labels, ((x > 0) != (y > 0)).astype(np.int64))


def test_xor_fills_all_four_quadrants() -> None:
    points = generate("xor", n_samples=1000, noise=0.0, seed=5).points
    quadrants = {(bool(x > 0), bool(y > 0)) for x, y in points}
    assert quadrants == {(True, True), (True, False), (False, True), (False, False)}


def test_xor_noise_blurs_only_points_near_the_axes() -> None:
    dataset = generate("xor", n_samples=2000, noise=0.1, seed=5)
    x, y = dataset.points[:, 0], dataset.points[:, 1]
    agreement = (dataset.labels == ((x > 0) != (y > 0))).mean()
    assert 0.8 < agreement < 1.0


def test_spiral_is_two_interleaved_spirals() -> None:
    dataset = generate("spiral", n_samples=1000, noise=0.0, seed=6)
    intercepts = []
    slopes = []
    for label in (0, 1):
        arm = dataset.points[dataset.labels == label]
        radii = np.linalg.norm(arm, axis=1)
        order = np.argsort(radii)
        radii = radii[order]
        angles = np.unwrap(np.arctan2(arm[order, 1], arm[order, 0]))
        # an Archimedean spiral: the winding angle grows linearly with the radius
        slope, intercept = np.polyfit(radii, angles, 1)
        assert np.abs(angles - (slope * radii + intercept)).max() < 1e-6
        assert slope * radii.max() > 2 * math.pi  # at least one full turn
        slopes.append(slope)
        intercepts.append(intercept)
    assert slopes[0] == pytest.approx(slopes[1])
    # the arms are half a turn apart, so each runs between the turns of the other
    offset = (intercepts[1] - intercepts[0]) % (2 * math.pi)
    assert offset == pytest.approx(math.pi)


@pytest.mark.parametrize("name", NAMES)
def test_noise_scales_the_jitter(name: str) -> None:
    clean = generate(name, n_samples=500, noise=0.0, seed=8)
    small = generate(name, n_samples=500, noise=0.05, seed=8)
    large = generate(name, n_samples=500, noise=0.5, seed=8)
    small_shift = np.linalg.norm(small.points - clean.points, axis=1).mean()
    large_shift = np.linalg.norm(large.points - clean.points, axis=1).mean()
    assert small_shift > 0
    assert large_shift == pytest.approx(10 * small_shift, rel=1e-9)


def test_unknown_name_lists_the_known_generators() -> None:
    with pytest.raises(ConfigError, match="unknown name 'swirl'") as raised:
        generate("swirl")
    assert str(sorted(GENERATORS)) in str(raised.value)


@pytest.mark.parametrize("n_samples", [0, 1, 3, -5])
def test_too_few_samples_are_refused(n_samples: int) -> None:
    with pytest.raises(DataError, match=rf"n_samples: must be at least 4 .*got {n_samples}"):
        generate("blobs", n_samples=n_samples)


@pytest.mark.parametrize("n_samples", [200.0, 2.5, "200", True, None])
def test_non_integer_sample_counts_are_refused(n_samples: object) -> None:
    with pytest.raises(DataError, match="n_samples: must be an integer"):
        generate("moons", n_samples=n_samples)  # type: ignore[arg-type]


def test_numpy_scalars_are_accepted() -> None:
    n_samples: int = np.int64(10)  # type: ignore[assignment]
    noise: float = np.float32(0.1)  # type: ignore[assignment]
    seed: int = np.int64(1)  # type: ignore[assignment]
    dataset = generate("circles", n_samples=n_samples, noise=noise, seed=seed)
    assert len(dataset) == 10


@pytest.mark.parametrize("noise", [-0.1, math.nan, math.inf, -math.inf, 1e300])
def test_impossible_noise_is_refused(noise: float) -> None:
    with pytest.raises(DataError, match="noise: must be a finite number between 0 and"):
        generate("xor", noise=noise)


@pytest.mark.parametrize("noise", ["0.2", None, True])
def test_non_numeric_noise_is_refused(noise: object) -> None:
    with pytest.raises(DataError, match="noise: must be a number"):
        generate("spiral", noise=noise)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seeds_are_refused(seed: object) -> None:
    with pytest.raises(DataError, match="seed: must be a non-negative integer"):
        generate("blobs", seed=seed)  # type: ignore[arg-type]


def test_zero_noise_is_allowed() -> None:
    assert len(generate("moons", noise=0.0, seed=0)) == 200
