"""Engine and session creation: SQLite tuned for concurrent readers and one writer, or any URL."""

import json
import logging
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
from service.store.schema import (
    SchemaError,
    SchemaState,
    differences,
    schema_state,
    upgrade_to_head,
)
from service.store.storage_faults import is_storage_fault, probe_write, sqlite_directory_fault

__all__ = ["Database", "SchemaError", "SchemaState"]

SQLITE_BUSY_TIMEOUT_MS = round(STORE_LOCK_WAIT_SECONDS * 1000)
logger = logging.getLogger("planenet.store")
# The PostgreSQL advisory lock held while the schema is upgraded (any fixed number would do).
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

    def upgrade_schema(self, auto_upgrade: bool = True) -> SchemaState:
        """Bring the schema to the newest revision; returns where it stood before.

        Processes that start together (API and workers) take turns: the revision is read and
        the upgrade run in one transaction that holds SQLite's write lock, or on PostgreSQL an
        advisory lock, so the first upgrades and the others find it done. With
        ``auto_upgrade`` False nothing is written and a database behind is refused. Raises
        :class:`SchemaError` (the database left as it was) when it cannot be used.
        """
        with self._schema_transaction() as connection:
            before = upgrade_to_head(connection, allowed=auto_upgrade)
        if not before.at_head:
            logger.info(
                "upgraded the database schema",
                extra={
                    "from_revision": before.effective_revision,
                    "to_revision": before.head,
                    "v1_database_recognised": before.v1_tables,
                },
            )
        return before

    def schema_state(self) -> SchemaState:
        """Where the schema stands among the migrations (nothing is written)."""
        with self.engine.connect() as connection:
            return schema_state(connection)

    def schema_differences(self) -> list[Any]:
        """How the tables in code differ from this database's once upgraded to the newest
        revision; the upgrade is rolled back, so the database is left as it was."""
        with self._schema_transaction(commit=False) as connection:
            upgrade_to_head(connection)
            return differences(connection)

    @contextmanager
    def _schema_transaction(self, commit: bool = True) -> Iterator[Connection]:
        """A write transaction holding the start-up lock, committed (or rolled back) on exit.

        On SQLite, foreign keys are off meanwhile (set outside the transaction, as SQLite
        requires), so a migration that copies a table in batch mode does not set the
        references to it to null; they are checked before the commit.
        """
        with self._writer.connect() as connection:
            if self.is_sqlite:
                _set_sqlite_foreign_keys(connection, enabled=False)
            try:
                with connection.begin() as transaction:
                    if self.engine.dialect.name == "postgresql":
                        connection.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY}
                        )
                    yield connection
                    if self.is_sqlite:
                        _check_sqlite_foreign_keys(connection)
                    if not commit:
                        transaction.rollback()
            finally:
                if self.is_sqlite:
                    _set_sqlite_foreign_keys(connection, enabled=True)

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


def _set_sqlite_foreign_keys(connection: Connection, enabled: bool) -> None:
    # Straight on the driver's connection: through SQLAlchemy it would begin a transaction.
    driver_connection = connection.connection.driver_connection
    assert driver_connection is not None
    driver_connection.execute(f"PRAGMA foreign_keys={'ON' if enabled else 'OFF'}")


def _check_sqlite_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise SchemaError(f"the upgrade would break references between tables: {broken[:5]}")
