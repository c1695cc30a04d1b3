"""The database's clock: SQL expressions for "now" and "so many seconds ago", on every database.

Every time that API processes and workers on different hosts compare (heartbeats, claims,
leases, the heartbeat timeout, when jobs were queued, started and finished) is taken by the
database when the statement runs, never by a host, so hosts need no synchronised clocks.
PostgreSQL gives ``clock_timestamp()`` (the moment the row is written, not the start of its
transaction); SQLite, whose one file lives on one host, gives that host's UTC time with
milliseconds, in the text form SQLAlchemy stores its datetimes in.
"""

from typing import Any

from sqlalchemy import ColumnElement, Float
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

from service.store.tables import UTCDateTime

_SQLITE_FORMAT = "'%Y-%m-%d %H:%M:%f'"


class db_now(FunctionElement[Any]):  # noqa: N801 - reads as the SQL function it stands for
    """The database's current UTC time, as a :class:`UTCDateTime` value."""

    type = UTCDateTime()
    inherit_cache = True


class db_seconds_ago(FunctionElement[Any]):  # noqa: N801
    """The database's UTC time ``seconds`` ago (a Python float, bound as a literal number)."""

    type = UTCDateTime()
    inherit_cache = False

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = float(seconds)


@compiles(db_now)
def _now_default(_element: db_now, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "clock_timestamp()"


@compiles(db_now, "sqlite")
def _now_sqlite(_element: db_now, _compiler: SQLCompiler, **_kw: Any) -> str:
    return f"strftime({_SQLITE_FORMAT}, 'now')"


@compiles(db_seconds_ago)
def _ago_default(element: db_seconds_ago, _compiler: SQLCompiler, **_kw: Any) -> str:
    return f"(clock_timestamp() - make_interval(secs => {element.seconds:.6f}))"


@compiles(db_seconds_ago, "sqlite")
def _ago_sqlite(element: db_seconds_ago, _compiler: SQLCompiler, **_kw: Any) -> str:
    return f"strftime({_SQLITE_FORMAT}, 'now', '{-element.seconds:.6f} seconds')"


class seconds_between(FunctionElement[Any]):  # noqa: N801
    """Seconds from one stored time to another (a float), computed by the database."""

    type = Float()
    inherit_cache = True

    def __init__(
        self, start: ColumnElement[Any] | QueryableAttribute[Any], end: QueryableAttribute[Any]
    ) -> None:
        super().__init__(start, end)


@compiles(seconds_between)
def _between_default(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"EXTRACT(EPOCH FROM ({end} - {start}))"


@compiles(seconds_between, "sqlite")
def _between_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"
