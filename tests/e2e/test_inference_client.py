"""Triton's own HTTP client (tritonclient) against the real server: /v2 in JSON and in binary."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from tests.helpers.inference import InferenceModel, model_paths
from tests.helpers.server import ServerProcess, free_port, wait_for_job

pytestmark = pytest.mark.e2e

API_KEY = "e2e-inference-key"
KEY_HEADERS = {"X-API-Key": API_KEY}
"""For httpx. tritonclient adds headers to the dict it is given: it gets a new one per call."""
QUICK_JOB = {"name": "inference", "epochs": 2000, "data": {"generator": "moons", "seed": 3}}


@dataclass(frozen=True)
class ApiKey:
    """A tritonclient plugin adding the ``X-API-Key`` header to every request."""

    key: str

    def __call__(self, request: Any) -> None:
        request.headers["X-API-Key"] = self.key


@dataclass(frozen=True)
class Served:
    """A real server whose reads need the API key, with one trained model."""

    server: ServerProcess
    model: InferenceModel

    def triton(self, with_key: bool = True) -> triton.InferenceServerClient:
        """Triton's HTTP client to the server, sending the API key on every call unless told."""
        client = triton.InferenceServerClient(url=f"127.0.0.1:{self.server.port}")
        if with_key:
            client.register_plugin(ApiKey(API_KEY))
        return client

    def predict(self, points: np.ndarray) -> dict[str, list[float]]:
        """``/models/{id}/predict`` on the points, read with httpx: the answer to agree with."""
        with self.server.client(headers=KEY_HEADERS) as client:
            response = client.post(
                f"/models/{self.model.model_id}/predict", json={"points": points.tolist()}
            )
        assert response.status_code == 200, response.text
        answer: dict[str, list[float]] = response.json()
        return answer


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the module (its start and training cost seconds), stopped at the end."""
    data_dir = tmp_path_factory.mktemp("inference")
    server = ServerProcess(
        data_dir=data_dir,
        port=free_port(),
        flags=["--workers", "1"],
        env={"PLANENET_API_KEY": API_KEY, "PLANENET_PROTECT_READS": "true"},
        log_dir=data_dir,
    )
    server.start()
    try:
        with server.client(headers=KEY_HEADERS) as client:
            submitted = client.post("/jobs", json=QUICK_JOB)
            assert submitted.status_code == 202, submitted.text
            job = wait_for_job(client, submitted.json()["id"])
        assert job["status"] == "succeeded", job
        yield Served(server, InferenceModel(job["model_id"]))
    finally:
        server.stop()


def points_input(points: np.ndarray, datatype: str, binary: bool) -> triton.InferInput:
    tensor = triton.InferInput("points", list(points.shape), datatype)
    tensor.set_data_from_numpy(points, binary_data=binary)
    return tensor


def assert_bit_identical(actual: np.ndarray, expected: list[float]) -> None:
    assert actual.dtype == np.float64
    assert actual.tobytes() == np.array(expected, dtype=np.float64).tobytes()


def test_tritonclient_infers_bit_identically_to_predict_in_json_and_in_binary(
    served: Served,
) -> None:
    rng = np.random.default_rng(11)
    points = np.concatenate([rng.normal(0.0, 1.5, size=(5000, 2)), [[1e6, -1e6], [0.0, 0.0]]])
    expected = served.predict(points)
    client = served.triton()
    try:
        json_result = client.infer(
            served.model.model_id,
            [points_input(points, "FP64", binary=False)],
            outputs=[
                triton.InferRequestedOutput("probabilities", binary_data=False),
                triton.InferRequestedOutput("labels", binary_data=False),
            ],
            request_id="json-mode",
        )
        # No outputs named: the client asks for all of them as binary data.
        binary_result = client.infer(
            served.model.model_id, [points_input(points, "FP64", binary=True)]
        )
    finally:
        client.close()
    assert json_result.get_response()["id"] == "json-mode"
    assert "binary_data_size" not in str(json_result.get_response())
    outputs = binary_result.get_response()["outputs"]
    assert all(output["parameters"]["binary_data_size"] > 0 for output in outputs)
    for result in (json_result, binary_result):
        assert_bit_identical(result.as_numpy("probabilities"), expected["probabilities"])
        assert result.as_numpy("labels").tolist() == expected["labels"]
        assert result.as_numpy("labels").dtype == np.int64


def test_tritonclient_sends_fp32_and_a_threshold(served: Served) -> None:
    points = np.random.default_rng(5).normal(0.0, 1.0, size=(500, 2)).astype(np.float32)
    expected = served.predict(points.astype(np.float64))
    client = served.triton(with_key=False)
    try:
        result = client.infer(
            served.model.model_id,
            [points_input(points, "FP32", binary=True)],
            parameters={"threshold": 0.9},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
    finally:
        client.close()
    probabilities = result.as_numpy("probabilities")
    assert_bit_identical(probabilities, expected["probabilities"])
    assert result.as_numpy("labels").tolist() == (probabilities > 0.9).astype(int).tolist()


def test_tritonclients_metadata_health_and_readiness_calls(served: Served) -> None:
    client = served.triton()
    try:
        assert client.is_server_live()
        assert client.is_server_ready()
        metadata = client.get_server_metadata()
        assert metadata["name"] == "planenet"
        assert "binary_tensor_data" in metadata["extensions"]
        for path, name in model_paths(served.model):
            reference = path.removeprefix("/v2/models/")
            model, _, version = reference.partition("/versions/")
            assert client.is_model_ready(model, version)
            model_metadata = client.get_model_metadata(model, version)
            assert model_metadata["name"] == name
            assert [tensor["name"] for tensor in model_metadata["outputs"]] == [
                "probabilities",
                "labels",
            ]
        assert not client.is_model_ready("no-such-model")
    finally:
        client.close()


def test_tritonclient_reads_the_servers_errors(served: Served) -> None:
    client = served.triton()
    keyless = served.triton(with_key=False)
    wrong_shape = triton.InferInput("points", [2, 3], "FP64")
    wrong_shape.set_data_from_numpy(np.zeros((2, 3)), binary_data=True)
    cases = [
        (keyless.get_server_metadata, "401", "API key"),
        (lambda: client.get_model_metadata("no-such-model"), "404", "no-"),
        (
            lambda: client.infer(served.model.model_id, [wrong_shape]),
            "400",
            "expected [N, 2]",
        ),
    ]
    try:
        for call, status, fragment in cases:
            with pytest.raises(InferenceServerException) as raised:
                call()
            assert raised.value.status() == status
            assert fragment in raised.value.message()
    finally:
        client.close()
        keyless.close()


def test_a_curl_like_request_with_the_key_as_a_bearer_token(served: Served) -> None:
    """What the README shows: a plain JSON request, no client library."""
    body = {
        "inputs": [
            {"name": "points", "shape": [2, 2], "datatype": "FP64", "data": [[1, 1], [-1, -1]]}
        ]
    }
    response = httpx.post(
        f"{served.server.base_url}/v2/models/{served.model.model_id}/infer",
        json=body,
        headers={"Authorization": f"Bearer {API_KEY}"},
    )
    assert response.status_code == 200, response.text
    probabilities = response.json()["outputs"][0]["data"]
    assert probabilities == served.predict(np.array([[1.0, 1.0], [-1.0, -1.0]]))["probabilities"]
