"""`planenet serve --http-workers 2`: two API processes on one port over one worker pool."""

import os
import re
import signal
import time
from pathlib import Path

import pytest

from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.server import (
    ServerFactory,
    ServerProcess,
    train_tutorial_model,
    wait_for_progress,
)

pytestmark = pytest.mark.e2e

LONG_JOB = {"name": "long", "epochs": 100_000, "data": {"n_samples": 2000}}
INTERRUPTED = "interrupted: the server stopped while this job was running; start it again"
WAIT_SECONDS = 60.0
API_PROCESS_STARTED = re.compile(r"Started server process \[(\d+)\]")
WORKER_STARTED = re.compile(r'"worker process started".*"pid": ?(\d+)')


def started_pids(server: ServerProcess, pattern: re.Pattern[str]) -> list[int]:
    """The pids the server's log says were started, in order."""
    return [int(pid) for pid in pattern.findall(server.log_path.read_text(errors="replace"))]


def wait_for_api_processes(server: ServerProcess, count: int) -> list[int]:
    deadline = time.monotonic() + WAIT_SECONDS
    while len(pids := started_pids(server, API_PROCESS_STARTED)) < count:
        assert time.monotonic() < deadline, server.log_tail()
        time.sleep(0.1)
    return pids


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:
        return "zombie" not in status.read_text()
    except FileNotFoundError:
        return False


def test_two_api_processes_share_the_port_and_the_training_workers(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=1, flags=["--http-workers", "2"])
    first, second = wait_for_api_processes(server, 2)
    assert server.process is not None
    assert server.process.pid not in (first, second)
    workers = started_pids(server, WORKER_STARTED)
    assert len(workers) == 1, server.log_tail()
    with server.client() as client:
        # Every API process reports the one pool's workers.
        for _ in range(10):
            ready = client.get("/readyz", headers={"Connection": "close"})
            assert ready.status_code == 200, ready.text
            assert (ready.json()["workers_alive"], ready.json()["workers_expected"]) == (1, 1)
        job = train_tutorial_model(client)
        predicted = client.post(f"/models/{job['model_id']}/predict", json={"points": [[1, 1]]})
        assert predicted.status_code == 200
    assert started_pids(server, WORKER_STARTED) == workers  # the pool trained it

    # An API process that dies is replaced; the others answer meanwhile.
    os.kill(first, signal.SIGKILL)
    replacement = wait_for_api_processes(server, 3)[-1]
    assert alive(second)
    assert alive(replacement)
    with server.client() as client:
        for _ in range(10):
            response = client.get("/healthz", headers={"Connection": "close"})
            assert response.status_code == 200
        long_id = client.post("/jobs", json=LONG_JOB).json()["id"]
        wait_for_progress(client, long_id)

    # A graceful stop ends every process and fails the running job as interrupted.
    assert server.stop() == 0
    for pid in (second, replacement, *workers):
        assert not alive(pid)
    database = Database(f"sqlite:///{server.data_dir / 'planenet.db'}")
    try:
        stopped = Repository(database).get_job(long_id)
    finally:
        database.dispose()
    assert (stopped.status, stopped.error) == ("failed", INTERRUPTED)


def test_api_processes_stop_when_the_main_process_is_killed(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=1, flags=["--http-workers", "2"])
    api_processes = wait_for_api_processes(server, 2)
    workers = started_pids(server, WORKER_STARTED)
    server.kill()
    deadline = time.monotonic() + WAIT_SECONDS
    while any(alive(pid) for pid in (*api_processes, *workers)):
        assert time.monotonic() < deadline, "processes outlived their main process"
        time.sleep(0.1)
    # The port is free again: a new server starts on it and answers.
    server.start()
    with server.client() as client:
        assert client.get("/readyz").status_code == 200
