"""Fixtures for the service tests: settings on a temporary data dir, a store, and a running app."""

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from service.app import RunnerFactory, create_app, local_runner
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository
from tests.service.postgres import PostgresServer, throwaway_postgres

FINISHED = frozenset({"succeeded", "failed", "cancelled"})
WAIT_SECONDS = 60.0
POLL_SECONDS = 0.05
BASE_URL = "http://planenet.test"
DATABASE_BACKENDS = ("sqlite", "postgresql")

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


async def wait_for_job(
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


async def wait_for_progress(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """Poll until the job is running and has reported at least one epoch."""
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            job: dict[str, Any] = (await client.get(f"/jobs/{job_id}")).json()
            if job["status"] == "running" and job["progress"]["epoch"] > 0:
                return job
            assert job["status"] in {"queued", "running"}, job
            await anyio.sleep(POLL_SECONDS)


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """Check an RFC 9457 problem response; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if slug is not None:
        assert body["type"] == f"urn:planenet:problem:{slug}"
    assert "Traceback" not in response.text
    return body


def problem_fields(body: dict[str, Any]) -> set[str]:
    """The ``field`` of every entry of a validation problem's ``errors``."""
    return {error["field"] for error in body["errors"]}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server shared by the whole test session (started on first use)."""
    with throwaway_postgres() as server:
        yield server


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A store with the schema and no rows: SQLite, or a new PostgreSQL database when a test
    is parametrized with ``"postgresql"`` (see :func:`on_every_database`)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'store' / 'planenet.db'}")
        database.upgrade_schema()
        yield database
        database.dispose()
        return
    assert backend == "postgresql", backend
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    database = Database(server.url(name))
    try:
        database.upgrade_schema()
        yield database
    finally:
        database.dispose()
        server.drop_database(name)


def on_every_database(metafunc: pytest.Metafunc) -> None:
    """A ``pytest_generate_tests`` for the store's test modules: each test that uses the
    ``database`` fixture (itself or through ``repository``) runs on SQLite and on PostgreSQL."""
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", DATABASE_BACKENDS, indirect=True)


@pytest.fixture
def repository(database: Database) -> Repository:
    return Repository(database)
