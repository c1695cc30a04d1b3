"""Checks of RFC 9457 problem responses."""

from typing import Any

import httpx


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    """Check an RFC 9457 problem response; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if slug is not None:
        assert body["type"] == f"urn:planenet:problem:{slug}"
    assert "Traceback" not in response.text
    return body


def problem_fields(body: dict[str, Any]) -> set[str]:
    """The ``field`` of every entry of a validation problem's ``errors``."""
    return {error["field"] for error in body["errors"]}
