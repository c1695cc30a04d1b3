"""Input features: what a network sees of a point (x1, x2), as a name -> function table."""

from collections.abc import Callable, Sequence

import numpy as np

from core.arrays import FloatArray
from core.errors import ConfigError

Feature = Callable[[FloatArray, FloatArray], FloatArray]
"""Maps the coordinates x1 (n,) and x2 (n,) to one feature column (n,)."""

FEATURES: dict[str, Feature] = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: np.sin(x1),
    "sin(x2)": lambda x1, x2: np.sin(x2),
}

DEFAULT_FEATURES: tuple[str, ...] = ("x1", "x2")
"""The plain coordinates, as the tutorial's network takes them."""


def check_features(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` as a tuple; :class:`ConfigError` for none, an unknown name or a repeated one."""
    if len(names) == 0:
        raise ConfigError(f"features: choose at least one of {sorted(FEATURES)}")
    for name in names:
        if name not in FEATURES:
            raise ConfigError(
                f"features: unknown feature {name!r}; choose one of {sorted(FEATURES)}"
            )
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(f"features: each feature may be listed once, but {repeated} repeat")
    return tuple(names)


def apply_features(points: FloatArray, names: Sequence[str]) -> FloatArray:
    """Feature columns (n, k) of ``points`` (n, 2), in the order of the k ``names``.

    The default features give ``points`` itself, uncopied.
    """
    if tuple(names) == DEFAULT_FEATURES:
        return points
    x1, x2 = points[:, 0], points[:, 1]
    columns = np.empty((points.shape[0], len(names)))
    for column, name in enumerate(names):
        columns[:, column] = FEATURES[name](x1, x2)
    return columns
