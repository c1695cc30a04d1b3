"""Training in real worker processes: success, queueing, cancel, failures, crashes and recovery."""

import math
import os
import signal
from pathlib import Path
from typing import Any

import anyio
import numpy as np
import pytest

from core.generators import generate
from core.training import Metrics
from service.app import INTERRUPTED_REASON, create_app
from service.domain.jobs import JobStatus
from service.runner.job import run_job
from service.runner.local import LocalRunner
from service.runner.worker import WORKER_NICENESS
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import LONG_JOB, QUICK_JOB, await_job, await_progress, make_settings, serve
from tests.helpers.problems import assert_problem
from tests.helpers.store import job_config, local_pid, model_artifacts

pytestmark = pytest.mark.anyio

# The stored configuration of QUICK_JOB, as the API writes it.
QUICK_CONFIG = job_config(QUICK_JOB)


def open_repository(settings: Settings) -> tuple[Database, Repository]:
    database = Database(settings.resolved_database_url)
    return database, Repository(database)


async def test_a_job_trains_to_a_stored_model(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, workers=1)
    async with serve(settings) as client:
        submitted = await client.post("/jobs", json={**QUICK_JOB, "name": "quick"})
        job = await await_job(client, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    assert job["error"] is None
    assert job["progress"]["epoch"] == 300
    assert job["progress"]["fraction"] == 1.0
    assert job["progress"]["eta_seconds"] == 0.0
    assert job["progress"]["loss"] > 0
    assert job["started_at"] <= job["finished_at"]
    database, repository = open_repository(settings)
    try:
        model = repository.get_model(job["model_id"])
        # The job's final loss is the trained network's, as the model's metrics give it.
        assert job["progress"]["loss"] == model.metrics.train_loss
        assert (model.job_id, model.name) == (job["id"], "quick")
        assert model.config.model_dump(mode="json") == job["config"]
        assert model.metrics.train_accuracy == 1.0
        assert model.metrics.epochs_run == 300
        assert model.metrics.train_seconds > 0
        assert model.metrics.validation_accuracy is None
        _, artifacts = model_artifacts(repository, model.id)
        tutorial_data = generate("blobs", 200, 0.2, 42)
        assert np.array_equal(artifacts.train_set.points, tutorial_data.points)
        assert artifacts.loss_history.loss.shape == (300,)
        history = repository.job_loss_history(job["id"])
        assert history is not None
        assert np.array_equal(history.loss, artifacts.loss_history.loss)
    finally:
        database.dispose()


async def test_validation_split_and_given_points_reach_the_metrics(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    points = np.concatenate([rng.normal(1.0, 0.2, (20, 2)), rng.normal(-1.0, 0.2, (20, 2))])
    body: dict[str, Any] = {
        **QUICK_JOB,
        "data": {"points": points.tolist(), "labels": [0] * 20 + [1] * 20},
        "validation_fraction": 0.25,
    }
    settings = make_settings(tmp_path, workers=1)
    async with serve(settings) as client:
        job = await await_job(client, (await client.post("/jobs", json=body)).json()["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"]["validation_loss"] is not None
    database, repository = open_repository(settings)
    try:
        model = repository.get_model(job["model_id"])
        assert model.metrics.validation_accuracy == 1.0
        assert (model.metrics.validation_loss or 0.0) > 0
        _, artifacts = model_artifacts(repository, model.id)
        assert artifacts.validation_set is not None
        assert (len(artifacts.train_set), len(artifacts.validation_set)) == (30, 10)
        assert artifacts.loss_history.validation_loss is not None
    finally:
        database.dispose()


async def test_jobs_beyond_the_workers_wait_queued_and_cancel_stops_a_running_one(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        long_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
        waiting_id = (await client.post("/jobs", json=QUICK_JOB)).json()["id"]
        running = await await_progress(client, long_id)
        assert running["progress"]["elapsed_seconds"] > 0
        assert running["progress"]["eta_seconds"] > 0
        assert 0 < running["progress"]["fraction"] < 1
        assert (await client.get(f"/jobs/{waiting_id}")).json()["status"] == "queued"
        listed = (await client.get("/jobs", params={"status": "running"})).json()
        assert [job["id"] for job in listed["items"]] == [long_id]

        response = await client.post(f"/jobs/{long_id}/cancel")
        assert response.status_code in {200, 202}
        assert response.json()["cancel_requested"]
        cancelled = await await_job(client, long_id)
        assert cancelled["status"] == "cancelled"
        assert cancelled["model_id"] is None
        assert 0 < cancelled["progress"]["epoch"] < LONG_JOB["epochs"]
        assert_problem(await client.post(f"/jobs/{long_id}/cancel"), 409, "wrong-state")
        # The stored curve reaches the last reported epoch, not just the last periodic save.
        database, repository = open_repository(make_settings(tmp_path))
        try:
            history = repository.job_loss_history(long_id)
        finally:
            database.dispose()
        assert history is not None
        assert len(history.loss) == cancelled["progress"]["epoch"]

        finished = await await_job(client, waiting_id)
        assert finished["status"] == "succeeded"


async def test_divergence_fails_the_job_with_a_clear_reason(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        body = {**QUICK_JOB, "learning_rate": 1e6}
        job = await await_job(client, (await client.post("/jobs", json=body)).json()["id"])
    assert job["status"] == "failed"
    assert "diverged" in job["error"]
    assert "smaller learning rate" in job["error"]
    assert job["model_id"] is None


def test_without_workers_submitted_jobs_leave_no_wake_tokens_behind(
    repository: Repository,
) -> None:
    def runner(workers: int) -> LocalRunner:
        return LocalRunner(
            database_url=repository.database.url,
            repository=repository,
            workers=workers,
            log_level="warning",
            interrupted_reason=INTERRUPTED_REASON,
        )

    # Neither runner is started: nobody reads the wake queue.
    idle, busy = runner(0), runner(2)
    for number in range(50):
        idle.submit(f"job-{number}")
        busy.submit(f"job-{number}")
    assert idle._wake.qsize() == 0
    assert busy._wake.qsize() == 2


async def test_a_crashed_worker_is_replaced_and_its_job_failed(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        long_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
        await await_progress(client, long_id)
        database, repository = open_repository(make_settings(tmp_path))
        try:
            worker = repository.get_job(long_id).worker
        finally:
            database.dispose()
        assert worker is not None
        worker_pid = local_pid(worker)
        assert worker_pid is not None
        os.kill(worker_pid, signal.SIGKILL)
        failed = await await_job(client, long_id)
        assert failed["status"] == "failed"
        assert "stopped unexpectedly" in failed["error"]
        next_job = await await_job(
            client, (await client.post("/jobs", json=QUICK_JOB)).json()["id"]
        )
        assert next_job["status"] == "succeeded"
        assert (await client.get("/readyz")).status_code == 200


async def test_workers_run_at_a_lower_cpu_priority_than_the_api(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, workers=1)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        runner = app.state.runner
        assert isinstance(runner, LocalRunner)
        (pid,) = runner.pids()
        expected = min(os.getpriority(os.PRIO_PROCESS, 0) + WORKER_NICENESS, 19)
        with anyio.fail_after(30):
            # The worker lowers its own priority as soon as its process has started.
            while os.getpriority(os.PRIO_PROCESS, pid) != expected:
                await anyio.sleep(0.05)


async def test_stopping_the_server_fails_the_running_job_as_interrupted(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, workers=1)
    async with serve(settings) as client:
        long_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
        await await_progress(client, long_id)
    database, repository = open_repository(settings)
    try:
        job = repository.get_job(long_id)
    finally:
        database.dispose()
    assert job.status is JobStatus.FAILED
    assert job.error == INTERRUPTED_REASON


def test_a_worker_that_lost_its_lease_writes_nothing(repository: Repository) -> None:
    job = repository.create_job(QUICK_CONFIG)
    claimed = repository.claim_next_job("stale:1")
    assert claimed is not None
    repository.fail_jobs_of_worker("stale:1", "taken away")
    assert run_job(repository, claimed) is None
    stored = repository.get_job(job.id)
    assert (stored.status, stored.error, stored.model_id) == (JobStatus.FAILED, "taken away", None)
    assert repository.list_models().total == 0
    fresh = repository.create_job(QUICK_CONFIG)
    claimed_fresh = repository.claim_next_job("fresh:1")
    assert claimed_fresh is not None
    assert run_job(repository, claimed_fresh) is JobStatus.SUCCEEDED
    assert repository.get_job(fresh.id).model_id is not None


def test_a_network_whose_final_loss_overflows_is_no_model(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = repository.create_job(QUICK_CONFIG)
    claimed = repository.claim_next_job("worker:1")
    assert claimed is not None
    monkeypatch.setattr(
        "service.runner.job.evaluate", lambda network, dataset: Metrics(math.inf, 0.5)
    )
    assert run_job(repository, claimed) is JobStatus.FAILED
    stored = repository.get_job(job.id)
    assert stored.model_id is None
    assert stored.error is not None
    assert "diverged" in stored.error
    assert repository.list_models().total == 0
