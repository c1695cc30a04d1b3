"""Predicting with a stored network: the one path from points to probabilities and labels."""

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from core.network import DEFAULT_THRESHOLD, Network
from service.domain.errors import ServiceError

UNEVALUABLE = "the coordinates are too large for the network to evaluate"


class UnevaluablePoint(ServiceError):
    """The network gives no probability (NaN) for the point at ``index``."""

    def __init__(self, index: int) -> None:
        super().__init__(f"point {index}: {UNEVALUABLE}")
        self.index = index


def predict_points(
    network: Network,
    points: NDArray[np.float64],
    threshold: float = DEFAULT_THRESHOLD,
    *,
    checked: bool = False,
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Labels (n,) and class-1 probabilities (n,) of points (n, 2), in their order.

    A label is 1 where the probability exceeds ``threshold``: the threshold changes the
    labels, never the probabilities. ``checked`` says the points are float64 (n, 2) finite
    coordinates already (a request schema's), so the network need not check them again.
    """
    proba = network.predict_proba_of_valid if checked else network.predict_proba
    # Coordinates are bounded at the edge, but large weights may still overflow inside the
    # network; an infinite logit gives a probability of 0 or 1, only NaN has no answer.
    with np.errstate(over="ignore", invalid="ignore"):
        probabilities = proba(points)
    undefined = np.isnan(probabilities)
    if undefined.any():
        raise UnevaluablePoint(int(np.argmax(undefined)))
    return (probabilities > threshold).astype(np.int64), probabilities


def classify_points(
    network: Network, points: Sequence[tuple[float, float]], threshold: float = DEFAULT_THRESHOLD
) -> tuple[list[int], list[float]]:
    """Labels and class-1 probabilities of valid (x1, x2) pairs (a request schema's), as
    lists for a response: :func:`predict_points`'s numbers, without arrays in between."""
    labels, probabilities, first_undefined = network.classify(points, threshold)
    if first_undefined >= 0:
        raise UnevaluablePoint(first_undefined)
    return labels, probabilities
