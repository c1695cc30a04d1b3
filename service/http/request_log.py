"""The request log: one JSON line per request, and the last-resort 500 for crashes."""

import logging
import os
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.problems import internal_error_response
from service.log import direct_handler

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
MAX_REQUEST_ID_LENGTH = 100

request_logger = logging.getLogger("planenet.request")
error_logger = logging.getLogger("planenet.errors")


class RequestLogMiddleware:
    """Log one line per HTTP request and answer a problem (500) when the app crashes.

    The request id comes from the client's ``X-Request-ID`` or is generated; it is echoed
    in the response and in the log, so a 500's detail can be found in the log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER_BYTES, request_id.encode()))
                # No response is to be sniffed into another type (JSON read as HTML).
                if not any(name.lower() == b"x-content-type-options" for name, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            error_logger.exception(
                "unhandled error", extra={"request_id": request_id, "path": scope.get("path")}
            )
            if response_started:
                raise
            response = internal_error_response(request_id)
            await response(scope, receive, send_with_id)
        finally:
            log_request(scope, status, started, request_id)


def log_request(scope: Scope, status: int, started: float, request_id: str) -> None:
    """Write the request's log line: ``started`` is its ``time.perf_counter()`` on arrival."""
    if not request_logger.isEnabledFor(logging.INFO):
        return  # the line would be dropped: spare building it
    fields = {
        "method": scope.get("method"),
        "path": scope.get("path"),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 3),
        "request_id": request_id,
        "client": (scope.get("client") or (None,))[0],
    }
    handler = direct_handler(request_logger, logging.INFO)
    if handler is None:
        request_logger.info("request", extra=fields)
    else:  # the same line, without the logging module's machinery (see service.log)
        handler.write_fields(request_logger.name, logging.INFO, "request", fields)


def request_id_of(scope: Scope) -> str:
    """The client's usable ``X-Request-ID``, else a new random one."""
    for name, value in scope.get("headers", []):
        if name == REQUEST_ID_HEADER_BYTES:
            given = str(value.decode("latin-1")).strip()
            if given and len(given) <= MAX_REQUEST_ID_LENGTH and given.isprintable():
                return given
    return os.urandom(16).hex()  # 32 hex digits, like a UUID's, at a fifth of its cost
