"""Binary cross-entropy computed from the logits, so it stays finite for any logit."""

import numpy as np

from core.arrays import FloatArray


def sigmoid(logits: FloatArray) -> FloatArray:
    """Class-1 probabilities ``1 / (1 + exp(-z))`` without overflow; any shape."""
    result: FloatArray = np.exp(-np.logaddexp(0.0, -logits))
    return result


def binary_cross_entropy(logits: FloatArray, labels: FloatArray) -> float:
    """Mean binary cross-entropy of ``sigmoid(logits)`` against ``labels`` (same shape).

    Uses ``-[y log p + (1 - y) log(1 - p)] = softplus(z) - y z``, exact and finite even
    for logits of 1e4, with no log of zero and no epsilon to bias it.
    """
    return float(np.mean(np.logaddexp(0.0, logits) - labels * logits))


def bce_with_gradient(
    logits: FloatArray,
    labels: FloatArray,
    *,
    ones: FloatArray,
    softplus: FloatArray,
    probabilities: FloatArray,
    grad_logits: FloatArray,
) -> float:
    """Sum (not mean) of the cross-entropy, writing its gradient into ``grad_logits``.

    All arrays have one shape, e.g. (1, n). ``ones`` holds ones (a dot product with it sums
    faster than ``.sum()`` on small arrays). ``softplus`` and ``probabilities`` are scratch buffers
    that end up holding ``softplus(z)`` and ``sigmoid(z)``; ``grad_logits`` receives
    ``sigmoid(z) - y``, the derivative of the summed loss with respect to the logits.
    Returning the sum lets the caller divide by the batch size once, together with the
    gradients.
    """
    np.logaddexp(0.0, logits, out=softplus)
    loss_sum = float(np.vdot(ones, softplus) - np.vdot(labels, logits))
    # sigmoid(z) = exp(z - softplus(z)); the exponent is never positive.
    np.subtract(logits, softplus, out=probabilities)
    np.exp(probabilities, out=probabilities)
    np.subtract(probabilities, labels, out=grad_logits)
    return loss_sum
