"""The web page and its assets: served locally, plotly.js included, nothing from elsewhere."""

import json
import re
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from core.figures.style import CLASS_COLORS, TRAINING_LOSS_COLOR, VALIDATION_LOSS_COLOR
from service.routes.web import CONTENT_SECURITY_POLICY, STATIC_DIRECTORY, plotly_js_path
from tests.helpers.app import make_settings, serve
from tests.helpers.problems import assert_problem

pytestmark = pytest.mark.anyio

EXTERNAL_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
MODULE_IMPORT = re.compile(r"""\bfrom\s+["']\./([\w.-]+\.js)["']""")
TEXT_SUFFIXES = {".html", ".js", ".css"}


class ReferenceCollector(HTMLParser):
    """Collects every URL the page loads or links to (src and href attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[str] = []
        self.references: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.references.append(value)
                if tag == "script" and name == "src":
                    self.scripts.append(value)


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(make_settings(tmp_path)) as client:
        yield client


def url_of(path: Path) -> str:
    """Where the server publishes a file of service/static."""
    return "/" if path.name == "index.html" else f"/static/{path.name}"


async def test_page_is_html_and_loads_the_local_plotly_js(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    references = ReferenceCollector()
    references.feed(response.text)
    assert "/static/plotly.min.js" in references.scripts
    assert "/static/app.js" in references.scripts
    for reference in references.references:
        assert (await client.get(reference)).status_code == 200, reference


async def test_plotly_js_is_served_as_javascript_from_the_plotly_package(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == plotly_js_path().read_bytes()
    assert b"plotly.js" in response.content[:200]


async def test_page_and_its_scripts_reference_no_external_url(client: httpx.AsyncClient) -> None:
    own_files = [path for path in STATIC_DIRECTORY.iterdir() if path.suffix in TEXT_SUFFIXES]
    assert {path.suffix for path in own_files} == TEXT_SUFFIXES
    for path in own_files:
        text = (await client.get(url_of(path))).text
        assert EXTERNAL_URL.findall(text) == [], path.name


async def test_every_script_is_imported_and_served_as_javascript(client: httpx.AsyncClient) -> None:
    scripts = [path for path in STATIC_DIRECTORY.iterdir() if path.suffix == ".js"]
    imported = {
        name for path in scripts for name in MODULE_IMPORT.findall(path.read_text(encoding="utf-8"))
    }
    # Every script but the entry point is a module some other script imports: none is orphaned.
    # The palette is written by the server from the figures' colours.
    assert imported == ({path.name for path in scripts} - {"app.js"}) | {"palette.js"}
    for name in imported:
        response = await client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript")


async def test_the_pages_palette_is_the_figures_palette(client: httpx.AsyncClient) -> None:
    response = await client.get("/static/palette.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    declared = response.text.removeprefix("export const COLORS = ").strip().removesuffix(";")
    colors = json.loads(declared)
    assert (colors["class0"], colors["class1"]) == CLASS_COLORS
    assert (colors["loss"], colors["validation"]) == (TRAINING_LOSS_COLOR, VALIDATION_LOSS_COLOR)
    page_scripts = "".join(path.read_text() for path in STATIC_DIRECTORY.glob("*.js"))
    assert not re.search(r"#[0-9a-fA-F]{6}\b", page_scripts.replace("#212529", "")), (
        "a colour of the figures is written in the page's own scripts"
    )


async def test_page_may_only_load_from_its_own_origin(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/")).headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "script-src 'self'" in policy


async def test_static_assets_are_a_fixed_list(client: httpx.AsyncClient) -> None:
    for name in ("index.html", "..%2Fapp.py", "missing.js"):
        assert_problem(await client.get(f"/static/{name}"), 404)


async def test_every_static_file_is_served(client: httpx.AsyncClient) -> None:
    for path in STATIC_DIRECTORY.iterdir():
        response = await client.get(url_of(path))
        assert response.status_code == 200, path.name
        assert response.content == path.read_bytes()


async def test_page_labels_every_form_control(client: httpx.AsyncClient) -> None:
    html = (await client.get("/")).text
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    assert controls
    assert controls <= labelled
