"""Network parameters: the weights and biases of every layer, with their shape checks."""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.arrays import FloatArray
from core.errors import ParameterError

OUTPUT_UNITS = 1


@dataclass(frozen=True, eq=False)
class Parameters:
    """Weights and biases of a feed-forward network.

    ``weights[i]`` has shape (fan_in, fan_out) and ``biases[i]`` shape (fan_out,), so
    layer ``i`` maps its input ``a`` of shape (n, fan_in) to ``a @ weights[i] + biases[i]``.
    The first fan_in is the number of input features (2 for the plain coordinates), the
    last fan_out is 1 (the logit).
    """

    weights: tuple[FloatArray, ...]
    biases: tuple[FloatArray, ...]

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer, input and output included, e.g. (2, 4, 1) for the tutorial."""
        return (self.weights[0].shape[0], *(w.shape[1] for w in self.weights))

    @property
    def hidden_layers(self) -> tuple[int, ...]:
        """Units per hidden layer, e.g. (4,) for the tutorial."""
        return self.layer_sizes[1:-1]

    def equals(self, other: "Parameters") -> bool:
        """True when both hold bit-identical arrays of the same shapes."""
        return len(self.weights) == len(other.weights) and all(
            np.array_equal(a, b)
            for a, b in zip(
                (*self.weights, *self.biases), (*other.weights, *other.biases), strict=True
            )
        )


def make_parameters(
    weights: Sequence[object],
    biases: Sequence[object],
    hidden_layers: Sequence[int] | None = None,
    features: Sequence[str] | None = None,
) -> Parameters:
    """Build validated :class:`Parameters` from nested sequences or arrays.

    Checks that there is one bias per weight matrix, that every array is finite and of
    the right rank, that consecutive layers chain (fan_out of one is fan_in of the next),
    that the network gives 1 output, and, when ``hidden_layers`` is given, that the hidden
    widths match it, and when ``features`` (input feature names) are given, that the first
    layer takes one input per feature. Raises :class:`ParameterError` naming the first
    problem found.
    """
    if len(weights) == 0:
        raise ParameterError("weights: at least one layer is required")
    if len(weights) != len(biases):
        raise ParameterError(
            f"weights has {len(weights)} layers but biases has {len(biases)}; "
            "they must have one entry per layer"
        )
    weight_arrays = tuple(_layer_array(w, 2, f"weights[{i}]") for i, w in enumerate(weights))
    bias_arrays = tuple(_layer_array(b, 1, f"biases[{i}]") for i, b in enumerate(biases))
    for i, (weight, bias) in enumerate(zip(weight_arrays, bias_arrays, strict=True)):
        if i > 0 and weight.shape[0] != weight_arrays[i - 1].shape[1]:
            raise ParameterError(
                f"weights[{i}] has shape {weight.shape} but weights[{i - 1}] gives "
                f"{weight_arrays[i - 1].shape[1]} outputs; the shapes must chain"
            )
        if bias.shape[0] != weight.shape[1]:
            raise ParameterError(
                f"biases[{i}] has length {bias.shape[0]} but weights[{i}] has "
                f"{weight.shape[1]} outputs"
            )
    if weight_arrays[-1].shape[1] != OUTPUT_UNITS:
        raise ParameterError(
            f"weights[{len(weight_arrays) - 1}] has shape {weight_arrays[-1].shape}; "
            f"the last layer must give {OUTPUT_UNITS} output"
        )
    parameters = Parameters(weights=weight_arrays, biases=bias_arrays)
    check_fit(parameters, hidden_layers, features)
    return parameters


def check_fit(
    parameters: Parameters,
    hidden_layers: Sequence[int] | None = None,
    features: Sequence[str] | None = None,
) -> None:
    """Refuse valid parameters that do not fit a network of these hidden layers and features.

    The first layer takes one input per feature, and the hidden widths must be
    ``hidden_layers``; either check is skipped when its argument is None.
    """
    first = parameters.weights[0]
    if features is not None and first.shape[0] != len(features):
        raise ParameterError(
            f"weights[0] has shape {first.shape}; the first layer takes one input "
            f"per feature of {list(features)}, so its shape must be ({len(features)}, fan_out)"
        )
    if hidden_layers is not None and parameters.hidden_layers != tuple(hidden_layers):
        raise ParameterError(
            f"the parameters have hidden layers {list(parameters.hidden_layers)} but the "
            f"network has {list(hidden_layers)}"
        )


def _layer_array(value: object, ndim: int, name: str) -> FloatArray:
    """Convert ``value`` to a finite float64 array of rank ``ndim`` with no empty axis."""
    try:
        array = np.array(value, dtype=np.float64)
    except (TypeError, ValueError, OverflowError) as error:
        raise ParameterError(f"{name}: not an array of numbers ({error})") from None
    if array.ndim != ndim:
        expected = "a matrix (list of rows)" if ndim == 2 else "a vector (list of numbers)"
        raise ParameterError(f"{name}: expected {expected}, got an array of shape {array.shape}")
    if 0 in array.shape:
        raise ParameterError(f"{name}: must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ParameterError(f"{name}: every value must be a finite number")
    return array
