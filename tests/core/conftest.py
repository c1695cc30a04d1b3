"""Datasets shared by the core's training tests."""

import numpy as np
import pytest

from core.dataset import Dataset
from core.generators import generate
from core.parameters import Parameters, make_parameters


@pytest.fixture(scope="module")
def blobs() -> Dataset:
    """The tutorial's task: two clouds of 100 points around (1, 1) and (-1, -1)."""
    return generate("blobs", n_samples=200, noise=0.2, seed=42)


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return generate("moons", n_samples=200, noise=0.3, seed=1)


def small_parameters(hidden_layers: tuple[int, ...], seed: int = 0) -> Parameters:
    """Random parameters (scale 0.5, zero biases) of a network with these hidden layers."""
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden_layers, 1)
    return make_parameters(
        [rng.normal(scale=0.5, size=(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)],
        [np.zeros(sizes[i + 1]) for i in range(len(sizes) - 1)],
    )
