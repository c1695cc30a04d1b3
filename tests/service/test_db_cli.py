"""`planenet db ...`, and real `planenet serve`/`worker` processes starting on a v1 database."""

import hashlib
import json
import os
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.cli import DB_COMMAND_HELP, DB_SETTINGS, main
from service.store.database import Database
from service.store.schema import head_revision
from tests.helpers.databases import DATABASE_BACKENDS
from tests.helpers.postgres import PostgresServer
from tests.helpers.server import STARTUP_SECONDS, ServerProcess, free_port, planenet_command
from tests.helpers.v1_database import load_v1_postgres, load_v1_sqlite, v1_answers

UNKNOWN_REVISION = "ffffffffffff"


@pytest.fixture
def v1_data_dir(tmp_path: Path) -> Path:
    """A data directory holding the v1 database."""
    data_dir = tmp_path / "data"
    load_v1_sqlite(data_dir / "planenet.db")
    return data_dir


def revision_table_exists(path: Path) -> bool:
    connection = sqlite3.connect(path)
    try:
        found = connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'alembic_version'"
        ).fetchall()
    finally:
        connection.close()
    return bool(found)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_planenet(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real ``planenet`` command to its end, with no settings but ``env``'s."""
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PLANENET_")
    }
    environment.update(env or {})
    return subprocess.run(
        [*planenet_command(), *argv],
        capture_output=True,
        text=True,
        timeout=STARTUP_SECONDS,
        check=False,
        env=environment,
    )


def test_every_db_command_takes_the_database_settings(capsys: pytest.CaptureFixture[str]) -> None:
    for name in DB_COMMAND_HELP:
        with pytest.raises(SystemExit):
            main(["db", name, "--help"])
        help_text = capsys.readouterr().out
        for setting in DB_SETTINGS:
            assert "--" + setting.replace("_", "-") in help_text
            assert "PLANENET_" + setting.upper() in help_text
        assert "--port" not in help_text


def test_db_current_upgrade_and_check_on_a_v1_database(
    v1_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database_file = v1_data_dir / "planenet.db"
    assert main(["db", "current", "--data-dir", str(v1_data_dir)]) == 0
    assert "v1 tables, no revision recorded" in capsys.readouterr().out
    # check upgrades inside a transaction it rolls back: the database is left as it was.
    assert main(["db", "check", "--data-dir", str(v1_data_dir)]) == 0
    assert "match" in capsys.readouterr().out
    assert not revision_table_exists(database_file)

    assert main(["db", "upgrade", "--data-dir", str(v1_data_dir)]) == 0
    assert f"recognised a v1 database and brought it to revision {head_revision()}" in (
        capsys.readouterr().out
    )
    assert revision_table_exists(database_file)
    assert main(["db", "upgrade", "--data-dir", str(v1_data_dir)]) == 0
    assert "already at the newest revision" in capsys.readouterr().out
    assert main(["db", "current", "--data-dir", str(v1_data_dir)]) == 0
    assert f"revision: {head_revision()}\n" in capsys.readouterr().out


def test_db_check_passes_on_a_new_database_and_leaves_it_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "check", "--data-dir", str(tmp_path)]) == 0
    assert "match" in capsys.readouterr().out
    database = Database(f"sqlite:///{tmp_path / 'planenet.db'}")
    try:
        assert database.schema_state().revision is None
    finally:
        database.dispose()


def test_db_check_fails_and_names_what_differs_from_the_tables_in_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade", "--data-dir", str(tmp_path)]) == 0
    connection = sqlite3.connect(tmp_path / "planenet.db")
    connection.execute("ALTER TABLE jobs ADD COLUMN priority INTEGER")
    connection.commit()
    connection.close()
    assert main(["db", "check", "--data-dir", str(tmp_path)]) == 1
    assert "jobs.priority" in capsys.readouterr().err


def test_db_commands_on_postgresql(
    postgres_server: PostgresServer, capsys: pytest.CaptureFixture[str]
) -> None:
    name = load_v1_postgres(postgres_server)
    url = postgres_server.url(name)
    try:
        assert main(["db", "check", "--database-url", url]) == 0
        assert main(["db", "upgrade", "--database-url", url]) == 0
        assert main(["db", "current", "--database-url", url]) == 0
        shown = capsys.readouterr().out
        assert f"revision: {head_revision()}\n" in shown
        assert postgres_server.password not in shown
    finally:
        postgres_server.drop_database(name)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql+psycopg://planenet:secret@127.0.0.1:1/planenet", "cannot be used"),
        ("not a database url", "invalid database URL"),
    ],
)
def test_db_commands_explain_a_database_they_cannot_use(
    url: str, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in DB_COMMAND_HELP:
        assert main(["db", name, "--database-url", url]) == 1
        error = capsys.readouterr().err
        assert error.startswith("planenet: ")
        assert reason in error
        assert "secret" not in error


def test_serve_and_worker_refuse_an_unknown_newer_revision_and_leave_it_unchanged(
    v1_data_dir: Path,
) -> None:
    database_file = v1_data_dir / "planenet.db"
    assert main(["db", "upgrade", "--data-dir", str(v1_data_dir)]) == 0
    connection = sqlite3.connect(database_file)
    connection.execute("UPDATE alembic_version SET version_num = ?", (UNKNOWN_REVISION,))
    connection.commit()
    connection.close()
    unchanged = digest(database_file)
    flags = ("--data-dir", str(v1_data_dir), "--log-level", "warning")
    for argv in (
        ("serve", "--port", str(free_port()), "--workers", "0", *flags),
        ("worker", "--workers", "1", *flags),
        ("db", "upgrade", *flags),
    ):
        refused = run_planenet(*argv)
        assert refused.returncode == 1, refused
        assert UNKNOWN_REVISION in refused.stderr
        assert head_revision() in refused.stderr
        assert "Traceback" not in refused.stderr
    assert digest(database_file) == unchanged


def test_with_auto_migrate_off_a_v1_database_is_refused_until_db_upgrade(
    v1_data_dir: Path,
) -> None:
    database_file = v1_data_dir / "planenet.db"
    unchanged = digest(database_file)
    flags = ("--data-dir", str(v1_data_dir))
    refusals = [
        run_planenet("serve", "--port", str(free_port()), "--no-auto-migrate", *flags),
        run_planenet("worker", *flags, env={"PLANENET_AUTO_MIGRATE": "false"}),
    ]
    for refused in refusals:
        assert refused.returncode == 1, refused
        assert "planenet db upgrade" in refused.stderr
        assert "Traceback" not in refused.stderr
    assert digest(database_file) == unchanged
    assert run_planenet("db", "upgrade", *flags).returncode == 0
    server = ServerProcess(v1_data_dir, free_port(), ["--workers", "0", "--no-auto-migrate"])
    server.start()
    try:
        with server.client() as client:
            assert client.get("/models").json()["total"] == len(v1_answers()["models"])
    finally:
        server.stop()


@pytest.mark.parametrize("backend", DATABASE_BACKENDS)
def test_two_servers_starting_at_once_on_a_v1_database_upgrade_it_once_and_both_serve(
    backend: str, v1_data_dir: Path, request: pytest.FixtureRequest
) -> None:
    flags = ["--workers", "0"]
    if backend == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = load_v1_postgres(server)
        request.addfinalizer(lambda: server.drop_database(name))
        flags += ["--database-url", server.url(name)]
    servers = [ServerProcess(v1_data_dir, free_port(), flags) for _ in range(2)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        started = [pool.submit(each.start) for each in servers]
    try:
        for start in started:
            start.result()
        for each in servers:
            with httpx.Client(base_url=each.base_url, timeout=30.0) as client:
                models = client.get("/models", params={"limit": 100}).json()
                assert {model["id"] for model in models["items"]} == set(v1_answers()["models"])
    finally:
        for each in servers:
            if each.process is not None:
                each.stop()
    logs = "".join(each.log_path.read_text() for each in servers)
    upgrades = [line for line in logs.splitlines() if "upgraded the database schema" in line]
    assert len(upgrades) == 1, logs
    assert json.loads(upgrades[0])["v1_database_recognised"] is True
