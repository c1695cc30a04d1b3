"""How an idle worker learns that a job was queued: a database notification, or a local token.

On PostgreSQL the transaction that queues a job sends ``NOTIFY planenet_jobs`` (see
service.store.jobs), and every idle worker on every host listens on its own connection, so
all of them wake at once and race to claim it. On SQLite (one host) the API process puts a
token on its workers' queue instead. Either way a worker that hears nothing polls the store
every few seconds, so a lost notification or a broken listening connection only delays a
job, never strands it.
"""

import contextlib
import logging
import multiprocessing.queues
import queue
import time
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from service.store.jobs import JOBS_CHANNEL

logger = logging.getLogger("planenet.worker")

LISTEN_CONNECT_SECONDS = 5


class Wakeup(Protocol):
    """Waits until a job may have been queued, or ``timeout`` seconds pass."""

    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


class QueueWakeup:
    """Wakes on a token its API process put on the workers' queue (SQLite: one host)."""

    def __init__(self, tokens: "multiprocessing.queues.Queue[str | None]") -> None:
        self.tokens = tokens

    def wait(self, timeout: float) -> None:
        with contextlib.suppress(queue.Empty):
            self.tokens.get(timeout=timeout)

    def close(self) -> None:
        pass


class NotificationWakeup:
    """Wakes on a PostgreSQL notification of a queued job, from any host.

    It listens on a connection of its own, opened at once (so a job queued from then on
    is heard even while this worker is busy) and again after a failure, at most once per
    ``wait``. Tokens of the local queue are drained so they never pile up.
    """

    def __init__(
        self, database_url: str, tokens: "multiprocessing.queues.Queue[str | None] | None" = None
    ) -> None:
        import psycopg  # noqa: PLC0415 - the postgres extra's driver, needed here alone

        self.driver = psycopg
        self.conninfo = libpq_url(database_url)
        self.tokens = tokens
        self._connection: psycopg.Connection[Any] | None = None
        self._listen()

    def _listen(self) -> None:
        psycopg = self.driver
        try:
            connection = psycopg.connect(
                self.conninfo, autocommit=True, connect_timeout=LISTEN_CONNECT_SECONDS
            )
            connection.execute(f"LISTEN {JOBS_CHANNEL}")
        except psycopg.Error:
            logger.warning("cannot listen for queued jobs; polling instead", exc_info=True)
            return
        self._connection = connection

    def wait(self, timeout: float) -> None:
        started = time.monotonic()
        if self._connection is None:
            self._listen()
        if self._connection is not None:
            try:
                for _notification in self._connection.notifies(timeout=timeout, stop_after=1):
                    break
            except self.driver.Error:
                logger.warning("lost the connection listening for jobs", exc_info=True)
                self.close()
                time.sleep(max(0.0, timeout - (time.monotonic() - started)))
        else:
            time.sleep(timeout)
        self._drain_tokens()

    def _drain_tokens(self) -> None:
        if self.tokens is None:
            return
        with contextlib.suppress(queue.Empty, OSError, ValueError):
            while True:
                self.tokens.get_nowait()

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(self.driver.Error):
                self._connection.close()
            self._connection = None


def libpq_url(database_url: str) -> str:
    """The libpq URL of a SQLAlchemy ``postgresql+psycopg://`` URL (password kept)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(False)


def wakeup_for(
    database_url: str, tokens: "multiprocessing.queues.Queue[str | None]", listen: bool = True
) -> Wakeup:
    """The wake-up of a worker on this database: notifications on PostgreSQL, else tokens."""
    if listen and make_url(database_url).get_backend_name() == "postgresql":
        return NotificationWakeup(database_url, tokens)
    return QueueWakeup(tokens)
