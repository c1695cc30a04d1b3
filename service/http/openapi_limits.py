"""The configured limits written into the OpenAPI document, so the schema is what the server takes.

The limits are settings, so the document of each application carries its own values: a
request the schema allows is not refused for its size, and one over a limit (answered 413,
naming the setting) is outside the schema. Only bounds OpenAPI can say are written here;
the rest (rows of a batch x hidden units, both classes present) stay in the route's prose.
"""

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from service.settings import Settings, setting_env_name

Bound = tuple[str, str]
"""A JSON Schema keyword (``maximum``, ``maxItems``, or ``items.maximum``) and a setting."""

TRAINING_BOUNDS: dict[str, list[Bound]] = {
    "epochs": [("maximum", "max_epochs")],
    "n_samples": [("maximum", "max_training_points")],
    "points": [("maxItems", "max_training_points")],
    "labels": [("maxItems", "max_training_points")],
    "hidden_layers": [("maxItems", "max_hidden_layers"), ("items.maximum", "max_units")],
}
PREDICT_BOUNDS: dict[str, list[Bound]] = {"points": [("maxItems", "max_predict_points")]}
BODY_BOUNDS: dict[tuple[str, str], dict[str, list[Bound]]] = {
    ("/jobs", "post"): TRAINING_BOUNDS,
    ("/predict", "post"): PREDICT_BOUNDS,
    ("/models/{model_id}/predict", "post"): PREDICT_BOUNDS,
}
QUERY_BOUNDS: dict[tuple[str, str, str], list[Bound]] = {
    ("/models/{model_id}/figures/boundary", "get", "resolution"): [
        ("maximum", "max_boundary_resolution")
    ],
}


def document_limits(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` state ``settings``' limits as schema bounds."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            _apply(document, settings)
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _apply(document: dict[str, Any], settings: Settings) -> None:
    paths = document.get("paths", {})
    for (path, method), bounds in BODY_BOUNDS.items():
        operation = paths.get(path, {}).get(method)
        if operation is None:
            continue
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        _bound_properties(_resolved(document, body), bounds, settings, document)
    for (path, method, name), parameter_bounds in QUERY_BOUNDS.items():
        operation = paths.get(path, {}).get(method)
        for parameter in (operation or {}).get("parameters", []):
            if parameter.get("name") == name:
                _bound(parameter["schema"], parameter_bounds, settings)


def _resolved(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or the component it refers to (``#/components/schemas/...``)."""
    reference = node.get("$ref")
    if not isinstance(reference, str):
        return node
    target: Any = document
    for part in reference.removeprefix("#/").split("/"):
        target = target[part]
    resolved: dict[str, Any] = target
    return resolved


def _bound_properties(
    node: Any, bounds: dict[str, list[Bound]], settings: Settings, document: dict[str, Any]
) -> None:
    """Bound every property named in ``bounds``, in ``node`` and everything nested in it."""
    if isinstance(node, list):
        for item in node:
            _bound_properties(item, bounds, settings, document)
        return
    if not isinstance(node, dict):
        return
    node = _resolved(document, node)
    for name, schema in node.get("properties", {}).items():
        if name in bounds:
            _bound(_resolved(document, schema), bounds[name], settings)
    for key, value in node.items():
        if key != "properties" or isinstance(value, dict):
            _bound_properties(
                value if key != "properties" else list(value.values()), bounds, settings, document
            )


def _bound(schema: dict[str, Any], bounds: list[Bound], settings: Settings) -> None:
    """Write ``bounds`` into ``schema`` (into its non-null branch when it may be null)."""
    branches = [branch for branch in schema.get("anyOf", []) if branch.get("type") != "null"]
    target = branches[0] if branches else schema
    notes = []
    for keyword, setting in bounds:
        limit = int(getattr(settings, setting))
        place = target.setdefault("items", {}) if keyword.startswith("items.") else target
        place[keyword.removeprefix("items.")] = limit
        notes.append(f"{setting_env_name(setting)} = {limit}")
    note = f"over the limit ({', '.join(notes)}): 413"
    description = schema.get("description")
    schema["description"] = f"{description}; {note}" if description else note
