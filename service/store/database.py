"""Engine and session creation: SQLite tuned for concurrent readers and one writer, or any URL."""

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from service.domain.errors import StorageUnavailable
from service.domain.heartbeats import STORE_LOCK_WAIT_SECONDS
from service.store.storage_faults import is_storage_fault, probe_write, sqlite_directory_fault
from service.store.tables import Base

SQLITE_BUSY_TIMEOUT_MS = round(STORE_LOCK_WAIT_SECONDS * 1000)
# The PostgreSQL advisory lock held while the schema is created (any fixed number would do).
SCHEMA_LOCK_KEY = 0x504C414E45


class Database:
    """An engine with two session factories: reads, and writes that take the write lock at once.

    On SQLite a write transaction begins with ``BEGIN IMMEDIATE`` so two writers never both
    read first and then fail to upgrade their lock; readers use a plain ``BEGIN`` and, with
    WAL, never wait for writers.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _create_engine(url)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = (
            self.engine.execution_options(planenet_write=True) if self.is_sqlite else self.engine
        )
        self._write_sessions = sessionmaker(self._writer, expire_on_commit=False)
        self.storage_fault: str | None = None
        """Why the last write failed for lack of space or a read-only database (None since
        a write succeeded)."""

    def create_schema(self) -> None:
        """Create the tables that do not exist yet (idempotent).

        Processes that start together on a new database (API and workers) take turns: the
        tables are looked for and created in one transaction that holds SQLite's write lock,
        or on PostgreSQL an advisory lock, so no process creates a table another just made.
        """
        with self._writer.begin() as connection:
            if self.engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
                )
            Base.metadata.create_all(connection)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads; it is closed (and its transaction ended) on exit."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: committed on a normal exit, rolled back on an exception.

        A full disk or a read-only database raises :class:`StorageUnavailable` (the
        transaction rolled back, nothing written) and is remembered in ``storage_fault``.
        """
        try:
            with self._write_sessions() as session, session.begin():
                yield session
        except Exception as error:
            if not is_storage_fault(error):
                raise
            self.storage_fault = str(getattr(error, "orig", error))
            raise StorageUnavailable(
                "the database cannot store this: its disk is full or it is read-only; "
                "nothing was written (free space, then retry)"
            ) from error
        self.storage_fault = None

    def writable_fault(self) -> str | None:
        """Why writes would fail now (a full or read-only disk), None when a probe write passes.

        Cheap: a look at the SQLite file's directory, then a write that changes nothing.
        """
        path = self.engine.url.database
        if self.is_sqlite and path and path != ":memory:":
            fault = sqlite_directory_fault(Path(path))
            if fault is not None:
                return fault
        try:
            with self._writer.begin() as connection:
                probe_write(connection)
        except Exception as error:
            if not is_storage_fault(error):
                raise
            self.storage_fault = str(getattr(error, "orig", error))
            return f"the database refuses writes ({self.storage_fault})"
        self.storage_fault = None
        return None

    def dispose(self) -> None:
        self.engine.dispose()


def _create_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, json_serializer=json_text)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        json_serializer=json_text,
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def json_text(value: Any) -> str:
    """The JSON text of a JSON column's value, with NaN and infinities as null.

    JSON has no such numbers: PostgreSQL refuses them, where SQLite would keep Python's
    non-standard ``NaN`` and ``Infinity`` text.
    """
    return json.dumps(_finite_or_null(value))


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite_or_null(item) for item in value]
    return value


def _configure_sqlite_connection(dbapi_connection: Any, _record: object) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see _begin...).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite_transaction(connection: Connection) -> None:
    if connection.get_execution_options().get("planenet_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")
