"""The training engine: parameters in one flat vector, and a forward/backward pass over it.

Each layer's weights and bias are stored together as one (fan_in + 1, fan_out) block whose
last row is the bias, and every layer's input carries a trailing column of ones, so one
matrix product gives ``a @ W + b`` and one gives both gradients. All blocks are views of a
single vector, so an optimizer updates every parameter with a couple of NumPy calls. Every
buffer is allocated once per batch size: on the tutorial's 200 points each NumPy call costs
microseconds, so the number of calls per epoch, not arithmetic, sets the speed.
"""

import itertools
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from core.activations import Activation
from core.arrays import FloatArray
from core.losses import bce_with_gradient
from core.parameters import Parameters


class FlatParameters:
    """All weights and biases in ``vector``, with a (fan_in + 1, fan_out) view per layer."""

    def __init__(self, layer_sizes: Sequence[int], vector: FloatArray | None = None) -> None:
        self.layer_sizes = tuple(layer_sizes)
        shapes = [(fan_in + 1, fan_out) for fan_in, fan_out in itertools.pairwise(layer_sizes)]
        size = sum(rows * cols for rows, cols in shapes)
        self.vector: FloatArray = np.zeros(size) if vector is None else vector
        self.blocks: list[FloatArray] = []
        offset = 0
        for rows, cols in shapes:
            self.blocks.append(self.vector[offset : offset + rows * cols].reshape(rows, cols))
            offset += rows * cols
        # Weights only (no bias rows): what the L1 and L2 penalties apply to.
        self.weights: list[FloatArray] = [block[:-1] for block in self.blocks]

    @classmethod
    def from_parameters(cls, parameters: Parameters) -> "FlatParameters":
        """Copy ``parameters`` into a new flat vector."""
        flat = cls(parameters.layer_sizes)
        for block, weight, bias in zip(
            flat.blocks, parameters.weights, parameters.biases, strict=True
        ):
            block[:-1] = weight
            block[-1] = bias
        return flat

    def to_parameters(self) -> Parameters:
        """Copy the current values out as :class:`Parameters`."""
        return Parameters(
            weights=tuple(block[:-1].copy() for block in self.blocks),
            biases=tuple(block[-1].copy() for block in self.blocks),
        )


def with_ones_row(points: FloatArray) -> FloatArray:
    """Points (n, d) as a new (d + 1, n) array, one row per feature plus a row of ones.

    The engine keeps every layer's activations feature-major, (units, n), so that the
    rows it writes each epoch are one contiguous block; the row of ones folds the bias.
    """
    augmented = np.ones((points.shape[1] + 1, points.shape[0]))
    augmented[:-1] = points.T
    return augmented


def labels_row(labels: NDArray[np.int64]) -> FloatArray:
    """Labels (n,) as the (1, n) float row the loss works on."""
    return labels.astype(np.float64).reshape(1, -1)


class Workspace:
    """Buffers for one batch size, and the forward and backward pass that use them.

    Arrays are feature-major. ``inputs[i]`` (fan_in + 1, n) is layer i's input with its row
    of ones: ``inputs[0]`` is supplied per call, and the activation of layer i is written
    into ``inputs[i + 1]``. ``logits[i]`` (fan_out, n) holds ``z`` of layer i,
    ``grad_logits[i]`` its gradient, and ``grad_inputs[i]`` (fan_in, n) the gradient with
    respect to layer i's input.
    """

    def __init__(self, layer_sizes: Sequence[int], batch_size: int, activation: Activation):
        self.activation = activation
        self.batch_size = batch_size
        fans = list(itertools.pairwise(layer_sizes))
        self.inputs: list[FloatArray] = [np.empty(0)] + [
            np.ones((fan_in + 1, batch_size)) for fan_in, _ in fans[1:]
        ]
        self.logits = [np.empty((fan_out, batch_size)) for _, fan_out in fans]
        self.grad_logits = [np.empty((fan_out, batch_size)) for _, fan_out in fans]
        self.grad_inputs = [np.empty((fan_in, batch_size)) for fan_in, _ in fans]
        self.ones = np.ones((1, batch_size))
        self.softplus = np.empty((1, batch_size))
        self.probabilities = np.empty((1, batch_size))

    def forward(self, augmented_points: FloatArray, parameters: FlatParameters) -> FloatArray:
        """Logits (1, n) of ``augmented_points`` (3, n); hidden activations stay cached."""
        self.inputs[0] = augmented_points
        last = len(parameters.blocks) - 1
        for layer, block in enumerate(parameters.blocks):
            np.matmul(block.T, self.inputs[layer], out=self.logits[layer])
            if layer < last:
                self.activation.forward(self.logits[layer], self.inputs[layer + 1][:-1])
        return self.logits[last]

    def loss_and_gradient(
        self,
        augmented_points: FloatArray,
        labels: FloatArray,
        parameters: FlatParameters,
        gradient: FlatParameters,
        *,
        l2: float = 0.0,
        l1: float = 0.0,
    ) -> float:
        """Mean loss of the batch, with ``gradient`` set to batch size times its gradient.

        ``augmented_points`` is (3, n) with a row of ones, ``labels`` (1, n) floats in
        {0, 1}. The loss is the cross-entropy plus ``l2 / (2 n) * sum(W ** 2)`` and
        ``l1 / n * sum(|W|)`` over the weights (not the biases); the L1 term's subgradient
        is ``l1 / n * sign(W)``, 0 at 0. The gradient is left unscaled by ``1 / n`` so that the
        optimizer folds that factor into its step.
        """
        logits = self.forward(augmented_points, parameters)
        last = len(parameters.blocks) - 1
        loss_sum = bce_with_gradient(
            logits,
            labels,
            ones=self.ones,
            softplus=self.softplus,
            probabilities=self.probabilities,
            grad_logits=self.grad_logits[last],
        )
        for layer in range(last, -1, -1):
            np.matmul(self.inputs[layer], self.grad_logits[layer].T, out=gradient.blocks[layer])
            if layer > 0:
                weights = parameters.weights[layer]
                if weights.shape[1] == 1:
                    # An outer product: broadcasting beats a (fan_in, 1) @ (1, n) matmul.
                    np.multiply(weights, self.grad_logits[layer], out=self.grad_inputs[layer])
                else:
                    np.matmul(weights, self.grad_logits[layer], out=self.grad_inputs[layer])
                self.activation.backward(
                    self.grad_inputs[layer],
                    self.logits[layer - 1],
                    self.inputs[layer][:-1],
                    self.grad_logits[layer - 1],
                )
        if l2 > 0.0:
            penalty = 0.0
            for weights, grad_weights in zip(parameters.weights, gradient.weights, strict=True):
                penalty += float(np.vdot(weights, weights))
                np.add(grad_weights, l2 * weights, out=grad_weights)
            loss_sum += 0.5 * l2 * penalty
        if l1 > 0.0:
            penalty = 0.0
            for weights, grad_weights in zip(parameters.weights, gradient.weights, strict=True):
                penalty += float(np.abs(weights).sum())
                np.add(grad_weights, l1 * np.sign(weights), out=grad_weights)
            loss_sum += l1 * penalty
        return loss_sum / float(augmented_points.shape[1])
