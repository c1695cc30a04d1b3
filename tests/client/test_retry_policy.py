"""When the client repeats a request: which failures, for which requests, after how long."""

import httpx
import pytest

from planenet import Retry
from planenet._requests import Repeat

REQUEST = httpx.Request("GET", "http://127.0.0.1/")
REFUSED = httpx.ConnectError("refused", request=REQUEST)
DROPPED = httpx.RemoteProtocolError("peer closed", request=REQUEST)
SLOW = httpx.ReadTimeout("slow", request=REQUEST)


def _answer(status: int, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=REQUEST)


def test_the_backoff_doubles_up_to_its_bound() -> None:
    retry = Retry(retries=6, backoff=0.25, max_backoff=4.0)
    delays = [retry.after_error(Repeat.ALWAYS, REFUSED, failures) for failures in range(1, 8)]
    assert delays == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, None]


def test_what_is_repeated_depends_on_the_request() -> None:
    retry = Retry()
    assert retry.after_error(Repeat.NEVER, REFUSED, 1) is None
    assert retry.after_error(Repeat.IF_UNSENT, REFUSED, 1) == retry.backoff
    assert retry.after_error(Repeat.IF_UNSENT, DROPPED, 1) is None
    assert retry.after_error(Repeat.ALWAYS, DROPPED, 1) == retry.backoff
    assert retry.after_error(Repeat.ALWAYS, SLOW, 1) is None
    assert retry.after_error(Repeat.ALWAYS, SLOW, 1, stream=True) == retry.backoff


def test_only_503_answers_to_reads_are_repeated_honouring_retry_after() -> None:
    retry = Retry(max_backoff=4.0)
    assert retry.after_response(Repeat.ALWAYS, _answer(503), 1) == retry.backoff
    assert retry.after_response(Repeat.ALWAYS, _answer(503, {"Retry-After": "2"}), 1) == 2.0
    assert retry.after_response(Repeat.ALWAYS, _answer(503, {"Retry-After": "60"}), 1) == 4.0
    assert retry.after_response(Repeat.IF_UNSENT, _answer(503), 1) is None
    assert retry.after_response(Repeat.ALWAYS, _answer(500), 1) is None
    assert retry.after_response(Repeat.ALWAYS, _answer(404), 1) is None


def test_no_retries_and_negative_settings() -> None:
    assert Retry(retries=0).after_error(Repeat.ALWAYS, REFUSED, 1) is None
    with pytest.raises(ValueError, match="must not be negative"):
        Retry(backoff=-1)
