"""Installing a Debian package a test session needs (Chromium, PostgreSQL) when it is missing."""

import os
import shutil
import subprocess

import pytest

APT_SECONDS = 900


def apt_install(package: str, what: str) -> None:
    """Install ``package`` with apt-get (needs root); fail the test clearly when that cannot be.

    ``what`` says what is missing, for the failure message, e.g. "Chromium is not installed
    at /usr/bin/chromium".
    """
    command_hint = f"apt-get update && apt-get install -y --no-install-recommends {package}"
    if os.geteuid() != 0:
        pytest.fail(f"{what}, and installing it needs root: run `{command_hint}` as root")
    if shutil.which("apt-get") is None:
        pytest.fail(f"{what}, and there is no apt-get to install it")
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends", package],
    ):
        result = subprocess.run(
            command,
            check=False,
            env=environment,
            capture_output=True,
            text=True,
            timeout=APT_SECONDS,
        )
        if result.returncode != 0:
            output = result.stdout[-2000:] + result.stderr[-2000:]
            pytest.fail(f"`{' '.join(command)}` failed:\n{output}")
