"""Scale-out across hosts: PostgreSQL, two API hosts and two worker hosts, sharing no files.

Each host is a network namespace with an address of its own (see tests.helpers.netns), and
runs the deployment's own commands (deploy/compose.yaml, see tests.helpers.deployment) from
a directory of its own: the hosts share the database and nothing else. The test submits jobs
to both API hosts, cuts one worker host off in the middle of a training, and brings it back.
"""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from service.runner.recovery import silent_worker_reason
from tests.helpers.deployment import (
    TEST_HEARTBEAT_TIMEOUT_SECONDS,
    database_settings,
    role,
)
from tests.helpers.netns import Host, HostNetwork, host_network
from tests.helpers.postgres import Placement, PostgresServer, throwaway_postgres

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

API_PORT = 8000
DATABASE_PORT = 5432
START_SECONDS = 60.0
JOB_SECONDS = 90.0
STOP_SECONDS = 30.0
POLL_SECONDS = 0.1
QUICK_JOB = {"epochs": 300, "data": {"generator": "moons", "n_samples": 200, "seed": 3}}
# Long enough to be cut off in the middle: minutes of training on one core.
LONG_JOB = {"epochs": 100_000, "data": {"n_samples": 5000}, "hidden_layers": [16, 16]}
POINTS = [[1.0, 1.0], [-1.0, -1.0], [0.3, -0.2], [2.0, 0.5]]


class HostProcesses:
    """The processes the test runs on its hosts, each logging to a file; stopped on exit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, host: Host, argv: list[str], environment: dict[str, str]) -> Path:
        """Run ``argv`` on ``host`` from a directory of its own; returns its log's path."""
        home = self.directory / host.name
        home.mkdir(parents=True, exist_ok=True)
        log_path = home / "output.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("PLANENET_")}
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                host.command(argv),
                cwd=home,
                env={**inherited, **environment, "HOME": str(home)},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running.append((host.name, process))
        return log_path

    def stop_all(self) -> None:
        for _name, process in self.running:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for _name, process in self.running:
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def logs(self) -> str:
        return "\n".join(
            f"--- {name}:\n{(self.directory / name / 'output.log').read_text()[-3000:]}"
            for name in dict(self.running)
        )


@contextmanager
def host_processes(directory: Path) -> Iterator[HostProcesses]:
    processes = HostProcesses(directory)
    try:
        yield processes
    finally:
        processes.stop_all()


def wait_until(what: str, condition: Any, seconds: float, processes: HostProcesses) -> Any:
    """Poll ``condition()`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(httpx.TransportError):
            found = condition()
            if found:
                return found
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:g} s\n{processes.logs()}")
        time.sleep(POLL_SECONDS)


def api_client(host: Host) -> httpx.Client:
    # trust_env off: no proxy from the environment may stand between the test and its hosts.
    return httpx.Client(base_url=f"http://{host.address}:{API_PORT}", timeout=10, trust_env=False)


def job_status(client: httpx.Client, job_id: str, *statuses: str) -> dict[str, Any] | None:
    job: dict[str, Any] = client.get(f"/jobs/{job_id}").json()
    return job if job["status"] in statuses else None


def worker_host(server: PostgresServer, database: str, job_id: str) -> str:
    """The host name of the worker that ran a job (worker names start with it)."""
    with psycopg.connect(server.conninfo(database)) as connection:
        row = connection.execute("SELECT worker FROM jobs WHERE id = %s", (job_id,)).fetchone()
    assert row is not None
    assert row[0] is not None
    return str(row[0]).split(":", 1)[0]


def test_jobs_run_on_worker_hosts_and_a_cut_off_host_loses_its_job(tmp_path: Path) -> None:
    names = ["db", "api1", "api2", "worker1", "worker2"]
    with host_network(names) as network, ExitStack() as stack:
        hosts = network.hosts
        db = hosts["db"]
        placement = Placement(
            address=db.address,
            namespace=db.namespace,
            clients=network.clients,
            port=DATABASE_PORT,
            settings=database_settings(),
        )
        server = stack.enter_context(throwaway_postgres(placement))
        database = server.create_database()
        processes = stack.enter_context(host_processes(tmp_path))
        run_deployment(network, server, database, processes)


def run_deployment(
    network: HostNetwork, server: PostgresServer, database: str, processes: HostProcesses
) -> None:
    hosts = network.hosts
    url = server.url(database)
    api, worker = role("api"), role("worker")
    for name in ("api1", "api2"):
        processes.start(hosts[name], *api.on_test_host(url))
    worker_logs = {
        name: processes.start(hosts[name], *worker.on_test_host(url))
        for name in ("worker1", "worker2")
    }
    clients = [api_client(hosts["api1"]), api_client(hosts["api2"])]
    for client in clients:
        wait_until(
            "an API host answering",
            lambda c=client: c.get("/readyz").status_code == 200,
            START_SECONDS,
            processes,
        )

    # Jobs submitted to either API host are trained by the worker hosts.
    submitted = [
        client.post("/jobs", json={**QUICK_JOB, "seed": n}).json()["id"]
        for n, client in enumerate(clients)
    ]
    for job_id in submitted:
        for client in clients:
            job = wait_until(
                "a quick job succeeding",
                lambda c=client, j=job_id: job_status(c, j, "succeeded", "failed"),
                JOB_SECONDS,
                processes,
            )
            assert job["status"] == "succeeded", job
        assert worker_host(server, database, job_id) in {"worker1", "worker2"}
    # Predictions agree on both API hosts, for the model trained through either.
    for job_id in submitted:
        model_id = clients[0].get(f"/jobs/{job_id}").json()["model_id"]
        answers = [c.post(f"/models/{model_id}/predict", json={"points": POINTS}) for c in clients]
        assert [answer.status_code for answer in answers] == [200, 200]
        assert answers[0].json() == answers[1].json()

    # A long job starts on one worker host; that host is cut off in the middle of it.
    long_id = clients[0].post("/jobs", json=LONG_JOB).json()["id"]
    wait_until(
        "the long job reporting progress",
        lambda: (
            (job := job_status(clients[1], long_id, "running")) and job["progress"]["epoch"] > 0
        ),
        JOB_SECONDS,
        processes,
    )
    victim_name = worker_host(server, database, long_id)
    survivor_name = next(name for name in ("worker1", "worker2") if name != victim_name)
    victim = hosts[victim_name]
    network.cut(victim)
    try:
        # Meanwhile the other worker host finishes new jobs.
        new_id = clients[1].post("/jobs", json=QUICK_JOB).json()["id"]
        new_job = wait_until(
            "a new job succeeding",
            lambda: job_status(clients[0], new_id, "succeeded", "failed"),
            JOB_SECONDS,
            processes,
        )
        assert new_job["status"] == "succeeded", new_job
        assert worker_host(server, database, new_id) == survivor_name
        # The cut-off host's job is failed after the heartbeat timeout, with the reason.
        failed = wait_until(
            "the cut-off job failing",
            lambda: job_status(clients[0], long_id, "failed", "succeeded", "cancelled"),
            4 * TEST_HEARTBEAT_TIMEOUT_SECONDS + 30,
            processes,
        )
        assert failed["status"] == "failed", failed
        assert failed["error"] == silent_worker_reason(TEST_HEARTBEAT_TIMEOUT_SECONDS)
    finally:
        network.restore(victim)

    # Back on the network, the stale worker's next write names a lease that is gone: it is
    # refused, and the worker drops the job instead of overwriting it.
    wait_until(
        "the stale worker dropping its job",
        lambda: "taken away" in worker_logs[victim_name].read_text(),
        JOB_SECONDS,
        processes,
    )
    for client in clients:
        after = client.get(f"/jobs/{long_id}").json()
        assert after == failed, "the failed job was overwritten"
