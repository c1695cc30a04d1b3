"""Storage bounds: the queue's cap, deleting finished jobs (never their models), retention."""

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from service.domain.errors import QueueFull
from service.domain.jobs import JobStatus, QueueLimit
from service.retention import delete_old_jobs
from service.store.repository import Repository
from service.store.tables import JobRow, utc_now
from tests.helpers.app import make_settings, serve
from tests.helpers.databases import on_every_database
from tests.helpers.events import PlayedWorker
from tests.helpers.problems import assert_problem
from tests.helpers.store import job_config

pytestmark = pytest.mark.anyio
pytest_generate_tests = on_every_database


async def test_post_jobs_past_the_queue_cap_is_429_with_retry_after(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_queued_jobs=3)) as client:
        accepted = [await client.post("/jobs", json={}) for _ in range(3)]
        assert [answer.status_code for answer in accepted] == [202, 202, 202]
        refused = await client.post("/jobs", json={})
        problem = assert_problem(refused, 429, "queue-full")
        assert int(refused.headers["retry-after"]) > 0
        assert "PLANENET_MAX_QUEUED_JOBS" in problem["detail"]
        assert (await client.get("/jobs")).json()["total"] == 3
        # A place frees when a queued job leaves the queue.
        await client.post(f"/jobs/{accepted[0].json()['id']}/cancel")
        assert (await client.post("/jobs", json={})).status_code == 202


def test_the_queue_cap_holds_for_concurrent_inserts(repository: Repository) -> None:
    async def insert_many() -> list[bool]:
        def insert() -> bool:
            try:
                repository.create_job(
                    job_config(), queue_limit=QueueLimit(5, "PLANENET_MAX_QUEUED_JOBS")
                )
            except QueueFull:
                return False
            return True

        return list(await asyncio.gather(*(asyncio.to_thread(insert) for _ in range(20))))

    results = asyncio.run(insert_many())
    assert results.count(True) == 5
    assert repository.list_jobs(status=JobStatus.QUEUED).total == 5


async def test_delete_removes_a_finished_job_and_its_history_but_keeps_its_model(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    async with serve(settings) as client:
        repository: Repository = client._transport.app.state.repository  # type: ignore[attr-defined]
        worker = PlayedWorker(repository)
        worker.claim()
        worker.report(50)
        queued_id = (await client.post("/jobs", json={})).json()["id"]
        assert_problem(await client.delete(f"/jobs/{queued_id}"), 409, "wrong-state")
        assert_problem(await client.delete(f"/jobs/{worker.job_id}"), 409, "wrong-state")
        model_id = worker.succeed()
        deleted = await client.delete(f"/jobs/{worker.job_id}")
        assert deleted.status_code == 204
        assert_problem(await client.get(f"/jobs/{worker.job_id}"), 404, "not-found")
        assert_problem(await client.get(f"/jobs/{worker.job_id}/figures/loss"), 404)
        assert_problem(await client.delete(f"/jobs/{worker.job_id}"), 404, "not-found")
        model = await client.get(f"/models/{model_id}")
        assert model.status_code == 200
        assert repository.get_model(model_id).id == model_id
        assert (await client.get(f"/jobs/{queued_id}")).status_code == 200


async def test_a_delete_needs_the_key_when_one_is_set(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key="k")) as client:
        job_id = (await client.post("/jobs", json={}, headers={"X-API-Key": "k"})).json()["id"]
        assert_problem(await client.delete(f"/jobs/{job_id}"), 401, "unauthorized")


async def test_retention_deletes_only_jobs_finished_before_the_cutoff(
    repository: Repository,
) -> None:
    old, recent = PlayedWorker(repository), PlayedWorker(repository)
    old.claim()
    old_model = old.succeed()
    recent.claim()
    recent.finish(JobStatus.FAILED, "boom")
    queued = repository.create_job(job_config())
    with repository.database.writing() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == old.job_id)
            .values(finished_at=utc_now() - timedelta(days=10))
        )
        # A queued job, however old, is never deleted.
        session.execute(
            update(JobRow)
            .where(JobRow.id == queued.id)
            .values(created_at=utc_now() - timedelta(days=30))
        )
    assert await delete_old_jobs(repository, days=7) == 1
    remaining = {job.id for job in repository.list_jobs(limit=10).items}
    assert remaining == {recent.job_id, queued.id}
    assert repository.get_model(old_model).id == old_model
    assert await delete_old_jobs(repository, days=7) == 0


async def test_the_server_runs_retention_itself(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, job_retention_days=1)
    async with serve(settings) as client:
        repository: Repository = client._transport.app.state.repository  # type: ignore[attr-defined]
        worker = PlayedWorker(repository)
        worker.claim()
        worker.finish(JobStatus.CANCELLED)
    with repository.database.writing() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == worker.job_id)
            .values(finished_at=utc_now() - timedelta(days=2))
        )
    async with serve(settings) as client:  # a start runs it at once
        for _ in range(100):
            if (await client.get(f"/jobs/{worker.job_id}")).status_code == 404:
                break
            await asyncio.sleep(0.05)
        assert_problem(await client.get(f"/jobs/{worker.job_id}"), 404, "not-found")


async def test_every_json_response_says_nosniff(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        for answer in (
            await client.get("/healthz"),
            await client.get("/jobs"),
            await client.get("/openapi.json"),
            await client.get("/jobs/unknown"),
            await client.post("/jobs", content=b"{", headers={"content-type": "application/json"}),
            await client.get("/"),
        ):
            assert answer.headers["x-content-type-options"] == "nosniff", answer.request.url
            assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
