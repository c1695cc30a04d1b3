"""The grid a figure evaluates a model on: the points' bounding box, widened, sampled evenly."""

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from core.arrays import FloatArray
from core.errors import ConfigError, DataError

PredictProba = Callable[[FloatArray], ArrayLike]
"""Class-1 probabilities (m,) of points (m, 2)."""

GRID_MARGIN = 0.5
MIN_RESOLUTION = 2
MAX_RESOLUTION = 1000


@dataclass(frozen=True)
class PlaneGrid:
    """``xs`` (nx,) and ``ys`` (ny,) increasing; ``points`` (ny * nx, 2), x fastest.

    Row j of any (ny, nx) array over the grid is ``ys[j]``, column i is ``xs[i]``.
    """

    xs: FloatArray
    ys: FloatArray

    @property
    def shape(self) -> tuple[int, int]:
        """(ny, nx): the shape of a value array over the grid."""
        return (self.ys.shape[0], self.xs.shape[0])

    @property
    def points(self) -> FloatArray:
        """Every grid point, shape (ny * nx, 2), row by row."""
        grid_x, grid_y = np.meshgrid(self.xs, self.ys)
        return np.column_stack([grid_x.ravel(), grid_y.ravel()])


def plane_grid(points: FloatArray, resolution: int) -> PlaneGrid:
    """``resolution`` points per axis from min - 0.5 to max + 0.5 of ``points`` (n, 2)."""
    check_resolution(resolution)
    return PlaneGrid(
        xs=_grid_axis(points[:, 0], resolution), ys=_grid_axis(points[:, 1], resolution)
    )


def check_resolution(resolution: object) -> None:
    """Refuse a grid resolution that is not an integer in the supported range."""
    if isinstance(resolution, bool) or not isinstance(resolution, int | np.integer):
        raise ConfigError(f"resolution: must be an integer, got {resolution!r}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise ConfigError(
            f"resolution: must be from {MIN_RESOLUTION} to {MAX_RESOLUTION}, got {resolution}"
        )


def _grid_axis(coordinates: FloatArray, resolution: int) -> FloatArray:
    """``resolution`` evenly spaced values from min - 0.5 to max + 0.5 of ``coordinates``."""
    low = float(coordinates.min()) - GRID_MARGIN
    high = float(coordinates.max()) + GRID_MARGIN
    if not math.isfinite(high - low):
        raise DataError("points: the coordinates span too wide a range to draw a grid over")
    return np.linspace(low, high, resolution)


def probabilities_at(predict_proba: PredictProba, points: FloatArray) -> FloatArray:
    """Class-1 probabilities of the (m, 2) ``points``, checked to be m finite numbers, (m,)."""
    probabilities = np.asarray(predict_proba(points), dtype=np.float64).reshape(-1)
    if probabilities.shape[0] != points.shape[0]:
        raise ValueError(
            f"predict_proba returned {probabilities.shape[0]} values for {points.shape[0]} points"
        )
    if not np.all(np.isfinite(probabilities)):
        raise ValueError("predict_proba returned a value that is not a finite number")
    return probabilities


def grid_probabilities(predict_proba: PredictProba, grid: PlaneGrid) -> FloatArray:
    """Class-1 probabilities over ``grid``, shape (ny, nx)."""
    return probabilities_at(predict_proba, grid.points).reshape(grid.shape)
