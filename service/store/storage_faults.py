"""Storage faults: which database errors mean "disk full" or "read-only", and a probe for them.

SQLite reports them as ``OperationalError`` with its error name (``SQLITE_FULL``,
``SQLITE_READONLY...``) and text; PostgreSQL with SQLSTATE class 53 (insufficient resources,
e.g. ``53100`` disk full) or ``25006`` (read-only transaction). They become
:class:`StorageUnavailable`, which the API answers with 507.
"""

import os
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection

STORAGE_FAULT_TEXTS = (
    "database or disk is full",
    "disk full",
    "attempt to write a readonly database",
    "read-only",
    "readonly",
    "no space left on device",
)
SQLITE_FAULT_NAMES = ("SQLITE_FULL", "SQLITE_READONLY")
POSTGRES_FAULT_STATES = ("53", "25006")
MIN_FREE_BYTES = 1024 * 1024
"""Below this much free space in its directory, an SQLite database counts as full."""


def is_storage_fault(error: BaseException) -> bool:
    """Whether a database error (SQLAlchemy's, or its driver's) says disk full or read-only."""
    original = getattr(error, "orig", None) or error
    if isinstance(original, OSError) and original.errno == 28:  # ENOSPC
        return True
    if isinstance(original, sqlite3.Error):
        name = getattr(original, "sqlite_errorname", "") or ""
        if name.startswith(SQLITE_FAULT_NAMES):
            return True
    state = getattr(original, "sqlstate", None)
    if isinstance(state, str) and state.startswith(POSTGRES_FAULT_STATES):
        return True
    message = str(original).lower()
    return any(fault in message for fault in STORAGE_FAULT_TEXTS)


def sqlite_directory_fault(database_path: Path) -> str | None:
    """Why the directory of an SQLite database cannot take writes, or None if it can."""
    directory = database_path.parent
    try:
        stats = os.statvfs(directory)
    except OSError as error:
        return f"the data directory {directory} cannot be read ({error.strerror})"
    if stats.f_flag & os.ST_RDONLY:
        return f"the data directory {directory} is on a read-only file system"
    if stats.f_bavail * stats.f_frsize < MIN_FREE_BYTES:
        return f"the disk of the data directory {directory} is full"
    if not os.access(directory, os.W_OK) or (
        database_path.exists() and not os.access(database_path, os.W_OK)
    ):
        return f"the database in {directory} is read-only"
    return None


def probe_write(connection: Connection) -> None:
    """A write that changes nothing, in a transaction the caller commits.

    SQLite rewrites its header's ``user_version`` with the value it has (a WAL frame is
    appended on commit); PostgreSQL assigns a transaction id, so the commit is logged.
    """
    if connection.dialect.name == "sqlite":
        version = int(connection.exec_driver_sql("PRAGMA user_version").scalar_one())
        connection.exec_driver_sql(f"PRAGMA user_version = {version}")
    else:
        connection.execute(text("SELECT txid_current()"))
