"""Registered names, versions, aliases, tags and descriptions; references in every model path."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import pytest
from sklearn import metrics

from service.domain.references import MAX_VERSION
from tests.core.plotly_checks import check_figure
from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.databases import DATABASE_BACKENDS
from tests.helpers.postgres import PostgresServer
from tests.helpers.problems import assert_problem, problem_fields

pytestmark = pytest.mark.anyio

KEY = "registry-key"
WITH_KEY = {"X-API-Key": KEY}
POINTS = [[1.0, 1.0], [-1.0, -1.0], [0.1, -0.2], [0.4, 0.3], [-0.3, 0.2]]
LABELS = [1, 0, 0, 1, 1]


@dataclass(frozen=True)
class Trained:
    """A running app with versions 1 to 3 of ``two-blobs``, an unnamed and a free-text model."""

    client: httpx.AsyncClient
    versions: list[str]
    unnamed: str
    free_text: str


async def train(client: httpx.AsyncClient, body: dict[str, Any]) -> str:
    """Train a model through the API; returns its id."""
    submitted = await client.post("/jobs", json=body, headers=WITH_KEY)
    assert submitted.status_code == 202, submitted.text
    job = await await_job(client, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    return str(job["model_id"])


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module", params=DATABASE_BACKENDS)
async def trained(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Trained]:
    """The app on SQLite, then on a fresh PostgreSQL database."""
    options: dict[str, Any] = {}
    postgres: PostgresServer | None = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        name = postgres.create_database()
        options["database_url"] = postgres.url(name)
    settings = make_settings(tmp_path_factory.mktemp("names"), workers=1, api_key=KEY, **options)
    try:
        async with serve(settings) as client:
            yield await train_the_models(client)
    finally:
        if postgres is not None:
            postgres.drop_database(name)


async def train_the_models(client: httpx.AsyncClient) -> Trained:
    """Versions 1 to 3 of two-blobs (the third with a validation split), then the others."""
    versions = [
        await train(client, {**QUICK_JOB, "name": "two-blobs", "seed": seed}) for seed in (1, 2)
    ]
    versions.append(
        await train(
            client,
            {**QUICK_JOB, "name": "two-blobs", "seed": 3, "validation_fraction": 0.25},
        )
    )
    unnamed = await train(client, QUICK_JOB)
    free_text = await train(client, {**QUICK_JOB, "name": "my model (v1 style)"})
    return Trained(client, versions, unnamed, free_text)


async def get_json(client: httpx.AsyncClient, path: str) -> Any:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


async def test_each_job_of_a_name_becomes_its_next_version(trained: Trained) -> None:
    for number, model_id in enumerate(trained.versions, start=1):
        model = await get_json(trained.client, f"/models/{model_id}")
        assert (model["name"], model["version"]) == ("two-blobs", number)
    unnamed = await get_json(trained.client, f"/models/{trained.unnamed}")
    assert (unnamed["name"], unnamed["version"]) == (None, None)
    free_text = await get_json(trained.client, f"/models/{trained.free_text}")
    assert (free_text["name"], free_text["version"]) == ("my model (v1 style)", None)


async def test_registered_models_list_and_show_their_versions(trained: Trained) -> None:
    listed = await get_json(trained.client, "/registered-models")
    assert [item["name"] for item in listed["items"]] == ["two-blobs"]
    assert listed["total"] == 1
    (item,) = listed["items"]
    assert item["latest_version"]["id"] == trained.versions[2]
    assert set(item) == {"name", "created_at", "description", "tags", "aliases", "latest_version"}
    shown = await get_json(trained.client, "/registered-models/two-blobs")
    assert [version["id"] for version in shown["versions"]] == trained.versions[::-1]
    page = await get_json(trained.client, "/registered-models?limit=1&offset=1")
    assert (page["items"], page["total"]) == ([], 1)


@pytest.mark.parametrize(
    ("reference", "index"),
    [("two-blobs", 2), ("two-blobs@latest", 2), ("two-blobs@v1", 0), ("two-blobs@V2", 1)],
)
async def test_a_reference_names_the_same_model_everywhere(
    trained: Trained, reference: str, index: int
) -> None:
    model_id = trained.versions[index]
    client = trained.client
    assert (await get_json(client, f"/models/{reference}"))["id"] == model_id
    by_id = await get_json(client, f"/models/{model_id}/parameters")
    assert await get_json(client, f"/models/{reference}/parameters") == by_id
    for path in ("figures/loss", "figures/data", "figures/boundary?resolution=20"):
        assert await get_json(client, f"/models/{reference}/{path}") == await get_json(
            client, f"/models/{model_id}/{path}"
        )
    by_path = await client.post(f"/models/{reference}/predict", json={"points": POINTS})
    by_body = await client.post("/predict", json={"model": reference, "points": POINTS})
    by_model_id = await client.post("/predict", json={"model_id": model_id, "points": POINTS})
    assert by_path.json() == by_body.json() == by_model_id.json()
    assert by_path.json()["model_id"] == model_id
    evaluated = await client.post(
        f"/models/{reference}/evaluate", json={"points": POINTS, "labels": LABELS}
    )
    assert evaluated.json()["model_id"] == model_id


async def test_aliases_are_set_moved_followed_and_removed(trained: Trained) -> None:
    client = trained.client
    path = "/registered-models/two-blobs/aliases/champion"
    shown = await client.put(path, json={"version": 1}, headers=WITH_KEY)
    assert shown.status_code == 200, shown.text
    assert shown.json()["aliases"] == {"champion": 1}
    assert (await get_json(client, "/models/two-blobs@champion"))["id"] == trained.versions[0]
    assert (await get_json(client, f"/models/{trained.versions[0]}"))["aliases"] == ["champion"]
    predicted = await client.post(
        "/predict", json={"model": "two-blobs@champion", "points": POINTS}
    )
    assert predicted.json()["model_id"] == trained.versions[0]
    moved = await client.put(path, json={"version": 2}, headers=WITH_KEY)
    assert moved.json()["aliases"] == {"champion": 2}
    predicted = await client.post(
        "/predict", json={"model": "two-blobs@champion", "points": POINTS}
    )
    assert predicted.json()["model_id"] == trained.versions[1]
    assert (await get_json(client, f"/models/{trained.versions[0]}"))["aliases"] == []
    assert (await client.delete(path, headers=WITH_KEY)).status_code == 204
    gone = assert_problem(await client.get("/models/two-blobs@champion"), 404, "not-found")
    assert "no alias 'champion'" in gone["detail"]
    again = assert_problem(await client.delete(path, headers=WITH_KEY), 404, "not-found")
    assert "champion" in again["detail"]


@pytest.mark.parametrize("alias", ["latest", "LATEST", "v1", "V7", "v0"])
async def test_reserved_aliases_are_refused(trained: Trained, alias: str) -> None:
    response = await trained.client.put(
        f"/registered-models/two-blobs/aliases/{alias}", json={"version": 1}, headers=WITH_KEY
    )
    problem = assert_problem(response, 422, "validation-error")
    assert problem_fields(problem) == {"path.alias"}
    assert "reserved" in problem["detail"]


@pytest.mark.parametrize("alias", ["a.b", "a%20b", "caf%C3%A9", "x" * 65, "bell%07"])
async def test_malformed_aliases_are_refused(trained: Trained, alias: str) -> None:
    response = await trained.client.put(
        f"/registered-models/two-blobs/aliases/{alias}", json={"version": 1}, headers=WITH_KEY
    )
    assert problem_fields(assert_problem(response, 422, "validation-error")) == {"path.alias"}


@pytest.mark.parametrize("version", [0, -1, MAX_VERSION + 1, 10**30, "1", 1.5, True, None])
async def test_bad_version_numbers_are_refused(trained: Trained, version: Any) -> None:
    response = await trained.client.put(
        "/registered-models/two-blobs/aliases/best", json={"version": version}, headers=WITH_KEY
    )
    assert problem_fields(assert_problem(response, 422, "validation-error")) == {"body.version"}


async def test_an_alias_to_a_missing_version_is_404(trained: Trained) -> None:
    response = await trained.client.put(
        "/registered-models/two-blobs/aliases/best", json={"version": 99}, headers=WITH_KEY
    )
    problem = assert_problem(response, 404, "not-found")
    assert problem["detail"] == "the registered model 'two-blobs' has no version 99"
    unknown = await trained.client.put(
        "/registered-models/nobody/aliases/best", json={"version": 1}, headers=WITH_KEY
    )
    assert "no registered model named 'nobody'" in assert_problem(unknown, 404)["detail"]


@pytest.mark.parametrize(
    ("reference", "detail"),
    [
        ("nobody", "there is no registered model named 'nobody'"),
        ("nobody@v1", "there is no registered model named 'nobody'"),
        ("two-blobs@v4", "the registered model 'two-blobs' has no version 4"),
        (
            f"two-blobs@v{MAX_VERSION}",
            f"the registered model 'two-blobs' has no version {MAX_VERSION}",
        ),
        ("two-blobs@staging", "the registered model 'two-blobs' has no alias 'staging'"),
        ("0123456789abcdef0123456789abcdef", "there is no model with id"),
    ],
)
async def test_an_unknown_reference_is_404_saying_what_is_missing(
    trained: Trained, reference: str, detail: str
) -> None:
    client = trained.client
    for response in (
        await client.get(f"/models/{reference}"),
        await client.get(f"/models/{reference}/figures/loss"),
        await client.post(f"/models/{reference}/predict", json={"points": POINTS}),
        await client.post("/predict", json={"model": reference, "points": POINTS}),
        await client.post(
            f"/models/{reference}/evaluate", json={"points": POINTS, "labels": LABELS}
        ),
    ):
        assert detail in assert_problem(response, 404, "not-found")["detail"]


@pytest.mark.parametrize(
    "reference",
    ["two-blobs@v0", "two-blobs@v-1", "two-blobs@v99999999999", "two%07blobs", "a@b@c",
     "two%00blobs@v1", "two-blobs@", "@v1", "two-blobs@x.y", ".hidden", "x" * 101],
)  # fmt: skip
async def test_a_malformed_reference_is_422(trained: Trained, reference: str) -> None:
    client = trained.client
    in_body = reference.replace("%07", "\u0007").replace("%00", "\u0000")
    predicted = await client.post(f"/models/{reference}/predict", json={"points": POINTS})
    for response, field in (
        (await client.get(f"/models/{reference}"), "path.model_id"),
        (predicted, "path.model_id"),
        (await client.post("/predict", json={"model": in_body, "points": POINTS}), "body.model"),
    ):
        problem = assert_problem(response, 422, "validation-error")
        assert problem_fields(problem) == {field}, problem


@pytest.mark.parametrize(
    "name", ["bell%07name", "nul%00", "a%20b", "caf%C3%A9", "0123456789abcdef0123456789abcdef"]
)
async def test_registered_names_with_forbidden_characters_are_422(
    trained: Trained, name: str
) -> None:
    for response in (
        await trained.client.get(f"/registered-models/{name}"),
        await trained.client.patch(
            f"/registered-models/{name}", json={"description": "x"}, headers=WITH_KEY
        ),
    ):
        assert problem_fields(assert_problem(response, 422, "validation-error")) == {"path.name"}


async def test_descriptions_and_tags_are_patched(trained: Trained) -> None:
    client = trained.client
    patched = await client.patch(
        "/registered-models/two-blobs",
        json={"description": "blobs\nat noise 0.2", "tags": {"team": "geometry", "stage": "dev"}},
        headers=WITH_KEY,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["description"], patched.json()["tags"]) == (
        "blobs\nat noise 0.2",
        {"stage": "dev", "team": "geometry"},
    )
    merged = await client.patch(
        "/registered-models/two-blobs", json={"tags": {"stage": None, "x": "1"}}, headers=WITH_KEY
    )
    assert merged.json()["tags"] == {"team": "geometry", "x": "1"}
    assert merged.json()["description"] == "blobs\nat noise 0.2"
    cleared = await client.patch(
        "/registered-models/two-blobs", json={"description": None}, headers=WITH_KEY
    )
    assert cleared.json()["description"] is None
    model = await client.patch(
        "/models/two-blobs@v1", json={"description": "first", "tags": {"k": "v"}}, headers=WITH_KEY
    )
    assert model.status_code == 200, model.text
    assert (model.json()["id"], model.json()["tags"]) == (trained.versions[0], {"k": "v"})
    shown = await get_json(client, f"/models/{trained.versions[0]}")
    assert (shown["description"], shown["tags"]) == ("first", {"k": "v"})
    free_text = await client.patch(
        f"/models/{trained.free_text}", json={"tags": {"old": "yes"}}, headers=WITH_KEY
    )
    assert free_text.json()["tags"] == {"old": "yes"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"tags": {"": "v"}}, "body.tags"),
        ({"tags": {"k" * 65: "v"}}, "body.tags"),
        ({"tags": {"k": "v" * 501}}, "body.tags"),
        ({"tags": {"k": "bell\u0007"}}, "body.tags.k"),
        ({"tags": {"k": 1}}, "body.tags.k"),
        ({"tags": {f"t{i}": "v" for i in range(33)}}, "body.tags"),
        ({"description": "d" * 5001}, "body.description"),
        ({"description": "nul\u0000"}, "body.description"),
        ({"name": "renamed"}, "body.name"),
    ],
)
async def test_bad_metadata_is_422(trained: Trained, body: dict[str, Any], field: str) -> None:
    for path in ("/registered-models/two-blobs", f"/models/{trained.versions[0]}"):
        response = await trained.client.patch(path, json=body, headers=WITH_KEY)
        problem = assert_problem(response, 422, "validation-error")
        assert all(f.startswith(field) for f in problem_fields(problem)), problem


async def test_writes_need_the_api_key(trained: Trained) -> None:
    client = trained.client
    for response in (
        await client.patch("/registered-models/two-blobs", json={"description": "x"}),
        await client.patch(f"/models/{trained.versions[0]}", json={"description": "x"}),
        await client.put("/registered-models/two-blobs/aliases/a", json={"version": 1}),
        await client.delete("/registered-models/two-blobs/aliases/a"),
        await client.delete("/models/two-blobs@v1"),
    ):
        assert_problem(response, 401, "unauthorized")
    assert (await get_json(client, f"/models/{trained.versions[0]}"))["id"]


async def test_the_threshold_moves_labels_never_probabilities(trained: Trained) -> None:
    client = trained.client
    answers = {
        threshold: (
            await client.post(
                "/models/two-blobs/predict", json={"points": POINTS, "threshold": threshold}
            )
        ).json()
        for threshold in (0.01, 0.5, 0.99)
    }
    default = (await client.post("/models/two-blobs/predict", json={"points": POINTS})).json()
    assert default == answers[0.5]
    for threshold, answer in answers.items():
        assert answer["probabilities"] == default["probabilities"]
        assert answer["labels"] == [int(p > threshold) for p in answer["probabilities"]]
    assert answers[0.01]["labels"] != answers[0.99]["labels"]


@pytest.mark.parametrize("threshold", [0.3, 0.5, 0.7])
async def test_evaluation_equals_sklearn_on_the_models_probabilities(
    trained: Trained, threshold: float
) -> None:
    rng = np.random.default_rng(7)
    points = rng.uniform(-2, 2, (300, 2)).round(3).tolist()
    labels = rng.integers(0, 2, 300).tolist()
    client = trained.client
    probabilities = np.array(
        (await client.post("/models/two-blobs/predict", json={"points": points})).json()[
            "probabilities"
        ]
    )
    answer = await client.post(
        "/models/two-blobs/evaluate",
        json={"points": points, "labels": labels, "threshold": threshold},
    )
    assert answer.status_code == 200, answer.text
    got = answer.json()
    predicted = (probabilities > threshold).astype(int)
    expected = {
        "accuracy": metrics.accuracy_score(labels, predicted),
        "log_loss": metrics.log_loss(labels, probabilities),
        "precision": metrics.precision_score(labels, predicted, zero_division=0),
        "recall": metrics.recall_score(labels, predicted, zero_division=0),
        "f1": metrics.f1_score(labels, predicted, zero_division=0),
        "roc_auc": metrics.roc_auc_score(labels, probabilities),
    }
    for name, value in expected.items():
        assert abs(got[name] - value) <= 1e-12, name
    tn, fp, fn, tp = metrics.confusion_matrix(labels, predicted, labels=[0, 1]).ravel()
    assert got["confusion_matrix"] == {"tn": tn, "fp": fp, "fn": fn, "tp": tp}
    assert got["support"] == [labels.count(0), labels.count(1)]
    assert got["threshold"] == threshold
    assert "figures" not in got


async def test_evaluation_figures_and_one_class_labels(trained: Trained) -> None:
    answer = await trained.client.post(
        "/models/two-blobs/evaluate?figures=true",
        json={"points": POINTS, "labels": [1] * len(POINTS)},
    )
    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert got["roc_auc"] is None
    assert "only one class" in got["roc_auc_undefined_reason"]
    roc = check_figure(got["figures"]["roc"])
    assert [trace.name for trace in roc.data] == ["Chance"]
    confusion = check_figure(got["figures"]["confusion_matrix"])
    assert sum(sum(row) for row in confusion.data[0].z) == len(POINTS)
    both = await trained.client.post(
        "/models/two-blobs/evaluate?figures=true", json={"points": POINTS, "labels": LABELS}
    )
    roc = check_figure(both.json()["figures"]["roc"])
    assert [trace.name for trace in roc.data] == ["ROC curve", "Chance"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"points": POINTS, "labels": LABELS[:-1]}, "body"),
        ({"points": POINTS, "labels": [2] * len(POINTS)}, "body.labels[0]"),
        ({"points": POINTS}, "body.labels"),
        ({"points": POINTS, "labels": LABELS, "threshold": 1.0}, "body.threshold"),
        ({"points": [], "labels": []}, "body.points"),
    ],
)
async def test_bad_evaluation_bodies_are_422(
    trained: Trained, body: dict[str, Any], field: str
) -> None:
    response = await trained.client.post("/models/two-blobs/evaluate", json=body)
    assert field in problem_fields(assert_problem(response, 422, "validation-error"))


async def test_stored_metrics_hold_the_evaluation_of_each_set(trained: Trained) -> None:
    split = await get_json(trained.client, f"/models/{trained.versions[2]}")
    train_evaluation = split["metrics"]["train_evaluation"]
    validation_evaluation = split["metrics"]["validation_evaluation"]
    assert train_evaluation["accuracy"] == split["metrics"]["train_accuracy"]
    assert validation_evaluation["accuracy"] == split["metrics"]["validation_accuracy"]
    matrix = validation_evaluation["confusion_matrix"]
    assert sum(matrix.values()) == sum(validation_evaluation["support"])
    unsplit = await get_json(trained.client, f"/models/{trained.versions[0]}")
    assert unsplit["metrics"]["validation_evaluation"] is None


async def test_given_points_evaluate_to_the_stored_training_evaluation(trained: Trained) -> None:
    rng = np.random.default_rng(3)
    points = rng.uniform(-2, 2, (40, 2)).round(3)
    labels = (points[:, 0] + points[:, 1] > 0).astype(int).tolist()
    body = {**QUICK_JOB, "name": "given", "data": {"points": points.tolist(), "labels": labels}}
    model_id = await train(trained.client, body)
    stored = (await get_json(trained.client, f"/models/{model_id}"))["metrics"]["train_evaluation"]
    answer = await trained.client.post(
        "/models/given/evaluate", json={"points": points.tolist(), "labels": labels}
    )
    fresh = {key: value for key, value in answer.json().items() if key in stored}
    assert fresh == stored


async def test_the_accuracy_figure_shows_both_accuracies_per_epoch(trained: Trained) -> None:
    figure = await get_json(trained.client, "/models/two-blobs@v3/figures/loss?metric=accuracy")
    checked = check_figure(figure)
    assert [trace.name for trace in checked.data] == ["Training accuracy", "Validation accuracy"]
    for trace in checked.data:
        assert all(0.0 <= value <= 1.0 for value in trace.y)
    loss = await get_json(trained.client, "/models/two-blobs@v3/figures/loss")
    assert loss != figure
    bad = await trained.client.get("/models/two-blobs/figures/loss?metric=f1")
    assert problem_fields(assert_problem(bad, 422)) == {"query.metric"}


async def test_deleting_an_aliased_version_needs_force_and_numbers_are_never_reused(
    trained: Trained,
) -> None:
    client = trained.client
    doomed = [await train(client, {**QUICK_JOB, "name": "doomed"}) for _ in range(2)]
    await client.put(
        "/registered-models/doomed/aliases/prod", json={"version": 2}, headers=WITH_KEY
    )
    refused = assert_problem(
        await client.delete("/models/doomed@v2", headers=WITH_KEY), 409, "wrong-state"
    )
    assert "doomed@prod" in refused["detail"]
    assert (await get_json(client, "/models/doomed@prod"))["id"] == doomed[1]
    forced = await client.delete("/models/doomed@prod?force=true", headers=WITH_KEY)
    assert forced.status_code == 204
    assert (await get_json(client, "/registered-models/doomed"))["aliases"] == {}
    assert_problem(await client.get(f"/models/{doomed[1]}"), 404)
    assert (await get_json(client, "/models/doomed"))["id"] == doomed[0]
    third = await train(client, {**QUICK_JOB, "name": "doomed"})
    assert (await get_json(client, f"/models/{third}"))["version"] == 3
    assert (await client.delete(f"/models/{doomed[0]}", headers=WITH_KEY)).status_code == 204
    assert (await client.delete("/models/doomed", headers=WITH_KEY)).status_code == 204
    empty = await get_json(client, "/registered-models/doomed")
    assert (empty["versions"], empty["latest_version"]) == ([], None)
    gone = assert_problem(await client.get("/models/doomed"), 404)
    assert "no versions left" in gone["detail"]


async def test_the_inference_protocol_takes_references_and_versions(trained: Trained) -> None:
    client = trained.client
    for path in ("/v2/models/two-blobs/versions/1", "/v2/models/two-blobs@v1"):
        response = await client.get(f"{path}/ready")
        assert response.status_code == 200, (path, response.text)
    tensor = {"name": "points", "shape": [1, 2], "datatype": "FP64", "data": [1.0, 1.0]}
    by_version = await client.post(
        "/v2/models/two-blobs/versions/2/infer", json={"inputs": [tensor]}
    )
    by_reference = await client.post("/v2/models/two-blobs@v2/infer", json={"inputs": [tensor]})
    assert by_version.status_code == 200, by_version.text
    assert by_version.json()["outputs"] == by_reference.json()["outputs"]
    for path in ("/v2/models/two-blobs/versions/99", "/v2/models/two-blobs@v1/versions/1"):
        assert (await client.get(path)).status_code == 404
