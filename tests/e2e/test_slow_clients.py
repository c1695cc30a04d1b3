"""Slow clients against the real server: trickled heads and bodies are dropped, others served."""

import socket
import time

import httpx

from service.http.server import HTTPTOOLS, GuardedHttpToolsProtocol, guarded_protocol
from tests.helpers.server import ServerFactory

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.5
SLOW_CONNECTIONS = 20
DROP_WAIT_SECONDS = 15.0


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=DROP_WAIT_SECONDS)


def closed_by_server(connection: socket.socket, trickle: bytes) -> bytes:
    """Send ``trickle`` a byte every 0.2 s until the server closes; returns what it answered."""
    deadline = time.monotonic() + DROP_WAIT_SECONDS
    position = 0
    connection.settimeout(0.2)
    received = b""
    while time.monotonic() < deadline:
        try:
            if position < len(trickle):
                connection.sendall(trickle[position : position + 1])
                position += 1
            chunk = connection.recv(4096)
        except TimeoutError:
            continue
        except (BrokenPipeError, ConnectionResetError):
            return received
        if not chunk:
            return received
        received += chunk
    raise AssertionError(f"the server kept a slow connection open ({position} bytes sent)")


def test_slow_heads_and_bodies_are_dropped_while_normal_requests_go_on(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(
        workers=0,
        flags=["--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(BODY_TIMEOUT)],
    )
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    body = b'{"epochs": 10, "name": "' + b"n" * 150 + b'"}'
    post_head = (
        b"POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    silent = [connect(server.port) for _ in range(SLOW_CONNECTIONS)]
    slow_heads = [connect(server.port) for _ in range(SLOW_CONNECTIONS)]
    slow_bodies = [connect(server.port) for _ in range(SLOW_CONNECTIONS)]
    try:
        for connection in slow_bodies:
            connection.sendall(post_head)
        with server.client() as client:
            # Normal requests are served while the slow ones are held.
            for _ in range(5):
                assert client.get("/healthz").status_code == 200
            late_head = closed_by_server(slow_heads[0], head)
            assert late_head.startswith(b"HTTP/1.1 408")
            assert closed_by_server(slow_bodies[0], body) == b""
            for connection in silent:
                assert closed_by_server(connection, b"").startswith(b"HTTP/1.1 408")
            for connection in slow_heads[1:]:
                assert closed_by_server(connection, head).startswith(b"HTTP/1.1 408")
            for connection in slow_bodies[1:]:
                closed_by_server(connection, body)
            assert client.get("/healthz").status_code == 200
            # A slow body never became a job.
            assert client.get("/jobs").json()["total"] == 0
            # A request that is merely a little slow, within the bounds, is served.
            prompt = connect(server.port)
            prompt.sendall(post_head)
            time.sleep(BODY_TIMEOUT / 3)
            prompt.sendall(body)
            prompt.settimeout(DROP_WAIT_SECONDS)
            assert prompt.recv(4096).startswith(b"HTTP/1.1 202")
            prompt.close()
    finally:
        for connection in silent + slow_heads + slow_bodies:
            connection.close()


def test_connections_past_the_cap_are_answered_503(planenet_server: ServerFactory) -> None:
    server = planenet_server(workers=0, flags=["--max-connections", "3"])
    held = [connect(server.port) for _ in range(3)]
    try:
        time.sleep(0.3)
        answer = httpx.get(f"{server.base_url}/healthz", timeout=DROP_WAIT_SECONDS)
        assert answer.status_code == 503
    finally:
        for connection in held:
            connection.close()
    deadline = time.monotonic() + DROP_WAIT_SECONDS
    while httpx.get(f"{server.base_url}/healthz", timeout=DROP_WAIT_SECONDS).status_code != 200:
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_the_guards_ride_on_the_fast_parser_where_it_is_installed() -> None:
    """make run and the image install httptools: the deadlines must not cost the fast parser."""
    assert HTTPTOOLS
    protocol = guarded_protocol(1.0, 2.0)
    assert issubclass(protocol, GuardedHttpToolsProtocol)
    assert (protocol.header_timeout, protocol.body_timeout) == (1.0, 2.0)


def test_with_several_api_processes_a_trickled_head_is_dropped_too(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(
        workers=0,
        flags=["--http-workers", "2", "--header-timeout", str(HEADER_TIMEOUT)],
    )
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + b"a" * 200 + b"\r\n\r\n"
    connection = connect(server.port)
    try:
        answered = closed_by_server(connection, head)
    finally:
        connection.close()
    assert answered.startswith(b"HTTP/1.1 408")
    assert httpx.get(f"{server.base_url}/healthz", timeout=10).status_code == 200
