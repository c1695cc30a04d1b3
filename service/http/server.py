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

GRACEFUL_SHUTDOWN_SECONDS = 5
"""How long a stop waits for open requests before it cancels them and exits."""

LATE_HEAD_RESPONSE = (
    b"HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain\r\nContent-Length: 42\r\n"
    b"Connection: close\r\n\r\nthe request head took too long to arrive\r\n"
)

logger = logging.getLogger("planenet.server")


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with deadlines on receiving each request's head and body."""

    header_timeout: float = 10.0
    body_timeout: float = 30.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._head_deadline: asyncio.TimerHandle | None = None
        self._body_deadline: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_head_deadline()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._arm_head_deadline()
        super().data_received(data)
        state = self.conn.their_state
        if state is not h11.IDLE:
            self._cancel_head_deadline()
        if state is h11.SEND_BODY and self._body_deadline is None:
            self._body_deadline = self.loop.call_later(self.body_timeout, self._body_too_slow)
        elif state is not h11.SEND_BODY:
            self._cancel_body_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_deadline()
        self._cancel_body_deadline()
        super().connection_lost(exc)

    def _cancel_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _cancel_body_deadline(self) -> None:
        if self._body_deadline is not None:
            self._body_deadline.cancel()
            self._body_deadline = None

    def _arm_head_deadline(self) -> None:
        if self._head_deadline is None:
            self._head_deadline = self.loop.call_later(self.header_timeout, self._head_too_slow)

    def _head_too_slow(self) -> None:
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            logger.info("closing a connection whose request head was too slow")
            self.transport.write(LATE_HEAD_RESPONSE)
            self.transport.close()

    def _body_too_slow(self) -> None:
        self._body_deadline = None
        if self.conn.their_state is h11.SEND_BODY and not self.transport.is_closing():
            logger.info("closing a connection whose request body was too slow")
            self.transport.close()


def guarded_protocol(header_timeout: float, body_timeout: float) -> type[GuardedH11Protocol]:
    """The h11 protocol class with these deadlines (uvicorn builds one instance per connection)."""
    return type(
        "PlaneNetH11Protocol",
        (GuardedH11Protocol,),
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
