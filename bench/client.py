"""Benchmark: what planenet.Client adds over raw httpx, and how long a client command takes.

Run with ``python -m bench.client`` (``--quick`` for a shorter run). Starts ``planenet serve``
on a free port, trains a small model, then prints, in alternating rounds against the same
server: predictions per second of planenet.Client and of a bare httpx.Client posting the same
JSON (one point, and 10,000 points given as a NumPy array), with their ratio; and the wall
time of ``planenet models --limit 1`` (the console script, which loads the server's modules
too) next to the same command run from planenet._cli alone.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

import planenet
from tests.helpers.server import running_server

CLIENT_ONLY_COMMAND = """
import argparse, sys
from planenet._cli import add_client_commands, run_client_command
parser = argparse.ArgumentParser(prog="planenet")
add_client_commands(parser.add_subparsers(dest="command", required=True))
sys.exit(run_client_command(parser.parse_args(sys.argv[1:])))
"""


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``call`` over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        call()
        count += 1
    return count / elapsed


def compare(label: str, ours: Callable[[], object], bare: Callable[[], object], rounds: int,
            seconds: float) -> None:  # fmt: skip
    """Print the median rate of each over alternating rounds, and their ratio."""
    ours_rates, bare_rates = [], []
    for _ in range(rounds):
        ours_rates.append(rate(ours, seconds))
        bare_rates.append(rate(bare, seconds))
    ours_median, bare_median = statistics.median(ours_rates), statistics.median(bare_rates)
    print(
        f"  {label:<34} planenet.Client {ours_median:8.1f}/s   httpx {bare_median:8.1f}/s   "
        f"ratio {ours_median / bare_median:5.2f}"
    )


def command_seconds(command: list[str], repeats: int) -> float:
    """Median wall time of ``command`` (which must succeed)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter rounds")
    quick = parser.parse_args().quick
    rounds, seconds, repeats = (10, 0.2, 3) if quick else (20, 0.5, 7)
    with tempfile.TemporaryDirectory() as directory, running_server(Path(directory), 1) as server:
        url = server.base_url
        with planenet.Client(url) as client, httpx.Client(base_url=url) as bare:
            model = client.train(epochs=500)
            one = [[0.5, -0.5]]
            many = np.random.default_rng(0).uniform(-2, 2, size=(10_000, 2))
            path = f"/models/{model.id}/predict"
            print(f"predictions against {url} ({rounds} rounds of {seconds:g} s, medians)")
            compare(
                "one point",
                lambda: client.predict(model.id, one),
                lambda: bare.post(path, json={"points": one}).raise_for_status().json(),
                rounds,
                seconds,
            )
            compare(
                "10,000 points (a NumPy array)",
                lambda: client.predict(model.id, many),
                lambda: bare.post(path, json={"points": many.tolist()}).raise_for_status().json(),
                rounds,
                seconds,
            )
        script = Path(sys.executable).with_name("planenet")
        arguments = ["models", "--limit", "1", "--url", url]
        full = command_seconds([str(script), *arguments], repeats)
        alone = command_seconds([sys.executable, "-c", CLIENT_ONLY_COMMAND, *arguments], repeats)
        print(f"client command wall time (median of {repeats})")
        print(f"  planenet models (console script)   {full:6.2f} s")
        print(f"  the same from planenet._cli alone  {alone:6.2f} s   ratio {full / alone:5.2f}")


if __name__ == "__main__":
    main()
