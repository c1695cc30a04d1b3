"""`planenet worker`: its flags, and real worker processes training for a `--workers 0` API."""

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.cli import WORKER_SETTINGS, build_parser, main, settings_from
from service.runner.standalone import WORKER_INTERRUPTED_REASON
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.server import (
    STOP_SECONDS,
    ServerProcess,
    free_port,
    planenet_command,
    wait_for_job,
    wait_for_progress,
)
from tests.helpers.store import local_pid

QUICK_JOB = {"name": "elsewhere", "epochs": 300}
# A minute or more of training: certainly still running when its worker is told to stop.
LONG_JOB = {"name": "long", "epochs": 100_000, "data": {"n_samples": 20_000}}


def worker_flags(*argv: str) -> dict[str, object]:
    arguments = vars(build_parser().parse_args(["worker", *argv]))
    arguments.pop("command")
    return arguments


def test_worker_flags_are_its_settings_and_override_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLANENET_WORKERS", "3")
    monkeypatch.setenv("PLANENET_JOB_HEARTBEAT_TIMEOUT", "90")
    settings = settings_from(worker_flags("--data-dir", str(tmp_path), "--log-level", "debug"))
    assert (settings.workers, settings.job_heartbeat_timeout) == (3, 90.0)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'planenet.db'}"
    assert settings.log_level == "debug"
    url = "postgresql+psycopg://planenet@db.example/planenet"
    assert settings_from(worker_flags("--database-url", url)).resolved_database_url == url


def test_worker_help_names_every_flag_and_its_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["worker", "--help"])
    help_text = capsys.readouterr().out
    for name in WORKER_SETTINGS:
        assert "--" + name.replace("_", "-") in help_text
        assert "PLANENET_" + name.upper() in help_text
    assert "--port" not in help_text


def test_a_worker_without_worker_processes_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["worker", "--workers", "0"]) == 2
    assert "workers" in capsys.readouterr().err


def parent_pid(pid: int) -> int:
    """The parent process id of a process of this host (from /proc)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("PPid:")).split()[1])


@pytest.fixture
def api_without_workers(tmp_path: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(data_dir=tmp_path / "data", port=free_port(), flags=["--workers", "0"])
    server.start()
    yield server
    if server.process is not None:
        server.stop()


@pytest.fixture
def worker_process(api_without_workers: ServerProcess) -> Iterator[subprocess.Popen[bytes]]:
    log_path = api_without_workers.data_dir.parent / "worker.log"
    command = [
        *planenet_command(), "worker", "--workers", "1",
        "--data-dir", str(api_without_workers.data_dir), "--log-level", "info",
    ]  # fmt: skip
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PLANENET_")
    }
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def job_worker(data_dir: Path, job_id: str) -> str:
    database = Database(f"sqlite:///{data_dir / 'planenet.db'}")
    try:
        worker = Repository(database).get_job(job_id).worker
    finally:
        database.dispose()
    assert worker is not None
    return worker


@pytest.mark.e2e
def test_a_separate_worker_process_trains_the_jobs_the_api_queues(
    api_without_workers: ServerProcess, worker_process: subprocess.Popen[bytes]
) -> None:
    with api_without_workers.client() as client:
        assert client.get("/readyz").json()["workers_expected"] == 0
        submitted = client.post("/jobs", json=QUICK_JOB)
        assert submitted.status_code == 202, submitted.text
        job = wait_for_job(client, submitted.json()["id"])
        assert job["status"] == "succeeded", job
        assert client.get(f"/models/{job['model_id']}").json()["name"] == "elsewhere"

        long_id = client.post("/jobs", json=LONG_JOB).json()["id"]
        wait_for_progress(client, long_id)
        worker_pid = local_pid(job_worker(api_without_workers.data_dir, long_id))
        assert worker_pid is not None
        assert parent_pid(worker_pid) == worker_process.pid

        worker_process.send_signal(signal.SIGTERM)
        assert worker_process.wait(STOP_SECONDS) == 0
        interrupted = wait_for_job(client, long_id)
        assert (interrupted["status"], interrupted["error"]) == (
            "failed",
            WORKER_INTERRUPTED_REASON,
        )
        assert interrupted["progress"]["epoch"] < LONG_JOB["epochs"]
        # The API, which has no workers of its own, keeps serving.
        assert client.get("/healthz").status_code == 200
