"""Benchmark: PlaneNet's predictions, health and figures against the twenty-line FastAPI app.

Run with ``python -m bench.predict_vs_baseline`` (``--quick`` for a shorter run; needs
``wrk``: ``apt-get install -y wrk``). In one run it starts ``planenet serve`` as ``make run``
does (default settings, log level info) and the baseline (:mod:`bench.baseline`, on
``fastapi[standard]``), loads both with wrk in its own process, and prints requests per
second, p50/p99 latency, the CPU each side used and the ratios; then one request of 100,000
points on both, a 200x200 boundary figure, and PlaneNet's latency while two jobs train.
"""

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from bench.baseline import installed_versions, running_baseline
from bench.load import LoadResult, median_result, run_wrk
from tests.helpers.server import ServerProcess, free_port, wait_for_job

BIG_REQUEST_POINTS = 100_000
BOUNDARY_RESOLUTION = 200
CONNECTIONS = (1, 32)
JOB_SECONDS = 300.0
LONG_JOB = {
    "name": "bench-background",
    "data": {"generator": "moons", "n_samples": 2000, "noise": 0.2, "seed": 1},
    "hidden_layers": [32, 32],
    "epochs": 100_000,
}


def json_body(content: dict[str, Any]) -> bytes:
    return httpx.Request("POST", "/", json=content).read()


def compare(
    label: str,
    method: str,
    *,
    paths: tuple[str, str],
    bodies: tuple[bytes | None, bytes | None],
    servers: tuple[tuple[str, int], tuple[str, int]],
    seconds: float,
    rounds: int,
) -> None:
    """Load the baseline and PlaneNet in turn, ``rounds`` times at each connection count;
    print each side's median round and the ratios."""
    for connections in CONNECTIONS:
        results: tuple[list[LoadResult], list[LoadResult]] = ([], [])
        for _ in range(rounds):
            for side, (base_url, pid), path, body in zip(
                results, servers, paths, bodies, strict=True
            ):
                side.append(
                    run_wrk(
                        base_url + path,
                        method,
                        body,
                        connections=connections,
                        seconds=seconds,
                        server_pid=pid,
                    )
                )
        baseline, planenet = (median_result(side) for side in results)
        print(baseline.line(f"{label}, c={connections}, baseline"))
        print(planenet.line(f"{label}, c={connections}, PlaneNet"))
        ratio = planenet.requests_per_second / baseline.requests_per_second
        cpu_ratio = (planenet.requests_per_second / max(planenet.server_cpu, 1e-9)) / (
            baseline.requests_per_second / max(baseline.server_cpu, 1e-9)
        )
        print(f"  {'':<34} PlaneNet / baseline: {ratio:.2f}x req/s, {cpu_ratio:.2f}x req per CPU s")


def big_request_seconds(base_url: str, body: bytes, repeats: int) -> float:
    """Median seconds of one prediction request of :data:`BIG_REQUEST_POINTS` points."""
    timings = []
    with httpx.Client(base_url=base_url, timeout=120.0) as client:
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.post(
                "/predict", content=body, headers={"Content-Type": "application/json"}
            )
            timings.append(time.perf_counter() - started)
            if response.status_code != 200 or len(response.json()["labels"]) != BIG_REQUEST_POINTS:
                raise RuntimeError(f"big prediction failed: {response.status_code}")
    return statistics.median(timings)


def boundary_figure(
    server: ServerProcess, client: httpx.Client, model_id: str, repeats: int
) -> tuple[float, float, float, int]:
    """Server seconds of a boundary figure's first request (drawn) and the median of the
    next ones (served as kept, see service/rendered_figures.py), the median request seconds
    of those, and the figure's bytes.

    The server's time is the ``duration_ms`` of its request log line (requests carry an
    ``X-Request-ID`` to find them); the request's, the whole round trip over loopback.
    """
    path = f"/models/{model_id}/figures/boundary?resolution={BOUNDARY_RESOLUTION}"
    timings, size, wanted = [], 0, []
    for index in range(repeats + 1):
        request_id = f"bench-boundary-{index}"
        started = time.perf_counter()
        response = client.get(path, headers={"X-Request-ID": request_id})
        timings.append(time.perf_counter() - started)
        response.raise_for_status()
        size = len(response.content)
        wanted.append(request_id)
    time.sleep(0.5)  # the log line is written once the response is sent
    lines = server.log_path.read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.startswith("{")]
    server_ms = {
        entry["request_id"]: entry["duration_ms"] for entry in entries if "duration_ms" in entry
    }
    first, *again = (server_ms[request_id] / 1000 for request_id in wanted)
    return first, statistics.median(again), statistics.median(timings[1:]), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="shorter measurements (~1 min)")
    parser.add_argument(
        "--http-workers", type=int, help="PlaneNet's API processes (default: make run's)"
    )
    args = parser.parse_args()
    flags = [] if args.http_workers is None else ["--http-workers", str(args.http_workers)]
    seconds, rounds, repeats, epochs = (2.0, 1, 3, 2000) if args.quick else (4.0, 3, 7, 20_000)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"baseline: {installed_versions()}; {os.cpu_count()} CPUs, load average {load}")
    with tempfile.TemporaryDirectory() as data_dir:
        server = ServerProcess(data_dir=Path(data_dir) / "data", port=free_port(), flags=flags)
        server.start()
        try:
            run_all(server, seconds, rounds, repeats, epochs)
        finally:
            server.stop()


def run_all(server: ServerProcess, seconds: float, rounds: int, repeats: int, epochs: int) -> None:
    """Every measurement, on a started PlaneNet and a baseline serving the same model."""
    assert server.process is not None
    client = httpx.Client(base_url=server.base_url, timeout=120.0)
    submitted = client.post("/jobs", json={"name": "bench", "epochs": epochs})
    job = wait_for_job(client, submitted.json()["id"], frozenset({"succeeded"}), JOB_SECONDS)
    model_id = job["model_id"]
    parameters = client.get(f"/models/{model_id}/parameters").json()
    point = [[1.0, 1.0]]
    points = np.random.default_rng(0).normal(size=(BIG_REQUEST_POINTS, 2)).tolist()
    port = free_port()
    with running_baseline(parameters, port) as baseline:
        baseline_url = f"http://127.0.0.1:{port}"
        servers = ((baseline_url, baseline.pid), (server.base_url, server.process.pid))
        print(
            f"planenet serve {' '.join(server.flags) or '(make run)'} vs. baseline, wrk for "
            f"{seconds:g} s each, median of {rounds} alternating round(s):"
        )
        compare(
            "POST /predict, 1 point",
            "POST",
            paths=("/predict", f"/models/{model_id}/predict"),
            bodies=(json_body({"points": point}), json_body({"points": point})),
            servers=servers,
            seconds=seconds,
            rounds=rounds,
        )
        compare(
            "GET /healthz",
            "GET",
            paths=("/healthz", "/healthz"),
            bodies=(None, None),
            servers=servers,
            seconds=seconds,
            rounds=rounds,
        )
        baseline_big = big_request_seconds(servers[0][0], json_body({"points": points}), repeats)
    planenet_big = big_request_seconds(
        server.base_url, json_body({"model_id": model_id, "points": points}), repeats
    )
    print(
        f"  one request of {BIG_REQUEST_POINTS:,} points: PlaneNet {planenet_big * 1000:.0f} ms, "
        f"baseline {baseline_big * 1000:.0f} ms ({baseline_big / planenet_big:.1f}x faster)"
    )
    drawn, kept, request_seconds, size = boundary_figure(server, client, model_id, repeats)
    print(
        f"  boundary figure {BOUNDARY_RESOLUTION}x{BOUNDARY_RESOLUTION}: server "
        f"{drawn * 1000:.1f} ms drawn, {kept * 1000:.1f} ms kept (request "
        f"{request_seconds * 1000:.1f} ms), {size / 1000:.0f} KB"
    )
    busy_latency(server, client, model_id, json_body({"points": point}), seconds)
    client.close()


def busy_latency(
    server: ServerProcess, client: httpx.Client, model_id: str, body: bytes, seconds: float
) -> None:
    """PlaneNet's one-point predictions while two long training jobs run."""
    assert server.process is not None
    jobs = [client.post("/jobs", json=LONG_JOB).json()["id"] for _ in range(2)]
    for job_id in jobs:
        wait_for_job(client, job_id, frozenset({"running"}), JOB_SECONDS)
    print("while two training jobs run (server CPU includes the training):")
    for connections in CONNECTIONS:
        result = run_wrk(
            f"{server.base_url}/models/{model_id}/predict",
            "POST",
            body,
            connections=connections,
            seconds=seconds,
            server_pid=server.process.pid,
        )
        print(result.line(f"POST /predict, c={connections}, PlaneNet"))
    running = sum(client.get(f"/jobs/{job_id}").json()["status"] == "running" for job_id in jobs)
    for job_id in jobs:
        client.post(f"/jobs/{job_id}/cancel")
    print(f"  ({running} of 2 jobs were still running at the end; cancelled)")


if __name__ == "__main__":
    main()
