"""Datasets shared by the core's training tests."""

import pytest

from core.dataset import Dataset
from core.generators import generate


@pytest.fixture(scope="module")
def blobs() -> Dataset:
    """The tutorial's task: two clouds of 100 points around (1, 1) and (-1, -1)."""
    return generate("blobs", n_samples=200, noise=0.2, seed=42)


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return generate("moons", n_samples=200, noise=0.3, seed=1)
