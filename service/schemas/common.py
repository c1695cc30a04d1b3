"""Schemas shared by every resource: problems, pages, finite numbers and network parameters."""

from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from core.dataset import MAX_COORDINATE

ItemT = TypeVar("ItemT")

StrictNumber = Annotated[float, Field(strict=True, allow_inf_nan=False)]
"""A finite JSON number, not a string or a boolean: the elements of given arrays."""

Coordinate = Annotated[
    float, Field(strict=True, allow_inf_nan=False, ge=-MAX_COORDINATE, le=MAX_COORDINATE)
]
"""A point's coordinate: a JSON number (not a string or a boolean) within ±MAX_COORDINATE.

Larger finite values would overflow inside a network, so they are refused at the edge.
"""

Point = tuple[Coordinate, Coordinate]
"""An ``[x, y]`` pair, the one point type of training data and of predictions."""

Label = Annotated[
    Annotated[int, Field(strict=True, ge=0, le=1)]
    | Annotated[float, Field(strict=True, ge=0, le=1, multiple_of=1)],
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 1}),
]
"""A class label: the JSON integer 0 or 1 (``1.0`` too, as JSON Schema's ``integer`` allows;
not a boolean or a string). Both branches validate in pydantic-core, fast for 100,000 labels."""

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100

MAX_PAGE_OFFSET = 10_000_000

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE, description="items per page")]
PageOffset = Annotated[
    int, Query(ge=0, le=MAX_PAGE_OFFSET, description="items to skip (newest first)")
]


class RequestModel(BaseModel):
    """Base of request bodies: an unknown member (a typo) is a 422 naming it."""

    model_config = ConfigDict(extra="forbid")


class FieldError(BaseModel):
    """One invalid input: where it is (e.g. ``body.epochs``) and what is wrong."""

    field: str
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem: every error response has this shape."""

    type: str = Field(examples=["urn:planenet:problem:not-found"])
    title: str = Field(examples=["Not found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["there is no job with id '0123456789abcdef0123456789abcdef'"])
    errors: list[FieldError] | None = Field(
        default=None, description="the offending fields, for validation problems (422)"
    )


class Page(BaseModel, Generic[ItemT]):
    """One page of a list, newest first; built from a :class:`RecordPage` by its attributes."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    total: int = Field(description="items over all pages")
    limit: int
    offset: int


class ParametersBody(RequestModel):
    """A network's weights and biases: ``weights[i]`` is fan_in x fan_out, ``biases[i]`` fan_out.

    The first layer takes one input per feature (2 for the plain coordinates x1, x2) and the
    last gives 1 output; this is the shape
    ``GET /models/{id}/parameters`` returns and ``initial_parameters`` takes.
    """

    weights: list[list[list[StrictNumber]]] = Field(min_length=1)
    biases: list[list[StrictNumber]] = Field(min_length=1)

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer as the weights give them, input and output included."""
        weights = self.weights
        return [len(weights[0])] + [len(layer[0]) if layer else 0 for layer in weights]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "weights": [
                        [[0.1, -0.2, 0.3, 0.05], [-0.1, 0.2, 0.04, -0.3]],
                        [[0.5], [-0.4], [0.3], [0.2]],
                    ],
                    "biases": [[0.0, 0.0, 0.0, 0.0], [0.0]],
                }
            ]
        }
    )


PROBLEM_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": Problem, "content": {"application/problem+json": {}}, "description": text}
    for status, text in (
        (401, "missing or invalid API key"),
        (404, "unknown id"),
        (409, "not possible in the current state"),
        (413, "over a limit"),
        (415, "the body is not JSON"),
        (422, "invalid request; `errors` names the fields"),
        (429, "too many jobs queued; retry after `Retry-After` seconds"),
        (503, "not ready, or too many open at once (then with `Retry-After`)"),
        (507, "the storage is full or read-only; nothing was written"),
    )
}
"""Error responses for OpenAPI; pick the ones a route can give: ``{s: PROBLEM_RESPONSES[s]}``."""


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The OpenAPI ``responses`` entry of the given error statuses."""
    return {status: PROBLEM_RESPONSES[status] for status in statuses}
