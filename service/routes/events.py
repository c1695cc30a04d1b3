"""Server-Sent Events of a job's progress, from the event hub's shared feed of the job.

``GET /jobs/{id}/events`` streams ``progress`` events while the job is queued or running,
then one final event (``succeeded``, ``failed`` or ``cancelled``) and ends. Each progress
event's ``id`` is the number of loss values the client has received so far; a client that
reconnects with ``Last-Event-ID`` gets the rest of the loss history and nothing twice. The
final event's id carries the suffix ``-end``: a client that reconnects with it has everything
and gets ``204 No Content``, which tells an EventSource to stop reconnecting.

Beside them, ``snapshot`` events carry the job's newest parameters (epoch, weights, biases) as
its worker stores them, at most one per ``SNAPSHOT_EVENT_SECONDS``, and the newest one before
the final event. A snapshot event's id is that of the progress before it (the loss values
sent so far), so resuming works as before.
"""

import asyncio
import json
import math
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from core.arrays import FloatArray
from core.serialization import parameters_to_dict
from service.domain.errors import Overloaded
from service.domain.jobs import JobStatus
from service.domain.records import JobSnapshot, LiveParameters
from service.event_hub import EventHub
from service.http.deps import EventHubDep, RepositoryDep, SettingsDep, resource_router
from service.schemas.common import problem_responses
from service.settings import setting_env_name

KEEPALIVE_SECONDS = 15.0
"""How often an idle stream sends a comment, so proxies and clients keep the connection."""
RECONNECT_MILLISECONDS = 1000
MAX_LOSSES_PER_EVENT = 10_000
FINAL_ID_SUFFIX = "-end"
SNAPSHOT_EVENT_SECONDS = 0.5
"""Least time between two snapshot events of one stream."""
MAX_SNAPSHOT_EVENT_PARAMETERS = 20_000
"""A snapshot event of a network with more parameters carries its epoch alone (weights and
biases null): fetch GET /jobs/{id}/figures/boundary to draw it."""
STOPPING_EVENT = "server-stopping"
STREAMS_RETRY_AFTER_SECONDS = 5

router = resource_router("/jobs", "jobs")

_EVENT_ID = re.compile(r"(\d+)(" + re.escape(FINAL_ID_SUFFIX) + r")?")


def format_event(event: str, event_id: str, data: dict[str, Any]) -> str:
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
        yield format_event("progress", str(end), data)
        sent = end
        if sent >= available:
            return


def snapshot_event(live: LiveParameters, sent: int) -> str:
    """A ``snapshot`` event: the job's newest parameters, with the id of the progress sent."""
    parameters = live.parameters
    small = (
        sum(
            weights.size + bias.size
            for weights, bias in zip(parameters.weights, parameters.biases, strict=True)
        )
        <= MAX_SNAPSHOT_EVENT_PARAMETERS
    )
    data: dict[str, Any] = {"epoch": live.epoch, "weights": None, "biases": None}
    if small:
        data |= parameters_to_dict(parameters)
    return format_event("snapshot", str(sent), data)


def final_event(snapshot: JobSnapshot, sent: int) -> str:
    """The event that ends the stream: the job's outcome, its id marked as the last one."""
    data: dict[str, Any] = {"status": str(snapshot.status), "epoch": snapshot.epoch}
    if snapshot.status == JobStatus.SUCCEEDED:
        data |= {"model_id": snapshot.model_id, "loss": _finite(snapshot.loss)}
    elif snapshot.status == JobStatus.FAILED:
        data["error"] = snapshot.error or "the job failed"
    return format_event(str(snapshot.status), f"{sent}{FINAL_ID_SUFFIX}", data)


def stopping_event(sent: int, retry_after: float) -> str:
    """The event that ends every stream when the server stops: reconnect in ``retry_after`` s.

    Its ``retry:`` field sets an EventSource's reconnection delay; its id is the client's
    position, so the reconnect resumes where this stream stopped.
    """
    data = {"retry_after": retry_after}
    retry = f"retry: {round(retry_after * 1000)}\n"
    return retry + format_event(STOPPING_EVENT, str(sent), data)


async def job_event_stream(hub: EventHub, job_id: str, sent: int) -> AsyncIterator[str]:
    """The SSE text of one client: progress as it changes, then the outcome, then the end.

    ``sent`` is the number of loss values the client already has (its ``Last-Event-ID``).
    A client that disconnects cancels this generator, which releases its watch. When the
    server stops, the stream ends with a ``server-stopping`` event instead.
    """
    try:
        yield f"retry: {RECONNECT_MILLISECONDS}\n\n"
        async for text in _job_events(hub, job_id, sent):
            yield text
    finally:
        hub.open_streams -= 1


async def _job_events(hub: EventHub, job_id: str, sent: int) -> AsyncIterator[str]:
    last_state: tuple[object, ...] | None = None
    snapshots = _SnapshotPacer()
    async with hub.watch(job_id) as feed:
        while True:
            if hub.stopping_retry_after is not None:
                yield stopping_event(sent, hub.stopping_retry_after)
                return
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
                if snapshots.ready(snapshot.live, final=snapshot.status.finished):
                    assert snapshot.live is not None
                    yield snapshot_event(snapshot.live, sent)
                if snapshot.status.finished:
                    yield final_event(snapshot, sent)
                    return
            wait = min(
                KEEPALIVE_SECONDS, snapshots.wait(None if snapshot is None else snapshot.live)
            )
            try:
                await asyncio.wait_for(change.wait(), wait)
            except TimeoutError:
                if wait == KEEPALIVE_SECONDS:
                    hub.ensure_polling()
                    yield ": heartbeat\n\n"


class _SnapshotPacer:
    """Which snapshots one stream sends: each new epoch, at most one per SNAPSHOT_EVENT_SECONDS."""

    def __init__(self) -> None:
        self.epoch: int | None = None
        self.sent_at = -math.inf

    def _new(self, live: LiveParameters | None) -> bool:
        return live is not None and live.epoch != self.epoch

    def ready(self, live: LiveParameters | None, final: bool) -> bool:
        """Whether to send ``live`` now (and if so, note it as sent)."""
        now = time.monotonic()
        if not self._new(live) or (not final and now - self.sent_at < SNAPSHOT_EVENT_SECONDS):
            return False
        assert live is not None
        self.epoch, self.sent_at = live.epoch, now
        return True

    def wait(self, live: LiveParameters | None) -> float:
        """Seconds until a held-back snapshot may go (KEEPALIVE_SECONDS when none waits)."""
        if not self._new(live):
            return KEEPALIVE_SECONDS
        return max(0.0, self.sent_at + SNAPSHOT_EVENT_SECONDS - time.monotonic())


@dataclass(frozen=True)
class ResumePoint:
    """What a reconnecting client holds: ``sent`` loss values, and the final event if ``ended``."""

    sent: int = 0
    ended: bool = False


def parse_last_event_id(value: str | None) -> ResumePoint:
    """Where a client resumes, from its ``Last-Event-ID``; the start for a missing or foreign id."""
    match = None if value is None else _EVENT_ID.fullmatch(value.strip())
    if match is None:
        return ResumePoint()
    return ResumePoint(sent=int(match[1]), ended=match[2] is not None)


EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "one event of the stream (its data is one line of JSON)",
    "properties": {
        "event": {
            "type": "string",
            "enum": [
                "progress",
                "snapshot",
                *(str(status) for status in JobStatus if status.finished),
                STOPPING_EVENT,
            ],
        },
        "id": {"type": "string", "pattern": r"^[0-9]+(" + re.escape(FINAL_ID_SUFFIX) + ")?$"},
        "data": {"type": "string", "contentMediaType": "application/json"},
        "retry": {"type": "integer", "minimum": 0},
    },
    "required": ["event", "id", "data"],
}
"""An event as OpenAPI 3.2's ``itemSchema`` would say it: what each event of the stream holds."""

EVENT_STREAM_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "Server-Sent Events: `progress` (status, epoch, epochs, loss, validation_loss, "
            "fraction, and the loss values since the previous event: `offset`, `losses`, "
            "`validation_losses`); `snapshot` (the newest parameters: `epoch`, `weights`, "
            f"`biases`; at most one per {SNAPSHOT_EVENT_SECONDS} s, weights and biases null "
            f"for networks of over {MAX_SNAPSHOT_EVENT_PARAMETERS} parameters); "
            "then one of `succeeded` (model_id), `failed` (error) or "
            "`cancelled`, after which the stream ends. Each `id` counts the loss values sent "
            f"(the final event's with the suffix `{FINAL_ID_SUFFIX}`); send it back as "
            "`Last-Event-ID` to resume."
        ),
        "content": {"text/event-stream": {"schema": EVENT_SCHEMA}},
    },
    204: {
        "description": (
            f"The client already has the final event (its `Last-Event-ID` ends in "
            f"`{FINAL_ID_SUFFIX}`): there is nothing more to send, and an EventSource stops "
            "reconnecting."
        )
    },
    **problem_responses(404, 503),
}


@router.get(
    "/{job_id}/events",
    summary="Watch a job's progress live (Server-Sent Events)",
    response_class=StreamingResponse,
    responses=EVENT_STREAM_RESPONSE,
)
async def watch_job(
    job_id: str,
    repository: RepositoryDep,
    hub: EventHubDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(description="resume after this event")] = None,
) -> Response:
    """At most ``max_event_streams`` streams are open at once; past it, 503 with Retry-After."""
    status = await run_in_threadpool(repository.job_status, job_id)
    resume = parse_last_event_id(last_event_id)
    if resume.ended and status.finished:
        return Response(status_code=204)
    if hub.open_streams >= settings.max_event_streams:
        raise Overloaded(
            f"{hub.open_streams} event streams are open, the most this server keeps "
            f"(raise it with the setting {setting_env_name('max_event_streams')}); retry later, "
            "or poll GET /jobs/{id}",
            STREAMS_RETRY_AFTER_SECONDS,
        )
    hub.open_streams += 1  # released when the stream ends (see job_event_stream)
    stream = job_event_stream(hub, job_id, resume.sent)
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
