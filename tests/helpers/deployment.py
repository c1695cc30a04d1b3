"""The deployment in deploy/compose.yaml, read as the multi-host test runs it.

The test hosts run the compose file's own commands and environment, with only these
differences, each for a reason of the test's:
- ``planenet`` is the script installed beside this interpreter (no image is built);
- ``PLANENET_DATABASE_URL`` names the test's own PostgreSQL server (its address, password and
  database) instead of the ``db`` service;
- ``PLANENET_JOB_HEARTBEAT_TIMEOUT`` is the shortest PostgreSQL allows, so that a cut-off
  host's job is failed within the test's time.
The database server gets the compose file's ``-c`` settings.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from service.domain.heartbeats import MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS
from tests.helpers.server import planenet_command

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"
TEST_HEARTBEAT_TIMEOUT_SECONDS = MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS
OVERRIDDEN_SETTINGS = frozenset({"PLANENET_DATABASE_URL", "PLANENET_JOB_HEARTBEAT_TIMEOUT"})


def compose() -> dict[str, Any]:
    """The compose file, parsed (anchors and merge keys resolved)."""
    parsed: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text())
    return parsed


@dataclass(frozen=True)
class Role:
    """One service of the deployment: its command, its environment, how many replicas."""

    command: list[str]
    environment: dict[str, str]
    replicas: int

    def on_test_host(self, database_url: str) -> tuple[list[str], dict[str, str]]:
        """The command and environment a test host runs for this role."""
        program, *arguments = self.command
        assert program == "planenet", self.command
        environment = {
            **self.environment,
            "PLANENET_DATABASE_URL": database_url,
            "PLANENET_JOB_HEARTBEAT_TIMEOUT": f"{TEST_HEARTBEAT_TIMEOUT_SECONDS:g}",
        }
        return [*planenet_command(), *arguments], environment


def role(service: str) -> Role:
    """The ``api`` or ``worker`` service of the compose file."""
    spec = compose()["services"][service]
    environment = {name: str(value) for name, value in spec["environment"].items()}
    return Role(list(spec["command"]), environment, int(spec["deploy"]["replicas"]))


def database_settings() -> dict[str, str]:
    """The ``-c name=value`` settings the compose file starts PostgreSQL with."""
    command = compose()["services"]["db"]["command"]
    settings = {}
    for flag, setting in zip(command[1::2], command[2::2], strict=True):
        assert flag == "-c", command
        name, value = setting.split("=", 1)
        settings[name] = value
    return settings
