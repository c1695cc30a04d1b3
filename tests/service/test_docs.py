"""The API reference works offline: local assets only, under the page's security headers."""

import base64
import hashlib
import re
from pathlib import Path

import pytest

from service.routes.web import PAGE_HEADERS
from tests.helpers.app import make_settings, serve
from tests.helpers.problems import assert_problem

pytestmark = pytest.mark.anyio

EXTERNAL_URL = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_reference_loads_only_local_assets_under_the_page_headers(
    tmp_path: Path, path: str
) -> None:
    async with serve(make_settings(tmp_path)) as client:
        page = await client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert not EXTERNAL_URL.search(page.text), "the page names another host"
        for header in ("X-Content-Type-Options", "Referrer-Policy", "Cache-Control"):
            assert page.headers[header] == PAGE_HEADERS[header]
        policy = page.headers["content-security-policy"]
        assert "default-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert "unsafe-eval" not in policy
        assert "http" not in policy
        script_sources = policy.split("script-src", 1)[1].split(";", 1)[0]
        assert "unsafe-inline" not in script_sources
        # Every inline script is allowed by its hash, and nothing else inline is.
        for script in re.findall(r"<script>(.*?)</script>", page.text, re.DOTALL):
            digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
            assert f"'sha256-{digest}'" in script_sources
        assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
        assert assets
        for asset in assets:
            assert asset.startswith("/docs/assets/")
            answer = await client.get(asset)
            assert answer.status_code == 200, asset
            assert len(answer.content) > 1000
            assert answer.headers["x-content-type-options"] == "nosniff"


async def test_only_the_known_assets_are_served(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        for name in ("core.py", "..%2F__init__.py", "missing.js"):
            assert_problem(await client.get(f"/docs/assets/{name}"), 404)


async def test_no_asset_names_another_host(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        for name in ("swagger-ui-bundle.js", "redoc.standalone.js"):
            text = (await client.get(f"/docs/assets/{name}")).text
            assert "cdn.redoc.ly" not in text
            assert "cdn.jsdelivr" not in text
