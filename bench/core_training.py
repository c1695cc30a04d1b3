"""Benchmark: training epochs per second against the tutorial's plain NumPy loop.

Run with ``python -m bench.core_training``. Prints, in one run and on the same data:
the tutorial's loop and PlaneNet's engine on the tutorial's task (200 points, 2-4-1,
full batch, loss recorded every epoch), checking both give the same parameters; then how
the time per epoch grows with the number of points and with the hidden width.
"""

import argparse
import time
from collections.abc import Callable

import numpy as np

from core.arrays import FloatArray, LabelArray
from core.dataset import Dataset, make_dataset
from core.generators import generate
from core.parameters import Parameters
from core.training import TrainingConfig, train
from tests.helpers.tutorial import train_from

IDENTICAL = 1e-9
"""Largest parameter difference for the two loops to count as giving identical results."""


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The fastest of ``repeats`` wall-clock timings of ``run``, in seconds."""
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def compare_with_tutorial(epochs: int, repeats: int) -> None:
    """Time both loops on the tutorial's data and initial weights; check they agree."""
    rng = np.random.RandomState(42)
    dataset = generate("blobs", n_samples=200, noise=0.2, seed=42)
    start = {
        "W1": rng.randn(2, 4) * 0.01,
        "b1": np.zeros((1, 4)),
        "W2": rng.randn(4, 1) * 0.01,
        "b2": np.zeros((1, 1)),
    }
    initial = Parameters(
        weights=(start["W1"], start["W2"]), biases=(start["b1"][0], start["b2"][0])
    )
    labels = dataset.labels.reshape(-1, 1).astype(np.float64)
    config = TrainingConfig(epochs=epochs)

    tutorial_result: list[dict[str, FloatArray]] = []
    ours: list[Parameters] = []
    tutorial_seconds = best_of(
        repeats,
        lambda: tutorial_result.append(train_from(dataset.points, labels, start, epochs, 0.5)[0]),
    )
    our_seconds = best_of(
        repeats,
        lambda: ours.append(train(config, dataset, initial_parameters=initial).network.parameters),
    )
    reference, trained = tutorial_result[-1], ours[-1]
    difference = max(
        float(np.max(np.abs(reference["W1"] - trained.weights[0]))),
        float(np.max(np.abs(reference["W2"] - trained.weights[1]))),
        float(np.max(np.abs(reference["b1"][0] - trained.biases[0]))),
        float(np.max(np.abs(reference["b2"][0] - trained.biases[1]))),
    )
    print(f"tutorial task: 200 points, 2-4-1, full batch, {epochs} epochs, best of {repeats}")
    print(
        f"  tutorial loop : {tutorial_seconds / epochs * 1e6:7.1f} us/epoch "
        f"{epochs / tutorial_seconds:9.0f} epochs/s"
    )
    print(
        f"  PlaneNet      : {our_seconds / epochs * 1e6:7.1f} us/epoch "
        f"{epochs / our_seconds:9.0f} epochs/s"
    )
    print(f"  speed-up      : {tutorial_seconds / our_seconds:7.2f}x")
    verdict = "identical to 1e-9" if difference <= IDENTICAL else "MISMATCH"
    print(f"  largest parameter difference: {difference:.2e} ({verdict})")
    if difference > IDENTICAL:
        raise SystemExit("the engine and the tutorial's loop disagree; the timing is void")


def time_per_epoch(dataset: Dataset, hidden_layers: tuple[int, ...], epochs: int) -> float:
    """Microseconds per full-batch epoch for ``hidden_layers`` on ``dataset``."""
    config = TrainingConfig(
        hidden_layers=hidden_layers, epochs=epochs, init="he", learning_rate=0.1
    )
    seconds = best_of(2, lambda: train(config, dataset))
    return seconds / epochs * 1e6


def scaling(quick: bool) -> None:
    """Print how the time per epoch grows with points and with hidden width."""
    print("time per epoch against the number of points (2-4-1, full batch)")
    for n_points in (100, 1_000, 10_000, 100_000):
        dataset = generate("moons", n_samples=n_points, noise=0.1, seed=0)
        epochs = max(5, (20 if quick else 200) * 1_000 // n_points)
        print(f"  {n_points:>7} points: {time_per_epoch(dataset, (4,), epochs):10.1f} us/epoch")
    print("time per epoch against the hidden width (200 points, one hidden layer)")
    dataset = make_dataset(*_moons(200))
    for width in (4, 16, 64, 256):
        epochs = 200 if quick else 2_000
        print(f"  width {width:>4}: {time_per_epoch(dataset, (width,), epochs):10.1f} us/epoch")


def _moons(n_points: int) -> tuple[FloatArray, LabelArray]:
    dataset = generate("moons", n_samples=n_points, noise=0.1, seed=0)
    return dataset.points, dataset.labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    arguments = parser.parse_args()
    compare_with_tutorial(epochs=2_000 if arguments.quick else 20_000, repeats=3)
    scaling(arguments.quick)


if __name__ == "__main__":
    main()
