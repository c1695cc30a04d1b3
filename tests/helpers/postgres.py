"""A throwaway PostgreSQL server for the store tests: Debian's package, installed if missing.

The server runs from a cluster made with ``initdb`` in a temporary directory, on a free port
of 127.0.0.1 with its unix socket in that directory, and is stopped and deleted afterwards.
PostgreSQL refuses to run as root, so under root it runs as the ``postgres`` system user the
package creates. It trades durability for speed (no fsync): its data lives for one test run.
"""

import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.helpers.debian_packages import apt_install

POSTGRES_ROOT = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
SUPERUSER = "planenet"
INITDB_SECONDS = 120
START_SECONDS = 30
STOP_SECONDS = 30
POLL_SECONDS = 0.05
START_ATTEMPTS = 3
LOG_TAIL_CHARS = 4000
# Throwaway data: nothing needs to survive a crash, so nothing waits for the disk.
SERVER_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    # Sessions get times in a zone that is not UTC, with an odd offset, as a server may have.
    "timezone": "Asia/Kathmandu",
}


def ensure_postgres_binaries() -> Path:
    """The newest installed PostgreSQL's ``bin`` directory, installed with apt-get if missing."""
    installed = find_postgres_binaries()
    if installed is not None:
        return installed
    apt_install("postgresql", f"the PostgreSQL server is not installed under {POSTGRES_ROOT}")
    installed = find_postgres_binaries()
    if installed is None:
        pytest.fail(f"apt-get installed postgresql, but no initdb is under {POSTGRES_ROOT}")
    return installed


def find_postgres_binaries() -> Path | None:
    """``/usr/lib/postgresql/<version>/bin`` of the newest version with a server, or None."""
    versions = [
        initdb.parent
        for initdb in POSTGRES_ROOT.glob("*/bin/initdb")
        if (initdb.parent / "postgres").exists()
    ]
    if not versions:
        return None
    return max(versions, key=lambda binaries: _version_key(binaries.parent.name))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


@dataclass(frozen=True)
class ServerAccount:
    """Whom the server's processes run as: the ``postgres`` user under root, else ourselves."""

    uid: int
    gid: int

    @classmethod
    def for_this_process(cls) -> "ServerAccount":
        if os.geteuid() != 0:
            return cls(os.geteuid(), os.getegid())
        try:
            user = pwd.getpwnam(SERVER_USER)
        except KeyError:
            pytest.fail(
                f"PostgreSQL cannot run as root, and there is no {SERVER_USER!r} user to run it "
                "as (Debian's postgresql package creates one)"
            )
        return cls(user.pw_uid, user.pw_gid)

    def run_options(self) -> dict[str, Any]:
        """Keyword arguments of :mod:`subprocess` that run a command as this account."""
        if self.uid == os.geteuid():
            return {}
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


@dataclass
class PostgresServer:
    """A running throwaway server; makes and drops the databases the tests use."""

    directory: Path
    port: int
    password: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _admin: psycopg.Connection[Any] | None = field(default=None, repr=False)
    _created: int = field(default=0, repr=False)

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of one of this server's databases."""
        credentials = f"{SUPERUSER}:{self.password}"
        return f"postgresql+psycopg://{credentials}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return (
            f"host=127.0.0.1 port={self.port} dbname={database} user={SUPERUSER} "
            f"password={self.password} connect_timeout=5"
        )

    def create_database(self) -> str:
        """A new empty database; returns its name."""
        self._created += 1
        name = f"test_{self._created}"
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connection a test left open to it."""
        self._execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-LOG_TAIL_CHARS:]

    def _execute(self, statement: sql.Composed) -> None:
        """Run one statement outside a transaction (as CREATE and DROP DATABASE must be)."""
        if self._admin is None or self._admin.closed:
            self._admin = psycopg.connect(self.conninfo(), autocommit=True)
        self._admin.execute(statement)

    def stop(self) -> None:
        """A fast shutdown (SIGINT): open sessions are ended, nothing is flushed in vain."""
        if self._admin is not None:
            self._admin.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(STOP_SECONDS)


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """A fresh PostgreSQL cluster and server, stopped and deleted on exit."""
    binaries = ensure_postgres_binaries()
    account = ServerAccount.for_this_process()
    directory = Path(tempfile.mkdtemp(prefix="planenet-postgres-"))
    try:
        os.chown(directory, account.uid, account.gid)
        password = secrets.token_hex(16)
        _init_cluster(binaries, account, directory, password)
        server = _start_server(binaries, account, directory, password)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _init_cluster(binaries: Path, account: ServerAccount, directory: Path, password: str) -> None:
    """``initdb`` a cluster in ``directory/data`` whose superuser logs in with ``password``."""
    password_file = directory / "password"
    password_file.write_text(password + "\n")
    os.chown(password_file, account.uid, account.gid)
    command = [
        str(binaries / "initdb"),
        f"--pgdata={directory / 'data'}",
        f"--username={SUPERUSER}",
        f"--pwfile={password_file}",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--encoding=UTF8",
        "--locale=C",
        "--no-sync",
    ]
    result = subprocess.run(
        command,
        check=False,
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=INITDB_SECONDS,
        **account.run_options(),
    )
    password_file.unlink()
    if result.returncode != 0:
        pytest.fail(f"initdb failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")


def _start_server(
    binaries: Path, account: ServerAccount, directory: Path, password: str
) -> PostgresServer:
    """Start the server on a free port and wait until it accepts connections.

    Another process may take the chosen port before the server binds it; then the start is
    tried again on another port.
    """
    socket_directory = directory / "socket"
    socket_directory.mkdir()
    os.chown(socket_directory, account.uid, account.gid)
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _free_port()
        log_path = directory / f"server-{attempt}.log"
        settings = {
            **SERVER_SETTINGS,
            "port": str(port),
            "listen_addresses": "127.0.0.1",
            "unix_socket_directories": str(socket_directory),
        }
        command = [str(binaries / "postgres"), "-D", str(directory / "data")]
        for name, value in settings.items():
            command += ["-c", f"{name}={value}"]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=directory,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                **account.run_options(),
            )
        server = PostgresServer(directory, port, password, process, log_path)
        if _wait_until_ready(server):
            return server
        if "already in use" not in server.log_tail() or attempt == START_ATTEMPTS:
            pytest.fail(f"the PostgreSQL server did not start; its log:\n{server.log_tail()}")
    raise AssertionError("unreachable")


def _wait_until_ready(server: PostgresServer) -> bool:
    """Whether the server came to accept connections; on False it is no longer running."""
    deadline = time.monotonic() + START_SECONDS
    while server.process.poll() is None:
        try:
            with psycopg.connect(server.conninfo()) as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                server.stop()
                pytest.fail(
                    f"the PostgreSQL server did not accept connections within {START_SECONDS} s;"
                    f" its log:\n{server.log_tail()}"
                )
            time.sleep(POLL_SECONDS)
    return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
