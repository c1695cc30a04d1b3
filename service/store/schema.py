"""Where a database's schema stands among the migrations, and bringing it to the newest revision.

Every function takes a connection inside a transaction the caller holds (with the start-up
lock, see :meth:`service.store.database.Database.upgrade_schema`); Alembic runs in it, so an
upgrade is committed, or rolled back, with that transaction.
"""

import logging
from dataclasses import dataclass
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, inspect
from sqlalchemy.engine import Connection

from service.store.migrations import MIGRATIONS_DIR
from service.store.tables import Base

V1_REVISION = "0001"
"""The revision of the schema as released in v1, made by ``create_all`` before migrations."""
V1_TABLES = frozenset({"jobs", "models"})
# Added to jobs during v1: a database from before it lacks it, and gets it with its default.
V1_LATE_COLUMN = "history_version"


class _WithoutAlembicChatter(logging.Filter):
    """Drops the lines Alembic logs on every run (its dialect), keeping those of upgrades."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(("Context impl", "Will assume", "setting up"))


for _name in ("alembic.runtime.migration", "alembic.runtime.plugins"):
    logging.getLogger(_name).addFilter(_WithoutAlembicChatter())


class SchemaError(Exception):
    """The database's schema is not one this PlaneNet may use or upgrade; the message says why."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands: its recorded revision, and the newest this PlaneNet knows."""

    revision: str | None
    """The revision recorded in the database (None: none recorded)."""
    head: str
    """The newest revision of this PlaneNet."""
    known: bool
    """Whether this PlaneNet knows ``revision`` (False: a newer PlaneNet upgraded it)."""
    v1_tables: bool
    """Whether the database holds v1's tables without a recorded revision."""

    @property
    def effective_revision(self) -> str | None:
        """The revision the schema is at: a v1 database counts as at :data:`V1_REVISION`."""
        return V1_REVISION if self.v1_tables else self.revision

    @property
    def at_head(self) -> bool:
        return self.revision == self.head

    def describe(self) -> str:
        """One line for an operator, e.g. ``0001 (v1 tables, no revision recorded)``."""
        if self.v1_tables:
            return f"{V1_REVISION} (v1 tables, no revision recorded yet)"
        if self.revision is None:
            return "none (an empty database)"
        if not self.known:
            return f"{self.revision} (unknown to this PlaneNet, whose newest is {self.head})"
        return self.revision


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration of PlaneNet's migrations that runs on ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def revisions() -> list[str]:
    """Every revision, oldest first."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None, "the migrations have no revision"
    return head


def schema_state(connection: Connection) -> SchemaState:
    """Where the database on ``connection`` stands."""
    revision = MigrationContext.configure(connection).get_current_revision()
    head = head_revision()
    tables = set(inspect(connection).get_table_names())
    return SchemaState(
        revision=revision,
        head=head,
        known=revision is None or revision in revisions(),
        v1_tables=revision is None and bool(tables & V1_TABLES),
    )


def upgrade_to_head(
    connection: Connection, allowed: bool = True, target: str = "head"
) -> SchemaState:
    """Bring the database to the newest revision (or ``target``); returns where it stood.

    A v1 database is stamped at :data:`V1_REVISION` first (never recreated). When ``allowed``
    is False nothing is written, and a database not at the newest revision is refused.
    Raises :class:`SchemaError` for a revision this PlaneNet does not know, which leaves the
    database untouched.
    """
    state = schema_state(connection)
    if not state.known:
        raise SchemaError(
            f"the database is at revision {state.revision}, which this PlaneNet does not know "
            f"(its newest is {state.head}): a newer PlaneNet upgraded it. Run that version, or "
            "restore a copy of the database from before the upgrade; the database was left "
            "as it is."
        )
    if state.at_head:
        return state
    if not allowed:
        where = (
            "holds PlaneNet v1's tables with no schema revision recorded"
            if state.v1_tables
            else f"is at schema revision {state.describe()}"
        )
        raise SchemaError(
            f"the database {where}, this PlaneNet needs revision {state.head}, and automatic "
            "upgrades are off (PLANENET_AUTO_MIGRATE=false): run `planenet db upgrade` with "
            "the same database settings first."
        )
    config = alembic_config(connection)
    if state.v1_tables:
        _stamp_v1(connection, config)
    command.upgrade(config, target)
    return state


def _stamp_v1(connection: Connection, config: Config) -> None:
    """Record that v1's tables are at :data:`V1_REVISION` (adding the column added during v1)."""
    missing = V1_TABLES - set(inspect(connection).get_table_names())
    if missing:
        raise SchemaError(
            f"the database has a PlaneNet table but not {', '.join(sorted(missing))}, and no "
            "revision recorded: it is not a PlaneNet v1 database; point PlaneNet at its own "
            "database."
        )
    columns = {column["name"] for column in inspect(connection).get_columns("jobs")}
    if V1_LATE_COLUMN not in columns:
        context = MigrationContext.configure(connection)
        with Operations.context(context) as operations:
            operations.add_column(
                "jobs", Column(V1_LATE_COLUMN, Integer(), server_default="0", nullable=False)
            )
    command.stamp(config, V1_REVISION)


def differences(connection: Connection) -> list[Any]:
    """How the tables in code differ from the database's (empty when they match).

    Alembic's autogenerate comparison: each item names an added or removed table, column or
    index, or a changed type or nullability.
    """
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    found: list[Any] = compare_metadata(context, Base.metadata)
    return found
