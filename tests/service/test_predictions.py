"""Predictions: agreement with the core on the stored parameters, model choice, limits, 422s."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest

from core.dataset import MAX_COORDINATE
from core.network import Network
from core.parameters import make_parameters
from service.domain.errors import InvalidInput
from service.routes.predictions import INLINE_BODY_BYTES, INLINE_POINTS, classify
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields
from tests.helpers.store import model_artifacts

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
MANY_POINTS = 100_000
JSON_HEADERS = {"content-type": "application/json"}


@dataclass(frozen=True)
class Trained:
    """A running app with two models (``older``, ``newer``) and their networks from the store."""

    client: httpx.AsyncClient
    older: str
    newer: str
    networks: dict[str, Network]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def trained(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Trained]:
    settings = make_settings(tmp_path_factory.mktemp("predictions"), workers=1)
    async with serve(settings) as client:
        model_ids = []
        for body in (QUICK_JOB, {**QUICK_JOB, "activation": "tanh", "hidden_layers": [5, 3]}):
            submitted = (await client.post("/jobs", json=body)).json()
            job = await await_job(client, submitted["id"])
            assert job["status"] == "succeeded", job
            model_ids.append(job["model_id"])
        database = Database(settings.resolved_database_url)
        repository = Repository(database)
        networks = {}
        for model_id in model_ids:
            _, artifacts = model_artifacts(repository, model_id)
            networks[model_id] = Network(artifacts.parameters, artifacts.activation)
        database.dispose()
        yield Trained(client, model_ids[0], model_ids[1], networks)


def random_points(count: int, seed: int = 0) -> list[list[float]]:
    points: list[list[float]] = (
        np.random.default_rng(seed).normal(scale=2.0, size=(count, 2)).tolist()
    )
    return points


def expected(network: Network, points: list[list[float]]) -> tuple[list[int], list[float]]:
    """The core's answer on the stored parameters: labels and class-1 probabilities."""
    return network.predict(points).tolist(), network.predict_proba(points).tolist()


async def test_predictions_are_the_cores_on_the_stored_parameters(trained: Trained) -> None:
    points = random_points(500)
    for model_id, network in trained.networks.items():
        response = await trained.client.post(f"/models/{model_id}/predict", json={"points": points})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        body = response.json()
        assert set(body) == {"model_id", "labels", "probabilities"}
        assert body["model_id"] == model_id
        assert (body["labels"], body["probabilities"]) == expected(network, points)
        assert all(type(value) is float for value in body["probabilities"])
        assert all(type(label) is int for label in body["labels"])


async def test_the_tutorials_classes_and_the_order_of_the_points(trained: Trained) -> None:
    path = f"/models/{trained.older}/predict"
    forward = (await trained.client.post(path, json={"points": [[1, 1], [-1, -1]]})).json()
    backward = (await trained.client.post(path, json={"points": [[-1, -1], [1, 1]]})).json()
    assert forward["labels"] == [0, 1]
    assert backward["labels"] == [1, 0]
    assert backward["probabilities"] == forward["probabilities"][::-1]


async def test_one_hundred_thousand_points_in_one_request(trained: Trained) -> None:
    points = random_points(MANY_POINTS, seed=1)
    response = await trained.client.post(
        "/predict", json={"model_id": trained.newer, "points": points}
    )
    assert response.status_code == 200
    body = response.json()
    assert len(body["labels"]) == len(body["probabilities"]) == MANY_POINTS
    assert (body["labels"], body["probabilities"]) == expected(
        trained.networks[trained.newer], points
    )


async def test_many_short_points_in_a_small_body(trained: Trained) -> None:
    points = [[float(x), float(y)] for x in range(-20, 20) for y in range(-25, 25)]
    response = await trained.client.post(
        f"/models/{trained.older}/predict", json={"points": points}
    )
    assert len(points) > INLINE_POINTS
    assert len(response.request.content) <= INLINE_BODY_BYTES
    body = response.json()
    assert (body["labels"], body["probabilities"]) == expected(
        trained.networks[trained.older], points
    )


async def test_predict_uses_the_named_model_or_else_the_newest(trained: Trained) -> None:
    points = [[0.3, -0.7]]
    named = await trained.client.post(
        "/predict", json={"points": points, "model_id": trained.older}
    )
    newest = await trained.client.post("/predict", json={"points": points})
    null_id = await trained.client.post("/predict", json={"points": points, "model_id": None})
    assert named.json()["model_id"] == trained.older
    assert newest.json()["model_id"] == null_id.json()["model_id"] == trained.newer
    assert newest.json()["probabilities"] == expected(trained.networks[trained.newer], points)[1]


async def test_unknown_models_are_404_problems(trained: Trained) -> None:
    points = {"points": [[0.0, 0.0]]}
    for response in (
        await trained.client.post(f"/models/{UNKNOWN_ID}/predict", json=points),
        await trained.client.post("/predict", json={**points, "model_id": UNKNOWN_ID}),
    ):
        problem = assert_problem(response, 404, "not-found")
        assert UNKNOWN_ID in problem["detail"]


@pytest.mark.parametrize(
    ("content", "fields"),
    [
        ('{"points": [[0, 0], [1, 1], [2, 2], [3, NaN]]}', {"body.points[3][1]"}),
        ('{"points": [[Infinity, 0]]}', {"body.points[0][0]"}),
        ('{"points": [[1e999, 0]]}', {"body.points[0][0]"}),
        ('{"points": [[0, 1.7e308]]}', {"body.points[0][1]"}),
        ('{"points": [[0, 0], [-1000000.5, 0]]}', {"body.points[1][0]"}),
        ('{"points": [[0, 0], ["1", 2]]}', {"body.points[1][0]"}),
        ('{"points": [[true, 0]]}', {"body.points[0][0]"}),
        ('{"points": [[null, 0]]}', {"body.points[0][0]"}),
        ('{"points": [[1, 2, 3]]}', {"body.points[0]"}),
        ('{"points": [[1]]}', {"body.points[0][1]"}),
        ('{"points": [1, 2]}', {"body.points[0]", "body.points[1]"}),
        ('{"points": []}', {"body.points"}),
        ('{"points": "none"}', {"body.points"}),
        ("{}", {"body.points"}),
        ('{"points": [[0, 0]], "threshold": 0}', {"body.threshold"}),
        ('{"points": [[0, 0]], "threshold": 1}', {"body.threshold"}),
        ('{"points": [[0, 0]], "threshold": -0.5}', {"body.threshold"}),
        ('{"points": [[0, 0]], "threshold": "0.3"}', {"body.threshold"}),
        ('{"points": [[0, 0]], "threshold": true}', {"body.threshold"}),
        ('{"points": [[0, 0]], "threshold": null}', {"body.threshold"}),
        ('{"points": [[0, 0]], "model": ""}', {"body.model"}),
        ('{"points": [[0, 0]], "model": 7}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "a@b@c"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "two blobs"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "x@latest!"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "x@v0"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "x@v99999999999999999999"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "bell\\u0007"}', {"body.model"}),
        ('{"points": [[0, 0]], "model": "x", "model_id": "y"}', {"body"}),
        ('{"points": [[0, 0]], "model_id": 7}', {"body.model_id"}),
        ('{"points": [[0, 0]], "model_id": ""}', {"body.model_id"}),
        ("[[0, 0]]", {"body"}),
        ('{"points": [[0, 0]', {"body"}),
        ("", {"body"}),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    trained: Trained, content: str, fields: set[str]
) -> None:
    response = await trained.client.post("/predict", content=content, headers=JSON_HEADERS)
    problem = assert_problem(response, 422, "validation-error")
    assert problem_fields(problem) == fields


@pytest.mark.parametrize("content", ['{"points": [[0, 0]', "", "{points: []}"])
async def test_a_body_that_is_not_json_is_a_422_about_the_body(
    trained: Trained, content: str
) -> None:
    response = await trained.client.post("/predict", content=content, headers=JSON_HEADERS)
    (error,) = assert_problem(response, 422, "validation-error")["errors"]
    assert error["field"] == "body"
    assert error["message"].startswith("the body is not valid JSON: ")


async def test_coordinates_at_the_bound_are_answered(trained: Trained) -> None:
    points = [[MAX_COORDINATE, -MAX_COORDINATE], [-MAX_COORDINATE, 0.0]]
    response = await trained.client.post(
        f"/models/{trained.older}/predict", json={"points": points}
    )
    assert response.status_code == 200, response.text
    assert response.json()["labels"] == expected(trained.networks[trained.older], points)[0]


async def test_the_model_route_refuses_a_model_id_in_the_body(trained: Trained) -> None:
    body = {"points": [[0, 0]], "model_id": trained.older}
    response = await trained.client.post(f"/models/{trained.older}/predict", json=body)
    assert problem_fields(assert_problem(response, 422)) == {"body.model_id"}


async def test_more_points_than_the_limit_are_413_before_the_model_is_looked_up(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path, max_predict_points=5)) as client:
        for path in (f"/models/{UNKNOWN_ID}/predict", "/predict"):
            over = await client.post(path, json={"points": random_points(6)})
            problem = assert_problem(over, 413, "limit-exceeded")
            assert "PLANENET_MAX_PREDICT_POINTS" in problem["detail"]
            assert "6" in problem["detail"]
        at_limit = await client.post(
            f"/models/{UNKNOWN_ID}/predict", json={"points": random_points(5)}
        )
        assert_problem(at_limit, 404, "not-found")
        # Counted by its '[' before it is parsed: not even valid JSON, still a 413.
        unfinished = b'{"points": ' + b"[0.5, 0.5], " * 100
        response = await client.post("/predict", content=unfinished, headers=JSON_HEADERS)
        assert "PLANENET_MAX_PREDICT_POINTS" in assert_problem(response, 413)["detail"]
        bracketed_id = {"model_id": "[" * 64, "points": random_points(5)}
        assert_problem(await client.post("/predict", json=bracketed_id), 404, "not-found")


async def test_a_body_of_the_most_points_fits_the_default_body_limit(tmp_path: Path) -> None:
    """100,000 points at full precision, with spaces, exponents and signs, fit in a body."""
    settings = make_settings(tmp_path)
    widest = -1.2345678901234567e-05
    body = json.dumps({"model_id": "m" * 64, "points": [[widest, widest]] * MANY_POINTS})
    assert len(body) <= settings.max_body_bytes
    async with serve(settings) as client:
        response = await client.post("/predict", content=body, headers=JSON_HEADERS)
        assert_problem(response, 404, "not-found")


async def test_predict_without_any_model_is_a_409_problem(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        problem = assert_problem(
            await client.post("/predict", json={"points": [[0, 0]]}), 409, "wrong-state"
        )
        assert "POST /jobs" in problem["detail"]


async def test_predictions_are_reads_open_unless_reads_are_protected(tmp_path: Path) -> None:
    body = {"points": [[0, 0]]}
    async with serve(make_settings(tmp_path / "open", api_key="k")) as client:
        assert_problem(await client.post("/predict", json=body), 409)
    async with serve(make_settings(tmp_path / "closed", api_key="k", protect_reads=True)) as client:
        assert_problem(await client.post("/predict", json=body), 401, "unauthorized")
        with_key = await client.post("/predict", json=body, headers={"X-API-Key": "k"})
        assert_problem(with_key, 409)


def test_a_network_overflowing_to_nan_is_a_422_naming_the_point() -> None:
    # Two equal hidden units weighed +1 and -1: the output is 0, unless they overflow to
    # +inf, where inf - inf is NaN.
    parameters = make_parameters(
        [np.array([[2.0, 2.0], [0.0, 0.0]]), np.array([[1.0], [-1.0]])],
        [np.zeros(2), np.zeros(1)],
    )
    network = Network(parameters)
    labels, probabilities = classify(network, [(1.0, 0.0), (-1e308, 0.0), (1e307, 0.0)])
    assert labels == [0, 0, 0]
    assert probabilities == [0.5, 0.5, 0.5]
    with pytest.raises(InvalidInput) as refused:
        classify(network, [(1.0, 0.0), (1e307, 0.0), (1e308, 0.0)])
    assert [field for field, _ in refused.value.errors] == ["body.points[2]"]


async def test_the_request_bodies_are_documented_with_examples(trained: Trained) -> None:
    paths = (await trained.client.get("/openapi.json")).json()["paths"]
    for path in ("/predict", "/models/{model_id}/predict"):
        operation = paths[path]["post"]
        content = operation["requestBody"]["content"]["application/json"]
        assert "points" in content["schema"]["properties"]
        assert content["example"]["points"]
        assert {"200", "404", "413", "422"} <= set(operation["responses"])
    assert (
        "model_id"
        in paths["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"][
            "properties"
        ]
    )
    assert "409" in paths["/predict"]["post"]["responses"]
