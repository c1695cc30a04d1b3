"""Benchmark: time and JSON size of the boundary figure in each mode against the probability map.

Run with ``python -m bench.figures`` (``--quick`` for fewer repeats). Trains the tutorial's
network (blobs, 2-4-1 ReLU, 20,000 epochs) and a curvier one (moons, 2-8-8-1 tanh), then
prints, for a 200 x 200 grid in each mode: the time to build the figure, the time to write it
as JSON the way the service does (pydantic-core), the JSON size, and each as a ratio to the
probability map in the same run; then the same for the training replay (200 snapshots).
The goal for a 200 x 200 boundary is at most 50 ms and 300 KB.
"""

import argparse
import dataclasses
import functools
import itertools
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pydantic_core

from core.dataset import Dataset
from core.figures import BOUNDARY_MODES, PredictProba, boundary_figure, replay_figure
from core.generators import generate
from core.initializers import initialize
from core.network import Network
from core.snapshots import snapshot_epochs
from core.training import TrainingConfig, train

RESOLUTION = 200
TARGET_MILLISECONDS = 50.0
TARGET_BYTES = 300_000


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The fastest of ``repeats`` wall-clock timings of ``run`` in seconds, and its result."""
    timings, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        timings.append(time.perf_counter() - started)
    return min(timings), result


def measure(run: Callable[[], dict[str, Any]], repeats: int) -> tuple[float, float, int]:
    """Build seconds, JSON-writing seconds and JSON bytes of the figure ``run`` builds."""
    build_seconds, figure = best_of(repeats, run)
    write_seconds, body = best_of(repeats, lambda: pydantic_core.to_json(figure))
    return build_seconds, write_seconds, len(body)


def compare_modes(title: str, network: Network, dataset: Dataset, repeats: int) -> None:
    """Print each boundary mode's time and size against the probability map's."""
    print(f"{title}: {RESOLUTION} x {RESOLUTION} boundary, best of {repeats}")
    header = f"{'mode':<12} {'build ms':>9} {'JSON ms':>8} {'total ms':>9} {'KB':>7}"
    print(f"  {header}  against probability")
    results = {
        mode: measure(
            functools.partial(boundary_figure, network.predict_proba, dataset, RESOLUTION, mode),
            repeats,
        )
        for mode in BOUNDARY_MODES
    }
    base_build, base_write, base_bytes = results["probability"]
    for mode, (build, write, size) in results.items():
        total = (build + write) * 1e3
        verdict = "ok" if total <= TARGET_MILLISECONDS and size <= TARGET_BYTES else "OVER"
        print(
            f"  {mode:<12} {build * 1e3:9.1f} {write * 1e3:8.1f} {total:9.1f} {size / 1e3:7.1f}"
            f"  time {(build + write) / (base_build + base_write):5.2f}x"
            f"  size {size / base_bytes:5.2f}x  ({verdict} against "
            f"{TARGET_MILLISECONDS:.0f} ms, {TARGET_BYTES / 1e3:.0f} KB)"
        )


def snapshots_of(
    config: TrainingConfig, dataset: Dataset
) -> tuple[list[tuple[int, PredictProba]], np.ndarray]:
    """A real training's snapshots at the schedule's epochs, and its loss history.

    Full-batch gradient descent keeps no state, so training in stretches from each
    snapshot's parameters is the same run.
    """
    parameters = initialize(config.layer_sizes, config.init, np.random.default_rng(config.seed))
    snapshots: list[tuple[int, PredictProba]] = [
        (0, Network(parameters, config.activation).predict_proba)
    ]
    losses = []
    for previous, epoch in itertools.pairwise(snapshot_epochs(config.epochs)):
        stretch = dataclasses.replace(config, epochs=int(epoch - previous))
        result = train(stretch, dataset, initial_parameters=parameters)
        parameters = result.network.parameters
        losses.append(result.loss_history)
        snapshots.append((int(epoch), result.network.predict_proba))
    return snapshots, np.concatenate(losses)


def replay(title: str, config: TrainingConfig, dataset: Dataset, repeats: int) -> None:
    """Print the replay's build time and size for 200 snapshots at the default resolution."""
    snapshots, losses = snapshots_of(config, dataset)
    build, write, size = measure(lambda: replay_figure(snapshots, losses, dataset), repeats)
    print(
        f"{title}: replay of {len(snapshots)} snapshots: build {build * 1e3:.0f} ms, "
        f"JSON {write * 1e3:.0f} ms, {size / 1e6:.2f} MB (limit 2 MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    arguments = parser.parse_args()
    repeats = 2 if arguments.quick else 7

    blobs = generate("blobs", n_samples=200, noise=0.2, seed=42)
    tutorial = TrainingConfig()
    compare_modes("tutorial (blobs, 2-4-1 relu)", train(tutorial, blobs).network, blobs, repeats)
    moons = generate("moons", n_samples=200, noise=0.2, seed=1)
    curvy = TrainingConfig(hidden_layers=(8, 8), activation="tanh", init="he", epochs=3000, seed=3)
    compare_modes("moons (2-8-8-1 tanh)", train(curvy, moons).network, moons, repeats)
    replay("tutorial", dataclasses.replace(tutorial, epochs=20_000), blobs, min(repeats, 3))
    replay("moons", curvy, moons, min(repeats, 3))


if __name__ == "__main__":
    main()
