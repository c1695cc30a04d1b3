"""The real `planenet serve` in a subprocess, for end-to-end tests and benchmarks.

Start it, wait for it, stop, kill, restart; wait for its jobs over HTTP.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

STARTUP_SECONDS = 30.0
STOP_SECONDS = 20.0
JOB_SECONDS = 120.0
POLL_SECONDS = 0.1
FINISHED = frozenset({"succeeded", "failed", "cancelled"})

# The tutorial's training, spelled out (these are also the defaults).
TUTORIAL_JOB: dict[str, Any] = {
    "name": "tutorial",
    "data": {"generator": "blobs", "n_samples": 200, "noise": 0.2, "seed": 42},
    "hidden_layers": [4],
    "activation": "relu",
    "epochs": 20000,
    "learning_rate": 0.5,
    "optimizer": "gd",
    "seed": 42,
}


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def planenet_command() -> list[str]:
    """The installed ``planenet`` script beside this interpreter, else ``python -m service``."""
    script = Path(sys.executable).with_name("planenet")
    return [str(script)] if script.exists() else [sys.executable, "-m", "service"]


@dataclass
class ServerProcess:
    """One ``planenet serve`` on a fixed port and data directory, which can be restarted."""

    data_dir: Path
    port: int
    flags: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    log_level: str = "info"
    log_dir: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        """Where this start's output goes (beside the data directory unless told)."""
        return (self.log_dir or self.data_dir.parent) / f"server-{self.port}-{self.starts}.log"

    def start(self) -> None:
        """Start the server and wait until ``/healthz`` answers."""
        assert self.process is None, "already running"
        self.starts += 1
        command = [
            *planenet_command(), "serve", "--port", str(self.port),
            "--data-dir", str(self.data_dir), "--log-level", self.log_level, *self.flags,
        ]  # fmt: skip
        environment = {
            key: value for key, value in os.environ.items() if not key.startswith("PLANENET_")
        }
        environment.update(self.env)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the server exited at start-up:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"the server did not answer /healthz:\n{self.log_tail()}")

    def stop(self) -> int:
        """Stop gracefully with SIGTERM; returns the exit status."""
        process = self._running()
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(STOP_SECONDS)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            self.process = None
        return status

    def kill(self) -> None:
        """Kill the server at once with SIGKILL, as a crash or an OOM kill would."""
        process = self._running()
        process.kill()
        process.wait()
        self.process = None

    def restart(self) -> None:
        """Stop (gracefully) if running, then start again on the same data directory."""
        if self.process is not None:
            self.stop()
        self.start()

    def client(self, **options: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=30.0, **options)

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def _running(self) -> subprocess.Popen[bytes]:
        assert self.process is not None, "not running"
        return self.process


ServerFactory = Callable[..., ServerProcess]
"""The ``planenet_server`` fixture: ``planenet_server(workers=2, flags=[...], env={...})``."""


def wait_for_job(
    client: httpx.Client,
    job_id: str,
    statuses: frozenset[str] = FINISHED,
    seconds: float = JOB_SECONDS,
) -> dict[str, Any]:
    """Poll ``GET /jobs/{id}`` until the job's status is one of ``statuses``.

    Fails at once, saying so, when the job ends in another state, and after ``seconds``.
    """
    deadline = time.monotonic() + seconds
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["status"] in statuses:
            return job
        assert job["status"] not in FINISHED, (
            f"job {job_id} ended {job['status']} ({job.get('error')}) while waiting for "
            f"{' or '.join(sorted(statuses))}"
        )
        assert time.monotonic() < deadline, f"job still {job['status']} after {seconds} s: {job}"
        time.sleep(POLL_SECONDS)


def wait_for_progress(client: httpx.Client, job_id: str) -> dict[str, Any]:
    """Poll until the job runs and has reported at least one epoch."""
    deadline = time.monotonic() + JOB_SECONDS
    while True:
        job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
        if job["status"] == "running" and job["progress"]["epoch"] > 0:
            return job
        assert job["status"] in {"queued", "running"}, job
        assert time.monotonic() < deadline, f"job did not start: {job}"
        time.sleep(POLL_SECONDS)


def train_tutorial_model(client: httpx.Client) -> dict[str, Any]:
    """Train the tutorial's model through the API; returns the succeeded job."""
    submitted = client.post("/jobs", json=TUTORIAL_JOB)
    assert submitted.status_code == 202, submitted.text
    job = wait_for_job(client, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    return job


@contextmanager
def running_server(
    data_dir: Path, workers: int, flags: list[str] | None = None, log_level: str = "warning"
) -> Iterator[ServerProcess]:
    """A started ``planenet serve`` on a free port, stopped (or killed) on exit."""
    server = ServerProcess(
        data_dir=data_dir,
        port=free_port(),
        flags=["--workers", str(workers), *(flags or [])],
        log_level=log_level,
        log_dir=data_dir,
    )
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.stop()
