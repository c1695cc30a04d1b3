"""The live feeds of watched jobs: one poller reads every watched job from the store per tick.

Progress comes from the store, which workers write from their own processes (or machines),
so a feed never depends on where its job runs. However many clients watch however many jobs,
the hub makes one read transaction per tick (see ``Repository.job_snapshots``), and each
watcher waits on its job's feed for the next change.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from service.domain.records import JobSnapshot
from service.store.repository import Repository

POLL_INTERVAL_SECONDS = 0.25
MAX_RETRY_SECONDS = 5.0

logger = logging.getLogger("planenet.events")


@dataclass
class JobFeed:
    """The latest snapshot of one job, refreshed by the hub's poller for all of its watchers."""

    job_id: str
    snapshot: JobSnapshot | None = None
    watchers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def publish(self, snapshot: JobSnapshot) -> None:
        """Store a new snapshot and wake every watcher waiting for one."""
        self.snapshot = snapshot
        self.wake()

    def wake(self) -> None:
        """Wake every watcher waiting for a change (to look at the snapshot and the hub)."""
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()

    @property
    def finished(self) -> bool:
        """Whether the job's outcome is known (nothing is left to poll for)."""
        return self.snapshot is not None and self.snapshot.status.finished


class EventHub:
    """The jobs watched in this process, and the one poller that refreshes them all.

    Built and started in the application's lifespan, stopped at its end. The poller sleeps
    while no unfinished job is watched, and retries every failed read with a growing delay.
    """

    def __init__(self, repository: Repository, poll_interval: float | None = None) -> None:
        self.repository = repository
        self.poll_interval = POLL_INTERVAL_SECONDS if poll_interval is None else poll_interval
        self.feeds: dict[str, JobFeed] = {}
        self.poller: asyncio.Task[None] | None = None
        self._wanted = asyncio.Event()
        self.open_streams = 0
        self.stopping_retry_after: float | None = None

    def start(self) -> None:
        """Start the poller (on the running event loop)."""
        self.ensure_polling()

    async def stop(self) -> None:
        """Stop the poller and wait until it has ended."""
        if self.poller is not None:
            self.poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.poller

    def announce_stopping(self, retry_after: float) -> None:
        """The server is stopping: wake every watcher, to tell its client when to retry."""
        self.stopping_retry_after = retry_after
        for feed in list(self.feeds.values()):
            feed.wake()

    def ensure_polling(self) -> None:
        """Start the poller again if something ended it (it only ends when cancelled)."""
        poller = self.poller
        if poller is not None and not poller.done():
            return
        if poller is not None and not poller.cancelled() and poller.exception() is not None:
            logger.error(
                "the job progress poller ended; restarting it", exc_info=poller.exception()
            )
        self.poller = asyncio.create_task(self._poll())

    @contextlib.asynccontextmanager
    async def watch(self, job_id: str) -> AsyncIterator[JobFeed]:
        """The job's shared feed; the last watcher to leave drops it."""
        feed = self.feeds.get(job_id)
        if feed is None:
            feed = self.feeds[job_id] = JobFeed(job_id)
        feed.watchers += 1
        self._wanted.set()
        self.ensure_polling()
        try:
            yield feed
        finally:
            feed.watchers -= 1
            if feed.watchers == 0 and self.feeds.get(job_id) is feed:
                del self.feeds[job_id]

    def retry_delay(self, failures: int) -> float:
        """Seconds to wait after ``failures`` failed reads in a row: doubling, capped."""
        return float(min(MAX_RETRY_SECONDS, self.poll_interval * 2.0**failures))

    async def _poll(self) -> None:
        failures = 0
        while True:
            previous = {job_id: feed.snapshot for job_id, feed in self.feeds.items()}
            pending = {job_id: snapshot for job_id, snapshot in previous.items()
                       if snapshot is None or not snapshot.status.finished}  # fmt: skip
            if not pending:
                self._wanted.clear()
                await self._wanted.wait()
                continue
            try:
                snapshots = await run_in_threadpool(self.repository.job_snapshots, pending)
            except Exception:
                # Whatever went wrong (the database, a blob that would not decode), the
                # watchers must not wait for ever: log it, wait a little longer, read again.
                failures += 1
                logger.exception(
                    "could not read job progress; retrying", extra={"failures": failures}
                )
                await asyncio.sleep(self.retry_delay(failures))
                continue
            failures = 0
            for job_id, snapshot in snapshots.items():
                feed = self.feeds.get(job_id)
                if feed is not None and snapshot is not feed.snapshot:
                    feed.publish(snapshot)
            await asyncio.sleep(self.poll_interval)
