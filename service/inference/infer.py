"""One inference: the request decoded and checked, the model's prediction, the response encoded.

Everything here is synchronous NumPy work; the route runs it in a worker thread.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import StrictBool, TypeAdapter, ValidationError

from core.arrays import FloatArray
from core.network import DEFAULT_THRESHOLD, Network
from service.domain.prediction import UNEVALUABLE, UnevaluablePoint, predict_points
from service.http.limits import check_limit
from service.http.request_body import parse_body
from service.http.responses import FastJSONResponse
from service.inference.body import HEADER_LENGTH, BinaryData, split_body
from service.inference.errors import MalformedRequest, validation_message
from service.inference.schemas import InferenceRequest, Parameters, RequestInput
from service.inference.signature import (
    INPUT_NAME,
    LABELS,
    OUTPUT_DATATYPES,
    OUTPUT_NAMES,
    PROBABILITIES,
)
from service.inference.tensors import (
    input_dtype,
    output_bytes,
    point_count,
    points_from_binary,
    points_from_json,
)
from service.schemas.predictions import Threshold
from service.settings import Settings

BINARY_MEDIA_TYPE = "application/octet-stream"
UNSUPPORTED_PARAMETERS = ("shared_memory_region", "classification")
"""Parameters of Triton's other extensions, which this server does not implement."""

_threshold = TypeAdapter(Threshold)
_flag = TypeAdapter(StrictBool)


@dataclass(frozen=True)
class RequestedOutput:
    """An output to return, and whether as binary data."""

    name: str
    binary: bool


@dataclass(frozen=True)
class Inference:
    """A checked inference request: points (n, 2), threshold and the outputs to return."""

    request_id: str | None
    points: FloatArray
    threshold: float
    outputs: list[RequestedOutput]


def decode_request(body: bytes, header_length: str | None, settings: Settings) -> Inference:
    """The request in ``body`` checked against the model's signature and the limits."""
    header, binary = split_body(body, header_length)
    try:
        request = parse_body(header, InferenceRequest)
    except RequestValidationError as error:
        # Fields are named from the request's root (``inputs[0].shape``), as in every message.
        fields = [{**item, "loc": item["loc"][1:]} for item in error.errors()]
        raise MalformedRequest(validation_message(fields)) from None
    if len(request.inputs) != 1 or request.inputs[0].name != INPUT_NAME:
        names = ", ".join(repr(given.name) for given in request.inputs)
        raise MalformedRequest(
            f"inputs: the model takes one input, {INPUT_NAME!r} (shape [N, 2]), got {names}"
        )
    given = request.inputs[0]
    _refuse_unsupported(given.parameters, "inputs[0]")
    points = _decode_points(given, BinaryData(binary, header_length is not None), settings)
    parameters = request.parameters or {}
    return Inference(
        request_id=request.id,
        points=points,
        threshold=_parameter(_threshold, parameters, "threshold", DEFAULT_THRESHOLD),
        outputs=_requested_outputs(request, _parameter(_flag, parameters, "binary_data_output")),
    )


def _decode_points(given: RequestInput, binary: BinaryData, settings: Settings) -> FloatArray:
    """The input's points, after its shape passed the limit (before any data is decoded)."""
    dtype = input_dtype(given.datatype)
    count = point_count(given.shape)
    check_limit("the number of points", count, settings, "max_predict_points")
    size = (given.parameters or {}).get("binary_data_size")
    if size is None:
        points = points_from_json(given.data, dtype, count)
    else:
        if given.data is not None:
            raise MalformedRequest("inputs[0]: give either data or binary_data_size, not both")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise MalformedRequest(
                f"inputs[0].parameters.binary_data_size: expected a number of bytes, got {size!r}"
            )
        points = points_from_binary(binary.take(size, "inputs[0]"), dtype, count)
    binary.finish()
    return points


def _requested_outputs(request: InferenceRequest, all_binary: bool) -> list[RequestedOutput]:
    """The outputs to return, in the order asked for (all of them when none are named)."""
    if request.outputs is None:
        return [RequestedOutput(name, all_binary) for name in OUTPUT_NAMES]
    outputs: list[RequestedOutput] = []
    for index, output in enumerate(request.outputs):
        where = f"outputs[{index}]"
        if output.name not in OUTPUT_NAMES:
            raise MalformedRequest(
                f"{where}.name: unknown output {output.name!r}; the model gives "
                f"{', '.join(map(repr, OUTPUT_NAMES))}"
            )
        if any(earlier.name == output.name for earlier in outputs):
            raise MalformedRequest(f"{where}.name: {output.name!r} is requested twice")
        parameters = output.parameters or {}
        _refuse_unsupported(parameters, where)
        binary = _parameter(_flag, parameters, "binary_data", all_binary, where)
        outputs.append(RequestedOutput(output.name, binary))
    return outputs


def _parameter(
    adapter: TypeAdapter[Any],
    parameters: Parameters,
    name: str,
    default: Any = False,
    where: str = "",
) -> Any:
    """The parameter ``name`` validated by ``adapter``, or ``default`` when absent."""
    if name not in parameters:
        return default
    try:
        return adapter.validate_python(parameters[name])
    except ValidationError as error:
        message = error.errors(include_url=False)[0]["msg"]
        path = f"{where}.parameters.{name}" if where else f"parameters.{name}"
        raise MalformedRequest(f"{path}: {message}") from None


def _refuse_unsupported(parameters: Parameters | None, where: str) -> None:
    for name in UNSUPPORTED_PARAMETERS:
        if parameters and name in parameters:
            raise MalformedRequest(f"{where}.parameters.{name}: not supported by this server")


def run_inference(network: Network, inference: Inference) -> dict[str, np.ndarray[Any, Any]]:
    """The outputs by name: probabilities (n,) and labels (n,), from the one prediction path."""
    try:
        labels, probabilities = predict_points(network, inference.points, inference.threshold)
    except UnevaluablePoint as error:
        raise MalformedRequest(f"inputs[0].data: point {error.index}: {UNEVALUABLE}") from None
    return {PROBABILITIES: probabilities, LABELS: labels}


def encode_response(
    model_name: str,
    model_version: str | None,
    inference: Inference,
    values: dict[str, np.ndarray[Any, Any]],
) -> Response:
    """The response: JSON, or the JSON header followed by the binary outputs in their order."""
    header: dict[str, Any] = {"model_name": model_name}
    if model_version is not None:
        header["model_version"] = model_version
    if inference.request_id is not None:
        header["id"] = inference.request_id
    outputs: list[dict[str, Any]] = []
    binary_parts: list[memoryview] = []
    for requested in inference.outputs:
        array = values[requested.name]
        datatype = OUTPUT_DATATYPES[requested.name]
        tensor: dict[str, Any] = {
            "name": requested.name,
            "datatype": datatype,
            "shape": list(array.shape),
        }
        if requested.binary:
            data = output_bytes(array, datatype)
            tensor["parameters"] = {"binary_data_size": len(data)}
            binary_parts.append(data)
        else:
            tensor["data"] = array.tolist()
        outputs.append(tensor)
    header["outputs"] = outputs
    if not binary_parts:
        return FastJSONResponse(header)
    json_header = FastJSONResponse(header).body
    return Response(
        b"".join([json_header, *binary_parts]),
        media_type=BINARY_MEDIA_TYPE,
        headers={HEADER_LENGTH: str(len(json_header))},
    )
