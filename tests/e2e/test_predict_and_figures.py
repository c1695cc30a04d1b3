"""The real server end to end: the tutorial's model predicts and draws, the same after a restart."""

from typing import Any

import httpx
import numpy as np
import plotly.graph_objects as go
import pytest

from tests.helpers.server import ServerFactory, train_tutorial_model, wait_for_job

pytestmark = pytest.mark.e2e

FIGURE_PATHS = (
    "figures/loss",
    "figures/boundary",
    "figures/boundary?mode=probability&resolution=100",
    "figures/data",
)


def figure_of(client: httpx.Client, path: str) -> dict[str, Any]:
    """GET a figure, check Plotly accepts it, and return it."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    figure: dict[str, Any] = response.json()
    go.Figure(figure)  # raises on anything Plotly does not know
    assert figure["data"]
    return figure


def predictions(client: httpx.Client, model_id: str, points: list[list[float]]) -> httpx.Response:
    response = client.post(f"/models/{model_id}/predict", json={"points": points})
    assert response.status_code == 200, response.text
    return response


def test_the_tutorials_model_predicts_and_draws_the_same_after_a_restart(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=1)
    grid = np.random.default_rng(7).uniform(-3.0, 3.0, size=(2000, 2)).tolist()
    with server.client() as client:
        job = train_tutorial_model(client)
        model_id = job["model_id"]
        model = client.get(f"/models/{model_id}").json()
        assert model["metrics"]["train_accuracy"] == 1.0

        tutorial_points = {"points": [[1.0, 1.0], [-1.0, -1.0]]}
        by_path = client.post(f"/models/{model_id}/predict", json=tutorial_points).json()
        newest = client.post("/predict", json=tutorial_points).json()
        assert by_path["labels"] == newest["labels"] == [0, 1]
        assert newest["model_id"] == model_id
        assert by_path["probabilities"][0] < 0.5 < by_path["probabilities"][1]

        figures = {path: figure_of(client, f"/models/{model_id}/{path}") for path in FIGURE_PATHS}
        assert [trace["name"] for trace in figures["figures/loss"]["data"]] == ["Training loss"]
        assert len(figures["figures/boundary"]["data"][0]["z"]) == 200
        assert (
            len(figures["figures/boundary?mode=probability&resolution=100"]["data"][0]["z"]) == 100
        )
        job_loss = figure_of(client, f"/jobs/{job['id']}/figures/loss")
        assert job_loss == figures["figures/loss"]
        before = predictions(client, model_id, grid)
        etags = {
            path: client.get(f"/models/{model_id}/{path}").headers["etag"] for path in FIGURE_PATHS
        }

    server.restart()
    with server.client() as client:
        after = predictions(client, model_id, grid)
        assert after.content == before.content
        assert after.json()["probabilities"] == before.json()["probabilities"]
        for path in FIGURE_PATHS:
            assert figure_of(client, f"/models/{model_id}/{path}") == figures[path]
            revalidated = client.get(
                f"/models/{model_id}/{path}", headers={"If-None-Match": etags[path]}
            )
            assert revalidated.status_code == 304

        # The parameters seed a new job that starts from the trained network.
        parameters = client.get(f"/models/{model_id}/parameters").json()
        seeded = client.post("/jobs", json={"epochs": 1, "initial_parameters": parameters})
        assert seeded.status_code == 202, seeded.text
        assert wait_for_job(client, seeded.json()["id"])["status"] == "succeeded"
