"""The real server end to end: the tutorial's model, restarts, and a SIGKILL in mid-training."""

import signal
import time
from pathlib import Path

import pytest

from core.parameters import Parameters
from service.domain.records import ModelRecord
from service.http.server import GRACEFUL_SHUTDOWN_SECONDS
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.events import parse_events
from tests.helpers.server import (
    STOP_SECONDS,
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


def test_a_graceful_stop_ends_each_stream_with_a_final_event_and_fails_running_jobs(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=1)
    with server.client() as client:
        running = client.post("/jobs", json={"epochs": 100_000, "data": {"n_samples": 2000}})
        queued = client.post("/jobs", json={"epochs": 100})  # waits behind the running one
        running_id, queued_id = running.json()["id"], queued.json()["id"]
        wait_for_progress(client, running_id)
        with (
            client.stream("GET", f"/jobs/{running_id}/events") as on_running,
            client.stream("GET", f"/jobs/{queued_id}/events") as on_queued,
        ):
            assert (on_running.status_code, on_queued.status_code) == (200, 200)
            running_lines = on_running.iter_lines()
            in_progress_event = False
            for line in running_lines:  # up to the end of a first progress event
                in_progress_event = in_progress_event or line == "event: progress"
                if in_progress_event and line == "":
                    break
            process = server.process
            assert process is not None
            process.send_signal(signal.SIGTERM)
            # Each stream ends cleanly (no broken chunked read) with the stopping event.
            for lines in (list(running_lines), list(on_queued.iter_lines())):
                events = list(parse_events(iter(lines)))
                assert events[-1].name == "server-stopping"
                assert events[-1].data == {"retry_after": GRACEFUL_SHUTDOWN_SECONDS}
                retry = [line for line in lines if line.startswith("retry:")]
                assert retry[-1] == f"retry: {GRACEFUL_SHUTDOWN_SECONDS * 1000}"
        assert process.wait(STOP_SECONDS) == 0
    server.process = None
    server.start()
    with server.client() as client:
        stopped = client.get(f"/jobs/{running_id}").json()
        assert (stopped["status"], stopped["error"]) == ("failed", INTERRUPTED)
        assert client.get(f"/jobs/{queued_id}").json()["status"] in {"queued", "running"}
