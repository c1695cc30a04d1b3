"""The API reference in headless Chromium: both viewers render offline, with no CSP violation."""

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.browser import browser_context, chromium_executable
from tests.helpers.server import ServerFactory

__all__ = ["browser_context", "chromium_executable"]

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGE_TIMEOUT_MS = 60_000


@pytest.mark.parametrize(
    ("path", "rendered"),
    [
        ("/docs", "#operations-jobs-createJob"),
        ("/redoc", "[data-section-id='tag/jobs']"),
    ],
)
def test_the_reference_renders_from_local_assets_only(
    planenet_server: ServerFactory, browser_context: Any, tmp_path: Path, path: str, rendered: str
) -> None:
    server = planenet_server(workers=0)
    page = browser_context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    foreign: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(server.base_url) or request.url.startswith(("data:", "blob:"))
            else foreign.append(request.url)
        ),
    )
    page.goto(server.base_url + path)
    page.wait_for_selector(rendered, timeout=PAGE_TIMEOUT_MS)
    assert not foreign, foreign
    assert not [text for text in problems if "Content Security Policy" in text], problems
