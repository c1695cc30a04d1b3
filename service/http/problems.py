"""RFC 9457 problem responses: the one table from errors to statuses, and the handlers using it.

Every error a client sees has the media type ``application/problem+json`` and the members
``type``, ``title``, ``status`` and ``detail``; validation problems add ``errors``, a list of
``{"field": "body.epochs", "message": "..."}``. No stack trace is ever sent.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match

from core.errors import CoreError
from service.domain.errors import (
    BodyTooLarge,
    InvalidInput,
    LimitExceeded,
    NotFound,
    NotReady,
    Overloaded,
    QueueFull,
    RetryLater,
    ServiceError,
    StorageUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    WrongState,
)
from service.domain.training import UNION_TAGS

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:planenet:problem:"

logger = logging.getLogger("planenet.errors")


@dataclass(frozen=True)
class ProblemKind:
    """How one family of errors is presented: its status, a stable type slug and a title."""

    status: int
    slug: str
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


BODY_TOO_LARGE = ProblemKind(413, "body-too-large", "Request body too large")

# The one table from domain (and core) errors to HTTP. The first matching class wins.
PROBLEM_KINDS: tuple[tuple[type[Exception], ProblemKind], ...] = (
    (NotFound, ProblemKind(404, "not-found", "Not found")),
    (WrongState, ProblemKind(409, "wrong-state", "Not possible in the current state")),
    (LimitExceeded, ProblemKind(413, "limit-exceeded", "Over a limit")),
    (BodyTooLarge, BODY_TOO_LARGE),
    (QueueFull, ProblemKind(429, "queue-full", "Too many queued jobs")),
    (UnsupportedMediaType, ProblemKind(415, "unsupported-media-type", "Unsupported media type")),
    (Unauthorized, ProblemKind(401, "unauthorized", "Missing or invalid API key")),
    (NotReady, ProblemKind(503, "not-ready", "Not ready")),
    (Overloaded, ProblemKind(503, "overloaded", "Too many open at once")),
    (StorageUnavailable, ProblemKind(507, "storage-unavailable", "Storage full or read-only")),
    (CoreError, ProblemKind(422, "invalid-input", "Invalid input")),
)
VALIDATION = ProblemKind(422, "validation-error", "Invalid request")
INTERNAL = ProblemKind(500, "internal-error", "Internal server error")


def kind_of(error: Exception) -> ProblemKind | None:
    """The problem kind of a domain or core error, None for anything else."""
    for error_class, kind in PROBLEM_KINDS:
        if isinstance(error, error_class):
            return kind
    return None


def problem_response(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    problem_type: str = "about:blank",
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    """A ``application/problem+json`` response; ``title`` defaults to the status phrase."""
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE)


def error_response(error: Exception) -> JSONResponse:
    """The problem response for a domain or core error (a 500 for anything unexpected)."""
    if isinstance(error, InvalidInput):
        return validation_problem([{"field": f, "message": m} for f, m in error.errors])
    kind = kind_of(error)
    if kind is None:
        return internal_error_response()
    headers: dict[str, str] = {}
    if kind.status == 401:
        headers["WWW-Authenticate"] = 'Bearer, ApiKey header="X-API-Key"'
    if isinstance(error, RetryLater):
        headers["Retry-After"] = str(error.retry_after)
    return problem_response(
        kind.status, str(error), title=kind.title, problem_type=kind.type, headers=headers
    )


def internal_error_detail(request_id: str | None = None) -> str:
    """What a 500 says: nothing about the failure beyond how to find it in the log."""
    detail = "the server failed to handle this request; the error has been logged"
    if request_id:
        detail += f" under request id {request_id}"
    return detail


def internal_error_response(request_id: str | None = None) -> JSONResponse:
    """A 500 problem that says nothing about the failure beyond how to find it in the log."""
    return problem_response(
        500, internal_error_detail(request_id), title=INTERNAL.title, problem_type=INTERNAL.type
    )


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """``[{"field": "body.data.noise", "message": ...}]`` from pydantic's error list."""
    return [
        {"field": "body", "message": _json_error_message(error)}
        if error.get("type") == "json_invalid"
        else {
            "field": field_path(error.get("loc", ())),
            "message": str(error.get("msg", "invalid")),
        }
        for error in errors
    ]


def _json_error_message(error: Mapping[str, Any]) -> str:
    """What is wrong with a body that is not JSON at all.

    Its location holds a character offset, not a field (pydantic gives ``()``, FastAPI
    ``("body", offset)``), so the field is always ``body`` and the offset goes in the message.
    """
    context = error.get("ctx") or {}
    reason = str(context.get("error") or error.get("msg", "")).removeprefix("Invalid JSON: ")
    offset = next((part for part in error.get("loc", ())[1:] if isinstance(part, int)), None)
    where = f" at character {offset}" if offset is not None and "column" not in reason else ""
    return (
        f"the body is not valid JSON: {reason}{where}" if reason else "the body is not valid JSON"
    )


def field_path(location: Sequence[Any]) -> str:
    """A readable path such as ``body.hidden_layers[2]`` (union tags left out)."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part not in UNION_TAGS:
            path += f".{part}" if path else str(part)
    return path or "body"


async def _handle_service_error(_request: Request, error: Exception) -> JSONResponse:
    return error_response(error)


def validation_problem(errors: list[dict[str, str]]) -> JSONResponse:
    """A 422 problem naming each offending field in ``errors``."""
    detail = "; ".join(f"{item['field']}: {item['message']}" for item in errors)
    return problem_response(
        422,
        detail or "the request is not valid",
        title=VALIDATION.title,
        problem_type=VALIDATION.type,
        extra={"errors": errors},
    )


async def _handle_validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    return validation_problem(field_errors(error.errors()))


async def _handle_http_exception(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, HTTPException)
    status = error.status_code
    if status == 404 and error.detail == HTTPStatus.NOT_FOUND.phrase:
        detail = f"there is no route {request.url.path}"
    elif status == 405:
        allowed = _allowed_methods(request)
        detail = f"{request.method} is not allowed on {request.url.path}; use {', '.join(allowed)}"
        return problem_response(405, detail, headers={"Allow": ", ".join(allowed)})
    else:
        detail = str(error.detail)
    kind = BODY_TOO_LARGE if status == 413 else None
    return problem_response(
        status,
        detail,
        title=kind.title if kind else None,
        problem_type=kind.type if kind else "about:blank",
        headers=error.headers,
    )


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route accepts on this path (the router reports only one route's).

    Found by asking the routes whether they would fully match the request with each method.
    """
    routes = [route for route in request.app.router.routes if isinstance(route, BaseRoute)]
    return [
        method
        for method in HTTP_METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error raised while handling a request as a problem response."""
    app.add_exception_handler(RequestValidationError, _handle_validation_error)
    app.add_exception_handler(HTTPException, _handle_http_exception)
    app.add_exception_handler(ServiceError, _handle_service_error)
    app.add_exception_handler(CoreError, _handle_service_error)
