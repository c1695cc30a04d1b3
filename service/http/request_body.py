"""Bodies a route reads itself: validated in one pass by pydantic-core, documented in OpenAPI.

A route that takes ``request: Request`` instead of a body parameter gets its dependencies
(the API key check among them) run before anything is read, and can refuse a body by its
raw bytes before paying for parsing; :func:`parse_body` then keeps the 422 problem shape.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from service.domain.errors import UnsupportedMediaType
from service.http.json_keys import DuplicateKey, check_unique_keys

BodyT = TypeVar("BodyT", bound=BaseModel)

DEFINITIONS_PREFIX = "#/$defs/"


def request_body_openapi(schema: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` (schema and first example) of a route that reads its body.

    The schema is self-contained: the nested models pydantic keeps under ``$defs`` are
    written in place, since the OpenAPI document has no ``$defs`` for references to reach.
    """
    json_schema = schema.model_json_schema()
    definitions = json_schema.pop("$defs", {})
    json_schema = _inline_references(json_schema, definitions)
    examples = json_schema.get("examples", [])
    content: dict[str, Any] = {"schema": json_schema}
    if examples:
        content["example"] = examples[0]
    return {"requestBody": {"required": True, "content": {"application/json": content}}}


def _inline_references(node: Any, definitions: dict[str, Any]) -> Any:
    """``node`` with every ``{"$ref": "#/$defs/Name"}`` replaced by that definition."""
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith(DEFINITIONS_PREFIX):
            definition = definitions[reference.removeprefix(DEFINITIONS_PREFIX)]
            others = {key: value for key, value in node.items() if key != "$ref"}
            return _inline_references({**definition, **others}, definitions)
        return {key: _inline_references(value, definitions) for key, value in node.items()}
    if isinstance(node, list):
        return [_inline_references(item, definitions) for item in node]
    return node


async def read_json_body(request: Request) -> bytes:
    """The raw body of a request that declares it JSON; :class:`UnsupportedMediaType` if not.

    Insisting on ``application/json`` (or a ``+json`` type) keeps a cross-site page from
    posting a ``text/plain`` or form body, which browsers send without a CORS preflight.
    """
    content_type = request.headers.get("content-type")
    if not is_json_media_type(content_type or ""):
        raise UnsupportedMediaType(content_type)
    return await request.body()


def is_json_media_type(content_type: str) -> bool:
    """Whether a ``Content-Type`` header declares JSON (``application/json`` or ``+json``)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def parse_body(body: bytes, schema: type[BodyT]) -> BodyT:
    """``body`` validated as ``schema``; a 422 problem naming the fields (``body.points[3][0]``).

    Validation is strict: a number must be a JSON number, not a string or a boolean holding
    one. An integer may be written with a zero fraction (``10.0``), as JSON Schema's
    ``integer`` allows: only then is the body validated a second time, laxly, which changes
    nothing else since nothing else failed. An object that repeats a key is refused rather
    than resolved to its last value.
    """
    try:
        parsed = schema.model_validate_json(body, strict=True)
    except ValidationError as error:
        errors = [
            item
            for item in error.errors(include_url=False, include_context=False)
            if not _integral_float_for_integer(item)
        ]
        if not errors:
            parsed = _lax(body, schema)
        else:
            raise RequestValidationError(
                [{**_without_input(item), "loc": ("body", *item["loc"])} for item in errors]
            ) from None
    try:
        check_unique_keys(body)
    except DuplicateKey as error:
        raise RequestValidationError(
            [{"type": "duplicate_key", "loc": ("body",), "msg": str(error)}]
        ) from None
    return parsed


def _lax(body: bytes, schema: type[BodyT]) -> BodyT:
    """``body`` validated laxly, once strict validation failed only on integers like ``10.0``."""
    try:
        return schema.model_validate_json(body)
    except ValidationError as error:  # not expected: lax accepts all that strict does, and more
        errors = error.errors(include_url=False, include_context=False, include_input=False)
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in errors]
        ) from None


def _integral_float_for_integer(item: Any) -> bool:
    """Whether a strict error is only an integer written with a zero fraction (``10.0``)."""
    value = item.get("input")
    return item["type"] == "int_type" and isinstance(value, float) and value.is_integer()


def _without_input(item: Any) -> Any:
    return {key: value for key, value in item.items() if key != "input"}


def json_body(schema: type[BodyT]) -> Callable[[Request], Awaitable[BodyT]]:
    """A dependency reading a route's JSON body as ``schema``, as every PlaneNet route does:
    415 for a body that is not JSON, then :func:`parse_body`'s strict 422 naming the fields
    (FastAPI's own body parameters would answer a malformed body 400, and resolve duplicate
    keys). Declare it after the key check, so a refused key costs no reading."""

    async def read(request: Request) -> BodyT:
        return parse_body(await read_json_body(request), schema)

    return read
