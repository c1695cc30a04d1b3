"""Input features and L1 through the API: validated, trained in a worker, kept with the model."""

from pathlib import Path
from typing import Any

import pytest

from core.features import DEFAULT_FEATURES
from service.domain.training import JobConfig
from tests.helpers.app import await_job, make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields
from tests.helpers.store import job_config

pytestmark = pytest.mark.anyio

FEATURES = ["x1", "x1^2", "x2^2"]
CIRCLES_JOB: dict[str, Any] = {
    "data": {"generator": "circles", "n_samples": 300, "noise": 0.05, "seed": 3},
    "features": FEATURES,
    "hidden_layers": [],
    "optimizer": "adam",
    "learning_rate": 0.05,
    "epochs": 600,
    "l1": 0.01,
}


async def test_a_job_with_features_and_l1_gives_a_model_that_takes_plain_points(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        submitted = await client.post("/jobs", json=CIRCLES_JOB)
        assert submitted.status_code == 202, submitted.text
        assert submitted.json()["config"]["features"] == FEATURES
        job = await await_job(client, submitted.json()["id"])
        assert job["status"] == "succeeded", job
        model_id = job["model_id"]
        model = (await client.get(f"/models/{model_id}")).json()
        assert model["config"]["features"] == FEATURES
        assert model["config"]["l1"] == 0.01
        assert model["metrics"]["train_accuracy"] >= 0.97

        parameters = (await client.get(f"/models/{model_id}/parameters")).json()
        assert [len(parameters["weights"][0]), len(parameters["weights"][0][0])] == [3, 1]
        # Circles: class 1 inside, class 0 outside; the points are plain (x1, x2).
        predicted = await client.post(
            f"/models/{model_id}/predict", json={"points": [[0.0, 0.1], [1.5, -0.2], [-0.1, 1.6]]}
        )
        assert predicted.status_code == 200, predicted.text
        assert predicted.json()["labels"] == [1, 0, 0]
        boundary = await client.get(f"/models/{model_id}/figures/boundary")
        assert boundary.status_code == 200

        # The exported parameters start another job over the same features, not over others.
        again = await client.post(
            "/jobs", json={**CIRCLES_JOB, "epochs": 1, "initial_parameters": parameters}
        )
        assert again.status_code == 202, again.text
        refused = await client.post(
            "/jobs", json={"hidden_layers": [], "initial_parameters": parameters}
        )
        body = assert_problem(refused, 422, "validation-error")
        assert problem_fields(body) == {"body.initial_parameters"}
        assert "one input per feature" in refused.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"features": ["x1", "x3"]}, "body.features"),
        ({"features": ["x1", "x2", "x1"]}, "body.features"),
        ({"features": []}, "body.features"),
        ({"features": "x1"}, "body.features"),
        ({"l1": -0.5}, "body.l1"),
        ({"l1": "a lot"}, "body.l1"),
    ],
)
async def test_bad_features_and_l1_are_refused_naming_the_field(
    tmp_path: Path, changes: dict[str, Any], field: str
) -> None:
    async with serve(make_settings(tmp_path)) as client:
        response = await client.post("/jobs", json=changes)
    body = assert_problem(response, 422, "validation-error")
    assert field in problem_fields(body)


async def test_an_unknown_feature_is_refused_with_the_known_ones(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        response = await client.post("/jobs", json={"features": ["cos(x1)"]})
    assert_problem(response, 422, "validation-error")
    assert "unknown feature 'cos(x1)'" in response.text
    assert "sin(x1)" in response.text


def test_a_configuration_stored_before_features_and_l1_means_the_plain_tutorial_inputs() -> None:
    stored = job_config().model_dump(mode="json")
    assert stored["features"] == ["x1", "x2"]
    assert stored["l1"] == 0.0
    older = {key: value for key, value in stored.items() if key not in {"features", "l1"}}
    config = JobConfig.model_validate(older).core_config()
    assert config.features == DEFAULT_FEATURES
    assert config.l1 == 0.0
    newer = JobConfig.model_validate({**stored, "features": FEATURES, "l1": 0.2}).core_config()
    assert newer.features == tuple(FEATURES)
