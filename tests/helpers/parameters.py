"""Small random network parameters for tests."""

import numpy as np

from core.parameters import Parameters, make_parameters


def small_parameters(hidden_layers: tuple[int, ...], seed: int = 0) -> Parameters:
    """Random parameters (scale 0.5, zero biases) of a network with these hidden layers."""
    rng = np.random.default_rng(seed)
    sizes = (2, *hidden_layers, 1)
    return make_parameters(
        [rng.normal(scale=0.5, size=(sizes[i], sizes[i + 1])) for i in range(len(sizes) - 1)],
        [np.zeros(sizes[i + 1]) for i in range(len(sizes) - 1)],
    )
