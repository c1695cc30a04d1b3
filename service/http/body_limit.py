"""The request-body size limit: a 413 before the body is parsed, with or without a length."""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.domain.errors import BodyTooLarge
from service.http.problems import error_response
from service.settings import setting_env_name


class BodyLimitMiddleware:
    """Refuse request bodies over ``max_body_bytes`` with a 413 problem.

    A declared ``Content-Length`` over the limit is refused at once, before anything is
    read; a body without one (chunked) is counted while it is read, and reading stops with
    a 413 as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _error(self) -> BodyTooLarge:
        return BodyTooLarge(self.max_body_bytes, setting_env_name("max_body_bytes"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_body_bytes:
            await error_response(self._error())(scope, receive, send)
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


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
