"""Figures of training over HTTP: a running job's boundary, snapshot events, replays, neurons."""

import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import numpy as np
import pytest

from core.backprop import FlatParameters
from core.figures import boundary_figure
from core.network import Network
from core.parameters import make_parameters
from core.serialization import parameters_to_bytes
from service.app import create_app
from service.routes import events
from service.runner.plan import job_datasets
from service.settings import Settings
from service.store.codec import encode_snapshots
from service.store.database import Database
from service.store.repository import Repository
from tests.core.plotly_checks import check_figure
from tests.helpers.app import await_job, make_settings, serve
from tests.helpers.databases import on_every_database
from tests.helpers.events import WAIT_SECONDS, PlayedWorker, losses_of, parse_events
from tests.helpers.problems import assert_problem
from tests.helpers.store import model_artifacts

pytestmark = pytest.mark.anyio
pytest_generate_tests = on_every_database

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
SPLIT_JOB: dict[str, Any] = {
    "epochs": 2000,
    "hidden_layers": [5, 3],
    "activation": "tanh",
    "features": ["x1", "x2", "x1*x2"],
    "validation_fraction": 0.25,
    "data": {"generator": "xor", "n_samples": 200, "noise": 0.1, "seed": 3},
}


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@dataclass(frozen=True)
class Trained:
    """A running app with two models: one trained on a split, one without."""

    client: httpx.AsyncClient
    settings: Settings
    split_model: str
    plain_model: str


@pytest.fixture(scope="module")
async def trained(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Trained]:
    settings = make_settings(tmp_path_factory.mktemp("training-figures"), workers=1)
    async with serve(settings) as client:
        models = []
        for body in (SPLIT_JOB, {"epochs": 300}):
            submitted = (await client.post("/jobs", json=body)).json()
            job = await await_job(client, submitted["id"])
            assert job["status"] == "succeeded", job
            models.append(job["model_id"])
        yield Trained(client, settings, *models)


async def get_figure(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    figure: dict[str, Any] = response.json()
    check_figure(figure)
    return figure


def _network(layers: tuple[int, ...], seed: int) -> Network:
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(a, b)) for a, b in itertools.pairwise(layers)]
    biases = [rng.normal(size=b) for b in layers[1:]]
    return Network(make_parameters(weights, biases), "relu")


async def test_the_replay_has_a_frame_per_stored_snapshot_ending_with_the_model(
    trained: Trained,
) -> None:
    response = await trained.client.get(f"/models/{trained.split_model}/figures/training")
    assert response.status_code == 200
    assert len(response.content) < 2 * 2**20
    assert response.headers["etag"]
    figure = response.json()
    check_figure(figure)
    database = Database(trained.settings.resolved_database_url)
    snapshots = Repository(database).model_snapshots(trained.split_model)
    _, artifacts = model_artifacts(Repository(database), trained.split_model)
    database.dispose()
    assert snapshots is not None
    assert 2 <= len(snapshots.epochs) <= 200
    assert snapshots.epochs[0] == 0
    assert snapshots.epochs[-1] == SPLIT_JOB["epochs"]
    assert len(figure["frames"]) == len(snapshots.epochs)
    assert figure["layout"]["sliders"][0]["steps"]
    final = FlatParameters.from_parameters(artifacts.parameters).vector
    np.testing.assert_array_equal(snapshots.vectors[-1], final)


async def test_neuron_maps_show_every_unit_and_the_output(trained: Trained) -> None:
    figure = await get_figure(
        trained.client, f"/models/{trained.split_model}/figures/neurons", resolution=20
    )
    heatmaps = [trace for trace in figure["data"] if trace["type"] == "heatmap"]
    assert len(heatmaps) == 5 + 3 + 1
    assert all(len(trace["z"]) == 20 for trace in heatmaps)
    output = heatmaps[-1]["z"]
    assert min(map(min, output)) >= 0.0
    assert max(map(max, output)) <= 1.0


async def test_accuracy_per_epoch_is_the_training_and_the_validation_accuracy(
    trained: Trained,
) -> None:
    # Both models trained on the default engine, the compiled kernel where it is built.
    for model_id, names, epochs in (
        (trained.split_model, ["Training accuracy", "Validation accuracy"], SPLIT_JOB["epochs"]),
        (trained.plain_model, ["Training accuracy"], 300),
    ):
        figure = await get_figure(
            trained.client,
            f"/models/{model_id}/figures/loss",
            metric="accuracy",
            max_points=100_000,
        )
        assert [curve["name"] for curve in figure["data"]] == names
        metrics = (await trained.client.get(f"/models/{model_id}")).json()["metrics"]
        for curve, final in zip(
            figure["data"],
            (metrics["train_accuracy"], metrics["validation_accuracy"]),
            strict=False,
        ):
            assert curve["x"] == list(range(epochs))
            assert all(0.0 <= value <= 1.0 for value in curve["y"])
            # The last recorded epoch's accuracy is of the parameters before its update.
            assert curve["y"][-1] == pytest.approx(final, abs=0.05)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("training", {"resolution": 1}, "query.resolution"),
        ("training", {"resolution": 101}, "query.resolution"),
        ("neurons", {"resolution": 101}, "query.resolution"),
        ("neurons", {"max_units": 0}, "query.max_units"),
        ("neurons", {"max_units": 33}, "query.max_units"),
        ("loss", {"metric": "speed"}, "query.metric"),
    ],
)
async def test_bad_query_parameters_are_422_naming_them(
    trained: Trained, path: str, params: dict[str, Any], field: str
) -> None:
    response = await trained.client.get(
        f"/models/{trained.plain_model}/figures/{path}", params=params
    )
    body = assert_problem(response, 422, "validation-error")
    assert field in {error["field"] for error in body["errors"]}


async def test_unknown_models_and_jobs_are_404(trained: Trained) -> None:
    for path in (
        f"/models/{UNKNOWN_ID}/figures/training",
        f"/models/{UNKNOWN_ID}/figures/neurons",
        f"/jobs/{UNKNOWN_ID}/figures/boundary",
    ):
        assert_problem(await trained.client.get(path), 404, "not-found")


async def test_every_figure_route_documents_its_query_bounds(trained: Trained) -> None:
    document = (await trained.client.get("/openapi.json")).json()
    for path in (
        "/jobs/{job_id}/figures/boundary",
        "/models/{model_id}/figures/boundary",
        "/models/{model_id}/figures/training",
        "/models/{model_id}/figures/neurons",
        "/models/{model_id}/figures/loss",
        "/jobs/{job_id}/figures/loss",
    ):
        for parameter in document["paths"][path]["get"]["parameters"]:
            if parameter["in"] != "query":
                continue
            schema = parameter["schema"]
            assert parameter.get("description"), (path, parameter["name"])
            described: dict[str, Any] = {}
            for option in [schema, *schema.get("anyOf", [])]:
                described |= option
            bounded = "enum" in described or {"minimum", "maximum"} <= set(described)
            assert bounded, (path, parameter["name"], schema)


# The live boundary and the snapshot events, with a worker played by hand on the store.


def _report_snapshot(worker: PlayedWorker, epoch: int, network: Network) -> None:
    assert worker.claimed is not None
    worker.repository.record_progress(
        worker.job_id,
        worker.claimed.lease,
        epoch=epoch,
        epochs=worker.epochs,
        loss=float(worker.history[epoch - 1]),
        validation_loss=None,
        snapshot=(epoch, parameters_to_bytes(network.parameters)),
    )


async def test_a_running_jobs_boundary_draws_its_newest_snapshot(
    tmp_path: Path, repository: Repository, database: Database
) -> None:
    settings = make_settings(tmp_path, database_url=database.url)
    worker = PlayedWorker(repository)
    async with serve(settings) as client:
        path = f"/jobs/{worker.job_id}/figures/boundary"
        assert (
            "no parameters yet"
            in assert_problem(await client.get(path), 409, "wrong-state")["detail"]
        )
        worker.claim()
        assert worker.claimed is not None
        dataset = worker.claimed.config
        for epoch, seed in ((10, 1), (50, 2)):
            network = _network((2, 4, 1), seed)
            _report_snapshot(worker, epoch, network)
            response = await client.get(path, params={"resolution": 30})
            assert response.headers["cache-control"] == "no-store"
            figure = response.json()
            check_figure(figure)
            assert figure["layout"]["meta"] == {"epoch": epoch}
            _, train_set, validation = job_datasets(dataset, None)
            expected = boundary_figure(
                network.predict_proba, train_set, 30, validation=validation, epoch=epoch
            )
            assert figure == expected


async def test_snapshot_events_carry_the_parameters_at_a_bounded_rate(
    tmp_path: Path, repository: Repository, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "SNAPSHOT_EVENT_SECONDS", 0.4)
    settings = make_settings(tmp_path, database_url=database.url)
    worker = PlayedWorker(repository)
    worker.claim()
    networks = {epoch: _network((2, 3, 1), epoch) for epoch in range(1, 121)}
    received = []
    async with serve(settings) as client:
        started = time.monotonic()
        async with anyio.create_task_group() as group:

            async def play() -> None:
                for epoch in range(1, 121):
                    worker.report(epoch)
                    _report_snapshot(worker, epoch, networks[epoch])
                    await anyio.sleep(0.02)
                worker.succeed()

            group.start_soon(play)
            with anyio.fail_after(WAIT_SECONDS):
                async with client.stream("GET", f"/jobs/{worker.job_id}/events") as response:
                    received = list(
                        parse_events(iter((await response.aread()).decode().splitlines()))
                    )
        elapsed = time.monotonic() - started
    snapshots = [event for event in received if event.name == "snapshot"]
    assert 2 <= len(snapshots) <= elapsed / 0.4 + 2
    epochs = [event.data["epoch"] for event in snapshots]
    assert epochs == sorted(set(epochs))
    assert epochs[-1] == 120
    for event in snapshots:
        parameters = networks[event.data["epoch"]].parameters
        assert event.data["weights"] == [w.tolist() for w in parameters.weights]
        assert event.data["biases"] == [b.tolist() for b in parameters.biases]
    # Snapshot events leave the ids counting loss values: resuming works as before.
    progress_ids = {event.id for event in received if event.name == "progress"}
    assert all(event.id in progress_ids for event in snapshots)
    assert losses_of(received) == worker.history.tolist()


def test_the_app_builds_with_the_training_figures(tmp_path: Path) -> None:
    paths = set(create_app(make_settings(tmp_path)).openapi()["paths"])
    assert {
        "/jobs/{job_id}/figures/boundary",
        "/models/{model_id}/figures/training",
        "/models/{model_id}/figures/neurons",
    } <= paths


def test_snapshots_are_written_under_the_lease_and_kept_by_the_model(
    repository: Repository,
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    assert worker.claimed is not None
    network = _network((2, 4, 1), 7)
    epochs = np.array([0, 1, 5], dtype=np.int64)
    vectors = np.arange(3 * 17, dtype=np.float64).reshape(3, 17)
    ack = repository.record_progress(
        worker.job_id,
        "not-the-lease",
        epoch=5,
        epochs=worker.epochs,
        loss=0.5,
        validation_loss=None,
        snapshot=(5, parameters_to_bytes(network.parameters)),
    )
    assert not ack.lease_held
    assert repository.job_figure_inputs(worker.job_id).live is None
    repository.record_progress(
        worker.job_id,
        worker.claimed.lease,
        epoch=5,
        epochs=worker.epochs,
        loss=0.5,
        validation_loss=None,
        snapshot=(5, parameters_to_bytes(network.parameters)),
        snapshots=encode_snapshots(epochs, vectors),
    )
    live = repository.job_figure_inputs(worker.job_id).live
    assert live is not None
    assert live.epoch == 5
    for stored, given in zip(live.parameters.weights, network.parameters.weights, strict=True):
        np.testing.assert_array_equal(stored, given)
    watched = repository.job_snapshot(worker.job_id)
    assert watched.live is not None
    assert watched.live.epoch == 5
    assert repository.job_snapshot(worker.job_id, watched) is watched
    model_id = worker.succeed()
    assert repository.model_snapshots(model_id) is None  # the played model stored none
