"""The Open Inference Protocol under /v2: the protocol's own examples, outputs, errors, access."""

import json
import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from core.dataset import MAX_COORDINATE
from service.inference.body import HEADER_LENGTH
from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.inference import (
    InferenceModel,
    binary_request,
    model_paths,
    split_response,
    unknown_model_paths,
)
from tests.service.test_health import unreachable_store

pytestmark = pytest.mark.anyio

PREDICT_LIMIT = 1000
"""``max_predict_points`` of the app under test, small so that 413 is cheap to reach."""

POINTS = np.array([[1.0, 1.0], [-1.0, -1.0], [0.3, -0.2], [2.5, 0.1], [-0.7, 1.4]])


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Protocol:
    """A running app with one trained model, and the answers of its /predict to compare with."""

    client: httpx.AsyncClient
    model: InferenceModel

    async def predict(self, points: np.ndarray) -> dict[str, Any]:
        """``/models/{id}/predict`` on the points, the route every answer must agree with."""
        response = await self.client.post(
            f"/models/{self.model.model_id}/predict", json={"points": points.tolist()}
        )
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def infer(self, body: Any, path: str | None = None, **options: Any) -> httpx.Response:
        """POST an inference request (a JSON object, or raw bytes) to the model's ``infer``."""
        url = f"{path or self.model.path}/infer"
        if isinstance(body, bytes):
            return await self.client.post(url, content=body, **options)
        return await self.client.post(url, json=body, **options)


@pytest.fixture(scope="module")
async def protocol(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Protocol]:
    settings = make_settings(
        tmp_path_factory.mktemp("inference"), workers=1, max_predict_points=PREDICT_LIMIT
    )
    async with serve(settings) as client:
        submitted = (await client.post("/jobs", json=QUICK_JOB)).json()
        job = await await_job(client, submitted["id"])
        assert job["status"] == "succeeded", job
        yield Protocol(client, InferenceModel(job["model_id"]))


def points_request(points: np.ndarray, **members: Any) -> dict[str, Any]:
    """A JSON inference request of ``points`` (n, 2) as FP64, flat."""
    tensor = {
        "name": "points",
        "shape": list(points.shape),
        "datatype": "FP64",
        "data": points.ravel().tolist(),
    }
    return {"inputs": [tensor], **members}


def outputs_by_name(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {output["name"]: output for output in body["outputs"]}


def assert_protocol_error(response: httpx.Response, status: int, *fragments: str) -> str:
    """The response is the protocol's ``{"error": "..."}`` with ``status``; returns the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}, body
    message: str = body["error"]
    for fragment in fragments:
        assert fragment in message, message
    return message


# --- Server and model metadata, health, readiness -----------------------------------------


async def test_server_metadata_names_the_binary_extension(protocol: Protocol) -> None:
    response = await protocol.client.get("/v2")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "planenet"
    assert body["version"]
    assert body["extensions"] == ["binary_tensor_data"]


async def test_server_is_live_and_ready(protocol: Protocol) -> None:
    live = await protocol.client.get("/v2/health/live")
    ready = await protocol.client.get("/v2/health/ready")
    assert (live.status_code, live.json()) == (200, {"live": True})
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


async def test_model_metadata_and_readiness_under_every_path_of_the_model(
    protocol: Protocol,
) -> None:
    for path, name in model_paths(protocol.model):
        metadata = await protocol.client.get(path)
        assert metadata.status_code == 200, (path, metadata.text)
        assert metadata.json() == {
            "name": name,
            "platform": "planenet_numpy",
            "inputs": [{"name": "points", "datatype": "FP64", "shape": [-1, 2]}],
            "outputs": [
                {"name": "probabilities", "datatype": "FP64", "shape": [-1]},
                {"name": "labels", "datatype": "INT64", "shape": [-1]},
            ],
        }
        ready = await protocol.client.get(f"{path}/ready")
        assert (ready.status_code, ready.json()) == (200, {"name": name, "ready": True})


async def test_unknown_models_and_versions_are_404_on_every_route(protocol: Protocol) -> None:
    body = points_request(POINTS)
    for path, fragment in unknown_model_paths(protocol.model):
        for response in (
            await protocol.client.get(path),
            await protocol.client.get(f"{path}/ready"),
            await protocol.infer(body, path),
        ):
            assert_protocol_error(response, 404, fragment)


# --- Conformance with the protocol's own examples -------------------------------------------
#
# The examples below are the specification's, kept as it writes them: the REST binding's
# "Inference Request Examples" and "Tensor Data" sections (kserve/open-inference-protocol,
# specification/protocol/inference_rest.md), and the "Examples" of Triton's binary tensor
# data extension (triton-inference-server/server, docs/protocol/extension_binary_data.md).
# Its model "mymodel" has two inputs and an output "output0"; PlaneNet's models take one
# input "points" [N, 2] and give "probabilities" and "labels", so each example is also sent
# with its names mapped onto them.

SPEC_INFERENCE_REQUEST: dict[str, Any] = {
    "id": "42",
    "inputs": [
        {"name": "input0", "shape": [2, 2], "datatype": "UINT32", "data": [1, 2, 3, 4]},
        {"name": "input1", "shape": [3], "datatype": "BOOL", "data": [True]},
    ],
    "outputs": [{"name": "output0"}],
}
"""inference_rest.md, "Inference Request Examples": the request."""

SPEC_INFERENCE_RESPONSE: dict[str, Any] = {
    "id": "42",
    "outputs": [
        {
            "name": "output0",
            "shape": [3, 2],
            "datatype": "FP32",
            "data": [1.0, 1.1, 2.0, 2.1, 3.0, 3.1],
        }
    ],
}
"""inference_rest.md, "Inference Request Examples": the response (its members and their types)."""

SPEC_NATURAL_DATA = [[1, 2], [4, 5]]
SPEC_FLATTENED_DATA = [1, 2, 4, 5]
"""inference_rest.md, "Tensor Data": one 2 x 2 matrix, natural and flattened."""

SPEC_BINARY_REQUEST_HEADER: dict[str, Any] = {
    "model_name": "mymodel",
    "inputs": [
        {
            "name": "input0",
            "shape": [2, 2],
            "datatype": "UINT32",
            "parameters": {"binary_data_size": 16},
        },
        {"name": "input1", "shape": [3], "datatype": "BOOL", "parameters": {"binary_data_size": 3}},
    ],
    "outputs": [{"name": "output0", "parameters": {"binary_data": True}}],
}
"""extension_binary_data.md, "Examples": the JSON part of the request (19 bytes follow it)."""

SPEC_BINARY_RESPONSE_HEADER: dict[str, Any] = {
    "outputs": [
        {
            "name": "output0",
            "shape": [3, 2],
            "datatype": "FP32",
            "parameters": {"binary_data_size": 24},
        }
    ]
}
"""extension_binary_data.md, "Examples": the JSON part of the response (24 bytes follow it)."""

INPUT0_POINTS = np.array([[1.0, 2.0], [3.0, 4.0]])
"""The spec's input0 ([2, 2] UINT32 ``[1, 2, 3, 4]``) as PlaneNet's points."""


def mapped_onto_planenet(example: dict[str, Any]) -> dict[str, Any]:
    """The example with input0 as "points", input1 left out and output0 as "probabilities"."""
    mapped: dict[str, Any] = json.loads(json.dumps(example))
    mapped["inputs"] = [{**mapped["inputs"][0], "name": "points"}]
    mapped["outputs"] = [{**mapped["outputs"][0], "name": "probabilities"}]
    return mapped


def assert_members_as_in(example: dict[str, Any], actual: dict[str, Any]) -> None:
    """``actual`` has the example's members, with values of the same JSON types, recursively."""
    for key, value in example.items():
        assert key in actual, (key, actual)
        if isinstance(value, dict):
            assert_members_as_in(value, actual[key])
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            assert_members_as_in(value[0], actual[key][0])
        else:
            assert type(actual[key]) is type(value), (key, actual[key], value)


async def test_the_specs_request_is_refused_for_its_inputs_not_for_its_form(
    protocol: Protocol,
) -> None:
    message = assert_protocol_error(await protocol.infer(SPEC_INFERENCE_REQUEST), 400)
    assert "'input0', 'input1'" in message
    assert "'points'" in message


async def test_the_specs_request_mapped_onto_a_planenet_model(protocol: Protocol) -> None:
    response = await protocol.infer(mapped_onto_planenet(SPEC_INFERENCE_REQUEST))
    assert response.status_code == 200, response.text
    body = response.json()
    assert_members_as_in(SPEC_INFERENCE_RESPONSE, body)
    assert body["id"] == "42"
    assert body["model_name"] == protocol.model.model_id
    (output,) = body["outputs"]
    assert (output["name"], output["shape"], output["datatype"]) == ("probabilities", [2], "FP64")
    assert output["data"] == (await protocol.predict(INPUT0_POINTS))["probabilities"]


async def test_natural_and_flattened_tensor_data_are_the_same_tensor(protocol: Protocol) -> None:
    answers = []
    for data in (SPEC_NATURAL_DATA, SPEC_FLATTENED_DATA):
        tensor = {"name": "points", "shape": [2, 2], "datatype": "INT32", "data": data}
        response = await protocol.infer({"inputs": [tensor]})
        assert response.status_code == 200, response.text
        answers.append(response.json()["outputs"])
    assert answers[0] == answers[1]
    expected = await protocol.predict(np.array(SPEC_NATURAL_DATA, dtype=np.float64))
    assert (
        outputs_by_name({"outputs": answers[0]})["probabilities"]["data"]
        == (expected["probabilities"])
    )


async def test_the_specs_binary_example_mapped_onto_a_planenet_model(protocol: Protocol) -> None:
    header = mapped_onto_planenet(SPEC_BINARY_REQUEST_HEADER)
    data = np.array([1, 2, 3, 4], dtype="<u4").tobytes()
    assert len(data) == 16
    body, length = binary_request(header, data)
    response = await protocol.infer(
        body,
        headers={HEADER_LENGTH: length, "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/octet-stream"
    response_header, binary = split_response(response)
    assert_members_as_in(SPEC_BINARY_RESPONSE_HEADER, response_header)
    (output,) = response_header["outputs"]
    assert output == {
        "name": "probabilities",
        "datatype": "FP64",
        "shape": [2],
        "parameters": {"binary_data_size": 16},
    }
    expected = (await protocol.predict(INPUT0_POINTS))["probabilities"]
    assert np.frombuffer(binary, dtype="<f8").tolist() == expected


async def test_the_specs_binary_example_as_written_is_refused_for_its_inputs(
    protocol: Protocol,
) -> None:
    data = np.array([1, 2, 3, 4], dtype="<u4").tobytes() + bytes([1, 0, 1])
    body, length = binary_request(SPEC_BINARY_REQUEST_HEADER, data)
    response = await protocol.infer(body, headers={HEADER_LENGTH: length})
    assert_protocol_error(response, 400, "'input0', 'input1'")


# --- Outputs: the same answer as /predict, selection, binary, threshold ----------------------


async def test_json_inference_gives_the_probabilities_and_labels_of_predict(
    protocol: Protocol,
) -> None:
    response = await protocol.infer(points_request(POINTS))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert HEADER_LENGTH.lower() not in response.headers
    body = response.json()
    assert "id" not in body
    outputs = outputs_by_name(body)
    assert list(outputs) == ["probabilities", "labels"]
    expected = await protocol.predict(POINTS)
    assert outputs["probabilities"] == {
        "name": "probabilities",
        "datatype": "FP64",
        "shape": [len(POINTS)],
        "data": expected["probabilities"],
    }
    assert outputs["labels"] == {
        "name": "labels",
        "datatype": "INT64",
        "shape": [len(POINTS)],
        "data": expected["labels"],
    }


async def test_every_path_of_the_model_infers_alike(protocol: Protocol) -> None:
    expected = await protocol.predict(POINTS)
    for path, name in model_paths(protocol.model):
        response = await protocol.infer(points_request(POINTS), path)
        assert response.status_code == 200, (path, response.text)
        assert response.json()["model_name"] == name
        probabilities = outputs_by_name(response.json())["probabilities"]["data"]
        assert probabilities == expected["probabilities"]


async def test_binary_inputs_and_outputs_are_bit_identical_to_predict(protocol: Protocol) -> None:
    points = np.random.default_rng(7).normal(0.0, 2.0, size=(PREDICT_LIMIT, 2))
    header = {
        "id": "binary",
        "inputs": [
            {
                "name": "points",
                "shape": [len(points), 2],
                "datatype": "FP64",
                "parameters": {"binary_data_size": points.nbytes},
            }
        ],
        "parameters": {"binary_data_output": True},
    }
    body, length = binary_request(header, points.astype("<f8").tobytes())
    response = await protocol.infer(body, headers={HEADER_LENGTH: length})
    assert response.status_code == 200, response.text
    response_header, binary = split_response(response)
    assert response_header["id"] == "binary"
    sizes = [output["parameters"]["binary_data_size"] for output in response_header["outputs"]]
    assert sizes == [points.nbytes // 2, points.nbytes // 2]
    probabilities = np.frombuffer(binary[: sizes[0]], dtype="<f8")
    labels = np.frombuffer(binary[sizes[0] :], dtype="<i8")
    expected = await protocol.predict(points)
    assert probabilities.tobytes() == np.array(expected["probabilities"], dtype="<f8").tobytes()
    assert labels.tolist() == expected["labels"]


async def test_an_outputs_binary_data_overrides_binary_data_output(protocol: Protocol) -> None:
    request = points_request(
        POINTS,
        parameters={"binary_data_output": True},
        outputs=[
            {"name": "labels", "parameters": {"binary_data": False}},
            {"name": "probabilities"},
        ],
    )
    response = await protocol.infer(request)
    assert response.status_code == 200, response.text
    header, binary = split_response(response)
    labels, probabilities = header["outputs"]
    assert labels["name"] == "labels"
    assert "parameters" not in labels
    assert probabilities["parameters"] == {"binary_data_size": 8 * len(POINTS)}
    expected = await protocol.predict(POINTS)
    assert labels["data"] == expected["labels"]
    assert np.frombuffer(binary, dtype="<f8").tolist() == expected["probabilities"]


async def test_outputs_select_what_is_returned_in_their_order(protocol: Protocol) -> None:
    response = await protocol.infer(points_request(POINTS, outputs=[{"name": "labels"}]))
    assert [output["name"] for output in response.json()["outputs"]] == ["labels"]


async def test_threshold_changes_labels_never_probabilities(protocol: Protocol) -> None:
    answers = {}
    for threshold in (0.01, 0.5, 0.99):
        request = points_request(POINTS, parameters={"threshold": threshold, "other": "kept"})
        response = await protocol.infer(request)
        assert response.status_code == 200, response.text
        answers[threshold] = outputs_by_name(response.json())
    probabilities = np.array(answers[0.5]["probabilities"]["data"])
    for threshold, outputs in answers.items():
        assert outputs["probabilities"]["data"] == probabilities.tolist()
        assert outputs["labels"]["data"] == (probabilities > threshold).astype(int).tolist()
    assert answers[0.5]["labels"]["data"] == (await protocol.predict(POINTS))["labels"]
    assert answers[0.01]["labels"]["data"] != answers[0.99]["labels"]["data"]


@pytest.mark.parametrize(
    ("datatype", "values"),
    [
        ("FP32", POINTS.astype(np.float32)),
        ("INT8", np.array([[1, -1], [-3, 2]], dtype=np.int8)),
        ("INT64", np.array([[1, -1], [-3, 2]], dtype=np.int64)),
        ("UINT16", np.array([[1, 0], [3, 2]], dtype=np.uint16)),
    ],
)
@pytest.mark.parametrize("binary", [False, True])
async def test_other_datatypes_are_converted_to_fp64(
    protocol: Protocol, datatype: str, values: np.ndarray, binary: bool
) -> None:
    tensor: dict[str, Any] = {"name": "points", "shape": list(values.shape), "datatype": datatype}
    if binary:
        data = values.astype(values.dtype.newbyteorder("<")).tobytes()
        tensor["parameters"] = {"binary_data_size": len(data)}
        body, length = binary_request({"inputs": [tensor]}, data)
        response = await protocol.infer(body, headers={HEADER_LENGTH: length})
    else:
        tensor["data"] = values.ravel().tolist()
        response = await protocol.infer({"inputs": [tensor]})
    assert response.status_code == 200, response.text
    expected = await protocol.predict(values.astype(np.float64))
    assert outputs_by_name(response.json())["probabilities"]["data"] == expected["probabilities"]


# --- Errors: the protocol's shape and status, never a 5xx ------------------------------------


def _tensor(shape: list[int], data: Any, datatype: str = "FP64") -> dict[str, Any]:
    return {"inputs": [{"name": "points", "shape": shape, "datatype": datatype, "data": data}]}


MALFORMED_JSON_REQUESTS: list[tuple[str, dict[str, Any], str]] = [
    ("shape [N, 3]", _tensor([2, 3], [1, 2, 3, 4, 5, 6]), "expected [N, 2]"),
    ("shape [N]", _tensor([4], [1, 2, 3, 4]), "expected [N, 2]"),
    ("rank 3", _tensor([1, 2, 2], [1, 2, 3, 4]), "expected [N, 2]"),
    ("N = 0", _tensor([0, 2], []), "N >= 1"),
    ("a negative dimension", _tensor([-1, 2], [1, 2]), "shape[0]"),
    ("BYTES data", _tensor([1, 2], ["a", "b"], "BYTES"), "'BYTES' is not accepted"),
    ("BOOL data", _tensor([1, 2], [True, False], "BOOL"), "'BOOL' is not accepted"),
    ("FP16 data", _tensor([1, 2], [1, 2], "FP16"), "'FP16' is not accepted"),
    ("too few elements", _tensor([2, 2], [1, 2, 3]), "needs 4 elements, got 3"),
    ("too many elements", _tensor([1, 2], [1, 2, 3, 4]), "needs 2 elements, got 4"),
    ("too many pairs", _tensor([1, 2], [[1, 2], [3, 4]]), "needs 2 elements, got 4"),
    ("a pair of three", _tensor([2, 2], [[1, 2], [3, 4, 5]]), "data[1]"),
    ("a nested list too deep", _tensor([1, 2], [[[1, 2]]]), "data[0][0]"),
    ("a boolean element", _tensor([1, 2], [1.0, True]), "data[1]"),
    ("a string element", _tensor([1, 2], [1.0, "2"]), "data[1]"),
    ("a null element", _tensor([1, 2], [1.0, None]), "data[1]"),
    ("no data", _tensor([1, 2], None), "expected a list of numbers"),
    ("data an object", _tensor([1, 2], {"x": 1}), "expected a list of numbers"),
    ("a float in an INT32", _tensor([1, 2], [1, 2.5], "INT32"), "INT32"),
    ("an INT8 out of range", _tensor([1, 2], [1, 300], "INT8"), "300 is not a INT8"),
    ("a negative UINT32", _tensor([1, 2], [1, -1], "UINT32"), "-1 is not a UINT32"),
    ("a huge INT64", _tensor([1, 2], [1, 10**30], "INT64"), "INT64"),
    ("a coordinate too large", _tensor([1, 2], [1.0, 2 * MAX_COORDINATE]), "within ±"),
    ("an FP32 overflow", _tensor([1, 2], [1.0, 1e39], "FP32"), "finite numbers"),
    (
        "an unknown input",
        {"inputs": [{**_tensor([1, 2], [1, 2])["inputs"][0], "name": "x"}]},
        "'x'",
    ),
    ("no inputs", {"inputs": []}, "inputs"),
    ("no inputs member", {"outputs": [{"name": "labels"}]}, "inputs"),
    (
        "an unknown output",
        {**_tensor([1, 2], [1, 2]), "outputs": [{"name": "logits"}]},
        "unknown output 'logits'",
    ),
    (
        "an output twice",
        {**_tensor([1, 2], [1, 2]), "outputs": [{"name": "labels"}, {"name": "labels"}]},
        "requested twice",
    ),
    ("threshold 0", {**_tensor([1, 2], [1, 2]), "parameters": {"threshold": 0}}, "threshold"),
    ("threshold 1", {**_tensor([1, 2], [1, 2]), "parameters": {"threshold": 1.0}}, "threshold"),
    (
        "threshold text",
        {**_tensor([1, 2], [1, 2]), "parameters": {"threshold": "0.5"}},
        "threshold",
    ),
    ("threshold true", {**_tensor([1, 2], [1, 2]), "parameters": {"threshold": True}}, "threshold"),
    (
        "binary_data_output text",
        {**_tensor([1, 2], [1, 2]), "parameters": {"binary_data_output": "yes"}},
        "binary_data_output",
    ),
    (
        "a parameter object",
        {**_tensor([1, 2], [1, 2]), "parameters": {"nested": {"a": 1}}},
        "parameters.nested",
    ),
    (
        "shared memory",
        {
            "inputs": [
                {
                    "name": "points",
                    "shape": [1, 2],
                    "datatype": "FP64",
                    "parameters": {"shared_memory_region": "r"},
                }
            ]
        },
        "shared_memory_region: not supported",
    ),
    (
        "classification",
        {
            **_tensor([1, 2], [1, 2]),
            "outputs": [{"name": "labels", "parameters": {"classification": 2}}],
        },
        "classification: not supported",
    ),
    ("an id that is a number", {**_tensor([1, 2], [1, 2]), "id": 42}, "id"),
]


@pytest.mark.parametrize(
    ("request_body", "fragment"),
    [pytest.param(body, fragment, id=case) for case, body, fragment in MALFORMED_JSON_REQUESTS],
)
async def test_malformed_json_requests_are_400(
    protocol: Protocol, request_body: dict[str, Any], fragment: str
) -> None:
    assert_protocol_error(await protocol.infer(request_body), 400, fragment)


@pytest.mark.parametrize(
    ("token", "value"), [("NaN", math.nan), ("Infinity", math.inf), ("-Infinity", -math.inf)]
)
async def test_non_finite_numbers_are_400_in_json_and_in_binary(
    protocol: Protocol, token: str, value: float
) -> None:
    text = '{"inputs": [{"name": "points", "shape": [1, 2], "datatype": "FP64", "data": [1, %s]}]}'
    response = await protocol.infer((text % token).encode())
    assert_protocol_error(response, 400, "data[1]", "finite")
    for datatype in ("<f8", "<f4"):
        data = np.array([[0.5, 0.5], [1.0, value]], dtype=datatype).tobytes()
        tensor = {
            "name": "points",
            "shape": [2, 2],
            "datatype": "FP64" if datatype == "<f8" else "FP32",
            "parameters": {"binary_data_size": len(data)},
        }
        body, length = binary_request({"inputs": [tensor]}, data)
        response = await protocol.infer(body, headers={HEADER_LENGTH: length})
        assert_protocol_error(response, 400, "point 1", "finite")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"inputs": [',
        b"[1, 2]",
        b'"text"',
        b"\xff\xfe",
        b'{"inputs": [null]}',
        b"[" * 10_000 + b"]" * 10_000,
    ],
    ids=["empty", "text", "truncated", "an array", "a string", "not utf-8", "a null input", "deep"],
)
async def test_a_body_that_is_not_a_json_request_is_400(protocol: Protocol, body: bytes) -> None:
    assert_protocol_error(await protocol.infer(body), 400)


BINARY_POINTS = np.array([[1.0, 2.0], [3.0, 4.0]])


def binary_case(
    size: int | bool | str, data: bytes, header_length: str | None = None, json_data: bool = False
) -> tuple[bytes, dict[str, str]]:
    """A binary request of BINARY_POINTS' shape declaring ``size``, with ``data`` after it."""
    tensor: dict[str, Any] = {
        "name": "points",
        "shape": [2, 2],
        "datatype": "FP64",
        "parameters": {"binary_data_size": size},
    }
    if json_data:
        tensor["data"] = BINARY_POINTS.ravel().tolist()
    body, length = binary_request({"inputs": [tensor]}, data)
    headers = {} if header_length == "absent" else {HEADER_LENGTH: header_length or length}
    return body, headers


GOOD_DATA = BINARY_POINTS.tobytes()

MALFORMED_BINARY_REQUESTS: list[tuple[str, tuple[bytes, dict[str, str]], str]] = [
    ("a size the shape disagrees with", binary_case(24, GOOD_DATA[:24]), "needs 32 bytes, got 24"),
    ("a size over the body", binary_case(32, GOOD_DATA[:24]), "only 24 bytes"),
    ("bytes no size claims", binary_case(32, GOOD_DATA + b"\0" * 8), "8 bytes follow"),
    ("a size but no header length", binary_case(32, b"", "absent"), HEADER_LENGTH),
    ("a header length over the body", binary_case(32, GOOD_DATA, "100000"), "longer than"),
    ("a header length that is text", binary_case(32, GOOD_DATA, "ten"), "a number of bytes"),
    ("a negative header length", binary_case(32, GOOD_DATA, "-5"), "a number of bytes"),
    ("a header length inside the JSON", binary_case(32, GOOD_DATA, "10"), "not valid JSON"),
    ("a negative size", binary_case(-32, GOOD_DATA), "binary_data_size"),
    ("a size that is text", binary_case("32", GOOD_DATA), "binary_data_size"),
    ("a size that is true", binary_case(True, GOOD_DATA), "binary_data_size"),
    ("data and a size", binary_case(32, GOOD_DATA, json_data=True), "not both"),
]


@pytest.mark.parametrize(
    ("case", "fragment"),
    [pytest.param(case, fragment, id=name) for name, case, fragment in MALFORMED_BINARY_REQUESTS],
)
async def test_binary_sizes_that_disagree_are_400(
    protocol: Protocol, case: tuple[bytes, dict[str, str]], fragment: str
) -> None:
    body, headers = case
    assert_protocol_error(await protocol.infer(body, headers=headers), 400, fragment)


async def test_binary_data_with_no_header_length_is_not_json(protocol: Protocol) -> None:
    body, _ = binary_case(32, GOOD_DATA)
    assert_protocol_error(await protocol.infer(body), 400, "not valid JSON")


async def test_a_compressed_body_is_400(protocol: Protocol) -> None:
    response = await protocol.infer(points_request(POINTS), headers={"Content-Encoding": "gzip"})
    assert_protocol_error(response, 400, "Content-Encoding 'gzip'")


async def test_more_points_than_the_limit_is_413_before_any_data_is_read(
    protocol: Protocol,
) -> None:
    count = PREDICT_LIMIT + 1
    points = np.zeros((count, 2))
    response = await protocol.infer(points_request(points))
    assert_protocol_error(response, 413, f"{count}", "PLANENET_MAX_PREDICT_POINTS")
    # The shape alone decides: data that does not even match it is not looked at.
    response = await protocol.infer(_tensor([count, 2], [1, 2]))
    assert_protocol_error(response, 413, "PLANENET_MAX_PREDICT_POINTS")
    tensor = {
        "name": "points",
        "shape": [count, 2],
        "datatype": "FP64",
        "parameters": {"binary_data_size": points.nbytes},
    }
    body, length = binary_request({"inputs": [tensor]}, points.tobytes())
    response = await protocol.infer(body, headers={HEADER_LENGTH: length})
    assert_protocol_error(response, 413, "PLANENET_MAX_PREDICT_POINTS")


async def test_the_rest_of_the_api_keeps_problem_responses(protocol: Protocol) -> None:
    response = await protocol.client.post(
        "/models/no-such-model/predict", json={"points": [[1, 2]]}
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# --- Access, body size and OpenAPI -----------------------------------------------------------


async def test_the_api_key_guards_the_protocol_when_reads_are_protected(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_key="sesame", protect_reads=True)
    async with serve(settings) as client:
        for path in ("/v2", "/v2/health/ready", "/v2/models/some-model"):
            response = await client.get(path)
            assert_protocol_error(response, 401, "API key")
            assert "X-API-Key" in response.headers["www-authenticate"]
        response = await client.post("/v2/models/some-model/infer", json=_tensor([1, 2], [1, 2]))
        assert_protocol_error(response, 401, "API key")
        assert_protocol_error(await client.get("/v2", headers={"X-API-Key": "wrong"}), 401)
        for headers in ({"X-API-Key": "sesame"}, {"Authorization": "Bearer sesame"}):
            assert (await client.get("/v2", headers=headers)).status_code == 200
            response = await client.get("/v2/models/some-model", headers=headers)
            assert_protocol_error(response, 404, "some-model")


async def test_the_protocol_is_open_to_reads_unless_they_are_protected(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key="sesame")) as client:
        assert (await client.get("/v2")).status_code == 200


async def test_a_body_over_the_size_limit_is_413_in_the_protocols_shape(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_body_bytes=1024)) as client:
        body = json.dumps(_tensor([200, 2], [0.5] * 400)).encode()
        declared = await client.post("/v2/models/m/infer", content=body)
        assert_protocol_error(declared, 413, "PLANENET_MAX_BODY_BYTES")

        async def chunks() -> AsyncIterator[bytes]:
            yield body

        streamed = await client.post("/v2/models/m/infer", content=chunks())
        assert_protocol_error(streamed, 413, "PLANENET_MAX_BODY_BYTES")
        elsewhere = await client.post("/predict", content=body)
        assert elsewhere.headers["content-type"] == "application/problem+json"


PROTOCOL_OPERATIONS = {
    ("/v2", "get"): "serverMetadata",
    ("/v2/health/live", "get"): "serverLive",
    ("/v2/health/ready", "get"): "serverReady",
    ("/v2/models/{name}", "get"): "modelMetadata",
    ("/v2/models/{name}/versions/{version}", "get"): "modelVersionMetadata",
    ("/v2/models/{name}/ready", "get"): "modelReady",
    ("/v2/models/{name}/versions/{version}/ready", "get"): "modelVersionReady",
    ("/v2/models/{name}/infer", "post"): "modelInfer",
    ("/v2/models/{name}/versions/{version}/infer", "post"): "modelVersionInfer",
}


async def test_openapi_documents_the_protocol(protocol: Protocol) -> None:
    paths = (await protocol.client.get("/openapi.json")).json()["paths"]
    documented = {
        (path, method): operation["operationId"]
        for path, operations in paths.items()
        if path.startswith("/v2")
        for method, operation in operations.items()
    }
    assert documented == PROTOCOL_OPERATIONS
    infer = paths["/v2/models/{name}/infer"]["post"]
    content = infer["requestBody"]["content"]
    assert content["application/json"]["schema"]["title"] == "InferenceRequest"
    assert content["application/json"]["example"]["inputs"][0]["name"] == "points"
    assert "application/octet-stream" in content
    assert set(infer["responses"]) == {"200", "400", "401", "404", "413"}
    error_schema = infer["responses"]["404"]["content"]["application/json"]["schema"]
    assert error_schema == {"$ref": "#/components/schemas/ProtocolError"}
    assert set(infer["responses"]["200"]["content"]) == {
        "application/json",
        "application/octet-stream",
    }


async def test_a_database_that_cannot_be_reached_is_a_503_or_500_in_the_protocols_shape(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path), unreachable_store) as client:
        response = await client.get("/v2/health/ready")
        assert_protocol_error(response, 503, "the database cannot be reached")
        assert (await client.get("/v2/health/live")).json() == {"live": True}
        # Not bad input but an outage: a 500, still in the protocol's shape, with no detail.
        response = await client.get("/v2/models/some-model")
        message = assert_protocol_error(response, 500, "logged under request id")
        assert response.headers["x-request-id"] in message
        assert "sqlite" not in message.lower()
