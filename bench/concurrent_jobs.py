"""Benchmark: do two jobs training at once on two workers make twice the epochs of one alone?

Run with ``python -m bench.concurrent_jobs`` (``--quick`` for a shorter run). Starts a real
``planenet serve`` with two training workers (as ``make run`` does on a 2-core machine),
trains one job of 2,000 moons points on a [32, 32] network alone, then two such jobs at
once, and prints the epochs per second of each case and their ratio. Times are the jobs' own
``started_at`` and ``finished_at``, so waiting in the queue and polling do not count.
"""

import argparse
import os
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from bench.service_http import start_job
from tests.helpers.server import running_server, wait_for_job

JOB_SECONDS = 600.0


def job_body(epochs: int, seed: int) -> dict[str, Any]:
    """The hardening report's job: 2,000 moons points, two hidden layers of 32 units."""
    return {
        "name": f"bench-concurrent-{seed}",
        "data": {"generator": "moons", "n_samples": 2000, "noise": 0.2, "seed": seed},
        "hidden_layers": [32, 32],
        "init": "he",
        "learning_rate": 0.1,
        "epochs": epochs,
        "seed": seed,
    }


def epochs_per_second(client: httpx.Client, bodies: list[dict[str, Any]]) -> float:
    """Submit ``bodies`` together; the epochs of all of them per second of wall time."""
    job_ids = [start_job(client, body) for body in bodies]
    succeeded = frozenset({"succeeded"})
    jobs = [wait_for_job(client, job_id, succeeded, JOB_SECONDS) for job_id in job_ids]
    started = min(datetime.fromisoformat(job["started_at"]) for job in jobs)
    finished = max(datetime.fromisoformat(job["finished_at"]) for job in jobs)
    epochs = sum(int(job["progress"]["epoch"]) for job in jobs)
    return epochs / (finished - started).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer epochs (~10 s)")
    arguments = parser.parse_args()
    epochs = 800 if arguments.quick else 3000
    with tempfile.TemporaryDirectory() as data_dir, running_server(Path(data_dir), 2) as server:
        client = httpx.Client(base_url=server.base_url, timeout=60.0)
        print(f"planenet serve at {server.base_url} ({os.cpu_count()} CPUs, 2 training workers)")
        print(f"jobs of 2,000 moons points, hidden layers [32, 32], {epochs} epochs each")
        alone = epochs_per_second(client, [job_body(epochs, seed=1)])
        together = epochs_per_second(client, [job_body(epochs, seed=2), job_body(epochs, seed=3)])
        print(f"  one job alone    : {alone:8.0f} epochs/s")
        print(f"  two jobs at once : {together:8.0f} epochs/s (both jobs together)")
        print(f"  ratio            : {together / alone:8.2f}x (the goal is at least 1.6x)")
        client.close()


if __name__ == "__main__":
    main()
