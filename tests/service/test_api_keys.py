"""API keys: mistakes refused at start-up with what to fix, several keys for rotation."""

import logging
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from service.server_commands import warn_if_open_to_the_network
from service.settings import Settings
from tests.helpers.app import make_settings, serve
from tests.helpers.problems import assert_problem

pytestmark = pytest.mark.anyio


def planenet_serve(
    tmp_path: Path, *flags: str, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    """``planenet serve`` with ``env`` as its only PLANENET_* variables; it must stop at once."""
    environment = {"PATH": "/usr/bin:/bin", **env}
    return subprocess.run(
        [sys.executable, "-m", "service", "serve", "--data-dir", str(tmp_path), *flags],
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("env", "fix"),
    [
        ({"PLANENET_API_KEY": ""}, "set a key, or unset PLANENET_API_KEY"),
        ({"PLANENET_API_KEY": "sesame\n"}, "remove the spaces or line breaks around it"),
        ({"PLANENET_API_KEY": " sesame"}, "remove the spaces or line breaks around it"),
        ({"PLANENET_API_KEY": "old,,new"}, "remove the stray comma"),
        ({"PLANENET_PROTECT_READS": "true"}, "set PLANENET_API_KEY, or unset"),
        ({"PLANENET_PROTECT_READS": "true", "PLANENET_API_KEY": ""}, "set a key"),
    ],
)
def test_the_server_refuses_to_start_on_a_key_mistake(
    tmp_path: Path, env: dict[str, str], fix: str
) -> None:
    completed = planenet_serve(tmp_path, env=env)
    assert completed.returncode == 2
    assert completed.stderr.startswith("planenet: invalid settings:")
    assert fix in completed.stderr
    assert "Traceback" not in completed.stderr
    assert "sesame" not in completed.stderr  # the key itself is never printed
    assert not (tmp_path / "planenet.db").exists()


def test_several_keys_are_accepted_at_once() -> None:
    assert Settings(api_key="old-key,new-key").api_keys == ("old-key", "new-key")
    assert Settings(api_key="only").api_keys == ("only",)
    assert Settings().api_keys == ()
    with pytest.raises(ValidationError, match="whitespace"):
        Settings(api_key="old-key, new-key")


async def test_any_configured_key_opens_state_changes_so_keys_rotate(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key="old-key,new-key")) as client:
        for key in ("old-key", "new-key"):
            answer = await client.post("/jobs", json={}, headers={"X-API-Key": key})
            assert answer.status_code == 202, answer.text
        for wrong in ("old-key,new-key", "new", "other"):
            refused = await client.post("/jobs", json={}, headers={"X-API-Key": wrong})
            assert_problem(refused, 401, "unauthorized")


@pytest.mark.parametrize(
    ("host", "key", "warned"),
    [
        ("0.0.0.0", None, True),
        ("192.168.1.7", None, True),
        ("0.0.0.0", "k", False),
        ("127.0.0.1", None, False),
        ("::1", None, False),
        ("localhost", None, False),
    ],
)
def test_listening_beyond_this_machine_without_a_key_logs_a_warning(
    caplog: pytest.LogCaptureFixture, host: str, key: str | None, warned: bool
) -> None:
    with caplog.at_level(logging.WARNING, logger="planenet.server"):
        warn_if_open_to_the_network(Settings(host=host, api_key=key))
    warnings = [record.getMessage() for record in caplog.records]
    assert bool(warnings) is warned
    if warned:
        assert host in warnings[0]
        assert "PLANENET_API_KEY" in warnings[0]


async def test_an_invalid_credential_beside_a_valid_one_is_refused(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key="right", protect_reads=True)) as client:
        both_valid = {"X-API-Key": "right", "Authorization": "Bearer right"}
        assert (await client.get("/jobs", headers=both_valid)).status_code == 200
        for headers in (
            {"X-API-Key": "right", "Authorization": "Bearer wrong"},
            {"X-API-Key": "wrong", "Authorization": "Bearer right"},
            {"X-API-Key": "right", "Authorization": "Basic cmlnaHQ6"},
            {"X-API-Key": "right", "Authorization": "right"},
            {"X-API-Key": "right", "Authorization": ""},
        ):
            assert_problem(await client.get("/jobs", headers=headers), 401, "unauthorized")
