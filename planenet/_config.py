"""Where the client finds the server and its key (arguments, else the environment), and timeouts."""

import os
from importlib.metadata import PackageNotFoundError, version

import httpx

URL_VARIABLE = "PLANENET_URL"
API_KEY_VARIABLE = "PLANENET_API_KEY"
DEFAULT_URL = "http://127.0.0.1:8000"
"""Where ``planenet serve`` listens when started without settings."""

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0)
"""Seconds to connect, and to wait for each read, write or free connection."""

STREAM_READ_TIMEOUT_SECONDS = 45.0
"""The least read timeout of an event stream: the server sends a heartbeat every 15 s while a
job waits, so a shorter one would cut a healthy stream."""


def resolve_url(url: str | None) -> str:
    """``url``, else ``$PLANENET_URL``, else the default, without a trailing slash."""
    chosen = url or os.environ.get(URL_VARIABLE) or DEFAULT_URL
    if "://" not in chosen:
        raise ValueError(f"the server URL must start with http:// or https://, not {chosen!r}")
    return chosen.rstrip("/")


def resolve_api_key(api_key: str | None) -> str | None:
    """``api_key``, else ``$PLANENET_API_KEY``, else None (a server without a key)."""
    return api_key or os.environ.get(API_KEY_VARIABLE) or None


def _client_version() -> str:
    try:
        return version("planenet")
    except PackageNotFoundError:
        return "unknown"


__version__ = _client_version()
USER_AGENT = f"planenet-python/{__version__}"


def request_headers(api_key: str | None) -> dict[str, str]:
    """The headers every request carries: who asks, and the API key if there is one."""
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


def make_timeout(timeout: float | httpx.Timeout | None) -> httpx.Timeout:
    """An ``httpx.Timeout`` from seconds (every phase), a Timeout, or None (wait for ever)."""
    return timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)


def stream_timeout(timeout: httpx.Timeout) -> httpx.Timeout:
    """``timeout`` with a read timeout long enough for an event stream's heartbeats."""
    read = timeout.read
    if read is not None:
        read = max(read, STREAM_READ_TIMEOUT_SECONDS)
    return httpx.Timeout(connect=timeout.connect, read=read, write=timeout.write, pool=timeout.pool)
