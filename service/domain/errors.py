"""Domain errors of the service: what went wrong, without any HTTP; http.problems maps them."""

import re

_FIELD_PREFIX = re.compile(r"^([A-Za-z_][\w.]*(?:\[\d+\])*):\s")


class ServiceError(Exception):
    """Base class of the service's domain errors; ``str(error)`` is the client-facing detail."""


class NotFound(ServiceError):
    """No resource of this kind has this id."""

    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(f"there is no {kind} with id {resource_id!r}")
        self.kind = kind
        self.resource_id = resource_id


class WrongState(ServiceError):
    """The resource exists but its state forbids the operation (e.g. cancel a finished job)."""


class LimitExceeded(ServiceError):
    """A request asks for more than a configured limit allows."""

    def __init__(self, what: str, requested: int, limit: int, setting: str) -> None:
        super().__init__(
            f"{what} is {requested}, over the limit of {limit} "
            f"(raise it with the setting {setting})"
        )
        self.what = what
        self.requested = requested
        self.limit = limit
        self.setting = setting


class BodyTooLarge(ServiceError):
    """The request body is larger than the configured maximum."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(
            f"the request body is larger than {limit} bytes (raise it with the setting {setting})"
        )
        self.limit = limit
        self.setting = setting


class UnsupportedMediaType(ServiceError):
    """The request body is not of a media type the route reads (JSON)."""

    def __init__(self, content_type: str | None) -> None:
        given = repr(content_type) if content_type else "no Content-Type"
        super().__init__(f"the body must be JSON (Content-Type: application/json), got {given}")


class Unauthorized(ServiceError):
    """The request lacks a valid API key."""


class NotReady(ServiceError):
    """The service cannot serve requests right now (database unreachable, workers down)."""


class LeaseLost(ServiceError):
    """A worker tried to write a job it no longer owns (it was failed, cancelled or re-assigned)."""

    def __init__(self, job_id: str) -> None:
        super().__init__(f"job {job_id!r} is no longer held by this worker; the write was refused")
        self.job_id = job_id


class InvalidInput(ServiceError):
    """The request is well-formed but names impossible values; ``errors`` lists (field, message)."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors))
        self.errors = errors

    @classmethod
    def at(cls, scope: str, error: Exception) -> "InvalidInput":
        """``error`` placed inside ``scope``: the core names the field first (``noise: must
        be ...``), which becomes ``scope.noise``; a message without a field stays at ``scope``.
        """
        message = str(error)
        match = _FIELD_PREFIX.match(message)
        if match is None:
            return cls([(scope, message)])
        return cls([(f"{scope}.{match.group(1)}", message[match.end() :])])


class ReferenceNotFound(NotFound):
    """A model reference names a registered model, version or alias that does not exist."""

    def __init__(self, reference: str, detail: str) -> None:
        ServiceError.__init__(self, detail)
        self.kind = "model"
        self.resource_id = reference


class RetryLater(ServiceError):
    """The server cannot take this now, but may in ``retry_after`` seconds."""

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Overloaded(RetryLater):
    """The server already holds as many of something (event streams) as it is set to."""


class QueueFull(RetryLater):
    """As many jobs are queued as the configured limit allows; the client should retry later."""

    def __init__(self, limit: int, setting: str, retry_after: int) -> None:
        super().__init__(
            f"{limit} jobs are already queued, the most allowed (the setting {setting}); "
            f"try again in {retry_after} s, once workers have taken some",
            retry_after,
        )
        self.limit = limit
        self.setting = setting


class StorageUnavailable(ServiceError):
    """The database refuses writes: its disk is full or it is read-only. Nothing was written."""
