"""The heartbeat of a claimed job: a thread that tells the store its worker still runs it.

Progress writes are heartbeats too, but training reports only between epochs, and one epoch
of a big job (or preparing its data, or storing its model) may take longer than the store's
patience. This thread refreshes the heartbeat every few seconds whatever the training does,
and stops when the job ends, its lease is lost, or the worker is being interrupted (an
orphaned worker must not keep its job looking alive).
"""

import logging
import threading
from collections.abc import Callable
from types import TracebackType

from service.store.database import SQLITE_BUSY_TIMEOUT_MS
from service.store.repository import Repository

HEARTBEAT_SECONDS = 5.0
"""How often a worker refreshes the heartbeat of the job it runs. It is fixed, whatever the
timeout of the processes that judge the heartbeat, so that any of them can judge any worker."""

MIN_HEARTBEAT_TIMEOUT_SECONDS = 3 * HEARTBEAT_SECONDS + SQLITE_BUSY_TIMEOUT_MS / 1000
"""The shortest safe heartbeat timeout (45 s): a beat's time is taken before its write, which
may wait up to SQLite's busy timeout for the lock, and two beats in a row may fail."""

logger = logging.getLogger("planenet.worker")


class Heartbeat:
    """A context manager: while inside, a daemon thread beats every ``interval`` seconds.

    ``beats`` counts the heartbeats written; ``ended`` is set once the thread stops beating
    (the block was left, the lease was lost, or the worker is being interrupted).
    """

    def __init__(
        self,
        repository: Repository,
        job_id: str,
        lease: str,
        interval: float,
        interrupted: Callable[[], bool],
    ) -> None:
        self.repository = repository
        self.job_id = job_id
        self.lease = lease
        self.interval = interval
        self.interrupted = interrupted
        self.beats = 0
        self.ended = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="planenet-heartbeat", daemon=True)

    def __enter__(self) -> "Heartbeat":
        self._thread.start()
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            self._beat_until_done()
        finally:
            self.ended.set()

    def _beat_until_done(self) -> None:
        while not self._done.wait(self.interval):
            if self.interrupted():
                return
            try:
                if not self.repository.heartbeat(self.job_id, self.lease):
                    return
            except Exception:
                logger.warning(
                    "could not write a heartbeat", exc_info=True, extra={"job_id": self.job_id}
                )
                continue
            self.beats += 1
