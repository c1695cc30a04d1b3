"""Benchmark: training time per epoch, the tutorial's loop against PlaneNet's two engines.

Run with ``python -m bench.core_training`` (``--quick`` for a shorter run). On one BLAS
thread, as training workers run, and in one run on the same data and initial weights, it
times the tutorial's own NumPy loop, PlaneNet's NumPy engine and its compiled engine
(core/_kernel.c) on the tutorial's task (200 points, 2-4-1, full batch, loss recorded
every epoch) and on 100,000 points of the same kind; prints microseconds per epoch, the
ratios, and the largest parameter difference between the engines (at most 1e-12) and
against the tutorial (at most 1e-9). Then the cold start: what a fresh worker process pays
before and at its first training, per engine. Then how the time per epoch grows with the
number of points and with the hidden width.
"""

import argparse
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from core.compiled import kernel_available
from core.dataset import Dataset
from core.generators import generate
from core.parameters import Parameters
from core.training import TrainingConfig, train
from tests.helpers.tutorial import train_from

ENGINES_AGREE = 1e-12
"""Largest parameter difference for the two engines to count as giving the same result."""
TUTORIAL_AGREES = 1e-9
"""Largest parameter difference between PlaneNet and the tutorial's loop (its fidelity bound)."""


@dataclass(frozen=True)
class Timed:
    """The fastest wall time of a contender, in seconds, and the parameters it trained."""

    seconds: float
    parameters: Parameters


def race(repeats: int, contenders: dict[str, Callable[[], Parameters]]) -> dict[str, Timed]:
    """Run every contender ``repeats`` times, taking turns, so that load on the machine falls
    on all alike; the fastest time of each."""
    best: dict[str, Timed] = {}
    for _ in range(repeats):
        for name, run in contenders.items():
            started = time.perf_counter()
            parameters = run()
            seconds = time.perf_counter() - started
            if name not in best or seconds < best[name].seconds:
                best[name] = Timed(seconds, parameters)
    return best


def largest_difference(a: Parameters, b: Parameters) -> float:
    """The largest absolute difference between two networks' weights and biases."""
    pairs = zip((*a.weights, *a.biases), (*b.weights, *b.biases), strict=True)
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)


def compare(title: str, dataset: Dataset, epochs: int, repeats: int) -> None:
    """Time the tutorial's loop and both engines on ``dataset`` from the tutorial's start."""
    rng = np.random.RandomState(42)
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

    def tutorial() -> Parameters:
        trained, _ = train_from(dataset.points, labels, start, epochs, learning_rate=0.5)
        return Parameters(
            weights=(trained["W1"], trained["W2"]), biases=(trained["b1"][0], trained["b2"][0])
        )

    def engine(name: str) -> Callable[[], Parameters]:
        return lambda: (
            train(config, dataset, initial_parameters=initial, engine=name).network.parameters
        )

    contenders = {"tutorial loop": tutorial, "NumPy engine": engine("numpy")}
    if kernel_available():
        contenders["compiled engine"] = engine("compiled")
    results = race(repeats, contenders)
    baseline = results["tutorial loop"].seconds
    print(f"{title}: {len(dataset)} points, 2-4-1, full batch, {epochs} epochs, best of {repeats}")
    for name, timed in results.items():
        print(
            f"  {name:<16}: {timed.seconds / epochs * 1e6:9.1f} us/epoch "
            f"{epochs / timed.seconds:9.0f} epochs/s  {baseline / timed.seconds:6.2f}x the tutorial"
        )
    reference = results["NumPy engine"]
    to_tutorial = largest_difference(reference.parameters, results["tutorial loop"].parameters)
    print(f"  NumPy engine vs tutorial loop, largest parameter difference: {to_tutorial:.2e}")
    if to_tutorial > TUTORIAL_AGREES:
        raise SystemExit("the NumPy engine and the tutorial's loop disagree; the timing is void")
    if "compiled engine" in results:
        compiled = results["compiled engine"]
        between = largest_difference(compiled.parameters, reference.parameters)
        print(
            f"  compiled engine vs NumPy engine: {reference.seconds / compiled.seconds:.2f}x, "
            f"largest parameter difference {between:.2e}"
        )
        if between > ENGINES_AGREE:
            raise SystemExit("the compiled and NumPy engines disagree; the timing is void")


COLD_START = textwrap.dedent(
    """
    import json, time
    import numpy
    from threadpoolctl import threadpool_limits
    threadpool_limits(1)
    started = time.perf_counter()
    from core.generators import generate
    from core.training import TrainingConfig, train
    imported = time.perf_counter()
    data = generate("blobs", n_samples=200, noise=0.2, seed=42)
    first = time.perf_counter()
    train(TrainingConfig(epochs=1), data, engine="{engine}")
    trained = time.perf_counter()
    train(TrainingConfig(epochs=1), data, engine="{engine}")
    again = time.perf_counter()
    print(json.dumps([imported - started, trained - first, again - trained]))
    """
)


def cold_start(repeats: int) -> None:
    """What a fresh worker process pays per engine: importing the core (NumPy already loaded;
    with the kernel, core imports it), then its first one-epoch training and a second one
    (the difference is any one-off compilation or warm-up)."""
    engines = ["numpy", "compiled"] if kernel_available() else ["numpy"]
    print(f"cold start in a fresh process (best of {repeats})")
    for engine in engines:
        timings = []
        for _ in range(repeats):
            output = subprocess.run(
                [sys.executable, "-c", COLD_START.format(engine=engine)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            timings.append(json.loads(output))
        imported, first, second = (min(column) for column in zip(*timings, strict=True))
        print(
            f"  {engine:<8}: import core {imported * 1e3:6.1f} ms, first training "
            f"{first * 1e3:6.2f} ms, second {second * 1e3:6.2f} ms"
        )
    if kernel_available():
        loads = [
            float(
                subprocess.run(
                    [sys.executable, "-c", KERNEL_LOAD], check=True, capture_output=True, text=True
                ).stdout
            )
            for _ in range(repeats)
        ]
        print(f"  loading the compiled kernel itself: {min(loads) * 1e3:.2f} ms, no compilation")


KERNEL_LOAD = (
    "import sys, time; sys.modules['core._kernel'] = None; import core; del sys.modules["
    "'core._kernel']; started = time.perf_counter(); import core._kernel; "
    "print(time.perf_counter() - started)"
)
"""Times the kernel module's own load: the package is imported first, without it."""


def time_per_epoch(dataset: Dataset, hidden_layers: tuple[int, ...], epochs: int) -> str:
    """Microseconds per full-batch epoch for ``hidden_layers`` on ``dataset``, per engine."""
    config = TrainingConfig(
        hidden_layers=hidden_layers, epochs=epochs, init="he", learning_rate=0.1
    )
    engines = ["numpy", "compiled"] if kernel_available() else ["numpy"]
    results = race(2, {name: _trainer(config, dataset, name) for name in engines})
    return "  ".join(
        f"{name} {results[name].seconds / epochs * 1e6:10.1f} us/epoch" for name in engines
    )


def _trainer(config: TrainingConfig, dataset: Dataset, engine: str) -> Callable[[], Parameters]:
    return lambda: train(config, dataset, engine=engine).network.parameters


def scaling(quick: bool) -> None:
    """Print how the time per epoch grows with points and with hidden width."""
    print("time per epoch against the number of points (2-4-1, full batch)")
    for n_points in (100, 1_000, 10_000, 100_000):
        dataset = generate("moons", n_samples=n_points, noise=0.1, seed=0)
        epochs = max(5, (20 if quick else 200) * 1_000 // n_points)
        print(f"  {n_points:>7} points: {time_per_epoch(dataset, (4,), epochs)}")
    print("time per epoch against the hidden width (200 points, one hidden layer)")
    dataset = generate("moons", n_samples=200, noise=0.1, seed=0)
    for width in (4, 16, 64, 256):
        epochs = 200 if quick else 2_000
        print(f"  width {width:>4}: {time_per_epoch(dataset, (width,), epochs)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs, for a smoke run")
    arguments = parser.parse_args()
    # Training workers run their maths on one thread (service/runner/worker.py); so does this.
    with threadpool_limits(limits=1):
        compare(
            "tutorial task",
            generate("blobs", n_samples=200, noise=0.2, seed=42),
            epochs=2_000 if arguments.quick else 20_000,
            repeats=3 if arguments.quick else 5,
        )
        compare(
            "100,000 points",
            generate("blobs", n_samples=100_000, noise=0.2, seed=42),
            epochs=5 if arguments.quick else 40,
            repeats=3 if arguments.quick else 5,
        )
        cold_start(repeats=2 if arguments.quick else 5)
        scaling(arguments.quick)


if __name__ == "__main__":
    main()
