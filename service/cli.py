"""The command line: `planenet serve` starts the API (uvicorn); `planenet worker` only workers;
`planenet db ...` upgrades and checks the database's schema.

This module parses the command line and imports little, so that the client commands
(`planenet train`, `jobs`, `predict`, ..., in planenet/_cli) start at once; the server's
commands run in service/server_commands.py.
"""

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from planenet._cli import add_client_commands, is_client_command, run_client_command
from service.domain.heartbeats import (
    DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
    HEARTBEAT_SECONDS,
    MIN_HEARTBEAT_TIMEOUT_SECONDS,
    MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS,
)
from service.settings import Settings, setting_env_name

FLAG_HELP = {
    "host": "address to listen on (default 127.0.0.1)",
    "port": "port to listen on (default 8000)",
    "data_dir": "directory of the SQLite database (default ./data)",
    "database_url": "SQLAlchemy database URL (default: SQLite in the data directory)",
    "auto_migrate": (
        "upgrade the database to the newest schema revision at start (default on; "
        "--no-auto-migrate refuses a database behind, see `planenet db upgrade`)"
    ),
    "workers": (
        "training worker processes (default: one per CPU; 0: none here, "
        "`planenet worker` processes train the jobs instead)"
    ),
    "http_workers": (
        "API processes answering HTTP on the one port (default 1); the training workers are "
        "started once, beside them"
    ),
    "api_key": "key that state-changing requests must carry (prefer the environment variable)",
    "protect_reads": "require the API key for reads too",
    "cors_origins": "comma-separated origins allowed by CORS",
    "log_level": "critical, error, warning, info or debug",
    "job_heartbeat_timeout": (
        "seconds a running job may go without a heartbeat from its worker before it is "
        f"marked failed (default {DEFAULT_HEARTBEAT_TIMEOUT_SECONDS:g}, at least "
        f"{MIN_HEARTBEAT_TIMEOUT_SECONDS:g} on SQLite and "
        f"{MIN_SERVER_HEARTBEAT_TIMEOUT_SECONDS:g} on PostgreSQL; workers beat "
        f"every {HEARTBEAT_SECONDS:g} s)"
    ),
}

WORKER_SETTINGS = (
    "database_url",
    "data_dir",
    "auto_migrate",
    "workers",
    "log_level",
    "job_heartbeat_timeout",
)
"""The settings `planenet worker` takes (the rest concern the HTTP API)."""

DB_SETTINGS = ("database_url", "data_dir", "log_level")
"""The settings `planenet db` commands take: which database, and how much to log."""

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
    _add_db_commands(commands)
    add_client_commands(commands)  # the client commands: planenet/_cli
    return parser


DB_COMMAND_HELP = {
    "upgrade": "bring the database to the newest schema revision (a v1 database is kept)",
    "current": "show the database's schema revision and this PlaneNet's newest",
    "check": "exit 1 when the tables in code and the migrations differ (nothing is written)",
}


def _add_db_commands(commands: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    db = commands.add_parser(
        "db",
        help="upgrade or inspect the database's schema",
        description=(
            "Manage the database's schema revisions. planenet serve and planenet worker "
            "upgrade it at start unless --no-auto-migrate is given."
        ),
    )
    db_commands_parser = db.add_subparsers(dest="db_command", required=True)
    for name, help_text in DB_COMMAND_HELP.items():
        command = db_commands_parser.add_parser(name, help=help_text, description=help_text)
        _add_setting_flags(command, list(DB_SETTINGS), {})


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``planenet``; returns the process exit status."""
    parser = build_parser()
    parsed = parser.parse_args(argv)
    if is_client_command(parsed):  # the client commands: planenet/_cli
        return run_client_command(parsed)
    arguments = vars(parsed)
    command = arguments.pop("command")
    db_command = arguments.pop("db_command", None)
    try:
        settings = settings_from(arguments)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
            for item in error.errors()
        )
        print(f"planenet: invalid settings: {problems}", file=sys.stderr)
        return 2
    # The server's modules (FastAPI, SQLAlchemy, Alembic, uvicorn) take most of a second to
    # import: only the commands that run the server or its database pay for them, each for
    # what it uses (`planenet db current` runs as a healthcheck).
    if command == "db":
        from service import db_commands  # noqa: PLC0415

        return db_commands.run(db_command, settings)
    from service import server_commands  # noqa: PLC0415

    if command == "worker":
        return server_commands.worker(settings)
    return server_commands.serve(settings)
