"""Logging set-up: every record (PlaneNet's, uvicorn's) as one JSON line on stderr.

The API process and every worker process call :func:`configure_logging` at start.

The request log writes a line per request. Through the logging module (a LogRecord, the
logger and handler calls, the formatter) that line cost a health check 35 µs of its 60 on a
loaded server: :func:`direct_handler` finds when a logger's lines go to nothing but the
JSON handler, so that :meth:`JsonLinesHandler.write_fields` can write the same line directly.
"""

import logging
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pydantic_core

# Attributes every LogRecord has; anything else was passed through ``extra=`` and is logged.
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, any extras, and a trace."""

    def format(self, record: logging.LogRecord) -> str:
        # A comprehension, not a generator: this runs once per request.
        extras = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
        }
        if record.exc_info:
            extras["trace"] = self.formatException(record.exc_info)
        return json_line(record.created, record.levelname, record.name, record.getMessage(), extras)


def json_line(
    created: float, level_name: str, logger_name: str, message: str, fields: Mapping[str, Any]
) -> str:
    """The JSON line of a record made at ``created`` (``time.time()``) with these extras."""
    entry: dict[str, Any] = {
        "time": datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds"),
        "level": level_name.lower(),
        "logger": logger_name,
        "message": message,
        **fields,
    }
    # pydantic-core writes JSON several times faster than json.dumps: one line per request.
    return pydantic_core.to_json(entry, fallback=str).decode()


class JsonLinesHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`configure_logging` installs: JSON lines on a stream."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self.setFormatter(JsonFormatter())

    def write_fields(
        self, logger_name: str, level: int, message: str, fields: Mapping[str, Any]
    ) -> None:
        """Write the line a record of ``logger_name`` at ``level`` with these extras would
        give, without making the record (see :func:`direct_handler`)."""
        line = json_line(time.time(), logging.getLevelName(level), logger_name, message, fields)
        try:
            with self.lock:  # type: ignore[union-attr]
                self.stream.write(line + self.terminator)
                self.flush()
        except Exception:  # as StreamHandler.emit: report, never raise into a request
            record = logging.LogRecord(logger_name, level, "", 0, message, None, None)
            self.handleError(record)


def direct_handler(logger: logging.Logger, level: int) -> JsonLinesHandler | None:
    """The one handler ``logger``'s records at ``level`` reach, when it is the JSON one and
    nothing filters them on the way (else None: log through the logging module)."""
    if not logger.isEnabledFor(level):
        return None
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        if current.filters or current.disabled:
            return None
        found.extend(current.handlers)
        if not current.propagate:
            break
        current = current.parent
    if len(found) != 1:
        return None
    handler = found[0]
    if type(handler) is not JsonLinesHandler or handler.filters or level < handler.level:
        return None
    return handler


def configure_logging(level: str) -> None:
    """Send every log record (PlaneNet's, uvicorn's) to stderr as JSON lines at ``level``."""
    handler = JsonLinesHandler(sys.stderr)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    # The lines never show the caller's file, thread or process name: not collecting them
    # (the logging HOWTO's "Optimization") takes a third off the cost of each request's line.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
