"""`planenet figure ... -o page.html` in headless Chromium with no network: the page draws."""

import subprocess
from pathlib import Path
from typing import Any

import pytest

import planenet
from tests.e2e.browser import browser_context, chromium_executable
from tests.helpers.server import ServerProcess, planenet_command

__all__ = ["browser_context", "chromium_executable"]

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

PAGE_TIMEOUT_MS = 60_000
DRAWN = """() => {
  const plot = document.querySelector(".plotly-graph-div");
  return Boolean(plot && plot.data && plot.data.some((trace) => trace.type === "contour")
    && plot.querySelector(".contour"));
}"""


def test_the_boundary_page_draws_offline(
    client_env: ServerProcess, model: planenet.Model, browser_context: Any, tmp_path: Path
) -> None:
    page_path = tmp_path / "boundary.html"
    subprocess.run(
        [*planenet_command(), "figure", model.id, "boundary", "-o", str(page_path)],
        check=True,
        timeout=60,
    )
    requested: list[str] = []

    def only_the_file(route: Any) -> None:
        requested.append(route.request.url)
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            route.abort()

    browser_context.route("**/*", only_the_file)
    page = browser_context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(page_path.as_uri())
    page.wait_for_function(DRAWN, timeout=PAGE_TIMEOUT_MS)
    assert errors == []
    assert requested == [page_path.as_uri()]
