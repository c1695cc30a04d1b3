"""The v1 database fixture (tests/service/fixtures/v1): loading its dumps, and what v1 answered.

The dumps and answers were made by v1's own code, with tests/service/fixtures/make_v1_fixture.py.
"""

import json
import os
import sqlite3
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from tests.helpers.postgres import PostgresServer, ensure_postgres_binaries

FIXTURE_DIR = Path(__file__).parent.parent / "service" / "fixtures" / "v1"
SQLITE_DUMP = FIXTURE_DIR / "planenet.sqlite.sql"
POSTGRES_DUMP = FIXTURE_DIR / "planenet.postgresql.sql"
PSQL_SECONDS = 60


@cache
def v1_answers() -> dict[str, Any]:
    """What v1 answered about every model and finished job, and its jobs' stored states."""
    answers: dict[str, Any] = json.loads((FIXTURE_DIR / "expected.json").read_text())
    return answers


def load_v1_sqlite(path: Path) -> str:
    """Write the v1 database to the SQLite file ``path``; returns its URL.

    The file is in WAL mode, as v1 left its databases (a dump does not record it).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        connection.executescript(SQLITE_DUMP.read_text())
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return f"sqlite:///{path}"


def load_v1_postgres(server: PostgresServer) -> str:
    """A new database on ``server`` holding the v1 database; returns its name."""
    name = server.create_database()
    run_postgres_client(
        server, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(POSTGRES_DUMP), name
    )
    return name


def postgres_dump(server: PostgresServer, name: str, *options: str) -> str:
    """``pg_dump`` of a database, without the lines that differ between two dumps of it."""
    dumped = run_postgres_client(server, "pg_dump", "--no-owner", "--inserts", *options, name)
    return "\n".join(
        line for line in dumped.splitlines() if not line.startswith(("\\restrict", "\\unrestrict"))
    )


def run_postgres_client(server: PostgresServer, program: str, *arguments: str) -> str:
    """Run one of PostgreSQL's client programs against ``server``; returns its output."""
    command = [
        str(ensure_postgres_binaries() / program),
        "--host", "127.0.0.1", "--port", str(server.port), "--username", "planenet",
        *arguments,
    ]  # fmt: skip
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=PSQL_SECONDS,
        check=False,
        env={**os.environ, "PGPASSWORD": server.password},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
