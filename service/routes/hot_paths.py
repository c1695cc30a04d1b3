"""The hottest requests answered in front of the application: small predictions and liveness.

FastAPI's routing, dependencies, thread hops and even its stack of middlewares cost several
times the work of a one-point prediction. :class:`HotPaths` wraps the whole application
and answers the common, successful case of ``GET /healthz`` and of
``POST /models/{id}/predict`` and ``POST /predict`` (a small JSON body, a valid one, for a
model in the cache, with reads open to all) itself, with the very bytes the routes would
send, the same ``X-Request-ID``, request log line and request metrics. Every other request,
and every one of these that would not succeed here (an invalid body, an unknown or uncached
model, a big body, protected reads, any request when CORS is on), goes to the
application with its body replayed, so problems, key checks and documentation stay the
routes' own.
"""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.http.request_body import is_json_media_type, parse_body
from service.http.request_log import REQUEST_ID_HEADER_BYTES, log_request, request_id_of
from service.http.responses import FastJSONResponse
from service.metrics.registry import ServiceMetrics
from service.model_cache import ModelCache
from service.routes.predictions import INLINE_BODY_BYTES, INLINE_POINTS, classify
from service.schemas.health import Health
from service.schemas.predictions import PointsBody, PredictBody
from service.settings import Settings

HEALTH_PATH = "/healthz"
PREDICT_PATH = "/predict"
MODELS_PREFIX = "/models/"
MODEL_PREDICT_SUFFIX = "/predict"
MODEL_PREDICT_TEMPLATE = "/models/{model_id}/predict"
OK = 200
NOSNIFF = (b"x-content-type-options", b"nosniff")
"""What the request log adds to every answer, which the hot answers send themselves."""


class HotPaths:
    """ASGI app answering the hot requests it can serve exactly, passing on the rest to ``app``.

    The model cache is read from ``app.state``, where the lifespan puts it. ``fastapi_app``
    is the application itself; ``app`` what requests are passed on to (the same, unless
    wrapped).
    """

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        self.fastapi_app = app
        self.app: ASGIApp = app
        self.state = app.state
        self.metrics: ServiceMetrics = app.state.metrics
        self.max_points = min(INLINE_POINTS, settings.max_predict_points)
        self.max_body_bytes = min(INLINE_BODY_BYTES, settings.max_body_bytes)
        self.reads_protected = settings.protect_reads and settings.api_key_value is not None
        # CORS adds its headers (a Vary: Origin to every answer) on the way out: the app's.
        self.answers_plain = not settings.cors_origins
        health = JSONResponse(Health(status="ok").model_dump(mode="json"))
        self.health_headers, self.health_body = health.raw_headers, health.body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.answers_plain:
            started = time.perf_counter()
            method, path = scope["method"], scope["path"]
            if method == "GET" and path == HEALTH_PATH:
                await self._send(
                    scope,
                    send,
                    started,
                    route=HEALTH_PATH,
                    headers=self.health_headers,
                    body=self.health_body,
                )
                return
            if method == "POST" and not self.reads_protected:
                if path == PREDICT_PATH:
                    await self._predict(
                        scope, receive, send, started, schema=PredictBody, path_model_id=None
                    )
                    return
                model_id = _path_model_id(path)
                if model_id is not None:
                    await self._predict(
                        scope, receive, send, started, schema=PointsBody, path_model_id=model_id
                    )
                    return
        await self.app(scope, receive, send)

    async def _send(
        self,
        scope: Scope,
        send: Send,
        started: float,
        *,
        route: str,
        headers: list[tuple[bytes, bytes]],
        body: "bytes | memoryview[int]",
    ) -> None:
        """Send a 200 answer with the request id, as the request log does, then log and count
        the request as the request log and metrics middlewares do."""
        request_id = request_id_of(scope)
        await send(
            {
                "type": "http.response.start",
                "status": OK,
                "headers": [*headers, (REQUEST_ID_HEADER_BYTES, request_id.encode()), NOSNIFF],
            }
        )
        await send({"type": "http.response.body", "body": body})
        log_request(scope, OK, started, request_id)
        self.metrics.observe_request(route, scope["method"], OK, time.perf_counter() - started)

    async def _predict(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        started: float,
        *,
        schema: type[PointsBody],
        path_model_id: str | None,
    ) -> None:
        if not self._small_json_body(scope):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = await _read_body(receive, received)
        answered = self._answer(body, schema, path_model_id) if body is not None else None
        if answered is None:
            await self.app(scope, _replaying(received, receive), send)
            return
        response, points = answered
        route = PREDICT_PATH if path_model_id is None else MODEL_PREDICT_TEMPLATE
        await self._send(
            scope, send, started, route=route, headers=response.raw_headers, body=response.body
        )
        self.metrics.predicted_points.inc(points)

    def _answer(
        self, body: bytes, schema: type[PointsBody], path_model_id: str | None
    ) -> tuple[FastJSONResponse, int] | None:
        """The prediction's response and its number of points, or None when the routes must
        answer instead (anything unexpected included: they answer it as they always do)."""
        try:
            parsed = parse_body(body, schema)  # as strict as the routes, duplicate keys refused
        except RequestValidationError:
            return None
        if getattr(parsed, "model", None) is not None:
            return None  # a reference (name, version, alias) is resolved by the routes
        model_id = path_model_id or getattr(parsed, "model_id", None)
        if model_id is None or len(parsed.points) > self.max_points:
            return None
        cache: ModelCache | None = getattr(self.state, "model_cache", None)
        loaded = cache.peek(model_id) if cache is not None else None
        if loaded is None:
            return None
        try:
            labels, probabilities = classify(loaded.network, parsed.points, parsed.threshold)
        except Exception:  # an invalid point's problem, or any failure: the routes' to answer
            return None
        response = FastJSONResponse(
            {"model_id": loaded.record.id, "labels": labels, "probabilities": probabilities}
        )
        return response, len(labels)

    def _small_json_body(self, scope: Scope) -> bool:
        """Whether the request declares a JSON body of a known length small enough for here."""
        length: bytes | None = None
        content_type: bytes | None = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"content-type":
                content_type = value
        if length is None or content_type is None or not length.isdigit():
            return False
        return int(length) <= self.max_body_bytes and is_json_media_type(
            content_type.decode("latin-1")
        )


def _path_model_id(path: str) -> str | None:
    """The ``{model_id}`` of ``/models/{model_id}/predict`` (one path segment), else None."""
    if not (path.startswith(MODELS_PREFIX) and path.endswith(MODEL_PREDICT_SUFFIX)):
        return None
    model_id = path[len(MODELS_PREFIX) : -len(MODEL_PREDICT_SUFFIX)]
    return model_id if model_id and "/" not in model_id else None


async def _read_body(receive: Receive, received: list[Message]) -> bytes | None:
    """The whole body, keeping every message in ``received``; None if the client left."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(received: list[Message], receive: Receive) -> Callable[[], Awaitable[Any]]:
    """A ``receive`` giving the messages already read again, then reading on."""
    pending = list(received)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
