"""Prompt pickup: on PostgreSQL a job queued by any process wakes idle workers, not their poll."""

import multiprocessing
import multiprocessing.queues
import time
from collections.abc import Iterator

import pytest

from service.domain.jobs import JobStatus
from service.runner.local import LocalRunner
from service.runner.wakeup import QueueWakeup, libpq_url, wakeup_for
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.postgres import PostgresServer
from tests.helpers.store import job_config

NEVER_POLL_SECONDS = 3600.0
WAIT_SECONDS = 60.0
QUICK = job_config({"epochs": 50})


@pytest.fixture
def postgres_database(postgres_server: PostgresServer) -> Iterator[Database]:
    name = postgres_server.create_database()
    database = Database(postgres_server.url(name))
    try:
        database.upgrade_schema()
        yield database
    finally:
        database.dispose()
        postgres_server.drop_database(name)


def await_status(repository: Repository, job_id: str, status: JobStatus) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while repository.get_job(job_id).status is not status:
        assert time.monotonic() < deadline, repository.get_job(job_id)
        time.sleep(0.05)


def test_a_job_queued_elsewhere_wakes_a_worker_that_would_not_poll_for_an_hour(
    postgres_database: Database,
) -> None:
    """The worker polls once an hour, and the jobs are queued straight into the store by
    another engine (as an API process on another host would), never handed to this runner:
    only the database's notification can wake it."""
    runner_database = Database(postgres_database.url)
    runner = LocalRunner(
        database_url=runner_database.url,
        repository=Repository(runner_database),
        workers=1,
        log_level="warning",
        interrupted_reason="stopped",
        poll_seconds=NEVER_POLL_SECONDS,
    )
    elsewhere = Repository(postgres_database)
    runner.start()
    try:
        first = elsewhere.create_job(QUICK)
        await_status(elsewhere, first.id, JobStatus.SUCCEEDED)
        time.sleep(0.5)  # the worker is back to waiting, with an hour before its next poll
        second = elsewhere.create_job(QUICK)
        await_status(elsewhere, second.id, JobStatus.SUCCEEDED)
    finally:
        runner.stop()
        runner_database.dispose()


def test_the_listening_url_is_libpqs_and_sqlite_keeps_the_local_tokens() -> None:
    where = "planenet:s%40cret@db.example:5433/planenet?sslmode=require"
    assert libpq_url(f"postgresql+psycopg://{where}") == f"postgresql://{where}"
    tokens: multiprocessing.queues.Queue[str | None] = multiprocessing.get_context("spawn").Queue()
    try:
        assert isinstance(wakeup_for("sqlite:///data/planenet.db", tokens), QueueWakeup)
    finally:
        tokens.close()
