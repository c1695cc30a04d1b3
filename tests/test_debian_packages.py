"""The apt-get helper refuses clearly when it cannot install, and runs apt-get when it can."""

import subprocess
from typing import Any

import pytest

from tests.helpers import debian_packages


def test_without_root_the_failure_says_what_to_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(pytest.fail.Exception, match="installing it needs root") as failure:
        debian_packages.apt_install("chromium", "Chromium is not installed")
    assert "apt-get install -y --no-install-recommends chromium" in str(failure.value)


def test_as_root_it_updates_then_installs_and_reports_a_failure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    commands: list[list[str]] = []

    def fake_run(command: list[str], **options: Any) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        failed = command[1] == "install"
        return subprocess.CompletedProcess(command, int(failed), "", "E: no such package")

    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: "/usr/bin/apt-get")
    monkeypatch.setattr("subprocess.run", fake_run)
    with pytest.raises(pytest.fail.Exception, match="no such package"):
        debian_packages.apt_install("postgresql", "PostgreSQL is not installed")
    assert commands == [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", "postgresql"],
    ]
