"""Errors on the protocol's routes: the one table from errors to statuses, and the error body.

The protocol answers every failure with ``{"error": "<message>"}`` (not problem+json): 400 for
a malformed request, 404 for an unknown model or version, 413 for too many points.
"""

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from core.errors import CoreError
from service.domain.errors import (
    BodyTooLarge,
    InvalidInput,
    LimitExceeded,
    NotFound,
    NotReady,
    ServiceError,
    Unauthorized,
)
from service.http.problems import field_errors


class MalformedRequest(ServiceError):
    """The request breaks the protocol or asks for what the model cannot do."""


class ProtocolError(BaseModel):
    """The body of every error on the protocol's routes."""

    error: str = Field(examples=["unknown model: there is no model with id 'no-such-model'"])


# The one table from errors to the protocol's statuses. The first matching class wins.
PROTOCOL_STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (MalformedRequest, 400),
    (InvalidInput, 400),
    (CoreError, 400),
    (Unauthorized, 401),
    (NotFound, 404),
    (LimitExceeded, 413),
    (BodyTooLarge, 413),
    (NotReady, 503),
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Bearer, ApiKey header="X-API-Key"'}


def protocol_status(error: Exception) -> int | None:
    """The status of a domain or core error on the protocol's routes, None for anything else."""
    for error_class, status in PROTOCOL_STATUSES:
        if isinstance(error, error_class):
            return status
    return None


def protocol_error_response(status: int, message: str) -> JSONResponse:
    """``{"error": message}`` with ``status``."""
    headers = UNAUTHORIZED_HEADERS if status == 401 else None
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def protocol_error_for(error: Exception) -> JSONResponse:
    """The protocol's response to a domain or core error (a 500 for anything unexpected)."""
    status = protocol_status(error)
    if status is None:
        return protocol_error_response(500, "the server failed to handle this request")
    return protocol_error_response(status, str(error))


def validation_message(errors: Sequence[Any]) -> str:
    """One line naming each invalid field of a request, from pydantic's error list."""
    return "; ".join(f"{item['field']}: {item['message']}" for item in field_errors(errors))


PROTOCOL_ERROR_DESCRIPTIONS = {
    400: "malformed request: not JSON, a wrong shape or datatype, bad binary sizes, ...",
    401: "missing or invalid API key",
    404: "unknown model or version",
    413: "more points than the prediction limit, or a body over the size limit",
    503: "not ready: the database does not answer",
}


def protocol_error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` entry of the given statuses, in the protocol's error shape."""
    return {
        status: {"model": ProtocolError, "description": PROTOCOL_ERROR_DESCRIPTIONS[status]}
        for status in statuses
    }
