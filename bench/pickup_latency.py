"""Benchmark: how soon after a job is queued on one host does an idle worker on another start it?

Run with ``python -m bench.pickup_latency`` (``--quick`` for fewer jobs). Starts a throwaway
PostgreSQL server, and one training worker in a process of its own (as ``planenet worker``
runs them) that is told nothing by the process queueing the jobs, as a worker on another host
would be. Jobs are queued one at a time straight into the store, each once the worker is
idle again and after a random pause (so the worker's poll is at a random phase). The
latency is the job's ``started_at`` minus its ``created_at``, both stamped by the database's
clock. It runs twice: workers woken by PostgreSQL's notifications, and workers that only
poll the store every second (as before notifications), and prints both and their ratio.
"""

import argparse
import random
import statistics
import time

from service.domain.jobs import JobStatus
from service.domain.records import JobRecord
from service.domain.training import JobConfig
from service.runner.local import POLL_SECONDS, LocalRunner
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.postgres import throwaway_postgres

WAIT_SECONDS = 60.0
QUICK_JOB = JobConfig(epochs=1)


def pickup_latencies(url: str, jobs: int, listen: bool) -> list[float]:
    """Seconds from queued to started of ``jobs`` jobs, one at a time, with one idle worker."""
    database = Database(url)
    repository = Repository(database)
    runner = LocalRunner(
        database_url=url,
        repository=Repository(Database(url)),
        workers=1,
        log_level="warning",
        interrupted_reason="stopped",
        listen=listen,
    )
    runner.start()
    latencies = []
    try:
        _finish(repository, repository.create_job(QUICK_JOB).id)  # the worker is up
        for _ in range(jobs):
            time.sleep(random.uniform(0.2, 0.2 + POLL_SECONDS))
            job = _finish(repository, repository.create_job(QUICK_JOB).id)
            assert job.started_at is not None
            latencies.append((job.started_at - job.created_at).total_seconds())
    finally:
        runner.stop()
        runner.repository.database.dispose()
        database.dispose()
    return latencies


def _finish(repository: Repository, job_id: str) -> JobRecord:
    deadline = time.monotonic() + WAIT_SECONDS
    while (job := repository.get_job(job_id)).status is not JobStatus.SUCCEEDED:
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} is still {job.status}")
        time.sleep(0.02)
    return job


def describe(label: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"  {label:<28}: median {statistics.median(ordered) * 1000:7.1f} ms, "
        f"p95 {p95 * 1000:7.1f} ms, max {ordered[-1] * 1000:7.1f} ms ({len(ordered)} jobs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="10 jobs per case instead of 40")
    arguments = parser.parse_args()
    jobs = 10 if arguments.quick else 40
    random.seed(13)
    with throwaway_postgres() as server:
        name = server.create_database()
        url = server.url(name)
        setup = Database(url)
        setup.upgrade_schema()
        setup.dispose()
        print("an idle worker in another process; jobs queued straight into PostgreSQL")
        notified = pickup_latencies(url, jobs, listen=True)
        polled = pickup_latencies(url, jobs, listen=False)
    print(describe("woken by NOTIFY", notified))
    print(describe(f"polling every {POLL_SECONDS:g} s", polled))
    ratio = statistics.median(polled) / statistics.median(notified)
    print(f"  median pickup with NOTIFY is {ratio:.0f}x sooner than polling")


if __name__ == "__main__":
    main()
