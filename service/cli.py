"""The command line: `planenet serve` starts the API (uvicorn); `planenet worker` only workers."""

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from service.app import create_app
from service.domain.heartbeats import (
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    HEARTBEAT_SECONDS,
    MIN_HEARTBEAT_TIMEOUT_SECONDS,
)
from service.http.server import (
    GRACEFUL_SHUTDOWN_SECONDS,
    AnnouncingServer,
    guarded_protocol,
    is_loopback,
)
from service.log import configure_logging
from service.runner.standalone import run_worker_pool
from service.settings import Settings, setting_env_name

FLAG_HELP = {
    "host": "address to listen on (default 127.0.0.1)",
    "port": "port to listen on (default 8000)",
    "data_dir": "directory of the SQLite database (default ./data)",
    "database_url": "SQLAlchemy database URL (default: SQLite in the data directory)",
    "workers": (
        "training worker processes (default: one per CPU; 0: none here, "
        "`planenet worker` processes train the jobs instead)"
    ),
    "api_key": "key that state-changing requests must carry (prefer the environment variable)",
    "protect_reads": "require the API key for reads too",
    "cors_origins": "comma-separated origins allowed by CORS",
    "log_level": "critical, error, warning, info or debug",
    "job_heartbeat_timeout": (
        "seconds a running job may go without a heartbeat from its worker before it is "
        f"marked failed (default {DEFAULT_HEARTBEAT_TIMEOUT_SECONDS:g}, at least "
        f"{MIN_HEARTBEAT_TIMEOUT_SECONDS:g}; workers beat "
        f"every {HEARTBEAT_SECONDS:g} s)"
    ),
}

WORKER_SETTINGS = ("database_url", "data_dir", "workers", "log_level", "job_heartbeat_timeout")
"""The settings `planenet worker` takes (the rest concern the HTTP API)."""

WORKER_FLAG_HELP = {"workers": "training worker processes to run here (default: one per CPU)"}


def _flag(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``planenet``: ``serve`` has one flag per setting, ``worker`` a few."""
    parser = argparse.ArgumentParser(
        prog="planenet", description="Train small neural networks on 2-D points and serve them."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve",
        help="start the HTTP API and its training workers",
        description="Start the HTTP API. Flags override the PLANENET_* environment variables.",
    )
    _add_setting_flags(serve, list(Settings.model_fields), {})
    worker = commands.add_parser(
        "worker",
        help="start training workers only, claiming jobs from the database",
        description=(
            "Start training worker processes that claim the jobs queued in the database by "
            "`planenet serve` (run it with --workers 0 to train only here). Stop with SIGTERM "
            "or Ctrl-C: running jobs are marked failed as interrupted. Flags override the "
            "PLANENET_* environment variables."
        ),
    )
    _add_setting_flags(worker, list(WORKER_SETTINGS), WORKER_FLAG_HELP)
    return parser


def _add_setting_flags(
    parser: argparse.ArgumentParser, names: list[str], help_overrides: dict[str, str]
) -> None:
    for name in names:
        field = Settings.model_fields[name]
        help_text = (
            help_overrides.get(name)
            or FLAG_HELP.get(name)
            or field.description
            or name.replace("_", " ")
        )
        if name.startswith("max_"):
            help_text = f"limit: {help_text} (default {field.default})"
        help_text += f" [{setting_env_name(name)}]"
        if field.annotation is bool:
            parser.add_argument(
                _flag(name),
                dest=name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_text,
            )
        else:
            parser.add_argument(
                _flag(name), dest=name, default=argparse.SUPPRESS, metavar="VALUE", help=help_text
            )


def settings_from(flags: dict[str, Any]) -> Settings:
    """Settings from the environment, overridden by the flags that were given."""
    return Settings(**flags)


def _ignore_signal(_signal: int, _frame: FrameType | None) -> None:
    """Handler of the stop signals once uvicorn has handled them."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``planenet``; returns the process exit status."""
    parser = build_parser()
    arguments = vars(parser.parse_args(argv))
    command = arguments.pop("command")
    try:
        settings = settings_from(arguments)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        print(f"planenet: invalid settings: {problems}", file=sys.stderr)
        return 2
    if command == "worker":
        return _worker(settings)
    return _serve(settings)


def _serve(settings: Settings) -> int:
    configure_logging(settings.log_level)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM and then re-raises the signal under the
    # handlers it found; quiet ones let the process then exit normally (status 0, clean-up run).
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, _ignore_signal)
    _warn_if_open_to_the_network(settings)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        log_level=settings.log_level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        http=guarded_protocol(settings.header_timeout, settings.body_timeout),
        limit_concurrency=settings.max_connections,
    )
    AnnouncingServer(config, on_stopping=lambda: _announce_stop(app)).run()
    return 0


def _announce_stop(app: FastAPI) -> None:
    """Tell the open event streams that the server is stopping (see service.event_hub)."""
    hub = getattr(app.state, "event_hub", None)
    if hub is not None:
        hub.announce_stopping(GRACEFUL_SHUTDOWN_SECONDS)


def _warn_if_open_to_the_network(settings: Settings) -> None:
    if not settings.api_keys and not is_loopback(settings.host):
        logging.getLogger("planenet.server").warning(
            "listening on %s with no API key: anyone who can reach it can start and delete "
            "jobs and models; set PLANENET_API_KEY",
            settings.host,
        )


def _worker(settings: Settings) -> int:
    if settings.workers < 1:
        print("planenet: invalid settings: workers: a worker needs at least 1", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    stop = threading.Event()

    def request_stop(_signal: int, _frame: FrameType | None) -> None:
        stop.set()

    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, request_stop)
    run_worker_pool(settings, stop)
    return 0
