"""The protocol's JSON objects: server and model metadata, health, inference requests, responses."""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from core.network import DEFAULT_THRESHOLD

ParameterValue = StrictBool | StrictInt | StrictFloat | StrictStr
Parameters = dict[str, ParameterValue]
"""``$parameters``: names to a string, a number or a boolean."""

Dimension = Annotated[int, Field(strict=True, ge=0)]


class RequestInput(BaseModel):
    """``$request_input``: one input tensor, its data in ``data`` or after the JSON header."""

    name: str
    shape: list[Dimension]
    datatype: str
    parameters: Parameters | None = None
    data: Any = Field(
        default=None,
        description="the elements, flat or nested, in row-major order; absent when the "
        "tensor follows the JSON header as binary data (parameter binary_data_size)",
    )


class RequestOutput(BaseModel):
    """``$request_output``: an output to return; ``binary_data: true`` sends it as binary."""

    name: str
    parameters: Parameters | None = None


class InferenceRequest(BaseModel):
    """``$inference_request``: members the protocol does not define (``model_name``) are ignored."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "42",
                    "parameters": {"threshold": 0.5},
                    "inputs": [
                        {
                            "name": "points",
                            "shape": [2, 2],
                            "datatype": "FP64",
                            "data": [1.0, 1.0, -1.0, -1.0],
                        }
                    ],
                    "outputs": [{"name": "probabilities"}, {"name": "labels"}],
                }
            ]
        }
    )

    id: str | None = None
    parameters: Parameters | None = Field(
        default=None,
        description=f"`threshold` (0 < t < 1, default {DEFAULT_THRESHOLD:g}) sets the labels; "
        "`binary_data_output: true` returns every output as binary data",
    )
    inputs: list[RequestInput] = Field(min_length=1)
    outputs: list[RequestOutput] | None = Field(
        default=None, description="the outputs to return; absent means all of them"
    )


class ResponseOutput(BaseModel):
    """``$response_output``: one output tensor, its data in ``data`` or after the JSON header."""

    name: str
    shape: list[int]
    datatype: str
    parameters: Parameters | None = None
    data: list[float] | list[int] | None = None


class InferenceResponse(BaseModel):
    """``$inference_response``: the request's ``id`` is echoed when it had one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_name": "5f0c3d1e9a7b4c2d8e6f1a2b3c4d5e6f",
                    "id": "42",
                    "outputs": [
                        {
                            "name": "probabilities",
                            "shape": [2],
                            "datatype": "FP64",
                            "data": [0.9934, 0.0121],
                        },
                        {"name": "labels", "shape": [2], "datatype": "INT64", "data": [1, 0]},
                    ],
                }
            ]
        }
    )

    model_name: str
    model_version: str | None = None
    id: str | None = None
    outputs: list[ResponseOutput]


class ServerMetadata(BaseModel):
    """``$metadata_server_response``."""

    name: str
    version: str
    extensions: list[str]


class TensorMetadata(BaseModel):
    """``$metadata_tensor``: -1 marks a dimension of any size."""

    name: str
    datatype: str
    shape: list[int]


class ModelMetadata(BaseModel):
    """``$metadata_model_response``."""

    name: str
    versions: list[str] | None = None
    platform: str
    inputs: list[TensorMetadata]
    outputs: list[TensorMetadata]


class ServerLive(BaseModel):
    """``$live_server_response``."""

    live: bool


class ServerReady(BaseModel):
    """``$ready_server_response``."""

    ready: bool


class ModelReady(BaseModel):
    """``$ready_model_response``."""

    name: str
    ready: bool
