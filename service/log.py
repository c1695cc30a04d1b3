"""Logging set-up: every record (PlaneNet's, uvicorn's) as one JSON line on stderr.

The API process and every worker process call :func:`configure_logging` at start.
"""

import logging
import sys
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
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        # A comprehension, not a generator: this runs once per request.
        entry.update(
            {
                key: value
                for key, value in record.__dict__.items()
                if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
            }
        )
        if record.exc_info:
            entry["trace"] = self.formatException(record.exc_info)
        # pydantic-core writes JSON several times faster than json.dumps: one line per request.
        return pydantic_core.to_json(entry, fallback=str).decode()


def configure_logging(level: str) -> None:
    """Send every log record (PlaneNet's, uvicorn's) to stderr as JSON lines at ``level``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
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
