"""Synthetic two-class datasets in the plane: blobs, moons, circles, xor and spiral."""

import math
import operator
from collections.abc import Callable

import numpy as np

from core.arrays import FloatArray, LabelArray
from core.dataset import Dataset
from core.errors import ConfigError, DataError

GeneratorFunction = Callable[[int, float, np.random.Generator], tuple[FloatArray, LabelArray]]

DEFAULT_GENERATOR = "blobs"
DEFAULT_N_SAMPLES = 200
DEFAULT_NOISE = 0.2
DEFAULT_SEED = 42
"""The tutorial's data: 200 points in two blobs of noise 0.2, drawn with seed 42."""

MIN_SAMPLES = 4
"""Fewest points :func:`generate` accepts: at least two per class."""

MAX_NOISE = 1e6
"""Largest noise :func:`generate` accepts, so that every coordinate stays finite."""

# Class 0 and class 1 cloud centres of "blobs" (the tutorial's).
BLOB_CENTRES = ((1.0, 1.0), (-1.0, -1.0))

# "moons": class 1's half circle is class 0's turned upside down and moved by the offset.
MOON_RADIUS = 1.0
MOON_OFFSET = (1.0, 0.5)

# "circles": class 0 outside, class 1 inside; make_circles' factor of 0.5.
CIRCLE_OUTER_RADIUS = 1.5
CIRCLE_INNER_RADIUS = 0.75

# "xor": coordinates lie in [-2, -0.1] or [0.1, 2], so no point sits on an axis.
XOR_EXTENT = 2.0
XOR_MARGIN = 0.1

# "spiral": each arm winds 1.5 times around the origin while its radius grows from 0 to 2.
SPIRAL_RADIUS = 2.0
SPIRAL_TURNS = 1.5


def _class_sizes(n_samples: int) -> tuple[int, int]:
    """Points per class: ``n_samples // 2`` for class 0, the rest (one more if odd) for class 1."""
    n_class0 = n_samples // 2
    return n_class0, n_samples - n_class0


def _labels(n_class0: int, n_class1: int) -> LabelArray:
    """Labels of shape (n_class0 + n_class1,): class 0 first, then class 1."""
    return np.repeat(np.array([0, 1], dtype=np.int64), [n_class0, n_class1])


def _shuffled(
    points: FloatArray, labels: LabelArray, rng: np.random.Generator
) -> tuple[FloatArray, LabelArray]:
    """Points (n, 2) and labels (n,) reordered by one random permutation, as the tutorial does."""
    permutation = rng.permutation(labels.shape[0])
    return points[permutation], labels[permutation]


def _jitter(points: FloatArray, noise: float, rng: np.random.Generator) -> FloatArray:
    """Points (n, 2) plus Gaussian noise of standard deviation ``noise`` on each coordinate."""
    return points + rng.standard_normal(points.shape) * noise


def _on_circle(radius: float | FloatArray, angles: FloatArray) -> FloatArray:
    """Points (n, 2) at ``angles`` (n,) on a circle (or radii (n,)) around the origin."""
    radii = np.asarray(radius, dtype=np.float64).reshape(-1, 1)
    points: FloatArray = np.column_stack((np.cos(angles), np.sin(angles))) * radii
    return points


def blobs(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, LabelArray]:
    """The tutorial's data: two Gaussian clouds of standard deviation ``noise``.

    Class 0 is centred on (1, 1) and class 1 on (-1, -1). Returns points (n, 2) float64
    and labels (n,) int64, shuffled; class 1 holds the extra point when n is odd.
    """
    n_class0, n_class1 = _class_sizes(n_samples)
    class0 = rng.standard_normal((n_class0, 2)) * noise + np.array(BLOB_CENTRES[0])
    class1 = rng.standard_normal((n_class1, 2)) * noise + np.array(BLOB_CENTRES[1])
    return _shuffled(np.vstack((class0, class1)), _labels(n_class0, n_class1), rng)


def moons(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, LabelArray]:
    """Two interleaving half circles, as scikit-learn's ``make_moons``, centred on the origin.

    Class 0 is the upper half of a unit circle, class 1 the lower half of another whose
    tips reach into the first one's hollow. Points are drawn at uniform random angles, then
    jittered by Gaussian noise. Returns points (n, 2) float64 and labels (n,) int64, shuffled.
    """
    n_class0, n_class1 = _class_sizes(n_samples)
    upper = _on_circle(MOON_RADIUS, rng.uniform(0.0, math.pi, n_class0))
    lower = -_on_circle(MOON_RADIUS, rng.uniform(0.0, math.pi, n_class1)) + np.array(MOON_OFFSET)
    centre = np.array(MOON_OFFSET) / 2
    points = _jitter(np.vstack((upper, lower)) - centre, noise, rng)
    return _shuffled(points, _labels(n_class0, n_class1), rng)


def circles(
    n_samples: int, noise: float, rng: np.random.Generator
) -> tuple[FloatArray, LabelArray]:
    """An outer circle (class 0, radius 1.5) around an inner one (class 1, radius 0.75).

    Points are drawn at uniform random angles, then jittered by Gaussian noise. Returns
    points (n, 2) float64 and labels (n,) int64, shuffled.
    """
    n_class0, n_class1 = _class_sizes(n_samples)
    outer = _on_circle(CIRCLE_OUTER_RADIUS, rng.uniform(0.0, 2 * math.pi, n_class0))
    inner = _on_circle(CIRCLE_INNER_RADIUS, rng.uniform(0.0, 2 * math.pi, n_class1))
    points = _jitter(np.vstack((outer, inner)), noise, rng)
    return _shuffled(points, _labels(n_class0, n_class1), rng)


def xor(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, LabelArray]:
    """Points in the four quadrants, labelled by the exclusive or of the coordinates' signs.

    Class 0 lies where x and y have the same sign (first and third quadrants), class 1
    where they differ; the label follows the noise-free position, as in TensorFlow
    Playground, before Gaussian jitter is added. Returns points (n, 2) float64 and
    labels (n,) int64, shuffled.
    """
    n_class0, n_class1 = _class_sizes(n_samples)
    labels = _labels(n_class0, n_class1)
    magnitudes = rng.uniform(XOR_MARGIN, XOR_EXTENT, (n_samples, 2))
    x_signs = rng.choice(np.array([-1.0, 1.0]), n_samples)
    y_signs = np.where(labels == 1, -x_signs, x_signs)
    points = _jitter(magnitudes * np.column_stack((x_signs, y_signs)), noise, rng)
    return _shuffled(points, labels, rng)


def spiral(n_samples: int, noise: float, rng: np.random.Generator) -> tuple[FloatArray, LabelArray]:
    """Two interleaved spirals; class 1 is class 0 turned half a turn around the origin.

    A point at fraction ``t`` along a spiral has radius ``2 t`` and angle
    ``1.5 * 2 pi * t`` (plus pi for class 1), with ``t`` uniform in [0, 1]; Gaussian noise
    is added afterwards. Returns points (n, 2) float64 and labels (n,) int64, shuffled.
    """
    n_class0, n_class1 = _class_sizes(n_samples)
    labels = _labels(n_class0, n_class1)
    along = rng.uniform(0.0, 1.0, n_samples)
    angles = SPIRAL_TURNS * 2 * math.pi * along + math.pi * labels
    points = _jitter(_on_circle(SPIRAL_RADIUS * along, angles), noise, rng)
    return _shuffled(points, labels, rng)


GENERATORS: dict[str, GeneratorFunction] = {
    "blobs": blobs,
    "moons": moons,
    "circles": circles,
    "xor": xor,
    "spiral": spiral,
}
"""Generator name -> function ``(n_samples, noise, rng) -> (points (n, 2), labels (n,))``."""


def _checked_n_samples(n_samples: int) -> int:
    """``n_samples`` as an int of at least :data:`MIN_SAMPLES`, or a :class:`DataError`."""
    if isinstance(n_samples, bool):
        raise DataError(f"n_samples: must be an integer, got {n_samples!r}")
    try:
        count = operator.index(n_samples)
    except TypeError:
        raise DataError(f"n_samples: must be an integer, got {n_samples!r}") from None
    if count < MIN_SAMPLES:
        raise DataError(
            f"n_samples: must be at least {MIN_SAMPLES} so that each class has two points, "
            f"got {count}"
        )
    return count


def _checked_noise(noise: float) -> float:
    """``noise`` as a finite float in [0, :data:`MAX_NOISE`], or a :class:`DataError`."""
    if isinstance(noise, bool) or not isinstance(noise, int | float | np.integer | np.floating):
        raise DataError(f"noise: must be a number, got {noise!r}")
    value = float(noise)
    if not math.isfinite(value) or not 0.0 <= value <= MAX_NOISE:
        raise DataError(f"noise: must be a finite number between 0 and {MAX_NOISE:g}, got {noise}")
    return value


def _checked_seed(seed: int | None) -> int | None:
    """``seed`` as a non-negative int or None, or a :class:`DataError`."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise DataError(f"seed: must be a non-negative integer or null, got {seed!r}")
    return int(seed)


def generate(
    name: str = DEFAULT_GENERATOR,
    n_samples: int = DEFAULT_N_SAMPLES,
    noise: float = DEFAULT_NOISE,
    seed: int | None = None,
) -> Dataset:
    """Draw ``n_samples`` labelled points from the generator called ``name``.

    Everything is drawn from ``np.random.default_rng(seed)``, so the same arguments give
    bit-identical points (n, 2) float64 and labels (n,) int64. The defaults are the
    tutorial's. An unknown ``name`` raises :class:`ConfigError` listing the known ones;
    an impossible ``n_samples``, ``noise`` or ``seed`` raises :class:`DataError`.
    """
    generator = GENERATORS.get(name) if isinstance(name, str) else None
    if generator is None:
        raise ConfigError(f"generator: unknown name {name!r}; expected one of {sorted(GENERATORS)}")
    count = _checked_n_samples(n_samples)
    noise_level = _checked_noise(noise)
    rng = np.random.default_rng(_checked_seed(seed))
    points, labels = generator(count, noise_level, rng)
    return Dataset(points=points, labels=labels)
