"""When a failed request is sent again, and after how long: bounded exponential backoff.

Only requests that are safe to repeat are repeated (see ``Repeat``): reads and predictions on
any connection failure and on ``503``; state changes only when no connection was made at all;
``POST /jobs`` never.
"""

from dataclasses import dataclass

import httpx

from planenet._requests import Repeat

RETRIED_STATUSES = frozenset({503})
"""Answers that say "not now": the server is starting, or not ready."""

UNSENT_ERRORS: tuple[type[httpx.TransportError], ...] = (httpx.ConnectError, httpx.ConnectTimeout)
"""Failures before any byte of the request reached the server."""

CONNECTION_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ConnectTimeout,
)
"""Failures of the connection itself (a slow answer, a read timeout, is not one: it is kept)."""


@dataclass(frozen=True)
class Retry:
    """How often and how patiently to repeat: ``retries`` more tries, waiting ``backoff`` seconds
    after the first failure and twice as long after each next one, never more than ``max_backoff``.

    The default waits 0.25, 0.5, 1, 2, 4 and 4 seconds: about 12 s for a server to come back.
    ``Retry(retries=0)`` never repeats.
    """

    retries: int = 6
    backoff: float = 0.25
    max_backoff: float = 4.0

    def __post_init__(self) -> None:
        if self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            raise ValueError(f"retries and backoff times must not be negative: {self}")

    def delay(self, failures: int, retry_after: float | None = None) -> float:
        """Seconds to wait after ``failures`` failures in a row (``Retry-After`` if the server
        gave one, within ``max_backoff``)."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_backoff)
        return float(min(self.backoff * 2.0 ** (failures - 1), self.max_backoff))

    def after_error(
        self, repeat: Repeat, error: httpx.TransportError, failures: int, *, stream: bool = False
    ) -> float | None:
        """Seconds to wait before sending again after ``error``, or None to give up.

        On an event ``stream``, a read timeout is a connection failure too: a live stream is
        never silent that long, since the server sends heartbeats.
        """
        if failures > self.retries or repeat is Repeat.NEVER:
            return None
        allowed = UNSENT_ERRORS if repeat is Repeat.IF_UNSENT else CONNECTION_ERRORS
        if stream:
            allowed = (*allowed, httpx.ReadTimeout)
        return self.delay(failures) if isinstance(error, allowed) else None

    def after_response(
        self, repeat: Repeat, response: httpx.Response, failures: int
    ) -> float | None:
        """Seconds to wait before sending again after ``response``, or None to keep it."""
        if (
            failures > self.retries
            or repeat is not Repeat.ALWAYS
            or response.status_code not in RETRIED_STATUSES
        ):
            return None
        return self.delay(failures, _retry_after(response))


def _retry_after(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (its date form is not used by PlaneNet)."""
    value = response.headers.get("retry-after", "").strip()
    try:
        return float(value) if value else None
    except ValueError:
        return None
