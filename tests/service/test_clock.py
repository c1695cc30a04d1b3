"""One clock: job times are the database's, so a host whose clock is off changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from service.domain.jobs import JobStatus
from service.domain.training import JobConfig
from service.store import jobs, tables
from service.store.clock import db_now, db_seconds_ago
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.databases import on_every_database

pytest_generate_tests = on_every_database

A_WRONG_HOST_CLOCK = datetime(1999, 12, 31, 23, 59, tzinfo=UTC)


def database_time(database: Database) -> datetime:
    with database.reading() as session:
        now = session.scalar(select(db_now()))
    assert isinstance(now, datetime)
    return now


def test_job_times_and_the_timeout_follow_the_database_not_the_host(
    database: Database, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs, "utc_now", lambda: A_WRONG_HOST_CLOCK)
    monkeypatch.setattr(tables, "utc_now", lambda: A_WRONG_HOST_CLOCK)
    before = database_time(database)
    job = repository.create_job(JobConfig())
    claimed = repository.claim_next_job("elsewhere:1")
    assert claimed is not None
    assert repository.heartbeat(job.id, claimed.lease)
    stored = repository.get_job(job.id)
    after = database_time(database)
    for stamp in (stored.created_at, stored.started_at, stored.progress_at):
        assert stamp is not None
        assert before - timedelta(seconds=1) <= stamp <= after + timedelta(seconds=1)
    # Judged by the database's clock, a job that just beat is not silent, however wrong the
    # host's clock; one whose beat is older than the timeout is.
    assert repository.fail_silent_jobs(60, "silent") == []
    assert repository.get_job(job.id).status is JobStatus.RUNNING
    with database.writing() as session:
        session.execute(
            update(tables.JobRow)
            .where(tables.JobRow.id == job.id)
            .values(progress_at=db_seconds_ago(61))
        )
    assert repository.fail_silent_jobs(60, "silent") == [job.id]
    finished = repository.get_job(job.id)
    assert finished.finished_at is not None
    assert finished.finished_at >= before - timedelta(seconds=1)
