"""The real server end to end: the tutorial's model, restarts, and a SIGKILL in mid-training."""

import time
from pathlib import Path

import pytest

from core.parameters import Parameters
from service.cli import GRACEFUL_SHUTDOWN_SECONDS
from service.domain.records import ModelRecord
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.server import (
    TUTORIAL_JOB,
    ServerFactory,
    train_tutorial_model,
    wait_for_job,
    wait_for_progress,
)
from tests.helpers.store import model_artifacts

pytestmark = pytest.mark.e2e

# About ten seconds of training on one core: still running when the server is killed.
LONG_JOB = {"name": "long", "epochs": 100_000, "data": {"n_samples": 2000}}
INTERRUPTED = "interrupted: the server stopped while this job was running; start it again"


def stored_model(data_dir: Path, model_id: str) -> tuple[ModelRecord, Parameters]:
    """A model as the store holds it (read directly from the server's database)."""
    database = Database(f"sqlite:///{data_dir / 'planenet.db'}")
    try:
        record, artifacts = model_artifacts(Repository(database), model_id)
        return record, artifacts.parameters
    finally:
        database.dispose()


ORPHAN_EXIT_SECONDS = 60.0


def process_gone(pid: int) -> bool:
    """True when ``pid`` has exited (a zombie waiting for its new parent counts as exited)."""
    status = Path(f"/proc/{pid}/status")
    try:
        state = next(line for line in status.read_text().splitlines() if line.startswith("State"))
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "zombie" in state


def test_tutorial_model_reaches_full_accuracy_and_survives_a_restart(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=2)
    with server.client() as client:
        job = train_tutorial_model(client)
        assert job["config"]["epochs"] == TUTORIAL_JOB["epochs"]
        assert job["progress"]["fraction"] == 1.0
    model, parameters = stored_model(server.data_dir, job["model_id"])
    assert model.metrics.train_accuracy == 1.0
    assert model.metrics.epochs_run == 20000
    assert parameters.layer_sizes == (2, 4, 1)

    assert server.stop() == 0
    server.start()
    with server.client() as client:
        again = client.get(f"/jobs/{job['id']}").json()
        assert (again["status"], again["model_id"]) == ("succeeded", job["model_id"])
        listed = client.get("/jobs").json()
        assert [item["id"] for item in listed["items"]] == [job["id"]]
    _, reloaded = stored_model(server.data_dir, job["model_id"])
    assert reloaded.equals(parameters)


def test_sigkill_in_mid_training_keeps_earlier_models_and_fails_the_job(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=2)
    with server.client() as client:
        earlier = train_tutorial_model(client)
        long_id = client.post("/jobs", json=LONG_JOB).json()["id"]
        running = wait_for_progress(client, long_id)
        assert running["progress"]["epoch"] < LONG_JOB["epochs"]
    _, earlier_parameters = stored_model(server.data_dir, earlier["model_id"])
    database = Database(f"sqlite:///{server.data_dir / 'planenet.db'}")
    try:
        worker = Repository(database).get_job(long_id).worker
    finally:
        database.dispose()
    assert worker is not None

    server.kill()
    server.start()
    with server.client() as client:
        interrupted = wait_for_job(client, long_id)
        assert interrupted["status"] == "failed"
        assert interrupted["error"] == INTERRUPTED
        assert interrupted["model_id"] is None
        kept = client.get(f"/jobs/{earlier['id']}").json()
        assert (kept["status"], kept["model_id"]) == ("succeeded", earlier["model_id"])
        # The restarted server trains again.
        assert train_tutorial_model(client)["model_id"] != earlier["model_id"]
    _, parameters = stored_model(server.data_dir, earlier["model_id"])
    assert parameters.equals(earlier_parameters)
    # The orphaned worker notices its server is gone and exits (the deadline only bounds the
    # wait on a loaded machine; it is no claim about how fast).
    orphan = int(worker.rsplit(":", 1)[1])
    deadline = time.monotonic() + ORPHAN_EXIT_SECONDS
    while not process_gone(orphan) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert process_gone(orphan)


def test_an_open_event_stream_does_not_hold_up_a_graceful_stop(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=0)  # the job stays queued, so its stream never ends
    with server.client() as client:
        job_id = client.post("/jobs", json={"epochs": 100}).json()["id"]
        with client.stream("GET", f"/jobs/{job_id}/events") as stream:
            assert stream.status_code == 200
            started = time.monotonic()
            assert server.stop() == 0
            assert time.monotonic() - started < GRACEFUL_SHUTDOWN_SECONDS + 5
