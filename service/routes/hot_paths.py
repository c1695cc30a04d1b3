"""The hottest requests answered before FastAPI's routing: small predictions and liveness.

FastAPI's routing, dependencies and thread hops cost several times the work of a one-point
prediction. :class:`HotPaths` answers the common, successful case of ``GET /healthz`` and
of ``POST /models/{id}/predict`` and ``POST /predict`` (a small JSON body, a valid one, for
a model in the cache, with reads open to all) itself, with the very bytes the routes would
send. Every other request, and every one of these that would not succeed here (an invalid
body, an unknown or uncached model, a big body, protected reads), goes to the application
with its body replayed, so problems, key checks and documentation stay the routes' own.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.domain.errors import InvalidInput
from service.http.request_body import is_json_media_type, parse_body
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


@dataclass(frozen=True)
class RouteTemplate:
    """The route a hot request stands for, as the router would record it in the scope, so
    the request metrics label it with its template."""

    path: str


class HotPaths:
    """ASGI middleware answering the hot requests it can serve exactly, passing on the rest.

    ``state`` is the application's state, where the lifespan puts the model cache.
    """

    def __init__(self, app: ASGIApp, state: State, settings: Settings) -> None:
        self.app = app
        self.state = state
        self.max_points = min(INLINE_POINTS, settings.max_predict_points)
        self.reads_protected = settings.protect_reads and settings.api_key_value is not None
        self.health = JSONResponse(Health(status="ok").model_dump(mode="json"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            if method == "GET" and path == HEALTH_PATH:
                scope["route"] = RouteTemplate(HEALTH_PATH)
                await self.health(scope, receive, send)
                return
            if method == "POST" and not self.reads_protected:
                if path == PREDICT_PATH:
                    await self._predict(scope, receive, send, PredictBody, None)
                    return
                model_id = _path_model_id(path)
                if model_id is not None:
                    await self._predict(scope, receive, send, PointsBody, model_id)
                    return
        await self.app(scope, receive, send)

    async def _predict(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        schema: type[PointsBody],
        path_model_id: str | None,
    ) -> None:
        if not _small_json_body(scope):
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        body = await _read_body(receive, received)
        answered = self._answer(body, schema, path_model_id) if body is not None else None
        if answered is None:
            await self.app(scope, _replaying(received, receive), send)
            return
        response, points = answered
        scope["route"] = RouteTemplate(
            PREDICT_PATH if path_model_id is None else MODEL_PREDICT_TEMPLATE
        )
        await response(scope, receive, send)
        metrics: ServiceMetrics = self.state.metrics
        metrics.predicted_points.inc(points)

    def _answer(
        self, body: bytes, schema: type[PointsBody], path_model_id: str | None
    ) -> tuple[FastJSONResponse, int] | None:
        """The prediction's response and its number of points, or None when the routes must
        answer instead."""
        try:
            parsed = parse_body(body, schema)  # as strict as the routes, duplicate keys refused
        except RequestValidationError:
            return None
        if getattr(parsed, "model", None) is not None:
            return None  # a reference (name, version, alias) is resolved by the routes
        model_id = path_model_id or getattr(parsed, "model_id", None)
        if model_id is None or len(parsed.points) > self.max_points:
            return None
        cache: ModelCache = self.state.model_cache
        loaded = cache.peek(model_id)
        if loaded is None:
            return None
        try:
            labels, probabilities = classify(loaded.network, parsed.points, parsed.threshold)
        except InvalidInput:
            return None
        response = FastJSONResponse(
            {"model_id": loaded.record.id, "labels": labels, "probabilities": probabilities}
        )
        return response, len(labels)


def _path_model_id(path: str) -> str | None:
    """The ``{model_id}`` of ``/models/{model_id}/predict`` (one path segment), else None."""
    if not (path.startswith(MODELS_PREFIX) and path.endswith(MODEL_PREDICT_SUFFIX)):
        return None
    model_id = path[len(MODELS_PREFIX) : -len(MODEL_PREDICT_SUFFIX)]
    return model_id if model_id and "/" not in model_id else None


def _small_json_body(scope: Scope) -> bool:
    """Whether the request declares a JSON body of a known length small enough to answer here."""
    length: bytes | None = None
    content_type: bytes | None = None
    for name, value in scope["headers"]:
        if name == b"content-length":
            length = value
        elif name == b"content-type":
            content_type = value
    if length is None or content_type is None or not length.isdigit():
        return False
    return int(length) <= INLINE_BODY_BYTES and is_json_media_type(content_type.decode("latin-1"))


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
