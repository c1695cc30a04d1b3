"""The Open Inference Protocol in tests: how a model is named under /v2, and binary bodies.

:func:`model_paths` lists every way a request may name one stored model and
:func:`unknown_model_paths` ways that name none; the tests of the protocol run through all of
them. Today a model is named by its id; names, versions and aliases add their forms here.
"""

import json
from dataclasses import dataclass
from typing import Any

import httpx

from service.inference.body import HEADER_LENGTH

UNKNOWN_MODEL_ID = "0123456789abcdef0123456789abcdef"


@dataclass(frozen=True)
class InferenceModel:
    """A stored model as the protocol's tests address it."""

    model_id: str

    @property
    def path(self) -> str:
        """The model's canonical path: ``/v2/models/{id}``."""
        return f"/v2/models/{self.model_id}"


def model_paths(model: InferenceModel) -> list[tuple[str, str]]:
    """Every ``/v2/models/...`` path naming ``model``, with the name its answers carry."""
    return [(model.path, model.model_id)]


def unknown_model_paths(model: InferenceModel) -> list[tuple[str, str]]:
    """Paths that name no model, each with a fragment its 404 message must hold."""
    return [
        (f"/v2/models/{UNKNOWN_MODEL_ID}", UNKNOWN_MODEL_ID),
        (f"{model.path}/versions/1", "no version '1'"),
    ]


def binary_request(header: dict[str, Any], data: bytes) -> tuple[bytes, str]:
    """A body of the JSON ``header`` followed by ``data``, and its header length (as text)."""
    encoded = json.dumps(header).encode()
    return encoded + data, str(len(encoded))


def split_response(response: httpx.Response) -> tuple[dict[str, Any], bytes]:
    """The JSON header of an inference response and the binary data after it (maybe none)."""
    length = response.headers.get(HEADER_LENGTH)
    if length is None:
        body: dict[str, Any] = response.json()
        return body, b""
    header: dict[str, Any] = json.loads(response.content[: int(length)])
    return header, response.content[int(length) :]
