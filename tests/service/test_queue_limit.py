"""The queue limit: past PLANENET_MAX_QUEUED_JOBS, POST /jobs is 429 with Retry-After."""

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from service.domain.errors import QueueFull
from service.domain.jobs import QUEUE_RETRY_AFTER_SECONDS, QueueLimit
from service.domain.training import JobConfig
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import make_settings, serve
from tests.helpers.databases import on_every_database
from tests.helpers.problems import assert_problem

pytest_generate_tests = on_every_database

LIMIT = QueueLimit(5, "PLANENET_MAX_QUEUED_JOBS")


@pytest.mark.anyio
async def test_past_the_limit_a_job_is_refused_with_429_and_retry_after(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_queued_jobs=2)) as client:
        accepted = [await client.post("/jobs", json={}) for _ in range(2)]
        assert [response.status_code for response in accepted] == [202, 202]
        refused = await client.post("/jobs", json={})
        body = assert_problem(refused, 429, "queue-full")
        assert refused.headers["retry-after"] == str(QUEUE_RETRY_AFTER_SECONDS)
        assert "PLANENET_MAX_QUEUED_JOBS" in body["detail"]
        assert "2 jobs are already queued" in body["detail"]
        assert (await client.get("/jobs")).json()["total"] == 2
        # A job that leaves the queue makes room for one more.
        cancelled = await client.post(f"/jobs/{accepted[0].json()['id']}/cancel")
        assert cancelled.json()["status"] == "cancelled"
        assert (await client.post("/jobs", json={})).status_code == 202
        assert (await client.post("/jobs", json={})).status_code == 429


def test_the_limit_holds_for_processes_adding_jobs_at_once(database: Database) -> None:
    """Eight adders over their own engines (as separate processes would be) race for the last
    places: exactly the limit is queued, and every other attempt is refused."""
    engines = [Database(database.url) for _ in range(8)]
    start_together = threading.Barrier(len(engines), timeout=60)

    def add_jobs(own: Database) -> int:
        repository = Repository(own)
        start_together.wait()
        refused = 0
        for _ in range(3):
            try:
                repository.create_job(JobConfig(), queue_limit=LIMIT)
            except QueueFull:
                refused += 1
        return refused

    try:
        with ThreadPoolExecutor(max_workers=len(engines)) as pool:
            refusals = sum(pool.map(add_jobs, engines))
    finally:
        for own in engines:
            own.dispose()
    assert Repository(database).list_jobs(limit=100).total == LIMIT.jobs
    assert refusals == 8 * 3 - LIMIT.jobs


def test_only_queued_jobs_count(repository: Repository) -> None:
    for _ in range(LIMIT.jobs):
        repository.create_job(JobConfig(), queue_limit=LIMIT)
    with pytest.raises(QueueFull, match="PLANENET_MAX_QUEUED_JOBS"):
        repository.create_job(JobConfig(), queue_limit=LIMIT)
    assert repository.claim_next_job("tester:1") is not None
    repository.create_job(JobConfig(), queue_limit=LIMIT)
    assert repository.list_jobs(limit=100).total == LIMIT.jobs + 1
