"""The heartbeat of a claimed job: a thread that tells the store its worker still runs it.

Progress writes are heartbeats too, but training reports only between epochs, and one epoch
of a big job (or preparing its data, or storing its model) may take longer than the store's
patience. This thread refreshes the heartbeat every few seconds whatever the training does,
and stops when the job ends, its lease is lost, the worker is being interrupted (an orphaned
worker must not keep its job looking alive), or the training has shown no progress for so
long that it must be hung (a deadlocked worker must not keep its job alive forever).
"""

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from service.domain.heartbeats import HEARTBEAT_SECONDS
from service.store.repository import Repository

HUNG_TRAINING_SECONDS = 600.0
"""How long a job's training may show no progress before its worker is taken to be hung and
stops beating, so that recovery fails the job. Training shows progress between epochs (about
four times a second); the slowest epoch the default limits allow (100,000 points in batches of
one, eight hidden layers of 256 units) takes under two minutes on one core, so ten minutes
leaves room for a loaded machine, preparing the data and storing the model."""

logger = logging.getLogger("planenet.worker")


class Liveness:
    """When the training of a job last showed progress, on a monotonic clock."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_progress = clock()

    def touch(self) -> None:
        """Record that the training showed progress now."""
        self._last_progress = self._clock()

    def silent_seconds(self) -> float:
        """Seconds since the training last showed progress (or since this was created)."""
        return self._clock() - self._last_progress


class Heartbeat:
    """A context manager: while inside, a daemon thread beats every ``interval`` seconds.

    It stops beating once ``liveness`` has been silent for more than ``hung_after`` seconds,
    and then calls ``on_hung`` (with those seconds), if given, from the heartbeat thread.
    ``beats`` counts the heartbeats written; ``ended`` is set once the thread stops beating
    (the block was left, the lease was lost, the worker is being interrupted, or it is hung).
    """

    def __init__(
        self,
        repository: Repository,
        job_id: str,
        lease: str,
        interrupted: Callable[[], bool],
        liveness: Liveness,
        *,
        interval: float = HEARTBEAT_SECONDS,
        hung_after: float = HUNG_TRAINING_SECONDS,
        on_hung: Callable[[float], None] | None = None,
    ) -> None:
        self.repository = repository
        self.job_id = job_id
        self.lease = lease
        self.interrupted = interrupted
        self.liveness = liveness
        self.interval = interval
        self.hung_after = hung_after
        self.on_hung = on_hung
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
            silent_seconds = self.liveness.silent_seconds()
            if silent_seconds > self.hung_after:
                logger.error(
                    "training shows no progress; no longer beating, so the job is recovered",
                    extra={"job_id": self.job_id, "silent_seconds": round(silent_seconds)},
                )
                if self.on_hung is not None:
                    self.on_hung(silent_seconds)
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
