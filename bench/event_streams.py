"""Benchmark: does /healthz stay fast with 1,000 event streams open on 1,000 different jobs?

Run with ``python -m bench.event_streams`` (``--streams N`` to change the count). Starts a
real ``planenet serve`` (no training workers, so the jobs stay queued and their streams stay
open), creates the jobs directly in its store, measures ``/healthz`` from its own connection
with no stream open, then opens the streams with httpx from one event loop in a thread and
measures ``/healthz`` again. Prints the p50 and p95 of each case and their ratio.
"""

import argparse
import asyncio
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.server import running_server
from tests.helpers.store import job_config

SAMPLES = 200
OPEN_SECONDS = 120.0


def create_jobs(data_dir: Path, count: int) -> list[str]:
    """``count`` queued jobs written straight into the server's store."""
    database = Database(f"sqlite:///{data_dir / 'planenet.db'}")
    try:
        repository = Repository(database)
        return [repository.create_job(job_config({"epochs": 10})).id for _ in range(count)]
    finally:
        database.dispose()


def health_latencies(base_url: str) -> list[float]:
    """Milliseconds of ``SAMPLES`` sequential ``GET /healthz`` on one keep-alive connection."""
    latencies = []
    with httpx.Client(base_url=base_url, timeout=30.0) as client:
        client.get("/healthz")
        for _ in range(SAMPLES):
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


class OpenStreams:
    """Event streams held open by one event loop in a thread until :meth:`close`."""

    def __init__(self, base_url: str, job_ids: list[str]) -> None:
        self.base_url = base_url
        self.job_ids = job_ids
        self.opened = 0
        self.refused = 0
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self._run(),))

    def __enter__(self) -> "OpenStreams":
        self.thread.start()
        assert self.ready.wait(OPEN_SECONDS), "the streams did not open in time"
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(OPEN_SECONDS)

    async def _run(self) -> None:
        self.stop = asyncio.Event()
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        timeout = httpx.Timeout(OPEN_SECONDS)
        async with httpx.AsyncClient(base_url=self.base_url, limits=limits, timeout=timeout) as c:
            tasks = [asyncio.create_task(self._hold(c, job_id)) for job_id in self.job_ids]
            while self.opened + self.refused < len(self.job_ids):
                await asyncio.sleep(0.05)
            self.ready.set()
            await self.stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _hold(self, client: httpx.AsyncClient, job_id: str) -> None:
        async with client.stream("GET", f"/jobs/{job_id}/events") as response:
            if response.status_code != 200:
                self.refused += 1
                return
            lines = response.aiter_lines()
            await anext(lines)  # the retry field: the stream is open
            self.opened += 1
            async for _line in lines:
                pass


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.95)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--streams", type=int, default=1000)
    arguments = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8192)), hard))
    count = arguments.streams
    flags = ["--max-event-streams", str(count), "--max-queued-jobs", str(count)]
    with (
        tempfile.TemporaryDirectory() as data_dir,
        running_server(Path(data_dir), 0, flags) as server,
    ):
        job_ids = create_jobs(Path(data_dir), count)
        print(f"planenet serve at {server.base_url}, {count} queued jobs, no training workers")
        idle_p50, idle_p95 = summary(health_latencies(server.base_url))
        with OpenStreams(server.base_url, job_ids) as streams:
            time.sleep(2.0)  # let the poller settle into its rhythm
            busy_p50, busy_p95 = summary(health_latencies(server.base_url))
            opened, refused = streams.opened, streams.refused
        print(
            f"  streams open            : {opened} on {opened} different jobs ({refused} refused)"
        )
        print(f"  /healthz, no stream     : p50 {idle_p50:6.2f} ms   p95 {idle_p95:6.2f} ms")
        print(f"  /healthz, {opened:4d} streams : p50 {busy_p50:6.2f} ms   p95 {busy_p95:6.2f} ms")
        print(
            f"  p50 ratio               : {busy_p50 / idle_p50:6.2f}x (the goal: p50 under 20 ms)"
        )


if __name__ == "__main__":
    main()
