"""planenet.Client against a real server: every operation's happy path."""

import json

import numpy as np
import plotly.graph_objects as go
import pytest

import planenet
from tests.client.conftest import API_KEY, QUICK_JOB, SLOW_JOB
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.e2e


def test_the_url_and_key_come_from_the_environment(client_env: ServerProcess) -> None:
    with planenet.Client() as client:
        assert client.url == client_env.base_url
        job = client.create_job(QUICK_JOB)  # a state change: the key was sent
        assert client.wait(job.id).status == "succeeded"


def test_arguments_win_over_the_environment(
    server: ServerProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLANENET_URL", "http://127.0.0.1:1")
    monkeypatch.setenv("PLANENET_API_KEY", "not-the-key")
    with planenet.Client(server.base_url, api_key=API_KEY) as client:
        assert client.create_job(QUICK_JOB).status in {"queued", "running", "succeeded"}


def test_health_and_readiness(client: planenet.Client) -> None:
    assert client.health() == "ok"
    readiness = client.ready()
    assert readiness.status == "ready"
    assert readiness.workers_alive == readiness.workers_expected == 1


def test_train_returns_the_model_of_the_finished_job(client: planenet.Client) -> None:
    model = client.train({"epochs": 500, "name": "from a body"}, hidden_layers=[3])
    assert model.name == "from a body"
    assert model.config["hidden_layers"] == [3]
    assert model.config["epochs"] == 500
    assert model.metrics.epochs_run == 500
    assert model.metrics.train_accuracy > 0.9
    job = client.get_job(model.job_id or "")
    assert job.status == "succeeded"
    assert job.finished
    assert job.model_id == model.id
    assert job.progress.epoch == job.progress.epochs == 500
    assert job.raw["id"] == job.id


def test_jobs_and_models_are_listed_newest_first(client: planenet.Client) -> None:
    first = client.train(QUICK_JOB)
    second = client.train(QUICK_JOB)
    jobs = client.list_jobs(status="succeeded", limit=2)
    assert [job.model_id for job in jobs.items] == [second.id, first.id]
    assert jobs.limit == 2
    assert jobs.total >= 2
    models = client.list_models(limit=1, offset=1)
    assert [item.id for item in models.items] == [first.id]
    assert models.offset == 1


def test_predict_takes_pairs_or_a_numpy_array(
    client: planenet.Client, model: planenet.Model
) -> None:
    pairs = client.predict(model.id, [[1, 1], (-1, -1)])
    assert pairs.model_id == model.id
    assert pairs.labels == [0, 1]
    assert pairs.probabilities[0] < 0.5 < pairs.probabilities[1]
    grid = np.random.default_rng(5).uniform(-2, 2, size=(300, 2))
    from_array = client.predict(model.id, grid)
    from_float32 = client.predict(model.id, grid.astype(np.float32))
    assert len(from_array.labels) == 300
    assert from_array.labels == [int(p > 0.5) for p in from_array.probabilities]
    assert from_float32.labels == from_array.labels


def test_predict_without_a_model_uses_the_newest(client: planenet.Client) -> None:
    newest = client.train(QUICK_JOB)
    assert client.predict(None, [[0.5, 0.5]]).model_id == newest.id


def test_parameters_start_another_training(client: planenet.Client, model: planenet.Model) -> None:
    parameters = client.parameters(model.id)
    assert [len(layer) for layer in parameters.biases] == [4, 1]
    assert np.asarray(parameters.weights[0]).shape == (2, 4)
    arrays = {
        "weights": [np.asarray(layer) for layer in parameters.weights],
        "biases": [np.asarray(layer) for layer in parameters.biases],
    }
    for initial in (parameters, arrays):
        continued = client.train(
            QUICK_JOB, initial_parameters=initial, epochs=1, learning_rate=1e-9
        )
        after = client.parameters(continued.id)
        assert np.allclose(after.weights[0], parameters.weights[0], atol=1e-6)


def test_figures_come_as_dicts_or_plotly_figures(
    client: planenet.Client, model: planenet.Model
) -> None:
    for kind in planenet.FIGURE_KINDS:
        figure = client.figure(model.id, kind)
        assert figure["data"]
        assert isinstance(json.dumps(figure), str)
    boundary = client.figure(model.id, "boundary", resolution=20, mode="probability")
    assert len(boundary["data"][0]["z"]) == 20
    contour = client.figure(model.id, "boundary", mode="contour", resolution=50)
    assert contour["data"]
    assert {"contour", "heatmap"}.isdisjoint(trace["type"] for trace in contour["data"])
    loss = client.figure(model.id, "loss", as_plotly=True)
    assert isinstance(loss, go.Figure)
    assert loss.data[0].name == "Training loss"
    assert len(client.figure(model.id, "loss", max_points=10)["data"][0]["y"]) <= 10
    job_loss = client.job_figure(model.job_id or "")
    assert job_loss == client.figure(model.id, "loss")
    assert isinstance(client.job_figure(model.job_id or "", as_plotly=True), go.Figure)


def test_deleted_models_are_gone(client: planenet.Client) -> None:
    doomed = client.train(QUICK_JOB)
    client.delete_model(doomed.id)
    with pytest.raises(planenet.NotFound):
        client.get_model(doomed.id)


def test_cancel_stops_a_running_job(client: planenet.Client) -> None:
    job = client.create_job(SLOW_JOB)
    cancelled = client.cancel_job(job.id)
    assert cancelled.cancel_requested
    final = client.wait(job.id, timeout=60)
    assert final.status == "cancelled"
    assert final.model_id is None


def test_wait_gives_up_after_its_timeout(client: planenet.Client) -> None:
    job = client.create_job(SLOW_JOB)
    try:
        with pytest.raises(planenet.WaitTimeout) as raised:
            client.wait(job.id, timeout=0.2)
        assert raised.value.job.id == job.id
        assert not raised.value.job.finished
    finally:
        client.cancel_job(job.id)
        client.wait(job.id)


def test_train_raises_job_failed_when_the_job_fails(client: planenet.Client) -> None:
    with pytest.raises(planenet.JobFailed) as raised:
        client.train(QUICK_JOB, learning_rate=1e100)
    job = raised.value.job
    assert job.status == "failed"
    assert "diverged" in (job.error or "")
    assert job.error is not None
    assert job.error in str(raised.value)


def test_watch_yields_progress_then_the_outcome(client: planenet.Client) -> None:
    job = client.create_job(SLOW_JOB | {"epochs": 3000})
    events = list(client.watch(job.id))
    assert [event.kind for event in events[:-1]] == ["progress"] * (len(events) - 1)
    final = events[-1]
    assert final.final
    assert final.kind == "succeeded"
    assert final.id.endswith("-end")
    model_id = client.get_job(job.id).model_id
    assert final.model_id == model_id
    losses = [loss for event in events for loss in event.losses]
    assert len(losses) == 3000
    assert events[-2].epoch == 3000
    loss_curve = client.figure(model_id or "", "loss", max_points=3000)["data"][0]["y"]
    assert losses == pytest.approx(loss_curve)
    # Resuming from the final event: the server has nothing more (204), the watch ends at once.
    assert list(client.watch(job.id, last_event_id=final.id)) == []
    # Resuming from a progress event: only what came after it.
    middle = events[len(events) // 2]
    after = list(client.watch(job.id, last_event_id=middle.id))
    assert [loss for event in after for loss in event.losses] == losses[int(middle.id) :]


def test_model_references_stay_one_path_segment(client: planenet.Client) -> None:
    # The server quotes the reference it received: each arrived whole, as the model's reference.
    for reference in ("..", "x?y#z", "a b"):
        with pytest.raises(planenet.InvalidInput) as invalid:
            client.get_model(reference)
        assert invalid.value.errors[0].field == "path.model_id"
        assert repr(reference) in invalid.value.errors[0].message
    # The server decodes %2F before routing: a reference with a slash (never a valid one) finds
    # no route, and the answer names it, never another resource.
    for reference in ("../jobs", "a/b"):
        with pytest.raises(planenet.NotFound) as no_route:
            client.get_model(reference)
        assert reference in no_route.value.detail
    with pytest.raises(planenet.NotFound) as raised:
        client.get_model("no-such-name@v2")
    assert "no-such-name" in raised.value.detail
    with pytest.raises(ValueError, match="non-empty"):
        client.get_model("")


def test_watch_yields_snapshots_on_request(client: planenet.Client) -> None:
    job = client.create_job(QUICK_JOB)
    events = list(client.watch(job.id, snapshots=True))
    snapshots = [event for event in events if event.snapshot]
    assert snapshots, [event.kind for event in events]
    assert snapshots[-1].epoch == 300  # the newest parameters: after the last epoch
    assert events[-1].final
    assert not any(event.snapshot for event in client.watch(job.id))
