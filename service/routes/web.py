"""The web page at ``/`` and its assets, plotly.js included, so the page works offline.

The page is plain HTML, CSS and JavaScript from ``service/static`` (no build step) and
uses only the public HTTP API. plotly.js is the copy the ``plotly`` Python package
carries, served by PlaneNet itself: the page never fetches anything from another host.
"""

import json
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from core.figures.style import CLASS_COLORS, TRAINING_LOSS_COLOR, VALIDATION_LOSS_COLOR
from service.domain.errors import NotFound

STATIC_DIRECTORY = Path(__file__).resolve().parent.parent / "static"
JAVASCRIPT = "text/javascript; charset=utf-8"

# The page may only load what PlaneNet serves; plotly.js adds inline styles and data: images.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # Revalidate on every load (the ETag makes that cheap), so an upgrade is seen at once.
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Asset:
    """A file the page loads, with its media type."""

    path: Path
    media_type: str


def plotly_js_path() -> Path:
    """Where the installed ``plotly`` package keeps its minified plotly.js bundle."""
    return Path(str(files("plotly").joinpath("package_data", "plotly.min.js")))


MEDIA_TYPES = {
    ".js": JAVASCRIPT,
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}


def _assets() -> dict[str, Asset]:
    """The page's own scripts, style and icon (listed once, at start-up), and plotly.js."""
    assets = {
        path.name: Asset(path, MEDIA_TYPES[path.suffix])
        for path in sorted(STATIC_DIRECTORY.iterdir())
        if path.suffix in MEDIA_TYPES
    }
    assets["plotly.min.js"] = Asset(plotly_js_path(), JAVASCRIPT)
    return assets


ASSETS = _assets()


@router.get("/")
def page() -> FileResponse:
    """The single-page interface: train, watch, inspect and query models."""
    return FileResponse(
        STATIC_DIRECTORY / "index.html", media_type="text/html; charset=utf-8", headers=PAGE_HEADERS
    )


PALETTE_MODULE = "export const COLORS = {};\n".format(
    json.dumps(
        {
            "class0": CLASS_COLORS[0],
            "class1": CLASS_COLORS[1],
            "loss": TRAINING_LOSS_COLOR,
            "validation": VALIDATION_LOSS_COLOR,
        }
    )
)
"""The page's colours as a JavaScript module, written from the palette the figures use."""


@router.get("/static/palette.js")
def palette() -> Response:
    """The figures' palette, for what the page draws itself (the live curve, a predicted point)."""
    return Response(PALETTE_MODULE, media_type=JAVASCRIPT, headers=PAGE_HEADERS)


@router.get("/static/{name}")
def asset(name: str) -> FileResponse:
    """One of the page's scripts or style sheets (a fixed list: no path reaches elsewhere)."""
    found = ASSETS.get(name)
    if found is None:
        raise NotFound("asset", name)
    return FileResponse(found.path, media_type=found.media_type, headers=PAGE_HEADERS)
