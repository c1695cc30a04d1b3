"""A TCP proxy in front of a real server, which can cut an event stream mid-event or answer 503."""

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

BUFFER_BYTES = 65536
EVENT_END = b"\n\n"
UNAVAILABLE_BODY = (
    b'{"type":"about:blank","title":"Service Unavailable","status":503,'
    b'"detail":"the proxy is not forwarding yet"}'
)
UNAVAILABLE_RESPONSE = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Content-Type: application/problem+json\r\n"
    b"Retry-After: 0\r\n"
    b"Connection: close\r\n"
    b"Content-Length: " + str(len(UNAVAILABLE_BODY)).encode() + b"\r\n\r\n" + UNAVAILABLE_BODY
)


@dataclass
class Connection:
    """What one client connection carried: its request bytes and the answer bytes passed on."""

    request: bytearray = field(default_factory=bytearray)
    response: bytearray = field(default_factory=bytearray)
    cut: bool = False
    answered_unavailable: bool = False


@dataclass
class Proxy:
    """Forwards 127.0.0.1:``port`` to ``upstream_port``.

    The first ``unavailable`` connections get a ``503`` problem instead. The first connection
    that asks for an event stream is cut once ``cut_after_events`` events have passed, in the
    middle of the bytes that come next.
    """

    upstream_port: int
    unavailable: int = 0
    cut_after_events: int | None = None
    connections: list[Connection] = field(default_factory=list)
    _listener: socket.socket = field(default_factory=socket.socket)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stream_cut: bool = False

    @property
    def port(self) -> int:
        port: int = self._listener.getsockname()[1]
        return port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen()
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            record = Connection()
            with self._lock:
                self.connections.append(record)
                refuse = len(self.connections) <= self.unavailable
            threading.Thread(target=self._serve, args=(client, record, refuse), daemon=True).start()

    def _serve(self, client: socket.socket, record: Connection, refuse: bool) -> None:
        with client:
            if refuse:
                self._answer_unavailable(client, record)
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            with upstream:
                threading.Thread(
                    target=self._pump_requests, args=(client, upstream, record), daemon=True
                ).start()
                self._pump_responses(upstream, client, record)

    def _answer_unavailable(self, client: socket.socket, record: Connection) -> None:
        while b"\r\n\r\n" not in record.request:
            data = client.recv(BUFFER_BYTES)
            if not data:
                return
            record.request += data
        client.sendall(UNAVAILABLE_RESPONSE)
        record.answered_unavailable = True

    @staticmethod
    def _pump_requests(client: socket.socket, upstream: socket.socket, record: Connection) -> None:
        try:
            while data := client.recv(BUFFER_BYTES):
                record.request += data
                upstream.sendall(data)
        except OSError:
            pass
        finally:
            _shut(upstream)

    def _pump_responses(
        self, upstream: socket.socket, client: socket.socket, record: Connection
    ) -> None:
        try:
            while data := upstream.recv(BUFFER_BYTES):
                if self._cuts(record):
                    client.sendall(data[: max(1, len(data) // 2)])
                    record.response += data[: max(1, len(data) // 2)]
                    record.cut = True
                    break
                client.sendall(data)
                record.response += data
        except OSError:
            pass
        finally:
            _shut(client)
            _shut(upstream)

    def _cuts(self, record: Connection) -> bool:
        """Whether this connection's next bytes are where the stream is cut."""
        if self.cut_after_events is None or b"/events" not in record.request:
            return False
        with self._lock:
            if self._stream_cut or record.response.count(EVENT_END) < self.cut_after_events:
                return False
            self._stream_cut = True
            return True


def _shut(connection: socket.socket) -> None:
    with suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)


@contextmanager
def running_proxy(
    upstream_port: int, *, unavailable: int = 0, cut_after_events: int | None = None
) -> Iterator[Proxy]:
    """A started proxy to ``upstream_port``, closed at the end."""
    proxy = Proxy(upstream_port, unavailable=unavailable, cut_after_events=cut_after_events)
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.close()
