"""Benchmark: what strict parsing and the duplicate-key check cost on a 100,000-point body.

Run with ``python -m bench.request_body``. Times (median of 9) pydantic's lax and strict
validation of a training body of 100,000 points, the duplicate-key scan that runs after it,
and, for comparison, a full ``json.loads`` with a key hook (what a naive check would cost).
"""

import json
import statistics
import time
from collections.abc import Callable

from service.http.json_keys import check_unique_keys
from service.schemas.jobs import TrainingRequest

POINTS = 100_000
RUNS = 9


def median_ms(action: Callable[[], object]) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    points = [[index / 7.0, -index / 3.0] for index in range(POINTS)]
    labels = [index % 2 for index in range(POINTS)]
    body = json.dumps({"data": {"points": points, "labels": labels}, "epochs": 10}).encode()
    lax = median_ms(lambda: TrainingRequest.model_validate_json(body))
    strict = median_ms(lambda: TrainingRequest.model_validate_json(body, strict=True))
    scan = median_ms(lambda: check_unique_keys(body))
    naive = median_ms(lambda: json.loads(body, object_pairs_hook=dict))
    print(f"training body of {POINTS:,} points, {len(body):,} bytes")
    print(f"  pydantic, lax              : {lax:8.2f} ms")
    print(f"  pydantic, strict           : {strict:8.2f} ms ({strict / lax:.2f}x lax)")
    print(f"  duplicate-key scan         : {scan:8.2f} ms ({scan / strict:.1%} of strict parsing)")
    print(f"  json.loads with a key hook : {naive:8.2f} ms ({naive / scan:.0f}x the scan)")


if __name__ == "__main__":
    main()
