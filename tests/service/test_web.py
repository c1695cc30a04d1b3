"""The web page and its assets: served locally, plotly.js included, nothing from elsewhere."""

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.routes.web import STATIC_DIRECTORY, plotly_js_path
from service.runner import Runner, RunnerHealth
from service.settings import Settings
from service.store.repository import Repository

EXTERNAL_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.IGNORECASE)
MODULE_IMPORT = re.compile(r"""\bfrom\s+["']\./([\w.-]+\.js)["']""")
TEXT_SUFFIXES = {".html", ".js", ".css"}


class IdleRunner:
    """A runner without workers: these tests start no training."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def submit(self, job_id: str) -> None: ...
    def cancel(self, job_id: str) -> None: ...
    def health(self) -> RunnerHealth:
        return RunnerHealth(expected=0, alive=0)


def idle_runner(_settings: Settings, _repository: Repository) -> Runner:
    return IdleRunner()


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
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(data_dir=tmp_path, workers=0), runner_factory=idle_runner)
    with TestClient(app) as test_client:
        yield test_client


def page_references(client: TestClient) -> ReferenceCollector:
    response = client.get("/")
    assert response.status_code == 200
    collector = ReferenceCollector()
    collector.feed(response.text)
    return collector


def test_page_is_html_and_loads_the_local_plotly_js(client: TestClient) -> None:
    response = client.get("/")
    assert response.headers["content-type"].startswith("text/html")
    references = page_references(client)
    assert "/static/plotly.min.js" in references.scripts
    assert "/static/app.js" in references.scripts
    for reference in references.references:
        assert client.get(reference).status_code == 200, reference


def test_plotly_js_is_served_as_javascript_from_the_plotly_package(client: TestClient) -> None:
    response = client.get("/static/plotly.min.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == plotly_js_path().read_bytes()
    assert b"plotly.js" in response.content[:200]


def test_page_and_its_scripts_reference_no_external_url(client: TestClient) -> None:
    own_files = [path for path in STATIC_DIRECTORY.iterdir() if path.suffix in TEXT_SUFFIXES]
    assert {path.suffix for path in own_files} == TEXT_SUFFIXES
    for path in own_files:
        url = "/" if path.name == "index.html" else f"/static/{path.name}"
        assert EXTERNAL_URL.findall(client.get(url).text) == [], path.name


def test_every_module_the_scripts_import_is_served(client: TestClient) -> None:
    scripts = [path for path in STATIC_DIRECTORY.iterdir() if path.suffix == ".js"]
    imported = {
        name for path in scripts for name in MODULE_IMPORT.findall(path.read_text(encoding="utf-8"))
    }
    assert "api.js" in imported
    for name in imported:
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith("text/javascript")


def test_page_may_only_load_from_its_own_origin(client: TestClient) -> None:
    policy = client.get("/").headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "connect-src 'self'" in policy
    assert "script-src 'self'" in policy


def test_static_assets_are_a_fixed_list(client: TestClient) -> None:
    for name in ("index.html", "..%2Fapp.py", "missing.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_every_static_file_is_served(client: TestClient) -> None:
    for path in STATIC_DIRECTORY.iterdir():
        url = "/" if path.name == "index.html" else f"/static/{path.name}"
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.content == path.read_bytes()


def test_page_labels_every_form_control(client: TestClient) -> None:
    html = client.get("/").text
    labelled = set(re.findall(r'<label for="([^"]+)"', html))
    controls = set(re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', html))
    assert controls
    assert controls <= labelled
