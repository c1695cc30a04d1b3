"""Thinning of long curves: keep few points, the first, the last and the visible shape."""

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core.errors import ConfigError

IndexArray = NDArray[np.intp]


def thin_indices(values: ArrayLike, max_points: int) -> IndexArray:
    """Indices of at most ``max_points`` points of the curve ``values`` (shape (n,)) to draw.

    Short curves (n <= max_points) keep every index. Longer ones keep the first and the last
    point and split the rest into equal buckets, keeping each bucket's minimum and maximum
    (min/max decimation), so spikes, plateaus and the overall descent survive even when most
    points are dropped. The result, of shape (k,) with k <= max_points, is strictly increasing
    and starts with 0 and ends with n - 1 when n >= 1. ``values`` must not contain NaN.
    """
    if isinstance(max_points, bool) or not isinstance(max_points, int | np.integer):
        raise ConfigError(f"max_points: must be an integer, got {max_points!r}")
    if max_points < 2:
        raise ConfigError(f"max_points: must be at least 2, got {max_points}")
    curve = np.asarray(values, dtype=np.float64)
    if curve.ndim != 1:
        raise ConfigError(f"values: expected a flat sequence of numbers, got shape {curve.shape}")
    n = curve.shape[0]
    if n <= max_points:
        return np.arange(n, dtype=np.intp)
    n_buckets = (max_points - 2) // 2
    if n_buckets == 0:
        return np.array([0, n - 1], dtype=np.intp)
    middle = curve[1 : n - 1]
    # n - 2 > 2 * n_buckets, so every bucket holds at least two points.
    starts = np.linspace(0, middle.shape[0], n_buckets + 1).astype(np.intp)[:-1]
    bucket_of = np.repeat(np.arange(n_buckets), np.diff(np.append(starts, middle.shape[0])))
    lowest = np.minimum.reduceat(middle, starts)[bucket_of]
    highest = np.maximum.reduceat(middle, starts)[bucket_of]
    kept = np.concatenate(
        [
            _first_match_per_bucket(middle == lowest, bucket_of),
            _first_match_per_bucket(middle == highest, bucket_of),
        ]
    )
    kept_middle = np.unique(kept) + 1
    return np.concatenate([[0], kept_middle, [n - 1]]).astype(np.intp)


def _first_match_per_bucket(matches: NDArray[np.bool_], bucket_of: IndexArray) -> IndexArray:
    """Index of the first True in each bucket; ``matches`` and ``bucket_of`` have shape (m,)."""
    positions = np.flatnonzero(matches)
    _, first = np.unique(bucket_of[positions], return_index=True)
    return positions[first]
