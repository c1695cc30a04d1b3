"""The client's exceptions, in one tree under PlaneNetError, from the problems the server answers.

The server answers every error as RFC 9457 ``application/problem+json`` (``type``, ``title``,
``status``, ``detail`` and, for invalid input, ``errors``: ``[{"field", "message"}]``); each
status maps to one exception class here, which carries all of those members.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from planenet._models import Job

MAX_DETAIL_CHARS = 500
"""How much of a response that is not a problem (an HTML page from a proxy) an error quotes."""


@dataclass(frozen=True)
class FieldError:
    """One invalid input: where it is (e.g. ``body.epochs``) and what is wrong with it."""

    field: str
    message: str


class PlaneNetError(Exception):
    """Base of every error the client raises.

    ``status`` is the HTTP status (None when no answer came), ``type``, ``title`` and
    ``detail`` the problem's members, ``errors`` the offending fields of invalid input.
    """

    def __init__(
        self,
        detail: str,
        *,
        title: str | None = None,
        status: int | None = None,
        type: str = "about:blank",
        errors: Sequence[FieldError] = (),
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status
        self.title = title or _status_phrase(status)
        self.type = type
        self.errors = tuple(errors)

    def __str__(self) -> str:
        """``title: detail``; for invalid input, the title and one line per field instead
        (the detail of a validation problem is those lines joined)."""
        if not self.errors:
            return f"{self.title}: {self.detail}"
        return "\n".join([f"{self.title}:", *(f"  {e.field}: {e.message}" for e in self.errors)])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status!r}, detail={self.detail!r})"


class NotFound(PlaneNetError):
    """404: no job or model has this id (or reference)."""


class InvalidInput(PlaneNetError):
    """422 (or 400, 415): the request is not valid; ``errors`` names each offending field."""


class LimitExceeded(PlaneNetError):
    """413: the request asks for more than one of the server's limits allows."""


class Unauthorized(PlaneNetError):
    """401 (or 403): the API key is missing or not valid."""


class WrongState(PlaneNetError):
    """409: not possible in the resource's current state (e.g. cancel a finished job)."""


class ServiceUnavailable(PlaneNetError):
    """503: the server cannot serve now (not ready); retried first when safe."""


class ServerError(PlaneNetError):
    """500 and other 5xx answers: the server failed; its log has the details."""


class ConnectionFailed(PlaneNetError):
    """No answer: the server could not be reached, dropped the connection, or timed out."""


class JobFailed(PlaneNetError):
    """A job ``train`` waited for ended ``failed`` or ``cancelled``; ``job`` is its last state."""

    def __init__(self, job: "Job") -> None:
        outcome = job.error or f"the job was {job.status}"
        super().__init__(f"job {job.id} {job.status}: {outcome}", title="Training did not succeed")
        self.job = job


class WaitTimeout(PlaneNetError):
    """``wait`` gave up: the job had not finished in the time given; ``job`` is its last state."""

    def __init__(self, job: "Job", timeout: float) -> None:
        super().__init__(
            f"job {job.id} is still {job.status} after {timeout:g} s",
            title="Timed out waiting for the job",
        )
        self.job = job


ERROR_CLASSES: Mapping[int, type[PlaneNetError]] = {
    400: InvalidInput,
    401: Unauthorized,
    403: Unauthorized,
    404: NotFound,
    409: WrongState,
    413: LimitExceeded,
    415: InvalidInput,
    422: InvalidInput,
    503: ServiceUnavailable,
}
"""The one table from HTTP statuses to exception classes (5xx not listed: ServerError)."""


def error_class(status: int) -> type[PlaneNetError]:
    """The exception class of an error status."""
    if status in ERROR_CLASSES:
        return ERROR_CLASSES[status]
    return ServerError if status >= 500 else PlaneNetError


def error_from_response(response: httpx.Response) -> PlaneNetError:
    """The exception for an error response: its problem's members, or a summary of any other body.

    The response must have been read (streamed responses: ``read()`` first).
    """
    status = response.status_code
    problem = _problem(response)
    if problem is None:
        text = response.text.strip()[:MAX_DETAIL_CHARS]
        detail = text or f"{response.request.method} {response.request.url.path} answered {status}"
        return error_class(status)(detail, status=status)
    errors = [
        FieldError(str(item.get("field", "")), str(item.get("message", "")))
        for item in problem.get("errors") or ()
        if isinstance(item, dict)
    ]
    return error_class(status)(
        str(problem.get("detail") or ""),
        title=str(problem["title"]) if problem.get("title") else None,
        status=status,
        type=str(problem.get("type") or "about:blank"),
        errors=errors,
    )


def _problem(response: httpx.Response) -> dict[str, Any] | None:
    """The problem document of a JSON error response, None for any other body."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in {"application/problem+json", "application/json"}:
        return None
    try:
        document = response.json()
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def connection_failed(error: httpx.TransportError, url: str) -> ConnectionFailed:
    """The client's error for a transport failure talking to ``url``."""
    reason = str(error) or type(error).__name__
    return ConnectionFailed(f"{url}: {reason}", title="Cannot reach the PlaneNet server")


def _status_phrase(status: int | None) -> str:
    """``Not Found`` for 404; ``Error`` for no status or one HTTP does not define."""
    try:
        return HTTPStatus(status).phrase if status is not None else "Error"
    except ValueError:
        return "Error"
