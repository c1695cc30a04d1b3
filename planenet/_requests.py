"""The API's requests, built once for Client and AsyncClient: method, path, query, body, repeats.

Ids, names, aliases and model references (an id, ``name``, ``name@v2``, ``name@alias``) go into
one path segment each, percent-encoded, so any reference reaches the server unchanged.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from planenet._models import Parameters

FigureKind = Literal["data", "loss", "boundary"]
FIGURE_KINDS: tuple[FigureKind, ...] = ("data", "loss", "boundary")
"""A model's figures: its training points, its loss per epoch, its decision boundary."""

BoundaryMode = Literal["regions", "probability", "contour"]
"""The boundary figure's modes: regions and the exact boundary, P(class 1), or the curve alone."""


class Repeat(enum.Enum):
    """Whether a request may be sent again after a failure."""

    NEVER = "never"
    """It creates something (``POST /jobs``): a repeat might create it twice."""
    IF_UNSENT = "if-unsent"
    """It changes state: repeated only when no connection was made (nothing reached the server)."""
    ALWAYS = "always"
    """It only reads (predictions and evaluations too), or it is idempotent: repeated on any
    connection failure and on 503.

    Idempotent writes are ``PUT`` of an alias (it names the version; a repeat points the alias at
    it again) and ``PATCH`` of metadata: the patch is a JSON merge patch, which sets or removes
    members to given values and holds no relative operation, so applying it twice leaves what
    applying it once does and answers the same. ``DELETE`` is not here: a repeat of a delete
    that had arrived would answer 404 for a success.
    """


class Unset(enum.Enum):
    """The type of UNSET: a member a patch leaves out (None is a value: it clears)."""

    UNSET = "unset"


UNSET = Unset.UNSET
"""Leave this member as it is."""


@dataclass(frozen=True)
class APIRequest:
    """One request to the API, before it is sent."""

    method: str
    path: str
    repeat: Repeat
    params: dict[str, str | int] = field(default_factory=dict)
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def segment(reference: str) -> str:
    """``reference`` as one path segment; an empty one (which would name another route) refused."""
    if not isinstance(reference, str) or not reference:
        raise ValueError(f"an id or model reference must be a non-empty string, not {reference!r}")
    encoded = quote(reference, safe="@")
    return encoded.replace(".", "%2E") if set(encoded) == {"."} else encoded


def jsonable(value: Any) -> Any:
    """``value`` with arrays (anything with ``tolist()``, e.g. NumPy's), tuples and Parameters
    as JSON."""
    if isinstance(value, Parameters):
        return value.to_json()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    return value


def training_body(body: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A training body: ``body`` (or ``{}``: the server's defaults) with ``fields`` set over it."""
    merged = {**(body or {}), **fields}
    converted: dict[str, Any] = jsonable(merged)
    return converted


def _page(limit: int | None, offset: int | None) -> dict[str, str | int]:
    params: dict[str, str | int] = {}
    if limit is not None:
        params["limit"] = limit
    if offset is not None:
        params["offset"] = offset
    return params


def health() -> APIRequest:
    return APIRequest("GET", "/healthz", Repeat.ALWAYS)


def readiness() -> APIRequest:
    return APIRequest("GET", "/readyz", Repeat.ALWAYS)


def create_job(body: dict[str, Any]) -> APIRequest:
    return APIRequest("POST", "/jobs", Repeat.NEVER, json=body)


def get_job(job_id: str) -> APIRequest:
    return APIRequest("GET", f"/jobs/{segment(job_id)}", Repeat.ALWAYS)


def list_jobs(status: str | None, limit: int | None, offset: int | None) -> APIRequest:
    params = _page(limit, offset)
    if status is not None:
        params["status"] = status
    return APIRequest("GET", "/jobs", Repeat.ALWAYS, params=params)


def cancel_job(job_id: str) -> APIRequest:
    return APIRequest("POST", f"/jobs/{segment(job_id)}/cancel", Repeat.IF_UNSENT)


def job_events(job_id: str, headers: dict[str, str]) -> APIRequest:
    return APIRequest(
        "GET",
        f"/jobs/{segment(job_id)}/events",
        Repeat.ALWAYS,
        headers={"Accept": "text/event-stream", **headers},
    )


def job_loss_figure(job_id: str, max_points: int | None) -> APIRequest:
    params: dict[str, str | int] = {} if max_points is None else {"max_points": max_points}
    return APIRequest("GET", f"/jobs/{segment(job_id)}/figures/loss", Repeat.ALWAYS, params=params)


def get_model(model: str) -> APIRequest:
    return APIRequest("GET", f"/models/{segment(model)}", Repeat.ALWAYS)


def list_models(limit: int | None, offset: int | None) -> APIRequest:
    return APIRequest("GET", "/models", Repeat.ALWAYS, params=_page(limit, offset))


def delete_model(model: str, force: bool) -> APIRequest:
    """Delete ``model``; with ``force``, also remove the aliases that point at it."""
    params: dict[str, str | int] = {"force": "true"} if force else {}
    return APIRequest("DELETE", f"/models/{segment(model)}", Repeat.IF_UNSENT, params=params)


def metadata_patch(
    description: str | Unset | None, tags: Mapping[str, str | None] | None
) -> dict[str, Any]:
    """A JSON merge patch: ``description`` (None clears it; UNSET leaves it), ``tags`` to set
    (a string) or remove (None)."""
    patch: dict[str, Any] = {}
    if not isinstance(description, Unset):
        patch["description"] = description
    if tags is not None:
        patch["tags"] = dict(tags)
    return patch


def patch_model(model: str, patch: dict[str, Any]) -> APIRequest:
    return APIRequest("PATCH", f"/models/{segment(model)}", Repeat.ALWAYS, json=patch)


def list_registered_models(limit: int | None, offset: int | None) -> APIRequest:
    return APIRequest("GET", "/registered-models", Repeat.ALWAYS, params=_page(limit, offset))


def get_registered_model(name: str) -> APIRequest:
    return APIRequest("GET", f"/registered-models/{segment(name)}", Repeat.ALWAYS)


def patch_registered_model(name: str, patch: dict[str, Any]) -> APIRequest:
    return APIRequest("PATCH", f"/registered-models/{segment(name)}", Repeat.ALWAYS, json=patch)


def set_alias(name: str, alias: str, version: int) -> APIRequest:
    return APIRequest(
        "PUT",
        f"/registered-models/{segment(name)}/aliases/{segment(alias)}",
        Repeat.ALWAYS,
        json={"version": version},
    )


def delete_alias(name: str, alias: str) -> APIRequest:
    return APIRequest(
        "DELETE", f"/registered-models/{segment(name)}/aliases/{segment(alias)}", Repeat.IF_UNSENT
    )


def model_parameters(model: str) -> APIRequest:
    return APIRequest("GET", f"/models/{segment(model)}/parameters", Repeat.ALWAYS)


def predict(model: str | None, points: Any, threshold: float | None) -> APIRequest:
    """Classify ``points`` (n, 2) with ``model``, or with the newest model when it is None;
    label 1 above ``threshold`` (None: the server's default)."""
    body: dict[str, Any] = {"points": jsonable(points)}
    if threshold is not None:
        body["threshold"] = threshold
    if model is None:
        return APIRequest("POST", "/predict", Repeat.ALWAYS, json=body)
    return APIRequest("POST", f"/models/{segment(model)}/predict", Repeat.ALWAYS, json=body)


def evaluate(
    model: str, points: Any, labels: Any, threshold: float | None, figures: bool
) -> APIRequest:
    """Measure ``model`` on ``points`` (n, 2) with true ``labels`` (n,) at ``threshold``."""
    body: dict[str, Any] = {"points": jsonable(points), "labels": jsonable(labels)}
    if threshold is not None:
        body["threshold"] = threshold
    params: dict[str, str | int] = {"figures": "true"} if figures else {}
    return APIRequest(
        "POST", f"/models/{segment(model)}/evaluate", Repeat.ALWAYS, params=params, json=body
    )


def model_figure(
    model: str,
    kind: FigureKind,
    resolution: int | None,
    mode: BoundaryMode | None,
    max_points: int | None,
) -> APIRequest:
    if kind not in FIGURE_KINDS:
        raise ValueError(f"unknown figure kind {kind!r}; choose one of {list(FIGURE_KINDS)}")
    options: dict[str, str | int | None] = {
        "resolution": resolution,
        "mode": mode,
        "max_points": max_points,
    }
    params = {name: value for name, value in options.items() if value is not None}
    return APIRequest(
        "GET", f"/models/{segment(model)}/figures/{kind}", Repeat.ALWAYS, params=params
    )
