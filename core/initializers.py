"""Initial weights: the tutorial's small normal draw, He and Glorot, as a name -> function table."""

import itertools
from collections.abc import Callable, Sequence

import numpy as np

from core.arrays import FloatArray
from core.errors import ConfigError
from core.parameters import Parameters

TUTORIAL_SCALE = 0.01

WeightDraw = Callable[[np.random.Generator, int, int], FloatArray]


def _normal(rng: np.random.Generator, fan_in: int, fan_out: int) -> FloatArray:
    # The tutorial's randn(fan_in, fan_out) * 0.01.
    return rng.standard_normal((fan_in, fan_out)) * TUTORIAL_SCALE


def _he(rng: np.random.Generator, fan_in: int, fan_out: int) -> FloatArray:
    return rng.standard_normal((fan_in, fan_out)) * float(np.sqrt(2.0 / fan_in))


def _glorot(rng: np.random.Generator, fan_in: int, fan_out: int) -> FloatArray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, (fan_in, fan_out))


INITIALIZERS: dict[str, WeightDraw] = {"normal": _normal, "he": _he, "glorot": _glorot}


def check_initializer(name: str) -> None:
    """Raise :class:`ConfigError` listing the known initializers if ``name`` is not one."""
    if name not in INITIALIZERS:
        raise ConfigError(
            f"init: unknown initializer {name!r}; choose one of {sorted(INITIALIZERS)}"
        )


def initialize(layer_sizes: Sequence[int], name: str, rng: np.random.Generator) -> Parameters:
    """Draw weights layer by layer, in order, from ``rng``; biases start at zero.

    ``layer_sizes`` runs from input to output, e.g. (2, 4, 1) gives weights of shapes
    (2, 4) and (4, 1), drawn in that order as the tutorial does.
    """
    check_initializer(name)
    draw = INITIALIZERS[name]
    fans = list(itertools.pairwise(layer_sizes))
    weights = tuple(draw(rng, fan_in, fan_out) for fan_in, fan_out in fans)
    biases = tuple(np.zeros(fan_out) for _, fan_out in fans)
    return Parameters(weights=weights, biases=biases)
