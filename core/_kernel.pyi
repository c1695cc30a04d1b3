"""Types of the compiled training kernel and forward pass (core/_kernel.c)."""

from collections.abc import Sequence

from core.arrays import FloatArray

class Kernel:
    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str,
        optimizer: str,
        hyperparameters: tuple[float, float, float, float, float, float, float, float],
        parameters: FloatArray,
        gradient: FloatArray,
    ) -> None: ...
    def loss_and_gradient(self, points: FloatArray, labels: FloatArray) -> tuple[float, float]: ...
    def evaluate(self, points: FloatArray, labels: FloatArray) -> tuple[float, float]: ...
    def step(self, scale: float) -> None: ...
    def epochs(
        self,
        points: FloatArray,
        labels: FloatArray,
        batch_size: int,
        losses: FloatArray,
        accuracies: FloatArray,
    ) -> int: ...

def probabilities(
    weights: tuple[FloatArray, ...],
    biases: tuple[FloatArray, ...],
    activation: str,
    slope: float,
    features: tuple[str, ...],
    points: FloatArray,
    out: FloatArray,
) -> None: ...
def classify(
    weights: tuple[FloatArray, ...],
    biases: tuple[FloatArray, ...],
    activation: str,
    slope: float,
    features: tuple[str, ...],
    points: Sequence[tuple[float, float]],
    threshold: float,
) -> tuple[list[int], list[float], int]: ...
