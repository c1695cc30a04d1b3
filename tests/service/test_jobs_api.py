"""The jobs API: submission, validation, limits, listing, cancel, API keys and runner hints."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.dataset import MAX_COORDINATE
from service.routes import jobs as jobs_routes
from service.runner import Runner, RunnerHealth
from service.settings import Settings
from service.store.repository import Repository
from tests.helpers.app import LONG_JOB, await_job, await_progress, make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields

pytestmark = pytest.mark.anyio

KEY = "open-sesame"
POINTS = [[1.0, 1.0], [1.2, 0.8], [-1.0, -1.0], [-0.9, -1.1]]
LABELS = [0, 0, 1, 1]
JSON_HEADERS = {"content-type": "application/json"}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """The app with no workers: jobs stay queued."""
    async with serve(make_settings(tmp_path)) as client:
        yield client


async def job_total(client: httpx.AsyncClient) -> int:
    total: int = (await client.get("/jobs")).json()["total"]
    return total


async def test_submission_is_202_with_location_and_the_queued_job(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/jobs", json={"name": "tutorial"})
    assert response.status_code == 202
    job = response.json()
    assert response.headers["location"] == f"/jobs/{job['id']}"
    assert (job["status"], job["name"], job["model_id"], job["error"]) == (
        "queued",
        "tutorial",
        None,
        None,
    )
    assert job["progress"] == {
        "epoch": 0,
        "epochs": 20000,
        "loss": None,
        "validation_loss": None,
        "fraction": 0.0,
        "elapsed_seconds": None,
        "eta_seconds": None,
    }
    config = job["config"]
    assert config["data"] == {"generator": "blobs", "n_samples": 200, "noise": 0.2, "seed": 42}
    assert (config["hidden_layers"], config["activation"], config["init"]) == (
        [4],
        "relu",
        "normal",
    )
    assert (config["epochs"], config["learning_rate"], config["optimizer"]) == (20000, 0.5, "gd")
    assert (await client.get(response.headers["location"])).json()["id"] == job["id"]


async def test_given_points_are_summarised_in_the_config(client: httpx.AsyncClient) -> None:
    body = {"data": {"points": POINTS, "labels": LABELS}, "epochs": 10}
    job = (await client.post("/jobs", json=body)).json()
    assert job["config"]["data"] == {"kind": "points", "n_points": 4}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"epochs": 0}, "body.epochs"),
        ({"epoch": 10}, "body.epoch"),
        ({"activation": "swish"}, "body.activation"),
        ({"optimizer": "lbfgs"}, "body.optimizer"),
        ({"hidden_layers": [4, 0]}, "body.hidden_layers[1]"),
        ({"learning_rate": -1}, "body.learning_rate"),
        ({"validation_fraction": 1.0}, "body.validation_fraction"),
        ({"data": {"generator": "galaxy"}}, "body.data.generator"),
        ({"data": {"noise": -0.1}}, "body.data.noise"),
        ({"data": {"n_samples": 2}}, "body.data.n_samples"),
        ({"data": "blobs"}, "body.data"),
        ({"data": {"points": POINTS, "labels": [0, 1]}}, "body.data.labels"),
        ({"data": {"points": [[1.0, "x"]], "labels": [0]}}, "body.data.points[0][1]"),
        (
            {"data": {"points": [[1.0, "1.5"], *POINTS[1:]], "labels": LABELS}},
            "body.data.points[0][1]",
        ),
        (
            {"data": {"points": [[True, 1.0], *POINTS[1:]], "labels": LABELS}},
            "body.data.points[0][0]",
        ),
        (
            {"data": {"points": [[1.0, MAX_COORDINATE * 1.5], *POINTS[1:]], "labels": LABELS}},
            "body.data.points[0][1]",
        ),
        (
            {"data": {"points": [[-1.7e308, 1.0], *POINTS[1:]], "labels": LABELS}},
            "body.data.points[0][0]",
        ),
        ({"data": {"points": POINTS, "labels": [True, 0, 1, 1]}}, "body.data.labels[0]"),
        ({"data": {"points": POINTS, "labels": [0, "0", 1, 1]}}, "body.data.labels[1]"),
        ({"data": {"points": POINTS, "labels": [0, 0, 0.5, 1]}}, "body.data.labels[2]"),
        ({"data": {"points": POINTS, "labels": [0, 0, 1, 2]}}, "body.data.labels[3]"),
        ({"data": {"points": POINTS, "labels": [0, 0, 0, 0]}}, "body.data"),
        (
            {"data": {"points": POINTS, "labels": LABELS}, "validation_fraction": 0.9},
            "body.validation_fraction",
        ),
        ({"early_stopping": {"patience": 0}}, "body.early_stopping.patience"),
        (
            {"initial_parameters": {"weights": [[["0.1"]]], "biases": [[False]]}},
            "body.initial_parameters.weights[0][0][0]",
        ),
        (
            {"initial_parameters": {"weights": [[[1.0]]], "biases": [[0.0]]}},
            "body.initial_parameters",
        ),
        (
            {
                "hidden_layers": [3],
                "initial_parameters": {
                    "weights": [[[0.1] * 4, [0.1] * 4], [[0.1]] * 4],
                    "biases": [[0.0] * 4, [0.0]],
                },
            },
            "body.initial_parameters",
        ),
    ],
)
async def test_invalid_bodies_are_422_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    problem = assert_problem(await client.post("/jobs", json=body), 422, "validation-error")
    assert field in problem_fields(problem)
    assert field in problem["detail"]
    assert await job_total(client) == 0


async def test_non_finite_numbers_are_refused(client: httpx.AsyncClient) -> None:
    content = '{"learning_rate": NaN, "data": {"noise": Infinity}}'
    response = await client.post(
        "/jobs", content=content, headers={"content-type": "application/json"}
    )
    problem = assert_problem(response, 422, "validation-error")
    assert {"body.learning_rate", "body.data.noise"} <= problem_fields(problem)


@pytest.mark.parametrize("content", [b'{"epochs": ', b"", b"{'epochs': 3}", b"[1, 2"])
async def test_malformed_json_is_a_422_problem_about_the_body(
    client: httpx.AsyncClient, content: bytes
) -> None:
    response = await client.post("/jobs", content=content, headers=JSON_HEADERS)
    problem = assert_problem(response, 422, "validation-error")
    (error,) = problem["errors"]
    assert error["field"] == "body"
    assert error["message"].startswith("the body is not valid JSON: ")
    assert await job_total(client) == 0


async def test_given_points_at_the_coordinate_bound_are_accepted(
    client: httpx.AsyncClient,
) -> None:
    points = [[MAX_COORDINATE, MAX_COORDINATE], [1, 2], [-MAX_COORDINATE, -1.5], [-3, 0]]
    body = {"data": {"points": points, "labels": LABELS}, "epochs": 10}
    assert (await client.post("/jobs", json=body)).status_code == 202


@pytest.mark.parametrize(
    ("body", "setting"),
    [
        ({"epochs": 20_001}, "PLANENET_MAX_EPOCHS"),
        ({"data": {"n_samples": 201}}, "PLANENET_MAX_TRAINING_POINTS"),
        ({"data": {"points": [[0.0, 0.0]] * 201, "labels": [0, 1] * 100 + [0]}},
         "PLANENET_MAX_TRAINING_POINTS"),
        ({"hidden_layers": [2, 2, 2]}, "PLANENET_MAX_HIDDEN_LAYERS"),
        ({"hidden_layers": [9]}, "PLANENET_MAX_UNITS"),
    ],
)  # fmt: skip
async def test_limits_are_413_before_anything_is_stored(
    tmp_path: Path, body: dict[str, Any], setting: str
) -> None:
    settings = make_settings(
        tmp_path, max_epochs=20_000, max_training_points=200, max_hidden_layers=2, max_units=8
    )
    async with serve(settings) as client:
        problem = assert_problem(await client.post("/jobs", json=body), 413, "limit-exceeded")
        assert setting in problem["detail"]
        assert await job_total(client) == 0


@pytest.mark.parametrize(
    ("body", "tip"),
    [
        ({"hidden_layers": [10, 10], "data": {"n_samples": 300}}, "a batch_size of at most 50 "),
        ({"hidden_layers": [20], "data": {"n_samples": 300}, "batch_size": 100},
         "a batch_size of at most 50 "),
        ({"hidden_layers": [10], "data": {"n_samples": 300}, "batch_size": 10,
          "validation_fraction": 0.5}, "a validation_fraction of at most"),
    ],
)  # fmt: skip
async def test_rows_per_batch_times_hidden_units_are_limited(
    tmp_path: Path, body: dict[str, Any], tip: str
) -> None:
    async with serve(make_settings(tmp_path, max_batch_units=1000)) as client:
        problem = assert_problem(await client.post("/jobs", json=body), 413, "limit-exceeded")
        assert "PLANENET_MAX_BATCH_UNITS" in problem["detail"]
        assert tip in problem["detail"]
        assert await job_total(client) == 0
        fitting = {
            "hidden_layers": [10, 10],
            "data": {"n_samples": 300},
            "batch_size": 50,
            "validation_fraction": 0.1,
        }
        assert (await client.post("/jobs", json=fitting)).status_code == 202


async def test_too_many_points_are_413_before_the_body_is_parsed(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_training_points=200)) as client:
        # Not even valid JSON: counting its '[' is enough to refuse it.
        content = b'{"data": {"points": [' + b"[0.5, 0.5], " * 5000 + b'"labels": '
        response = await client.post("/jobs", content=content, headers=JSON_HEADERS)
        problem = assert_problem(response, 413, "limit-exceeded")
        assert "PLANENET_MAX_TRAINING_POINTS" in problem["detail"]
        assert await job_total(client) == 0
        # Brackets in the name and in the largest initial parameters are not taken for points.
        at_limit = {
            "name": "[" * 200,
            "data": {"points": [[0.5, 0.5], [-0.5, -0.5]] * 100, "labels": [0, 1] * 100},
            "epochs": 10,
        }
        assert (await client.post("/jobs", json=at_limit)).status_code == 202


async def test_a_body_over_the_size_limit_is_413(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, max_body_bytes=2048)) as client:
        big = {"data": {"points": [[0.5, 0.5]] * 400, "labels": [0, 1] * 200}}
        problem = assert_problem(await client.post("/jobs", json=big), 413, "body-too-large")
        assert "PLANENET_MAX_BODY_BYTES" in problem["detail"]

        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"data": {"points": ['
            for _ in range(400):
                yield b"[0.5, 0.5],"
            yield b"[0.5, 0.5]]}}"

        streamed = await client.post(
            "/jobs", content=chunks(), headers={"content-type": "application/json"}
        )
        assert "content-length" not in streamed.request.headers
        assert_problem(streamed, 413, "body-too-large")
        assert await job_total(client) == 0


async def test_jobs_list_newest_first_paginated_and_filtered(client: httpx.AsyncClient) -> None:
    ids = [(await client.post("/jobs", json={"epochs": 10})).json()["id"] for _ in range(3)]
    await client.post(f"/jobs/{ids[0]}/cancel")
    page = (await client.get("/jobs", params={"limit": 2, "offset": 0})).json()
    assert [job["id"] for job in page["items"]] == [ids[2], ids[1]]
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 0)
    rest = (await client.get("/jobs", params={"limit": 2, "offset": 2})).json()
    assert [job["id"] for job in rest["items"]] == [ids[0]]
    cancelled = (await client.get("/jobs", params={"status": "cancelled"})).json()
    assert [job["id"] for job in cancelled["items"]] == [ids[0]]
    assert cancelled["total"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "sleeping"}, "query.status"), ({"limit": 0}, "query.limit"),
     ({"limit": 101}, "query.limit"), ({"offset": -1}, "query.offset")],
)  # fmt: skip
async def test_bad_list_queries_are_422(
    client: httpx.AsyncClient, params: dict[str, Any], field: str
) -> None:
    problem = assert_problem(await client.get("/jobs", params=params), 422, "validation-error")
    assert problem_fields(problem) == {field}


async def test_unknown_job_is_a_404_problem(client: httpx.AsyncClient) -> None:
    problem = assert_problem(await client.get("/jobs/abc"), 404, "not-found")
    assert problem["detail"] == "there is no job with id 'abc'"
    assert_problem(await client.post("/jobs/abc/cancel"), 404, "not-found")


async def test_cancel_of_a_running_job_answers_once_it_has_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A generous wait keeps this test about the answer, not the speed of a loaded machine.
    monkeypatch.setattr(jobs_routes, "CANCEL_WAIT_SECONDS", 30.0)
    async with serve(make_settings(tmp_path, workers=1)) as client:
        job_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
        await await_progress(client, job_id)
        response = await client.post(f"/jobs/{job_id}/cancel")
        assert response.status_code == 200, response.text
        job = response.json()
        assert (job["status"], job["cancel_requested"], job["model_id"]) == (
            "cancelled",
            True,
            None,
        )
        assert job["finished_at"] is not None


async def test_cancel_of_a_job_still_stopping_answers_202(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(jobs_routes, "CANCEL_WAIT_SECONDS", 0.0)
    async with serve(make_settings(tmp_path, workers=1)) as client:
        job_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
        await await_progress(client, job_id)
        response = await client.post(f"/jobs/{job_id}/cancel")
        assert response.status_code == 202, response.text
        assert (response.json()["status"], response.json()["cancel_requested"]) == (
            "running",
            True,
        )
        assert (await await_job(client, job_id))["status"] == "cancelled"


async def test_cancel_of_a_queued_job_is_immediate_and_final(client: httpx.AsyncClient) -> None:
    job_id = (await client.post("/jobs", json={})).json()["id"]
    response = await client.post(f"/jobs/{job_id}/cancel")
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "cancelled"
    assert job["finished_at"] is not None
    problem = assert_problem(await client.post(f"/jobs/{job_id}/cancel"), 409, "wrong-state")
    assert "already finished (cancelled)" in problem["detail"]


async def test_state_changes_need_the_api_key_when_one_is_set(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key=KEY)) as client:
        missing = await client.post("/jobs", json={})
        problem = assert_problem(missing, 401, "unauthorized")
        assert "Bearer" in missing.headers["www-authenticate"]
        assert "X-API-Key" in problem["detail"]
        wrong = await client.post("/jobs", json={}, headers={"X-API-Key": "guess"})
        assert_problem(wrong, 401, "unauthorized")
        by_header = await client.post("/jobs", json={}, headers={"X-API-Key": KEY})
        assert by_header.status_code == 202
        bearer = {"Authorization": f"Bearer {KEY}"}
        by_bearer = await client.post("/jobs", json={}, headers=bearer)
        assert by_bearer.status_code == 202
        job_id = by_bearer.json()["id"]
        assert_problem(await client.post(f"/jobs/{job_id}/cancel"), 401, "unauthorized")
        assert (await client.post(f"/jobs/{job_id}/cancel", headers=bearer)).status_code == 200
        assert (await client.get("/jobs")).status_code == 200
        assert (await client.get(f"/jobs/{job_id}")).status_code == 200


async def test_the_key_is_checked_before_the_body_is_read(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key=KEY, max_training_points=10)) as client:
        # Bad JSON, far too many points by their brackets, a bad value: all 401 first.
        for content in (b'{"epochs": ', b"[" * 5000, b'{"epochs": 0}'):
            response = await client.post("/jobs", content=content, headers=JSON_HEADERS)
            assert_problem(response, 401, "unauthorized")
        with_key = await client.post(
            "/jobs", content=b'{"epochs": ', headers={**JSON_HEADERS, "X-API-Key": KEY}
        )
        assert_problem(with_key, 422, "validation-error")


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
async def test_bodies_that_are_not_json_are_refused_with_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    for path in ("/jobs", "/predict"):
        response = await client.post(path, content=b"{}", headers=headers)
        problem = assert_problem(response, 415, "unsupported-media-type")
        assert "application/json" in problem["detail"]
    assert (await client.get("/jobs")).json()["total"] == 0  # nothing was queued


@pytest.mark.parametrize("name", ["nul\u0000byte", "line\nbreak", "bell\u0007"])
async def test_a_name_with_control_characters_is_refused(
    client: httpx.AsyncClient, name: str
) -> None:
    problem = assert_problem(
        await client.post("/jobs", json={"name": name}), 422, "validation-error"
    )
    assert problem_fields(problem) == {"body.name"}
    accepted = await client.post("/jobs", json={"name": 'Ünïcode ✓ [ok] "quoted"'})
    assert accepted.status_code == 202, accepted.text


async def test_json_with_a_charset_or_a_json_suffix_type_is_read(client: httpx.AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.planenet+json"):
        response = await client.post("/jobs", content=b"{}", headers={"content-type": content_type})
        assert response.status_code == 202, response.text


async def test_the_training_body_is_documented_with_its_example(
    client: httpx.AsyncClient,
) -> None:
    operation = (await client.get("/openapi.json")).json()["paths"]["/jobs"]["post"]
    content = operation["requestBody"]["content"]["application/json"]
    properties = content["schema"]["properties"]
    assert {"data", "hidden_layers", "epochs", "initial_parameters"} <= set(properties)
    assert content["example"]["data"] == {
        "generator": "blobs",
        "n_samples": 200,
        "noise": 0.2,
        "seed": 42,
    }
    assert "$ref" not in str(content)  # nested models are written in place
    assert {"202", "401", "413", "422"} <= set(operation["responses"])
    assert "JobOut" in str(operation["responses"]["202"])


async def test_reads_need_the_key_only_when_protected(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, api_key=KEY, protect_reads=True)) as client:
        assert_problem(await client.get("/jobs"), 401, "unauthorized")
        assert_problem(await client.get("/jobs/abc"), 401, "unauthorized")
        assert (await client.get("/jobs", headers={"X-API-Key": KEY})).status_code == 200
        assert (await client.get("/healthz")).status_code == 200


class BrokenRunner:
    """A runner that fails in an unexpected way when handed a job."""

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def submit(self, job_id: str) -> None:
        raise RuntimeError("secret internals at /srv/planenet")

    def cancel(self, job_id: str) -> None: ...
    def health(self) -> RunnerHealth:
        return RunnerHealth(expected=0, alive=0)


def broken_runner(_settings: Settings, _repository: Repository) -> Runner:
    return BrokenRunner()


async def test_a_runner_failing_to_take_the_hint_still_queues_the_job(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path), broken_runner) as client:
        response = await client.post("/jobs", json={})
        assert response.status_code == 202, response.text
        job_id = response.json()["id"]
        assert response.headers["location"] == f"/jobs/{job_id}"
        assert (await client.get(f"/jobs/{job_id}")).json()["status"] == "queued"
        assert await job_total(client) == 1


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_list(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("secret internals at /srv/planenet")

    monkeypatch.setattr(Repository, "list_jobs", broken_list)
    async with serve(make_settings(tmp_path)) as client:
        response = await client.get("/jobs", headers={"X-Request-ID": "req-42"})
        problem = assert_problem(response, 500, "internal-error")
        assert "secret" not in response.text
        assert "req-42" in problem["detail"]
