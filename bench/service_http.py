"""Benchmark: prediction throughput and latency over HTTP against a real ``planenet serve``.

Run with ``python -m bench.service_http`` (``--quick`` for a shorter run). Starts the
server on a free port with a temporary data directory and two training workers, trains
the tutorial's model, then prints, for an idle server and again while two long training
jobs run: ``/predict`` (one point) requests per second and p50/p99 latency with 1 and 32
concurrent clients, each next to ``/healthz`` on the same server in the same run, and the
points per second of one request of 100,000 points. The clients run in this process, on
the same machine, so they compete with the server for the CPU.
"""

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.helpers.server import running_server, wait_for_job

STARTUP_SECONDS = 30.0
TRAINING_SECONDS = 300.0
"""How long the tutorial's model may take to train before the benchmark gives up."""
START_SECONDS = 60.0
"""How long a background job may wait for a worker before the benchmark gives up."""
BIG_REQUEST_POINTS = 100_000
LONG_JOB = {
    "name": "bench-background",
    "data": {"generator": "moons", "n_samples": 2000, "noise": 0.2, "seed": 1},
    "hidden_layers": [32, 32],
    "epochs": 100_000,
}


@dataclass(frozen=True)
class Timing:
    """Requests completed in a fixed time by concurrent clients, with their latencies."""

    requests: int
    seconds: float
    latencies: list[float]

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def line(self, label: str) -> str:
        return (
            f"  {label:<28} {self.per_second:8.0f} req/s   "
            f"p50 {self.percentile(0.5) * 1000:7.2f} ms   "
            f"p99 {self.percentile(0.99) * 1000:7.2f} ms"
        )


def start_job(client: httpx.Client, body: dict[str, Any]) -> str:
    """Submit a training job; returns its id, or raises with the server's problem."""
    response = client.post("/jobs", json=body)
    if response.status_code != 202:
        raise RuntimeError(f"POST /jobs: {response.status_code} {response.text}")
    return str(response.json()["id"])


def train_model(client: httpx.Client, epochs: int) -> str:
    """Train the tutorial's model (its defaults, ``epochs`` epochs); returns the model id."""
    job_id = start_job(client, {"name": "bench", "epochs": epochs})
    job = wait_for_job(client, job_id, frozenset({"succeeded"}), TRAINING_SECONDS)
    return str(job["model_id"])


async def hammer(
    base_url: str, method: str, path: str, body: bytes | None, *, clients: int, seconds: float
) -> Timing:
    """``clients`` concurrent loops sending one request after another for ``seconds``."""
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Content-Type": "application/json"}
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=60.0) as client:
        await client.request(method, path, content=body, headers=headers)  # warm the connection
        deadline = time.perf_counter() + seconds

        async def loop() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.request(method, path, content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")

        started = time.perf_counter()
        await asyncio.gather(*(loop() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return Timing(len(latencies), elapsed, latencies)


def big_request_rate(client: httpx.Client, model_id: str, repeats: int) -> tuple[float, float]:
    """Median seconds of one 100,000-point prediction request, and its points per second."""
    points = np.random.default_rng(0).normal(size=(BIG_REQUEST_POINTS, 2)).tolist()
    body = httpx.Request("POST", "/", json={"model_id": model_id, "points": points}).read()
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.post(
            "/predict", content=body, headers={"Content-Type": "application/json"}
        )
        timings.append(time.perf_counter() - started)
        if response.status_code != 200 or len(response.json()["labels"]) != BIG_REQUEST_POINTS:
            raise RuntimeError(f"big prediction failed: {response.status_code}")
    seconds = statistics.median(timings)
    return seconds, BIG_REQUEST_POINTS / seconds


def measure(
    base_url: str, client: httpx.Client, model_id: str, seconds: float, repeats: int
) -> None:
    """Print the prediction figures for the server in its current state."""
    body = httpx.Request("POST", "/", json={"model_id": model_id, "points": [[1.0, 1.0]]}).read()
    for clients in (1, 32):
        predict = asyncio.run(
            hammer(base_url, "POST", "/predict", body, clients=clients, seconds=seconds)
        )
        health = asyncio.run(
            hammer(base_url, "GET", "/healthz", None, clients=clients, seconds=seconds)
        )
        print(predict.line(f"/predict, {clients} client(s)"))
        print(health.line(f"/healthz, {clients} client(s)"))
    big_seconds, points_per_second = big_request_rate(client, model_id, repeats)
    print(
        f"  one request of {BIG_REQUEST_POINTS:,} points: {big_seconds * 1000:.0f} ms, "
        f"{points_per_second:,.0f} points/s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter measurements (~30 s)")
    args = parser.parse_args()
    seconds, repeats, epochs = (1.0, 3, 2000) if args.quick else (3.0, 5, 20_000)
    with tempfile.TemporaryDirectory() as data_dir, running_server(Path(data_dir), 2) as server:
        base_url = server.base_url
        client = httpx.Client(base_url=base_url, timeout=120.0)
        started = time.perf_counter()
        model_id = train_model(client, epochs)
        print(f"planenet serve at {base_url} ({os.cpu_count()} CPUs, 2 training workers)")
        training_seconds = time.perf_counter() - started
        print(f"trained the tutorial's model ({epochs} epochs) in {training_seconds:.1f} s")
        print("idle server:")
        measure(base_url, client, model_id, seconds, repeats)
        background = [start_job(client, LONG_JOB) for _ in range(2)]
        for job_id in background:
            wait_for_job(client, job_id, frozenset({"running"}), START_SECONDS)
        print("while two training jobs run:")
        measure(base_url, client, model_id, seconds, repeats)
        still_running = [
            job_id
            for job_id in background
            if client.get(f"/jobs/{job_id}").json()["status"] == "running"
        ]
        for job_id in background:
            client.post(f"/jobs/{job_id}/cancel")
        print(f"  (both jobs were still running at the end: {len(still_running) == 2}; cancelled)")
        client.close()


if __name__ == "__main__":
    main()
