"""The HTTP server of ``planenet serve``: uvicorn with slow-client guards and a stop announcement.

uvicorn drops an idle keep-alive connection, but not one that trickles a request in a byte at
a time, nor one that opens and sends nothing. :func:`guarded_protocol` adds two deadlines per
request: its head must arrive within ``header_timeout`` seconds of its first byte (or of the
connection's opening), its body within ``body_timeout`` seconds of the head; past either the
connection is closed (a late head is first answered 408). ``max_connections`` caps open
connections: past it uvicorn answers 503. On SIGINT/SIGTERM :class:`AnnouncingServer` calls
``on_stopping`` before draining, so event streams can end with a final event.
"""

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    HTTPTOOLS = True
except ImportError:  # httptools is a dependency; a bare install may lack its wheel
    HttpToolsProtocol = H11Protocol  # type: ignore[misc,assignment]
    HTTPTOOLS = False

GRACEFUL_SHUTDOWN_SECONDS = 5
"""How long a stop waits for open requests before it cancels them and exits."""

LATE_HEAD_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 42\r\n"
    b"Connection: close\r\n\r\nthe request head took too long to arrive\r\n"
)

logger = logging.getLogger("planenet.server")


class RequestDeadlines:
    """The two deadlines of :func:`guarded_protocol`, for a uvicorn protocol class to mix in:
    it says when a request's head or body is awaited, this arms, cancels and enforces them."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _head_deadline: asyncio.TimerHandle | None = None
    _body_deadline: asyncio.TimerHandle | None = None

    def _awaiting_head(self) -> bool:
        """Whether the connection still waits for (the rest of) a request's head."""
        raise NotImplementedError

    def _awaiting_body(self) -> bool:
        """Whether the connection still waits for (the rest of) a request's body."""
        raise NotImplementedError

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _arm_body_deadline(self) -> None:
        if self._body_deadline is None:
            self._body_deadline = self.loop.call_later(self.body_timeout, self._body_too_slow)

    def _cancel(self, *, head: bool = False, body: bool = False) -> None:
        if head and self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None
        if body and self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self._awaiting_head() and not self.transport.is_closing():
            logger.info("closing a connection whose request head was too slow")
            self.transport.write(LATE_HEAD_RESPONSE)
            self.transport.close()

    def _body_too_slow(self) -> None:
        self._body_deadline = None
        if self._awaiting_body() and not self.transport.is_closing():
            logger.info("closing a connection whose request body was too slow")
            self.transport.close()


class GuardedH11Protocol(RequestDeadlines, H11Protocol):
    """uvicorn's h11 protocol with deadlines on receiving each request's head and body."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()
        super().data_received(data)
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._cancel(head=True)
        if state is h11.SEND_BODY:
            self._arm_body_deadline()
        else:
            self._cancel(body=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(head=True, body=True)
        super().connection_lost(exc)

    def _awaiting_head(self) -> bool:
        return self.conn.their_state is h11.IDLE

    def _awaiting_body(self) -> bool:
        return self.conn.their_state is h11.SEND_BODY


class GuardedHttpToolsProtocol(RequestDeadlines, HttpToolsProtocol):
    """uvicorn's httptools protocol (the fast C parser) with the same two deadlines.

    The parser reports a request's start, the end of its head and the end of its body; the
    head deadline runs from the first byte of a request (or the connection's opening) to the
    end of its head, the body deadline from there to the end of the body.
    """

    _in_body = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        if not self._in_body:
            self._arm_head_deadline()
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._cancel(head=True)
        self._in_body = True
        self._arm_body_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_body = False
        self._cancel(body=True)
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(head=True, body=True)
        super().connection_lost(exc)

    def _awaiting_head(self) -> bool:
        # A response under way means the head of this request arrived in time.
        response_under_way = self.cycle is not None and not self.cycle.response_complete
        return not self._in_body and not response_under_way

    def _awaiting_body(self) -> bool:
        return self._in_body


def guarded_protocol(
    header_timeout: float, body_timeout: float
) -> type[GuardedH11Protocol] | type[GuardedHttpToolsProtocol]:
    """The HTTP protocol class with these deadlines (uvicorn builds one per connection): on
    httptools, the fast parser ``make run`` and the image install, else on h11."""
    base: type[GuardedH11Protocol] | type[GuardedHttpToolsProtocol] = (
        GuardedHttpToolsProtocol if HTTPTOOLS else GuardedH11Protocol
    )
    return type(
        "PlaneNetHttpProtocol",
        (base,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that calls ``on_stopping`` as soon as a stop begins, before draining."""

    def __init__(self, config: uvicorn.Config, on_stopping: Callable[[], None]) -> None:
        super().__init__(config)
        self.on_stopping = on_stopping

    async def shutdown(self, sockets: Any = None) -> None:
        try:
            self.on_stopping()
        except Exception:
            logger.exception("could not announce the stop")
        await super().shutdown(sockets)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
