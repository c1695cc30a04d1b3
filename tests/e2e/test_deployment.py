"""deploy/compose.yaml: a complete deployment, whose commands and settings the multi-host test
runs (tests/e2e/test_hosts.py), and which PlaneNet's own parser and settings accept."""

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from service.cli import build_parser
from service.domain.heartbeats import MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS
from service.settings import Settings, setting_env_name
from tests.helpers.deployment import (
    COMPOSE_FILE,
    OVERRIDDEN_SETTINGS,
    TEST_HEARTBEAT_TIMEOUT_SECONDS,
    compose,
    database_settings,
    role,
)
from tests.helpers.server import planenet_command

PASSWORD = "a-password"
TEST_URL = "postgresql+psycopg://planenet:secret@198.18.0.10:5432/test_1"


def resolved(value: str) -> str:
    """A value with the compose file's password variable filled in, as compose does."""
    return value.replace("${PLANENET_DB_PASSWORD:?set PLANENET_DB_PASSWORD}", PASSWORD)


def settings_of(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name, value in environment.items():
        monkeypatch.setenv(name, resolved(value))
    return Settings()


def test_the_deployment_has_its_database_api_and_worker_replicas() -> None:
    services: dict[str, Any] = compose()["services"]
    assert set(services) == {"db", "api", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert "db-data:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "db-data" in compose()["volumes"]
    for name in ("api", "worker"):
        build = services[name]["build"]
        assert (COMPOSE_FILE.parent / build["context"] / build["dockerfile"]).is_file()
        assert services[name]["image"] == services["api"]["image"]
        assert services[name]["depends_on"]["db"]["condition"] == "service_healthy"
        assert role(name).replicas >= 2
    for name, service in services.items():
        assert service["healthcheck"]["test"][0] == "CMD", name


def test_the_commands_are_planenets_own(monkeypatch: pytest.MonkeyPatch) -> None:
    api, worker = role("api"), role("worker")
    assert api.command[:2] == ["planenet", "serve"]
    assert worker.command[:2] == ["planenet", "worker"]
    parsed = vars(build_parser().parse_args(api.command[1:]))
    assert parsed["workers"] == "0", "API replicas train nothing: the workers do"
    build_parser().parse_args(worker.command[1:])
    for service in (api, worker):
        assert all(name.startswith("PLANENET_") for name in service.environment)
        known = {setting_env_name(field) for field in Settings.model_fields}
        assert set(service.environment) <= known
        settings = settings_of(service.environment, monkeypatch)
        url = make_url(settings.resolved_database_url)
        assert (url.get_backend_name(), url.host, url.password) == ("postgresql", "db", PASSWORD)
    shared = ("PLANENET_DATABASE_URL", "PLANENET_JOB_HEARTBEAT_TIMEOUT")
    assert {k: api.environment[k] for k in shared} == {k: worker.environment[k] for k in shared}


def test_the_multi_host_test_runs_the_deployments_commands_and_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only the program's path, the database's URL and the heartbeat timeout differ."""
    for name in ("api", "worker"):
        deployed = role(name)
        argv, environment = deployed.on_test_host(TEST_URL)
        assert argv == [*planenet_command(), *deployed.command[1:]]
        assert Path(argv[0]).name in {"planenet", Path(planenet_command()[0]).name}
        kept = set(deployed.environment) - OVERRIDDEN_SETTINGS
        assert {k: environment[k] for k in kept} == {k: deployed.environment[k] for k in kept}
        assert set(environment) == set(deployed.environment)
        assert environment["PLANENET_DATABASE_URL"] == TEST_URL
        settings = settings_of(environment, monkeypatch)
        assert settings.job_heartbeat_timeout == TEST_HEARTBEAT_TIMEOUT_SECONDS
    assert TEST_HEARTBEAT_TIMEOUT_SECONDS >= MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS
    assert database_settings()["idle_in_transaction_session_timeout"] == "10s"
