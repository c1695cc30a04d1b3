"""The app in-process: settings on a temporary data dir, its lifespan run, an httpx client to it."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx

from service.app import RunnerFactory, create_app, local_runner
from service.settings import Settings

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05
BASE_URL = "http://planenet.test"

# A quick version of the tutorial's training, for tests that only need some model.
QUICK_JOB: dict[str, Any] = {"epochs": 300}
# Long enough to still be running when a test acts on it (cancelled or failed by the test).
LONG_JOB: dict[str, Any] = {"epochs": 100_000, "data": {"n_samples": 2000}}


def make_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings on ``data_dir`` with no workers and quiet logs unless overridden."""
    values: dict[str, Any] = {"data_dir": data_dir, "workers": 0, "log_level": "warning"}
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def serve(
    settings: Settings, runner_factory: RunnerFactory = local_runner
) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan (store, recovery, workers) and yield an httpx client to it."""
    app = create_app(settings, runner_factory)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            yield client


async def await_job(
    client: httpx.AsyncClient, job_id: str, statuses: frozenset[str] = FINISHED
) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until its status is one of ``statuses``; return the job."""
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            response = await client.get(f"/jobs/{job_id}")
            assert response.status_code == 200, response.text
            job: dict[str, Any] = response.json()
            if job["status"] in statuses:
                return job
            await anyio.sleep(POLL_SECONDS)


async def await_progress(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """Poll until the job is running and has reported at least one epoch."""
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            job: dict[str, Any] = (await client.get(f"/jobs/{job_id}")).json()
            if job["status"] == "running" and job["progress"]["epoch"] > 0:
                return job
            assert job["status"] in {"queued", "running"}, job
            await anyio.sleep(POLL_SECONDS)
