"""The request-body size limit: a 413 before the body is parsed, with or without a length."""

from collections.abc import Callable, Mapping

from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.domain.errors import BodyTooLarge
from service.http.problems import error_response
from service.settings import setting_env_name


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_body_bytes`` with a 413 problem.

    A declared ``Content-Length`` over the limit is refused at once, before anything is
    read; a body without one (chunked) is counted while it is read, and reading stops with
    a 413 as soon as it passes the limit. Paths under a prefix of ``error_responses`` get
    that prefix's error response instead of a problem.
    """

    def __init__(
        self,
        app: ASGIApp,
        max_body_bytes: int,
        error_responses: Mapping[str, Callable[[Exception], Response]] | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.error_responses = dict(error_responses or {})

    def _error(self) -> BodyTooLarge:
        return BodyTooLarge(self.max_body_bytes, setting_env_name("max_body_bytes"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await self._respond(scope)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise HTTPException(413, detail=str(self._error()))
            return message

        await self.app(scope, counting_receive, send)

    def _respond(self, scope: Scope) -> Response:
        path: str = scope.get("path", "")
        for prefix, respond in self.error_responses.items():
            if path == prefix or path.startswith(f"{prefix}/"):
                return respond(self._error())
        return error_response(self._error())


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
