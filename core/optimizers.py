"""Optimizers that update a flat parameter vector in place: gd/sgd, momentum and Adam."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.arrays import FloatArray
from core.errors import ConfigError


class Optimizer:
    """Updates ``parameters`` (size,) in place from ``gradient * scale`` (size,).

    ``scale`` lets the caller pass an unscaled gradient (e.g. summed over the batch) and
    fold the ``1 / batch size`` into the step, saving a NumPy call per step.
    """

    def __init__(self, size: int, learning_rate: float) -> None:
        self.learning_rate = learning_rate
        self._step = np.empty(size)

    def step(self, parameters: FloatArray, gradient: FloatArray, scale: float) -> None:
        raise NotImplementedError


class GradientDescent(Optimizer):
    """The tutorial's rule ``p = p - learning_rate * g``; mini-batch SGD with a batch size."""

    def step(self, parameters: FloatArray, gradient: FloatArray, scale: float) -> None:
        np.multiply(gradient, self.learning_rate * scale, out=self._step)
        np.subtract(parameters, self._step, out=parameters)


class Momentum(Optimizer):
    """Heavy-ball momentum: ``v = momentum * v - learning_rate * g; p = p + v``."""

    def __init__(self, size: int, learning_rate: float, momentum: float) -> None:
        super().__init__(size, learning_rate)
        self.momentum = momentum
        self._velocity = np.zeros(size)

    def step(self, parameters: FloatArray, gradient: FloatArray, scale: float) -> None:
        np.multiply(self._velocity, self.momentum, out=self._velocity)
        np.multiply(gradient, self.learning_rate * scale, out=self._step)
        np.subtract(self._velocity, self._step, out=self._velocity)
        np.add(parameters, self._velocity, out=parameters)


class Adam(Optimizer):
    """Adam (Kingma and Ba, 2015) with bias-corrected first and second moments."""

    def __init__(
        self, size: int, learning_rate: float, beta1: float, beta2: float, epsilon: float
    ) -> None:
        super().__init__(size, learning_rate)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self._first = np.zeros(size)
        self._second = np.zeros(size)
        self._gradient = np.empty(size)
        self._steps = 0

    def step(self, parameters: FloatArray, gradient: FloatArray, scale: float) -> None:
        self._steps += 1
        np.multiply(gradient, scale, out=self._gradient)
        self._first *= self.beta1
        self._first += (1.0 - self.beta1) * self._gradient
        self._second *= self.beta2
        self._second += (1.0 - self.beta2) * self._gradient**2
        first_correction = 1.0 - self.beta1**self._steps
        second_correction = 1.0 - self.beta2**self._steps
        np.sqrt(self._second / second_correction, out=self._step)
        self._step += self.epsilon
        np.divide(self._first, self._step, out=self._step)
        self._step *= self.learning_rate / first_correction
        parameters -= self._step


@dataclass(frozen=True)
class Hyperparameters:
    """The settings an optimizer may read; each optimizer uses the ones it needs."""

    learning_rate: float
    momentum: float = 0.9
    beta1: float = 0.9
    beta2: float = 0.999
    epsilon: float = 1e-8


# "sgd" is the same update as "gd": full batch or mini-batch is set by the batch size.
OPTIMIZERS: dict[str, Callable[[int, Hyperparameters], Optimizer]] = {
    "gd": lambda size, h: GradientDescent(size, h.learning_rate),
    "sgd": lambda size, h: GradientDescent(size, h.learning_rate),
    "momentum": lambda size, h: Momentum(size, h.learning_rate, h.momentum),
    "adam": lambda size, h: Adam(size, h.learning_rate, h.beta1, h.beta2, h.epsilon),
}


def check_optimizer(name: str) -> None:
    """Raise :class:`ConfigError` listing the known optimizers if ``name`` is not one."""
    if name not in OPTIMIZERS:
        raise ConfigError(
            f"optimizer: unknown optimizer {name!r}; choose one of {sorted(OPTIMIZERS)}"
        )


def make_optimizer(name: str, size: int, hyperparameters: Hyperparameters) -> Optimizer:
    """A fresh optimizer called ``name`` for a parameter vector of ``size`` entries."""
    check_optimizer(name)
    return OPTIMIZERS[name](size, hyperparameters)
