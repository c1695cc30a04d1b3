"""The commands that run the server: `planenet serve` and `planenet worker`.

service/cli.py parses the command line and imports this module only for these commands
(`planenet db ...` runs from service/db_commands.py).
"""

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from service import db_commands
from service.api_processes import serve_api_processes
from service.app import served_app
from service.http.server import (
    GRACEFUL_SHUTDOWN_SECONDS,
    AnnouncingServer,
    guarded_protocol,
    is_loopback,
)
from service.log import configure_logging
from service.runner.standalone import run_worker_pool
from service.settings import Settings


def server_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options, the same for one API process and for several (``--http-workers``)."""
    return {
        "access_log": False,
        "server_header": False,
        "timeout_graceful_shutdown": GRACEFUL_SHUTDOWN_SECONDS,
        "limit_concurrency": settings.max_connections,
    }


def _ignore_signal(_signal: int, _frame: FrameType | None) -> None:
    """Handler of the stop signals once uvicorn has handled them."""


def _schema_ready(settings: Settings) -> bool:
    """Upgrade the schema (or check it, with auto_migrate off); False, said why, if it fails."""
    failure = db_commands.prepare_schema(settings)
    if failure is not None:
        print(f"planenet: {failure}", file=sys.stderr)
    return failure is None


def serve(settings: Settings) -> int:
    """``planenet serve``: the HTTP API and its training workers, until SIGINT or SIGTERM."""
    configure_logging(settings.log_level)
    if not _schema_ready(settings):
        return 1
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal under the
    # handlers it found; quiet ones let the process then exit normally (status 0, clean-up run).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _ignore_signal)
    warn_if_open_to_the_network(settings)
    if settings.http_workers > 1:
        return serve_api_processes(settings, server_options(settings))
    app = served_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        **server_options(settings),
        http=guarded_protocol(settings.header_timeout, settings.body_timeout),
    )
    AnnouncingServer(config, on_stopping=lambda: _announce_stop(app.fastapi_app)).run()
    return 0


def _announce_stop(app: FastAPI) -> None:
    """Tell the open event streams that the server is stopping (see service.event_hub)."""
    hub = getattr(app.state, "event_hub", None)
    if hub is not None:
        hub.announce_stopping(GRACEFUL_SHUTDOWN_SECONDS)


def warn_if_open_to_the_network(settings: Settings) -> None:
    if not settings.api_keys and not is_loopback(settings.host):
        logging.getLogger("planenet.server").warning(
            "listening on %s with no API key: anyone who can reach it can start and delete "
            "jobs and models; set PLANENET_API_KEY",
            settings.host,
        )


def worker(settings: Settings) -> int:
    """``planenet worker``: training workers only, until SIGINT or SIGTERM."""
    if settings.workers < 1:
        print("planenet: invalid settings: workers: a worker needs at least 1", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    if not _schema_ready(settings):
        return 1
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, request_stop)
    run_worker_pool(settings, stop)
    return 0
