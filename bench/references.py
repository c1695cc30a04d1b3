"""Benchmark: a small prediction naming its model by id, by name, by version and by alias.

Run with ``python -m bench.references`` (``--requests N``, default 400). Starts a real
``planenet serve`` (no training workers) on v1's database with four versions of one name,
then sends the same 10-point ``/predict`` request naming the model each way, alternating the
kinds so each sees the same conditions, and prints the median round trip of each with its
ratio to naming by id. An id is answered from the model cache on the event loop; a name,
version or alias is resolved against the database on every request (never cached, so an alias
move is followed at once), which costs one small read in a worker thread.
"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.helpers.registry import add_copies
from tests.helpers.server import running_server
from tests.helpers.v1_database import load_v1_sqlite

POINTS = [[0.1 * i, -0.1 * i] for i in range(10)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="requests of each kind")
    requests = parser.parse_args().requests
    with tempfile.TemporaryDirectory(prefix="planenet-bench-") as folder:
        data_dir = Path(folder) / "data"
        add_copies(load_v1_sqlite(data_dir / "planenet.db"))
        with running_server(data_dir, workers=0) as server, server.client() as client:
            ids = {
                version["version"]: version["id"]
                for version in client.get("/registered-models/generated").json()["versions"]
            }
            alias = client.put("/registered-models/generated/aliases/champion", json={"version": 2})
            alias.raise_for_status()
            kinds = {
                "id": ids[2],
                "name@v2": "generated@v2",
                "name@alias": "generated@champion",
                "name (newest)": "generated",
            }
            seconds = measure(client, kinds, requests)
    base = statistics.median(seconds["id"])
    print(f"/predict of {len(POINTS)} points, median of {requests} requests each")
    for kind, times in seconds.items():
        median = statistics.median(times)
        print(f"  model by {kind:<14} {median * 1e3:7.3f} ms  ({median / base:4.2f}x by id)")


def measure(client: httpx.Client, kinds: dict[str, str], requests: int) -> dict[str, list[float]]:
    """Round-trip seconds of each kind of reference, the kinds taking turns."""
    seconds: dict[str, list[float]] = {kind: [] for kind in kinds}
    for reference in kinds.values():  # warm the cache and the connection
        client.post("/predict", json={"model": reference, "points": POINTS}).raise_for_status()
    for _ in range(requests):
        for kind, reference in kinds.items():
            started = time.perf_counter()
            answer = client.post("/predict", json={"model": reference, "points": POINTS})
            seconds[kind].append(time.perf_counter() - started)
            answer.raise_for_status()
    return seconds


if __name__ == "__main__":
    main()
