"""Headless Chromium for the browser tests: Debian's package, installed if missing, via Playwright.

Playwright for Python drives the system Chromium through ``executable_path``; its own
browser downloads are never used. Chromium runs with a fresh profile and with its
background networking off, so it reaches no host but the server under test.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.debian_packages import apt_install

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT_WIDTH = 1280
VIEWPORT_HEIGHT = 1000


def ensure_chromium() -> Path:
    """The Chromium executable, installed with apt-get first when it is missing (needs root)."""
    if CHROMIUM.exists():
        return CHROMIUM
    apt_install("chromium", f"Chromium is not installed at {CHROMIUM}")
    if not CHROMIUM.exists():
        pytest.fail(f"apt-get installed chromium, but {CHROMIUM} is still missing")
    return CHROMIUM


@pytest.fixture(scope="session")
def chromium_executable() -> Path:
    """Debian's Chromium, installed once per test session when missing."""
    return ensure_chromium()


@pytest.fixture
def browser_context(chromium_executable: Path, tmp_path: Path) -> Iterator[Any]:
    """A Playwright browser context on headless Chromium with a fresh user data directory."""
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 (only browser tests need it)

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=str(chromium_executable),
            headless=True,
            args=LAUNCH_ARGS,
            viewport={"width": VIEWPORT_WIDTH, "height": VIEWPORT_HEIGHT},
        )
        try:
            yield context
        finally:
            context.close()
