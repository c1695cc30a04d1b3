"""Figures over HTTP: valid Plotly built from the stored model, caching headers, limits, jobs."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import anyio
import httpx
import numpy as np
import plotly.graph_objects as go
import pytest
from pydantic import ValidationError

from core.figures import MAX_RESOLUTION, boundary_figure, data_figure, loss_figure
from core.network import Network
from service.routes import figures as figures_routes
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import LONG_JOB, QUICK_JOB, await_job, await_progress, make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields
from tests.helpers.store import ModelArtifacts, model_artifacts

pytestmark = pytest.mark.anyio

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
BOUNDARY_LIMIT = 150
SPLIT_JOB: dict[str, Any] = {**QUICK_JOB, "validation_fraction": 0.2}


@dataclass(frozen=True)
class Trained:
    """A running app (boundary resolution limited to 150) with a model trained on a split."""

    client: httpx.AsyncClient
    job: dict[str, Any]
    model_id: str
    artifacts: ModelArtifacts


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def trained(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Trained]:
    settings = make_settings(
        tmp_path_factory.mktemp("figures"), workers=1, max_boundary_resolution=BOUNDARY_LIMIT
    )
    async with serve(settings) as client:
        submitted = (await client.post("/jobs", json=SPLIT_JOB)).json()
        job = await await_job(client, submitted["id"])
        assert job["status"] == "succeeded", job
        database = Database(settings.resolved_database_url)
        _, artifacts = model_artifacts(Repository(database), job["model_id"])
        database.dispose()
        yield Trained(client, job, job["model_id"], artifacts)


async def get_figure(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    """GET a figure, check it is 200 JSON that Plotly accepts, and return it."""
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    figure: dict[str, Any] = response.json()
    go.Figure(figure)  # raises on anything Plotly does not know
    return figure


async def test_the_loss_figure_is_the_cores_on_the_stored_histories(trained: Trained) -> None:
    figure = await get_figure(trained.client, f"/models/{trained.model_id}/figures/loss")
    history = trained.artifacts.loss_history
    assert history.validation_loss is not None
    assert figure == loss_figure(history.loss, history.validation_loss)
    training, validation = figure["data"]
    assert (training["name"], validation["name"]) == ("Training loss", "Validation loss")
    assert training["x"] == list(range(QUICK_JOB["epochs"]))
    assert training["y"] == history.loss.tolist()


async def test_the_loss_figure_is_thinned_to_max_points(trained: Trained) -> None:
    path = f"/models/{trained.model_id}/figures/loss"
    figure = await get_figure(trained.client, path, max_points=50)
    for trace in figure["data"]:
        assert 2 <= len(trace["x"]) <= 50
        assert trace["x"][0] == 0
        assert trace["x"][-1] == QUICK_JOB["epochs"] - 1
        assert trace["x"] == sorted(set(trace["x"]))


@pytest.mark.parametrize("mode", ["regions", "probability"])
async def test_the_boundary_figure_is_the_cores_on_the_stored_model(
    trained: Trained, mode: Literal["regions", "probability"]
) -> None:
    path = f"/models/{trained.model_id}/figures/boundary"
    figure = await get_figure(trained.client, path, resolution=40, mode=mode)
    artifacts = trained.artifacts
    network = Network(artifacts.parameters, artifacts.activation)
    assert figure == boundary_figure(
        network.predict_proba,
        artifacts.train_set,
        resolution=40,
        mode=mode,
        validation=artifacts.validation_set,
    )
    surface, *curve, class_0, class_1, validation_0, validation_1 = figure["data"]
    assert surface["type"] == "contour"
    # Regions mode draws the exact boundary curve over the regions; probability mode does not.
    assert [trace["mode"] for trace in curve] == (["lines"] if mode == "regions" else [])
    assert len(surface["x"]) == len(surface["y"]) == len(surface["z"]) == 40
    values = {value for row in surface["z"] for value in row}
    if mode == "regions":
        assert values == {0, 1}
    else:
        assert all(0.0 <= value <= 1.0 for value in values)
    assert (class_0["name"], class_1["name"]) == ("Class 0", "Class 1")
    assert len(class_0["x"]) + len(class_1["x"]) == len(trained.artifacts.train_set)
    # The validation points are drawn apart, hollow.
    assert artifacts.validation_set is not None
    assert len(validation_0["x"]) + len(validation_1["x"]) == len(artifacts.validation_set)
    assert validation_0["marker"]["symbol"].endswith("-open")


async def test_the_boundary_resolution_defaults_to_200_or_the_limit(trained: Trained) -> None:
    path = f"/models/{trained.model_id}/figures/boundary"
    figure = await get_figure(trained.client, path)
    assert len(figure["data"][0]["x"]) == BOUNDARY_LIMIT  # the limit (150) is below 200
    assert figure["data"][0]["showscale"] is False  # regions


async def test_the_data_figure_shows_the_stored_training_points(trained: Trained) -> None:
    figure = await get_figure(trained.client, f"/models/{trained.model_id}/figures/data")
    train_set = trained.artifacts.train_set
    assert figure == data_figure(train_set, validation=trained.artifacts.validation_set)
    assert len(train_set) == 160  # 200 points, a fifth kept for validation
    assert len(figure["data"]) == 4  # each class's training points, then its validation points
    tolerance = np.ptp(train_set.points, axis=0) * 0.5e-4  # rounded to 4 digits of the range
    for label, trace in enumerate(figure["data"][:2]):
        drawn = np.column_stack([trace["x"], trace["y"]])
        assert np.all(np.abs(drawn - train_set.points[train_set.labels == label]) <= tolerance)


async def test_model_figures_have_an_etag_and_answer_304_when_current(trained: Trained) -> None:
    client = trained.client
    for kind in ("loss", "boundary", "data"):
        path = f"/models/{trained.model_id}/figures/{kind}"
        first = await client.get(path)
        etag = first.headers["etag"]
        assert etag.startswith('"')
        assert etag.endswith('"')
        assert first.headers["cache-control"] == "public, no-cache"
        again = await client.get(path)
        assert again.headers["etag"] == etag
        assert again.content == first.content
        for if_none_match in (etag, f"W/{etag}", f'"other", {etag}', "*"):
            current = await client.get(path, headers={"If-None-Match": if_none_match})
            assert current.status_code == 304
            assert current.content == b""
            assert current.headers["etag"] == etag
        stale = await client.get(path, headers={"If-None-Match": '"other"'})
        assert stale.status_code == 200
        assert stale.content == first.content
    regions = await client.get(f"/models/{trained.model_id}/figures/boundary")
    probability = await client.get(
        f"/models/{trained.model_id}/figures/boundary", params={"mode": "probability"}
    )
    assert regions.headers["etag"] != probability.headers["etag"]


async def test_a_models_figures_are_drawn_once_and_forgotten_with_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []

    def counting(kind: str, draw: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            drawn.append(kind)
            return draw(*args, **kwargs)

        return counted

    monkeypatch.setattr(figures_routes, "boundary_figure", counting("boundary", boundary_figure))
    monkeypatch.setattr(figures_routes, "data_figure", counting("data", data_figure))
    async with serve(make_settings(tmp_path, workers=1)) as client:
        job = await await_job(client, (await client.post("/jobs", json=QUICK_JOB)).json()["id"])
        model_id = job["model_id"]
        path = f"/models/{model_id}/figures"
        first = await client.get(f"{path}/boundary", params={"resolution": 60})
        again = await client.get(f"{path}/boundary", params={"resolution": 60})
        assert (again.content, again.headers["etag"]) == (first.content, first.headers["etag"])
        assert again.headers["content-type"] == "application/json"
        assert drawn == ["boundary"]
        other = await client.get(f"{path}/boundary", params={"resolution": 61})
        assert other.content != first.content
        await client.get(f"{path}/data")
        await client.get(f"{path}/data")
        assert drawn == ["boundary", "boundary", "data"]
        deleted = await client.delete(f"/models/{model_id}")
        assert deleted.status_code == 204
        assert_problem(await client.get(f"{path}/boundary"), 404, "not-found")
        assert drawn == ["boundary", "boundary", "data"]


async def test_protected_figures_are_cached_privately(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, workers=1, api_key="k", protect_reads=True)
    async with serve(settings) as client:
        client.headers["X-API-Key"] = "k"
        job = await await_job(client, (await client.post("/jobs", json=QUICK_JOB)).json()["id"])
        path = f"/models/{job['model_id']}/figures/data"
        response = await client.get(path)
        del client.headers["X-API-Key"]
        assert_problem(await client.get(path), 401, "unauthorized")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("kind", "params", "field"),
    [
        ("boundary", {"mode": "contours"}, "query.mode"),
        ("boundary", {"resolution": 1}, "query.resolution"),
        ("boundary", {"resolution": "fine"}, "query.resolution"),
        ("loss", {"max_points": 1}, "query.max_points"),
        ("loss", {"max_points": 100_001}, "query.max_points"),
    ],
)
async def test_bad_figure_queries_are_422_naming_the_field(
    trained: Trained, kind: str, params: dict[str, Any], field: str
) -> None:
    response = await trained.client.get(f"/models/{trained.model_id}/figures/{kind}", params=params)
    assert problem_fields(assert_problem(response, 422, "validation-error")) == {field}


async def test_a_resolution_over_the_limit_is_413_naming_the_setting(trained: Trained) -> None:
    path = f"/models/{trained.model_id}/figures/boundary"
    response = await trained.client.get(path, params={"resolution": BOUNDARY_LIMIT + 1})
    problem = assert_problem(response, 413, "limit-exceeded")
    assert "PLANENET_MAX_BOUNDARY_RESOLUTION" in problem["detail"]
    await get_figure(trained.client, path, resolution=BOUNDARY_LIMIT)


def test_the_resolution_setting_cannot_exceed_what_the_core_draws(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="max_boundary_resolution"):
        make_settings(tmp_path, max_boundary_resolution=MAX_RESOLUTION + 1)


async def test_at_the_highest_resolution_setting_more_is_413_not_422(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_boundary_resolution=MAX_RESOLUTION)
    async with serve(settings) as client:
        response = await client.get(
            f"/models/{UNKNOWN_ID}/figures/boundary", params={"resolution": MAX_RESOLUTION + 1}
        )
        problem = assert_problem(response, 413, "limit-exceeded")
        assert "PLANENET_MAX_BOUNDARY_RESOLUTION" in problem["detail"]


async def test_figures_of_unknown_models_and_jobs_are_404_problems(trained: Trained) -> None:
    for path in (
        f"/models/{UNKNOWN_ID}/figures/loss",
        f"/models/{UNKNOWN_ID}/figures/boundary",
        f"/models/{UNKNOWN_ID}/figures/data",
        f"/jobs/{UNKNOWN_ID}/figures/loss",
    ):
        problem = assert_problem(await trained.client.get(path), 404, "not-found")
        assert UNKNOWN_ID in problem["detail"]
    assert_problem(await trained.client.get(f"/models/{trained.model_id}/figures/surface"), 404)


async def test_a_finished_jobs_loss_figure_is_its_models(trained: Trained) -> None:
    job_path = f"/jobs/{trained.job['id']}/figures/loss"
    response = await trained.client.get(job_path)
    assert response.headers["cache-control"] == "no-store"
    job_figure = await get_figure(trained.client, job_path)
    model_figure = await get_figure(trained.client, f"/models/{trained.model_id}/figures/loss")
    assert job_figure == model_figure


async def test_a_running_jobs_loss_figure_grows(trained: Trained) -> None:
    client = trained.client
    job_id = (await client.post("/jobs", json=LONG_JOB)).json()["id"]
    try:
        await await_progress(client, job_id)
        epochs_drawn: list[int] = []
        with anyio.fail_after(30):
            while len(epochs_drawn) < 2 or epochs_drawn[-1] <= epochs_drawn[0]:
                figure = await get_figure(client, f"/jobs/{job_id}/figures/loss", max_points=100)
                (training,) = figure["data"]
                assert len(training["x"]) <= 100
                epochs_drawn.append(training["x"][-1] + 1 if training["x"] else 0)
                job = (await client.get(f"/jobs/{job_id}")).json()
                assert job["status"] == "running"
                await anyio.sleep(0.2)
    finally:
        await client.post(f"/jobs/{job_id}/cancel")
    assert epochs_drawn[-1] > epochs_drawn[0] >= 0


async def test_a_queued_job_has_an_empty_loss_figure(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as client:
        job_id = (await client.post("/jobs", json=QUICK_JOB)).json()["id"]
        response = await client.get(f"/jobs/{job_id}/figures/loss")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store"
        figure = response.json()
        go.Figure(figure)
        (training,) = figure["data"]
        assert training["x"] == training["y"] == []


@pytest.mark.parametrize("mode", ["contour", "regions"])
async def test_every_vertex_of_the_boundary_curve_predicts_one_half(
    trained: Trained, mode: str
) -> None:
    """The curve's vertices, sent back through /predict, lie within 1e-6 of probability 0.5."""
    path = f"/models/{trained.model_id}/figures/boundary"
    figure = await get_figure(trained.client, path, resolution=60, mode=mode)
    (curve,) = [trace for trace in figure["data"] if trace.get("mode") == "lines"]
    vertices = [[x, y] for x, y in zip(curve["x"], curve["y"], strict=True) if x is not None]
    assert len(vertices) >= 2
    answer = await trained.client.post(
        f"/models/{trained.model_id}/predict", json={"points": vertices}
    )
    probabilities = np.array(answer.json()["probabilities"])
    assert np.abs(probabilities - 0.5).max() <= 1e-6


async def test_the_contour_mode_is_at_most_a_fifth_of_the_probability_heatmap(
    trained: Trained,
) -> None:
    path = f"/models/{trained.model_id}/figures/boundary"
    sizes = {
        mode: len((await trained.client.get(path, params={"mode": mode})).content)
        for mode in ("contour", "probability")
    }
    assert sizes["contour"] * 5 <= sizes["probability"]
