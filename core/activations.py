"""Hidden-layer activations: each one's forward and backward side by side, in one table."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.arrays import FloatArray
from core.errors import ConfigError

LEAKY_RELU_SLOPE = 0.01


@dataclass(frozen=True)
class Activation:
    """An element-wise activation ``a = f(z)`` and its backward step.

    ``forward(z, out)`` writes ``f(z)`` into ``out``. ``backward(grad_a, z, a, out)`` writes
    ``grad_a * f'(z)`` into ``out``; it receives both ``z`` and ``a = f(z)`` so that each
    derivative can use whichever is cheaper. All arrays share one shape, e.g. (n, units);
    writing into preallocated ``out`` buffers spares the training loop most allocations.
    """

    name: str
    forward: Callable[[FloatArray, FloatArray], None]
    backward: Callable[[FloatArray, FloatArray, FloatArray, FloatArray], None]


def _relu_forward(z: FloatArray, out: FloatArray) -> None:
    np.maximum(z, 0.0, out=out)


def _relu_backward(grad_a: FloatArray, z: FloatArray, a: FloatArray, out: FloatArray) -> None:
    # The tutorial's rule: the gradient passes where z > 0 and is zero elsewhere. Since
    # a = max(z, 0), sign(a) is exactly that 0/1 mask, and cheaper to form than z > 0.
    np.sign(a, out=out)
    np.multiply(out, grad_a, out=out)


def _tanh_forward(z: FloatArray, out: FloatArray) -> None:
    np.tanh(z, out=out)


def _tanh_backward(grad_a: FloatArray, z: FloatArray, a: FloatArray, out: FloatArray) -> None:
    np.multiply(a, a, out=out)
    np.subtract(1.0, out, out=out)
    np.multiply(out, grad_a, out=out)


def _sigmoid_forward(z: FloatArray, out: FloatArray) -> None:
    # sigmoid(z) = exp(-softplus(-z)): never overflows, unlike 1 / (1 + exp(-z)).
    np.logaddexp(0.0, -z, out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)


def _sigmoid_backward(grad_a: FloatArray, z: FloatArray, a: FloatArray, out: FloatArray) -> None:
    np.subtract(1.0, a, out=out)
    np.multiply(out, a, out=out)
    np.multiply(out, grad_a, out=out)


def _leaky_relu_forward(z: FloatArray, out: FloatArray) -> None:
    np.multiply(z, np.where(z > 0.0, 1.0, LEAKY_RELU_SLOPE), out=out)


def _leaky_relu_backward(grad_a: FloatArray, z: FloatArray, a: FloatArray, out: FloatArray) -> None:
    np.multiply(grad_a, np.where(z > 0.0, 1.0, LEAKY_RELU_SLOPE), out=out)


def _identity_forward(z: FloatArray, out: FloatArray) -> None:
    np.copyto(out, z)


def _identity_backward(grad_a: FloatArray, z: FloatArray, a: FloatArray, out: FloatArray) -> None:
    np.copyto(out, grad_a)


ACTIVATIONS: dict[str, Activation] = {
    activation.name: activation
    for activation in (
        Activation("relu", _relu_forward, _relu_backward),
        Activation("tanh", _tanh_forward, _tanh_backward),
        Activation("sigmoid", _sigmoid_forward, _sigmoid_backward),
        Activation("leaky_relu", _leaky_relu_forward, _leaky_relu_backward),
        Activation("identity", _identity_forward, _identity_backward),
    )
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; an unknown name raises :class:`ConfigError`."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ConfigError(
            f"activation: unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}"
        ) from None
