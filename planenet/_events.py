"""A job's Server-Sent Events: the wire format's parser, the typed event, and where a watch stands.

``GET /jobs/{id}/events`` sends ``progress`` events (with ``losses``: every loss value since the
previous event) and then one final event named after the job's outcome; beside them,
``snapshot`` events carry the network's newest parameters (yielded on request). Each event's
``id`` counts the loss values sent so far, so a client that reconnects with ``Last-Event-ID``
gets exactly the values it has not seen; after the final event the server answers ``204``.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from planenet._models import FINISHED_STATUSES, JSONObject

SNAPSHOT = "snapshot"
"""The kind of the events that carry a running job's newest weights and biases."""


class StreamEnded(httpx.RemoteProtocolError):
    """The event stream closed before the job's outcome (its server stopped): connect again."""


@dataclass(frozen=True)
class ServerSentEvent:
    """One event as the SSE format defines it: a name, its data lines joined, the last id seen."""

    event: str
    data: str
    id: str | None
    retry_milliseconds: int | None = None


@dataclass
class EventDecoder:
    """Turns the lines of one connection's ``text/event-stream`` into events (WHATWG rules).

    An event is dispatched at the blank line that ends it, so an event cut off by a dropped
    connection is never delivered half. ``last_id`` outlives events, as the format says.
    """

    last_id: str | None = None
    _event: str = ""
    _data: list[str] = field(default_factory=list)
    _retry: int | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line (without its end of line); return the event it completes, if any."""
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None  # a comment: the server's heartbeat
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self.last_id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        event, data, retry = self._event, self._data, self._retry
        self._event, self._data, self._retry = "", [], None
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self.last_id, retry)


def decode_events(lines: Iterable[str], decoder: EventDecoder) -> Iterator[ServerSentEvent]:
    """The events completed by ``lines``."""
    for line in lines:
        event = decoder.feed(line)
        if event is not None:
            yield event


@dataclass(frozen=True)
class JobEvent:
    """One event of a job's stream: ``progress``, then ``succeeded``, ``failed`` or ``cancelled``.

    ``data`` is the event's JSON; the properties read its usual members.
    """

    kind: str
    id: str
    data: JSONObject

    @property
    def final(self) -> bool:
        """Whether this is the job's outcome, the last event of the stream."""
        return self.kind in FINISHED_STATUSES

    @property
    def snapshot(self) -> bool:
        """Whether this carries the network's newest parameters rather than progress."""
        return self.kind == SNAPSHOT

    @property
    def status(self) -> str:
        return str(self.data.get("status", self.kind))

    @property
    def epoch(self) -> int:
        return int(self.data.get("epoch", 0))

    @property
    def epochs(self) -> int | None:
        epochs = self.data.get("epochs")
        return None if epochs is None else int(epochs)

    @property
    def loss(self) -> float | None:
        loss = self.data.get("loss")
        return None if loss is None else float(loss)

    @property
    def losses(self) -> list[float | None]:
        """The loss of every epoch since the previous event (None where a loss was not finite)."""
        values: list[Any] = self.data.get("losses") or []
        return [None if value is None else float(value) for value in values]

    @property
    def model_id(self) -> str | None:
        return self.data.get("model_id")

    @property
    def error(self) -> str | None:
        return self.data.get("error")


@dataclass
class WatchState:
    """Where a watch stands across connections: the last event id received, and whether it ended."""

    last_event_id: str | None = None
    ended: bool = False

    def request_headers(self) -> dict[str, str]:
        """``Last-Event-ID`` once an event has come, so a new connection resumes after it."""
        return {} if self.last_event_id is None else {"Last-Event-ID": self.last_event_id}

    def new_decoder(self) -> EventDecoder:
        """A parser for a new connection (what a dropped one had half-read is dropped with it)."""
        return EventDecoder(last_id=self.last_event_id)

    def receive(self, event: ServerSentEvent) -> JobEvent:
        """Note a complete event as received and return it typed."""
        self.last_event_id = event.id
        job_event = JobEvent(kind=event.event, id=event.id or "", data=json.loads(event.data))
        self.ended = job_event.final
        return job_event
