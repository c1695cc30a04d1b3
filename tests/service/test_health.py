"""Liveness, readiness, unknown routes, wrong methods, request ids and CORS."""

import json
import logging
from pathlib import Path

import pytest

from service.log import JsonFormatter
from service.runner import Runner, RunnerHealth
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import make_settings, serve
from tests.helpers.problems import assert_problem

pytestmark = pytest.mark.anyio


class DeadRunner:
    """A runner whose single worker is down."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def submit(self, job_id: str) -> None: ...
    def cancel(self, job_id: str) -> None: ...
    def health(self) -> RunnerHealth:
        return RunnerHealth(expected=1, alive=0)


def dead_runner(_settings: Settings, _repository: Repository) -> Runner:
    return DeadRunner()


class NoWorkersRunner(DeadRunner):
    """A runner that runs no workers here, and so is healthy."""

    def __init__(self, unreachable: Database) -> None:
        self.unreachable = unreachable

    def stop(self) -> None:
        self.unreachable.dispose()

    def health(self) -> RunnerHealth:
        return RunnerHealth(expected=0, alive=0)


def unreachable_store(settings: Settings, repository: Repository) -> Runner:
    """Point the app's repository at a database that cannot be opened (a directory)."""
    repository.database = Database(f"sqlite:///{settings.data_dir}")
    return NoWorkersRunner(repository.database)


async def test_healthz_and_readyz_answer_when_all_is_well(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json() == {"status": "ready", "workers_alive": 1, "workers_expected": 1}
        for path in ("/healthz", "/readyz"):
            probe = await client.head(path)
            assert (probe.status_code, probe.content) == (200, b"")


async def test_readyz_is_a_503_problem_when_workers_are_down(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path), dead_runner) as client:
        body = assert_problem(await client.get("/readyz"), 503, "not-ready")
        assert "0 of 1 training workers" in body["detail"]
        assert (await client.get("/healthz")).status_code == 200


async def test_readyz_is_a_503_problem_when_the_database_cannot_be_reached(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path), unreachable_store) as client:
        body = assert_problem(await client.get("/readyz"), 503, "not-ready")
        assert body["detail"] == "the database cannot be reached"
        assert "sqlite" not in body["detail"].lower()
        assert (await client.get("/healthz")).status_code == 200


async def test_unknown_route_is_a_404_problem(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        body = assert_problem(await client.get("/no/such/thing"), 404)
        assert body["detail"] == "there is no route /no/such/thing"


async def test_wrong_method_is_a_405_problem_listing_the_allowed_ones(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        response = await client.delete("/jobs")
        body = assert_problem(response, 405)
        assert "GET" in response.headers["allow"]
        assert "POST" in response.headers["allow"]
        assert body["detail"].startswith("DELETE is not allowed on /jobs")
        assert_problem(await client.put("/healthz"), 405)


async def test_every_response_carries_a_request_id_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="planenet.request")
    async with serve(make_settings(tmp_path)) as client:
        given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        generated = await client.get("/healthz")
    assert given.headers["x-request-id"] == "abc-123"
    assert len(generated.headers["x-request-id"]) == 32
    logged = [record for record in caplog.records if record.name == "planenet.request"]
    first = logged[0].__dict__
    assert (first["method"], first["path"], first["status"]) == ("GET", "/healthz", 200)
    assert first["request_id"] == "abc-123"
    assert first["duration_ms"] >= 0


def test_log_lines_are_json_objects() -> None:
    record = logging.LogRecord("planenet.request", logging.INFO, "", 0, "request", None, None)
    record.status = 200
    line = json.loads(JsonFormatter().format(record))
    assert (line["message"], line["status"], line["level"]) == ("request", 200, "info")


async def test_cors_allows_only_the_configured_origins(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cors_origins="https://plots.example, https://b.example")
    async with serve(settings) as client:
        preflight = await client.options(
            "/jobs",
            headers={
                "Origin": "https://plots.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "X-API-Key",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "https://plots.example"
        other = await client.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_openapi_documents_every_route_with_examples(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        schema = (await client.get("/openapi.json")).json()
        assert (await client.get("/docs")).status_code == 200
    assert {"/jobs", "/jobs/{job_id}", "/jobs/{job_id}/cancel", "/healthz", "/readyz"} <= set(
        schema["paths"]
    )
    bodies = [
        operation["requestBody"]["content"]["application/json"]
        for operations in schema["paths"].values()
        for operation in operations.values()
        if "requestBody" in operation
    ]
    assert len(bodies) >= 3
    for body in bodies:
        assert body.get("example") or body["schema"].get("examples"), body
    training = schema["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]
    assert training["schema"]["title"] == "TrainingRequest"
