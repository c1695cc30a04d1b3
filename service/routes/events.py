"""Server-Sent Events of a job's progress: one store poller per watched job, shared by its clients.

``GET /jobs/{id}/events`` streams ``progress`` events while the job is queued or running,
then one final event (``succeeded``, ``failed`` or ``cancelled``) and ends. Progress comes
from the store, which workers write from their own processes (or machines), so the stream
never depends on where a job runs. Each event's ``id`` is the number of loss values the
client has received so far; a client that reconnects with ``Last-Event-ID`` gets the rest
of the loss history and nothing twice.
"""

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import StreamingResponse
from numpy.typing import NDArray
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from service.deps import ReadAccess, RepositoryDep
from service.errors import NotFound
from service.schemas.common import problem_responses
from service.store.codec import decode_loss_history
from service.store.database import Database
from service.store.tables import JobRow, JobStatus

POLL_INTERVAL_SECONDS = 0.25
HEARTBEAT_SECONDS = 15.0
RECONNECT_MILLISECONDS = 1000
MAX_LOSSES_PER_EVENT = 10_000

router = APIRouter(tags=["jobs"])
logger = logging.getLogger("planenet.events")

FloatArray = NDArray[np.float64]
_NO_HISTORY: FloatArray = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state as last read from the store, with its loss histories (epochs_so_far,)."""

    status: JobStatus
    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    model_id: str | None
    error: str | None
    progress_at: datetime | None
    losses: FloatArray
    validation_losses: FloatArray | None


def read_snapshot(database: Database, job_id: str, previous: JobSnapshot | None) -> JobSnapshot:
    """Read a job's progress and loss history in one transaction (a consistent pair).

    The history blob is decoded only when the job changed since ``previous``. Raises
    :class:`NotFound` for an unknown id.
    """
    columns = (
        JobRow.status,
        JobRow.epoch,
        JobRow.epochs,
        JobRow.loss,
        JobRow.validation_loss,
        JobRow.model_id,
        JobRow.error,
        JobRow.progress_at,
    )
    with database.reading() as session:
        row = session.execute(select(*columns).where(JobRow.id == job_id)).one_or_none()
        if row is None:
            raise NotFound("job", job_id)
        status = JobStatus(row.status)
        if previous and (previous.status, previous.progress_at) == (status, row.progress_at):
            return previous
        history = session.scalar(select(JobRow.loss_history).where(JobRow.id == job_id))
    decoded = None if history is None else decode_loss_history(history)
    return JobSnapshot(
        status=status,
        epoch=row.epoch,
        epochs=row.epochs,
        loss=row.loss,
        validation_loss=row.validation_loss,
        model_id=row.model_id,
        error=row.error,
        progress_at=row.progress_at,
        losses=_NO_HISTORY if decoded is None else decoded.loss,
        validation_losses=None if decoded is None else decoded.validation_loss,
    )


@dataclass
class JobFeed:
    """The latest snapshot of one job, refreshed by one poller for all of its watchers."""

    job_id: str
    snapshot: JobSnapshot | None = None
    watchers: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    poller: asyncio.Task[None] | None = None

    def publish(self, snapshot: JobSnapshot) -> None:
        """Store a new snapshot and wake every watcher waiting for one."""
        self.snapshot = snapshot
        woken, self.changed = self.changed, asyncio.Event()
        woken.set()


class EventHub:
    """The jobs watched in this process, each with one poller while it has watchers."""

    def __init__(self, database: Database, poll_interval: float = POLL_INTERVAL_SECONDS) -> None:
        self.database = database
        self.poll_interval = poll_interval
        self.feeds: dict[str, JobFeed] = {}
        self.store_reads = 0

    @contextlib.asynccontextmanager
    async def watch(self, job_id: str) -> AsyncIterator[JobFeed]:
        """The job's shared feed; the last watcher to leave stops its poller."""
        feed = self.feeds.get(job_id)
        if feed is None:
            feed = self.feeds[job_id] = JobFeed(job_id)
            feed.poller = asyncio.create_task(self._poll(feed))
        feed.watchers += 1
        try:
            yield feed
        finally:
            feed.watchers -= 1
            if feed.watchers == 0:
                del self.feeds[job_id]
                if feed.poller is not None:
                    feed.poller.cancel()

    async def _poll(self, feed: JobFeed) -> None:
        while True:
            previous = feed.snapshot
            snapshot: JobSnapshot | None
            try:
                snapshot = await run_in_threadpool(
                    read_snapshot, self.database, feed.job_id, previous
                )
                self.store_reads += 1
            except (SQLAlchemyError, NotFound):
                logger.warning("could not read job progress", exc_info=True)
                snapshot = previous
            if snapshot is not None and snapshot is not previous:
                feed.publish(snapshot)
            if snapshot is not None and snapshot.status.finished:
                return
            await asyncio.sleep(self.poll_interval)


def format_event(event: str, event_id: int, data: dict[str, Any]) -> str:
    """One SSE event in the wire format (JSON data on one line)."""
    payload = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return f"event: {event}\nid: {event_id}\ndata: {payload}\n\n"


def _finite_list(values: FloatArray) -> list[float | None]:
    """JSON-able floats: a non-finite loss (a diverged run) becomes null."""
    return [value if math.isfinite(value) else None for value in values.tolist()]


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def progress_events(snapshot: JobSnapshot, sent: int) -> Iterator[str]:
    """The progress events that bring a client from ``sent`` loss values to all the snapshot's.

    A long history comes in several events of at most ``MAX_LOSSES_PER_EVENT`` values, each
    with its own id. At least one event is yielded (with no values when none are new).
    """
    available = len(snapshot.losses)
    common = {
        "status": str(snapshot.status),
        "epoch": snapshot.epoch,
        "epochs": snapshot.epochs,
        "loss": _finite(snapshot.loss),
        "validation_loss": _finite(snapshot.validation_loss),
        "fraction": min(1.0, snapshot.epoch / snapshot.epochs) if snapshot.epochs else 0.0,
    }
    while True:
        end = min(available, sent + MAX_LOSSES_PER_EVENT) if sent < available else sent
        validation = snapshot.validation_losses
        data = {
            **common,
            "offset": sent,
            "losses": _finite_list(snapshot.losses[sent:end]),
            "validation_losses": None if validation is None else _finite_list(validation[sent:end]),
        }
        yield format_event("progress", end, data)
        sent = end
        if sent >= available:
            return


def final_event(snapshot: JobSnapshot, sent: int) -> str:
    """The event that ends the stream: the job's outcome."""
    data: dict[str, Any] = {"status": str(snapshot.status), "epoch": snapshot.epoch}
    if snapshot.status == JobStatus.SUCCEEDED:
        data |= {"model_id": snapshot.model_id, "loss": _finite(snapshot.loss)}
    elif snapshot.status == JobStatus.FAILED:
        data["error"] = snapshot.error or "the job failed"
    return format_event(str(snapshot.status), sent, data)


async def job_event_stream(hub: EventHub, job_id: str, sent: int) -> AsyncIterator[str]:
    """The SSE text of one client: progress as it changes, then the outcome, then the end.

    ``sent`` is the number of loss values the client already has (its ``Last-Event-ID``).
    A client that disconnects cancels this generator, which releases its watch.
    """
    yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
    last_state: tuple[object, ...] | None = None
    async with hub.watch(job_id) as feed:
        while True:
            change = feed.changed
            snapshot = feed.snapshot
            if snapshot is not None:
                state = (snapshot.status, snapshot.epoch, len(snapshot.losses))
                if state != last_state:
                    last_state = state
                    # A client may hold more than this snapshot (it read a fresher one from
                    # another server): it then gets no value twice, only the ones after its own.
                    if not snapshot.status.finished or sent < len(snapshot.losses):
                        for text in progress_events(snapshot, sent):
                            yield text
                        sent = max(sent, len(snapshot.losses))
                if snapshot.status.finished:
                    yield final_event(snapshot, sent)
                    return
            try:
                await asyncio.wait_for(change.wait(), HEARTBEAT_SECONDS)
            except TimeoutError:
                yield ": heartbeat\n\n"


def event_hub(app: FastAPI, database: Database) -> EventHub:
    """The app's hub over ``database``, created on first use (it lives as long as the store)."""
    hub: EventHub | None = getattr(app.state, "event_hub", None)
    if hub is None or hub.database is not database:
        hub = EventHub(database)
        app.state.event_hub = hub
    return hub


def parse_last_event_id(value: str | None) -> int:
    """The loss values a reconnecting client already has; 0 for a missing or foreign id."""
    if value is None or not value.strip().isdigit():
        return 0
    return int(value.strip())


EVENT_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "Server-Sent Events: `progress` (status, epoch, epochs, loss, validation_loss, "
            "fraction, and the loss values since the previous event: `offset`, `losses`, "
            "`validation_losses`), then one of `succeeded` (model_id), `failed` (error) or "
            "`cancelled`, after which the stream ends. Each `id` counts the loss values sent; "
            "send it back as `Last-Event-ID` to resume."
        ),
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    **problem_responses(401, 404),
}


@router.get(
    "/jobs/{job_id}/events",
    summary="Watch a job's progress live (Server-Sent Events)",
    response_class=StreamingResponse,
    responses=EVENT_STREAM_RESPONSE,
)
async def job_events(
    job_id: str,
    request: Request,
    repository: RepositoryDep,
    _: ReadAccess,
    last_event_id: Annotated[str | None, Header(description="resume after this event")] = None,
) -> StreamingResponse:
    await run_in_threadpool(repository.get_job, job_id)
    hub = event_hub(request.app, repository.database)
    stream = job_event_stream(hub, job_id, parse_last_event_id(last_event_id))
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
