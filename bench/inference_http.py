"""Benchmark: 100,000 points through /v2 in binary, through /v2 in JSON, and through /predict.

Run with ``python -m bench.inference_http`` (``--repeats N``, default 7). Starts a real
``planenet serve`` on a free port with a temporary data directory, trains a small model,
then times one request of 100,000 points, round trip, in each encoding against the same
server in the same run: the client's encoding of the points, the request and its answer,
and the client's decoding of the probabilities and labels into NumPy arrays. It prints the
median of each part, and each total as a ratio to the binary request's. The same requests
are also made through Triton's HTTP client (tritonclient), in binary and in JSON. Every
encoding must give the same probabilities, bit for bit, or the benchmark stops.
"""

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import tritonclient.http as triton

from service.inference.body import HEADER_LENGTH
from tests.helpers.server import running_server, wait_for_job

POINTS = 100_000
MODEL_JOB = {"name": "bench-inference", "epochs": 2000, "data": {"generator": "moons"}}

Outputs = tuple[np.ndarray, np.ndarray]


@dataclass
class Timings:
    """Seconds of each repeat: encoding, round trip, decoding."""

    encode: list[float] = field(default_factory=list)
    request: list[float] = field(default_factory=list)
    decode: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(statistics.median(part) for part in (self.encode, self.request, self.decode))


@dataclass(frozen=True)
class Encoding:
    """One way to send the points and read the answer."""

    label: str
    encode: Callable[[np.ndarray], tuple[str, bytes, dict[str, str]]]
    decode: Callable[[httpx.Response], Outputs]


def v2_binary(points: np.ndarray) -> tuple[str, bytes, dict[str, str]]:
    tensor = {
        "name": "points",
        "shape": list(points.shape),
        "datatype": "FP64",
        "parameters": {"binary_data_size": points.nbytes},
    }
    header = json.dumps({"inputs": [tensor], "parameters": {"binary_data_output": True}}).encode()
    return "infer", header + points.astype("<f8").tobytes(), {HEADER_LENGTH: str(len(header))}


def v2_binary_outputs(response: httpx.Response) -> Outputs:
    length = int(response.headers[HEADER_LENGTH])
    header = json.loads(response.content[:length])
    size = header["outputs"][0]["parameters"]["binary_data_size"]
    data = memoryview(response.content)[length:]
    return np.frombuffer(data[:size], "<f8"), np.frombuffer(data[size:], "<i8")


def v2_json(points: np.ndarray) -> tuple[str, bytes, dict[str, str]]:
    tensor = {
        "name": "points",
        "shape": list(points.shape),
        "datatype": "FP64",
        "data": points.ravel().tolist(),
    }
    return "infer", json.dumps({"inputs": [tensor]}).encode(), {"Content-Type": "application/json"}


def v2_json_outputs(response: httpx.Response) -> Outputs:
    outputs = {output["name"]: output["data"] for output in response.json()["outputs"]}
    return np.array(outputs["probabilities"]), np.array(outputs["labels"])


def predict_json(points: np.ndarray) -> tuple[str, bytes, dict[str, str]]:
    body = json.dumps({"points": points.tolist()}).encode()
    return "predict", body, {"Content-Type": "application/json"}


def predict_outputs(response: httpx.Response) -> Outputs:
    answer = response.json()
    return np.array(answer["probabilities"]), np.array(answer["labels"])


ENCODINGS = (
    Encoding("/v2 binary in and out", v2_binary, v2_binary_outputs),
    Encoding("/v2 JSON", v2_json, v2_json_outputs),
    Encoding("/models/{id}/predict JSON", predict_json, predict_outputs),
)


def time_encoding(
    client: httpx.Client, model_id: str, encoding: Encoding, points: np.ndarray, repeats: int
) -> tuple[Timings, Outputs]:
    timings = Timings()
    outputs: Outputs | None = None
    urls = {"infer": f"/v2/models/{model_id}/infer", "predict": f"/models/{model_id}/predict"}
    for _ in range(repeats):
        started = time.perf_counter()
        route, body, headers = encoding.encode(points)
        encoded = time.perf_counter()
        response = client.post(urls[route], content=body, headers=headers)
        response.read()
        answered = time.perf_counter()
        assert response.status_code == 200, response.text[:500]
        outputs = encoding.decode(response)
        decoded = time.perf_counter()
        timings.encode.append(encoded - started)
        timings.request.append(answered - encoded)
        timings.decode.append(decoded - answered)
    assert outputs is not None
    return timings, outputs


def time_tritonclient(
    port: int, model_id: str, points: np.ndarray, binary: bool, repeats: int
) -> tuple[list[float], Outputs]:
    client = triton.InferenceServerClient(url=f"127.0.0.1:{port}", network_timeout=120.0)
    seconds: list[float] = []
    outputs: Outputs | None = None
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            tensor = triton.InferInput("points", list(points.shape), "FP64")
            tensor.set_data_from_numpy(points, binary_data=binary)
            requested = [
                triton.InferRequestedOutput(name, binary_data=binary)
                for name in ("probabilities", "labels")
            ]
            result = client.infer(model_id, [tensor], outputs=requested)
            outputs = (result.as_numpy("probabilities"), result.as_numpy("labels"))
            seconds.append(time.perf_counter() - started)
    finally:
        client.close()
    assert outputs is not None
    return seconds, outputs


def check_same(reference: Outputs, outputs: Outputs, label: str) -> None:
    probabilities = np.asarray(outputs[0], dtype=np.float64)
    assert reference[0].tobytes() == probabilities.tobytes(), f"{label}: other probabilities"
    assert reference[1].tolist() == outputs[1].tolist(), f"{label}: other labels"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeats", type=int, default=7, help="requests per encoding")
    args = parser.parse_args()
    points = np.random.default_rng(1).normal(0.0, 1.5, size=(POINTS, 2))
    with tempfile.TemporaryDirectory() as data_dir, running_server(Path(data_dir), 1) as server:
        client = httpx.Client(base_url=server.base_url, timeout=120.0)
        submitted = client.post("/jobs", json=MODEL_JOB).json()
        model_id = wait_for_job(client, submitted["id"])["model_id"]
        print(f"planenet serve at {server.base_url}; {POINTS:,} points per request,")
        print(f"median of {args.repeats} requests each (encode + request + decode, client side)")
        results: dict[str, Any] = {}
        reference: Outputs | None = None
        for encoding in ENCODINGS:
            time_encoding(client, model_id, encoding, points, 1)  # warm up: load the model
            timings, outputs = time_encoding(client, model_id, encoding, points, args.repeats)
            reference = reference or outputs
            check_same(reference, outputs, encoding.label)
            results[encoding.label] = timings
        client.close()
        assert reference is not None
        baseline = results[ENCODINGS[0].label].total
        for label, timings in results.items():
            parts = "  ".join(
                f"{name} {statistics.median(values) * 1000:7.1f} ms"
                for name, values in (
                    ("encode", timings.encode),
                    ("request", timings.request),
                    ("decode", timings.decode),
                )
            )
            print(
                f"  {label:<28} total {timings.total * 1000:7.1f} ms  ({parts})"
                f"  {timings.total / baseline:5.1f}x binary"
            )
        print("through tritonclient (InferInput + infer + as_numpy):")
        triton_totals = {}
        for binary in (True, False):
            seconds, outputs = time_tritonclient(
                server.port, model_id, points, binary, args.repeats
            )
            label = "binary" if binary else "JSON"
            check_same(reference, outputs, f"tritonclient {label}")
            triton_totals[label] = statistics.median(seconds)
        for label, total in triton_totals.items():
            ratio = total / triton_totals["binary"]
            print(f"  tritonclient {label:<15} total {total * 1000:7.1f} ms  {ratio:5.1f}x binary")
        print("every encoding gave the same probabilities, bit for bit")


if __name__ == "__main__":
    main()
