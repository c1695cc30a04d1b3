"""A feed-forward binary classifier over 2-D points: prediction from given parameters."""

from collections.abc import Iterator, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from core import compiled
from core.activations import get_activation
from core.arrays import FloatArray
from core.dataset import validate_points
from core.errors import ParameterError
from core.features import DEFAULT_FEATURES, apply_features, check_features
from core.losses import sigmoid
from core.parameters import Parameters

DEFAULT_THRESHOLD = 0.5

# Rows per chunk when predicting: bounds the memory of hidden activations for huge inputs.
_CHUNK_ROWS = 65_536


class Network:
    """Parameters, the hidden activation and the input features: enough to predict.

    Points are plain 2-D (x1, x2); the network maps them to its ``features`` (one input of
    the first layer each), hidden layers apply ``activation``, and the single output unit
    applies the sigmoid, so :meth:`predict_proba` gives the probability of class 1.

    Probabilities are computed by the compiled kernel where it is built (see
    :mod:`core.compiled`), point by point, else by NumPy; the two agree within 1e-12. The
    logits are always NumPy's.
    """

    def __init__(
        self,
        parameters: Parameters,
        activation: str = "relu",
        features: tuple[str, ...] = DEFAULT_FEATURES,
    ) -> None:
        self._activation = get_activation(activation)
        self.features = check_features(features)
        if parameters.layer_sizes[0] != len(self.features):
            raise ParameterError(
                f"weights[0] has shape {parameters.weights[0].shape}; the network's "
                f"{len(self.features)} input features {list(self.features)} need "
                f"({len(self.features)}, fan_out)"
            )
        self.parameters = parameters
        # The kernel reads the arrays in place: native, aligned, C-contiguous float64 ones.
        self._compiled = compiled.forward_available(parameters.layer_sizes) and all(
            array.dtype == np.float64 and array.flags.c_contiguous and array.flags.aligned
            for array in (*parameters.weights, *parameters.biases)
        )

    @property
    def activation(self) -> str:
        """The hidden layers' activation name."""
        return self._activation.name

    def logits(self, points: ArrayLike) -> FloatArray:
        """Output logits (n,) for points (n, 2), before the sigmoid."""
        return self.logits_of_valid(validate_points(points))

    def logits_of_valid(self, point_array: FloatArray) -> FloatArray:
        """Output logits (n,) for points (n, 2) already valid (float64, finite): no checks.

        Gives exactly :meth:`logits`'s numbers; inputs of up to one chunk of rows (every
        request of a few points) take one pass, with no result buffer to fill.
        """
        if point_array.shape[0] <= _CHUNK_ROWS:
            return self._chunk_logits(point_array)
        result = np.empty(point_array.shape[0])
        for start in range(0, point_array.shape[0], _CHUNK_ROWS):
            chunk = point_array[start : start + _CHUNK_ROWS]
            result[start : start + chunk.shape[0]] = self._chunk_logits(chunk)
        return result

    def _chunk_logits(self, points: FloatArray) -> FloatArray:
        *_, logits = self._layer_outputs(apply_features(points, self.features))
        return logits[:, 0]

    def _layer_outputs(self, features: FloatArray) -> Iterator[FloatArray]:
        """Each layer's output (n, units) for feature columns (n, k): the hidden layers'
        activations, then the logits (n, 1)."""
        activations = features
        last = len(self.parameters.weights) - 1
        for layer, (weights, bias) in enumerate(
            zip(self.parameters.weights, self.parameters.biases, strict=True)
        ):
            z = activations @ weights + bias
            if layer < last:
                self._activation.forward(z, z)
            yield z
            activations = z

    def layer_activations(self, points: ArrayLike) -> list[FloatArray]:
        """Each layer's output at points (n, 2): every hidden layer's activations (n, units),
        in order, then the class-1 probability (n, 1). The input features are applied first."""
        layers = list(self._layer_outputs(apply_features(validate_points(points), self.features)))
        layers[-1] = sigmoid(layers[-1])
        return layers

    def predict_proba(self, points: ArrayLike) -> FloatArray:
        """Class-1 probabilities (n,) for points (n, 2)."""
        return self.predict_proba_of_valid(validate_points(points))

    def predict_proba_of_valid(self, point_array: FloatArray) -> FloatArray:
        """Class-1 probabilities (n,) for points (n, 2) already valid (float64, finite), as
        :meth:`predict_proba` gives them, without checking the points again. NaN where the
        network gives no probability (its weights overflow)."""
        if not self._compiled:
            return sigmoid(self.logits_of_valid(point_array))
        result = np.empty(point_array.shape[0])
        compiled.probabilities(
            self.parameters,
            self.activation,
            self.features,
            np.require(point_array, np.float64, ("C_CONTIGUOUS", "ALIGNED")),
            result,
        )
        return result

    def classify(
        self, points: Sequence[tuple[float, float]], threshold: float = DEFAULT_THRESHOLD
    ) -> tuple[list[int], list[float], int]:
        """Labels (1 where the probability exceeds ``threshold``) and class-1 probabilities
        of valid (x1, x2) pairs, as lists for a response, and the index of the first point
        with no probability (NaN), or -1.

        The same numbers as :meth:`predict_proba`; for a few points, many times faster than
        going through arrays.
        """
        if self._compiled:
            return compiled.classify(
                self.parameters, self.activation, self.features, points, threshold
            )
        point_array = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        with np.errstate(over="ignore", invalid="ignore"):
            probabilities = self.predict_proba_of_valid(point_array)
        undefined = np.isnan(probabilities)
        first = int(np.argmax(undefined)) if undefined.any() else -1
        labels: list[int] = (probabilities > threshold).astype(np.int64).tolist()
        return labels, probabilities.tolist(), first

    def predict(self, points: ArrayLike, threshold: float = DEFAULT_THRESHOLD) -> NDArray[np.int64]:
        """Labels (n,): 1 where the class-1 probability exceeds ``threshold``, else 0."""
        return (self.predict_proba(points) > threshold).astype(np.int64)


def accuracy(predicted: NDArray[np.int64], labels: NDArray[np.int64]) -> float:
    """Fraction of ``predicted`` labels (n,) equal to ``labels`` (n,), in [0, 1]."""
    return float(np.mean(predicted == labels))
