"""The API reference at ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with local assets.

The scripts and styles are the copies the ``fastapi-offline`` package ships, served by
PlaneNet itself, so the reference works offline and under a content security policy as
strict as the page's: scripts only from here (plus Swagger UI's one inline start-up script,
allowed by its hash), no other host reached.
"""

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from service.domain.errors import NotFound
from service.routes.web import PAGE_HEADERS

OPENAPI_URL = "/openapi.json"
ASSETS_PREFIX = "/docs/assets/"
ASSET_DIRECTORY = Path(str(files("fastapi_offline") / "static"))
ASSET_MEDIA_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
TITLE = "PlaneNet API"
REDOC_SCRIPT = "redoc.standalone.js"
REDOC_REMOTE_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
"""ReDoc's one remote URL (a logo in its footer); it is served with a local image instead."""

_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

router = APIRouter(include_in_schema=False)


def _script_hashes(html: str) -> str:
    """The CSP sources of the page's inline scripts: ``'sha256-...'`` of each."""
    return " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    )


def _headers(html: str) -> dict[str, str]:
    """The page's security headers, its policy widened only for what these viewers need:
    the inline start-up script (by hash) and ReDoc's web worker."""
    policy = (
        f"default-src 'self'; script-src 'self' {_script_hashes(html)}; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
        "font-src 'self' data:; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )
    return {**PAGE_HEADERS, "Content-Security-Policy": policy}


SWAGGER_HTML = bytes(
    get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=TITLE,
        swagger_js_url=ASSETS_PREFIX + "swagger-ui-bundle.js",
        swagger_css_url=ASSETS_PREFIX + "swagger-ui.css",
        swagger_favicon_url=ASSETS_PREFIX + "favicon.png",
    ).body
).decode()
REDOC_HTML = bytes(
    get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=TITLE,
        redoc_js_url=ASSETS_PREFIX + "redoc.standalone.js",
        redoc_favicon_url=ASSETS_PREFIX + "favicon.png",
        with_google_fonts=False,
    ).body
).decode()


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    return HTMLResponse(SWAGGER_HTML, headers=_headers(SWAGGER_HTML))


@router.get("/redoc")
def redoc() -> HTMLResponse:
    return HTMLResponse(REDOC_HTML, headers=_headers(REDOC_HTML))


REDOC_SCRIPT_BYTES = (
    (ASSET_DIRECTORY / REDOC_SCRIPT)
    .read_bytes()
    .replace(REDOC_REMOTE_LOGO, (ASSETS_PREFIX + "favicon.png").encode())
)


@router.get(ASSETS_PREFIX + "{name}")
def docs_asset(name: str) -> Response:
    """One of the viewers' files (a fixed list: no path reaches elsewhere)."""
    media_type = ASSET_MEDIA_TYPES.get(name)
    if media_type is None:
        raise NotFound("asset", name)
    if name == REDOC_SCRIPT:
        return Response(REDOC_SCRIPT_BYTES, media_type=media_type, headers=PAGE_HEADERS)
    return FileResponse(ASSET_DIRECTORY / name, media_type=media_type, headers=PAGE_HEADERS)
