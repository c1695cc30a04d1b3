"""Which engine runs: the compiled kernel (core/_kernel.c) when built, else NumPy.

Training and predictions both take it. For predictions the kernel computes each point's
probability on its own (:func:`probabilities`, :func:`classify`): a few points cost a
microsecond or two where NumPy's calls cost tens, and a point gets the same probability alone
or in any batch, which BLAS does not promise.

The compiled engine runs the NumPy engine's epochs (core/backprop.py, core/optimizers.py)
formula for formula in C, a whole chunk of epochs per call, over the same flat parameter
vector, and counts each epoch's training accuracy from the same logits. The NumPy engine
stays the reference: parity tests hold the two within 1e-12 and their accuracies equal, and
it runs wherever the kernel is missing, or when ``PLANENET_TRAINING_ENGINE=numpy`` (which
turns the compiled predictions off as well).

Why a C extension that the package builds rather than numba:

- dependency size: the kernel is one shared object of about 110 KB with no run-time
  dependency; numba needs llvmlite, a 60 MB wheel, in every image and environment.
- cold start: the kernel is compiled once, when the package is built (``pip install``,
  the image's build stage), so no job and no worker process ever waits for a compiler;
  numba compiles on first call in each process, seconds, unless it can write a cache next
  to the installed package, which a read-only image does not allow.
- a second implementation to keep in parity: either choice is one; the C mirrors the NumPy
  engine line by line, built with ``-ffp-contract=off`` so no multiply-add is fused where
  NumPy rounds twice, and the parity tests cover every activation, optimizer, batch size,
  penalty, depth and feature set.
- portability: it needs only a C compiler and CPython's stable buffer protocol (no NumPy
  headers), and it is optional: where it cannot be compiled the package still installs and
  trains on NumPy. numba supports a window of Python and NumPy versions that lags new
  releases, and pins NumPy below its next one.
"""

import os
from collections.abc import Sequence
from types import ModuleType
from typing import TYPE_CHECKING

from core.activations import LEAKY_RELU_SLOPE
from core.arrays import FloatArray
from core.config import TrainingConfig
from core.errors import ConfigError
from core.parameters import Parameters

if TYPE_CHECKING:
    from core._kernel import Kernel

ENGINE_VARIABLE = "PLANENET_TRAINING_ENGINE"
"""Set to ``numpy`` to train on the NumPy engine even where the kernel is built."""

ENGINES = ("compiled", "numpy")

MAX_KERNEL_LAYERS = 65
"""Most weight layers the kernel holds (core/_kernel.c); deeper networks train on NumPy."""


def _load_kernel() -> ModuleType | None:
    try:
        from core import _kernel  # noqa: PLC0415 - optional: absent where it was not compiled
    except ImportError:
        return None
    return _kernel


_KERNEL = _load_kernel()


def kernel_available() -> bool:
    """True when the compiled kernel was built and imports."""
    return _KERNEL is not None


def default_engine() -> str:
    """``compiled`` when the kernel is available and not turned off, else ``numpy``."""
    if os.environ.get(ENGINE_VARIABLE, "").strip().lower() == "numpy" or _KERNEL is None:
        return "numpy"
    return "compiled"


def choose_engine(name: str | None, layer_sizes: Sequence[int]) -> str:
    """The engine to train a network of ``layer_sizes`` on: ``name``, or when None the default
    (NumPy for networks deeper than the kernel holds). :class:`ConfigError` when ``name`` is
    unknown or cannot run here."""
    fits = len(layer_sizes) - 1 <= MAX_KERNEL_LAYERS
    if name is None:
        return default_engine() if fits else "numpy"
    if name not in ENGINES:
        raise ConfigError(f"engine: unknown engine {name!r}; choose one of {sorted(ENGINES)}")
    if name == "compiled" and _KERNEL is None:
        raise ConfigError("engine: the compiled kernel is not built in this installation")
    if name == "compiled" and not fits:
        raise ConfigError(
            f"engine: the kernel holds at most {MAX_KERNEL_LAYERS} layers of weights, "
            f"this network has {len(layer_sizes) - 1}"
        )
    return name


def make_kernel(config: TrainingConfig, parameters: FloatArray, gradient: FloatArray) -> "Kernel":
    """A compiled kernel updating the flat ``parameters`` (size,) in place; ``gradient`` (size,)
    is its scratch for the gradient. Its buffers hold a fixed tile of points, whatever the
    batch size."""
    if _KERNEL is None:
        raise ConfigError("engine: the compiled kernel is not built in this installation")
    hyperparameters = (
        config.learning_rate,
        config.momentum,
        config.beta1,
        config.beta2,
        config.epsilon,
        config.l2,
        config.l1,
        LEAKY_RELU_SLOPE,
    )
    kernel: Kernel = _KERNEL.Kernel(
        config.layer_sizes,
        config.activation,
        config.optimizer,
        hyperparameters,
        parameters,
        gradient,
    )
    return kernel


def forward_available(layer_sizes: Sequence[int]) -> bool:
    """Whether predictions of a network of ``layer_sizes`` run on the kernel: it is built,
    not turned off, and holds that many layers."""
    return default_engine() == "compiled" and len(layer_sizes) - 1 <= MAX_KERNEL_LAYERS


def probabilities(
    parameters: Parameters,
    activation: str,
    features: tuple[str, ...],
    points: FloatArray,
    out: FloatArray,
) -> None:
    """Write the class-1 probability of each of ``points`` (n, 2), C-contiguous float64, into
    ``out`` (n,): NaN where the network gives none."""
    assert _KERNEL is not None, "check forward_available first"
    _KERNEL.probabilities(
        parameters.weights, parameters.biases, activation, LEAKY_RELU_SLOPE, features, points, out
    )


def classify(
    parameters: Parameters,
    activation: str,
    features: tuple[str, ...],
    points: Sequence[tuple[float, float]],
    threshold: float,
) -> tuple[list[int], list[float], int]:
    """Labels (1 above ``threshold``) and class-1 probabilities of (x1, x2) pairs, as lists,
    and the index of the first point with no probability (NaN), or -1."""
    assert _KERNEL is not None, "check forward_available first"
    result: tuple[list[int], list[float], int] = _KERNEL.classify(
        parameters.weights,
        parameters.biases,
        activation,
        LEAKY_RELU_SLOPE,
        features,
        points,
        threshold,
    )
    return result
