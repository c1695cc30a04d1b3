"""The `planenet db` commands (upgrade, current, check) and the schema check at start-up."""

import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from service.log import configure_logging
from service.settings import Settings
from service.store.database import Database, SchemaError


def run(name: str, settings: Settings) -> int:
    """``planenet db NAME``: upgrade, current or check."""
    configure_logging(settings.log_level)
    return COMMANDS[name](settings)


def prepare_schema(settings: Settings) -> str | None:
    """Bring the database to the newest revision as ``planenet serve`` and ``worker`` start
    (or, with ``auto_migrate`` off, check it is there); the reason it cannot, or None."""
    return _with_database(settings, lambda database: _upgrade_quietly(database, settings))


def upgrade(settings: Settings) -> int:
    """``planenet db upgrade``: bring the database to the newest revision."""

    def run(database: Database) -> None:
        before = database.upgrade_schema()
        if before.at_head:
            print(f"the database is already at the newest revision, {before.head}")
        elif before.v1_tables:
            print(f"recognised a v1 database and brought it to revision {before.head}")
        else:
            print(f"upgraded the database from revision {before.describe()} to {before.head}")

    return _exit_status(_with_database(settings, run))


def current(settings: Settings) -> int:
    """``planenet db current``: the database's revision and this PlaneNet's newest."""
    unknown = False

    def run(database: Database) -> None:
        nonlocal unknown
        state = database.schema_state()
        print(f"database: {_shown_url(database.url)}")
        print(f"revision: {state.describe()}")
        print(f"newest:   {state.head}")
        unknown = not state.known
        if state.known and not state.at_head:
            print("`planenet db upgrade` (or the next start of planenet serve) upgrades it")

    failure = _with_database(settings, run)
    return _exit_status(failure) or int(unknown)


def check(settings: Settings) -> int:
    """``planenet db check``: 1 when the tables in code and the migrations differ.

    The database is upgraded to the newest revision inside a transaction that is rolled
    back, compared with the tables in code, and left as it was.
    """
    found: list[Any] = []

    def run(database: Database) -> None:
        found.extend(database.schema_differences())

    failure = _with_database(settings, run)
    if failure is not None:
        return _exit_status(failure)
    if not found:
        print("the migrations match the tables in code")
        return 0
    print("the tables in code differ from the migrations; write a revision for:", file=sys.stderr)
    for difference in found:
        print(f"  {describe_difference(difference)}", file=sys.stderr)
    return 1


COMMANDS: dict[str, Callable[[Settings], int]] = {
    "upgrade": upgrade,
    "current": current,
    "check": check,
}


def describe_difference(difference: Any) -> str:
    """One line for one item of Alembic's comparison, e.g. ``add_column jobs extra``."""
    if isinstance(difference, list):
        return "; ".join(describe_difference(item) for item in difference)
    operation, *details = difference
    shown = [_shown_detail(detail) for detail in details if detail is not None]
    return " ".join([operation, *shown])


def _shown_detail(detail: Any) -> str:
    name = getattr(detail, "name", None)
    if name is not None and hasattr(detail, "table"):
        table = getattr(detail.table, "name", None)
        return f"{table}.{name}" if table else str(name)
    if name is not None:
        return str(name)
    return str(detail)


def _upgrade_quietly(database: Database, settings: Settings) -> None:
    database.upgrade_schema(auto_upgrade=settings.auto_migrate)


def _with_database(settings: Settings, run: Callable[[Database], None]) -> str | None:
    """Run ``run`` on the configured database; the reason it failed, or None."""
    url = settings.resolved_database_url
    try:
        database = Database(url)
    except ArgumentError as error:
        return f"invalid database URL {_shown_url(url)!r}: {error}"
    except ImportError as error:
        return f"the driver of {_shown_url(url)!r} is not installed: {error}"
    try:
        run(database)
    except SchemaError as error:
        return str(error)
    except SQLAlchemyError as error:
        cause = getattr(error, "orig", None) or error
        first_line = str(cause).strip().splitlines()[0] if str(cause).strip() else repr(cause)
        return f"the database {_shown_url(url)} cannot be used: {first_line}"
    finally:
        database.dispose()
    return None


def _exit_status(failure: str | None) -> int:
    if failure is None:
        return 0
    print(f"planenet: {failure}", file=sys.stderr)
    return 1


def _shown_url(url: str) -> str:
    """The URL with any password hidden."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url
