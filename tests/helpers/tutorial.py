"""The tutorial's method, written as the tutorial writes it: the reference PlaneNet is held to.

The fidelity test runs it beside the core, and the training benchmark times it as the
baseline. Legacy global NumPy RNG, (1, n) bias rows, an epsilon inside the logs, as in the
tutorial, except that the lines it prints are collected instead of printed.
"""

# The tutorial's names (X, W1, dZ2, ...) are kept so the two texts can be read side by side.
# ruff: noqa: N803, N806

from typing import Any

import numpy as np

Arrays = dict[str, Any]


def generate_data(n_samples: int = 100, noise: float = 0.1) -> tuple[Any, Any]:
    X0 = np.random.randn(n_samples // 2, 2) * noise + np.array([1, 1])
    Y0 = np.zeros((n_samples // 2, 1))
    X1 = np.random.randn(n_samples // 2, 2) * noise + np.array([-1, -1])
    Y1 = np.ones((n_samples // 2, 1))
    X = np.vstack((X0, X1))
    Y = np.vstack((Y0, Y1))
    permutation = np.random.permutation(n_samples)
    X = X[permutation]
    Y = Y[permutation]
    return X, Y


def initialize_parameters(n_in: int, n_hid: int, n_out: int) -> Arrays:
    W1 = np.random.randn(n_in, n_hid) * 0.01
    b1 = np.zeros((1, n_hid))
    W2 = np.random.randn(n_hid, n_out) * 0.01
    b2 = np.zeros((1, n_out))
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


def sigmoid(Z: Any) -> Any:
    return 1 / (1 + np.exp(-Z))


def relu(Z: Any) -> Any:
    return np.maximum(0, Z)


def forward_propagation(X: Any, parameters: Arrays) -> tuple[Any, Arrays]:
    W1, b1, W2, b2 = parameters["W1"], parameters["b1"], parameters["W2"], parameters["b2"]
    Z1 = np.dot(X, W1) + b1
    A1 = relu(Z1)
    Z2 = np.dot(A1, W2) + b2
    A2 = sigmoid(Z2)
    return A2, {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_loss(A2: Any, Y: Any) -> Any:
    m = Y.shape[0]
    epsilon = 1e-8
    loss = -(1 / m) * np.sum(Y * np.log(A2 + epsilon) + (1 - Y) * np.log(1 - A2 + epsilon))
    return np.squeeze(loss)


def backward_propagation(parameters: Arrays, cache: Arrays, X: Any, Y: Any) -> Arrays:
    m = X.shape[0]
    W2 = parameters["W2"]
    A1, A2, Z1 = cache["A1"], cache["A2"], cache["Z1"]
    dZ2 = A2 - Y
    dW2 = (1 / m) * np.dot(A1.T, dZ2)
    db2 = (1 / m) * np.sum(dZ2, axis=0, keepdims=True)
    dA1 = np.dot(dZ2, W2.T)
    dZ1 = dA1 * (Z1 > 0)
    dW1 = (1 / m) * np.dot(X.T, dZ1)
    db1 = (1 / m) * np.sum(dZ1, axis=0, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update_parameters(parameters: Arrays, gradients: Arrays, learning_rate: float) -> Arrays:
    return {
        name: parameters[name] - learning_rate * gradients["d" + name]
        for name in ("W1", "b1", "W2", "b2")
    }


def train_from(
    X: Any,
    Y: Any,
    parameters: Arrays,
    num_epochs: int,
    learning_rate: float,
    *,
    printed: list[str] | None = None,
) -> tuple[Arrays, list[Any]]:
    """The tutorial's loop from the given parameters; ``printed`` collects what it prints."""
    losses = []
    for i in range(num_epochs):
        A2, cache = forward_propagation(X, parameters)
        loss = compute_loss(A2, Y)
        losses.append(loss)
        gradients = backward_propagation(parameters, cache, X, Y)
        parameters = update_parameters(parameters, gradients, learning_rate)
        if printed is not None and i % 1000 == 0:
            printed.append(f"{loss:.4f}")
    if printed is not None:
        printed.append(f"{loss:.4f}")
    return parameters, losses


def train_network(
    X: Any, Y: Any, n_hidden: int, num_epochs: int, learning_rate: float, *, printed: list[str]
) -> tuple[Arrays, list[Any], Arrays]:
    """The tutorial's loop; also returns the initial parameters it draws for itself."""
    initial = initialize_parameters(X.shape[1], n_hidden, Y.shape[1])
    trained, losses = train_from(X, Y, initial, num_epochs, learning_rate, printed=printed)
    return trained, losses, initial


def predict(parameters: Arrays, X: Any) -> Any:
    A2, _ = forward_propagation(X, parameters)
    return (A2 > 0.5).astype(int)
