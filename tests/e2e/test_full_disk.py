"""A full data directory: 507 for writes, a job failing for its storage, /readyz, clean recovery.

The data directory is a small tmpfs (mounting one needs root, as CI runs), filled to the last
byte by a file the test then deletes.
"""

import contextlib
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.runner.job import STORAGE_FAILURE
from tests.helpers.problems import assert_problem
from tests.helpers.server import ServerProcess, free_port, wait_for_job, wait_for_progress

TMPFS_BYTES = 24 * 1024 * 1024
LARGE_POINTS = 60_000  # a job whose model (with its data) needs a few MB


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", str(mount_point)],
        check=True,
    )
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill(directory: Path) -> Path:
    """Write a file until the file system has no byte left; returns it."""
    filler = directory / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        for size in (1024 * 1024, 4096, 1):
            with contextlib.suppress(OSError):
                while os.write(descriptor, b"\0" * size):
                    pass
    finally:
        os.close(descriptor)
    return filler


def large_job() -> dict[str, object]:
    points = [[(i % 300) / 10.0, (i // 300) / 10.0] for i in range(LARGE_POINTS)]
    labels = [i % 2 for i in range(LARGE_POINTS)]
    return {"data": {"points": points, "labels": labels}, "hidden_layers": [2], "epochs": 100_000}


def server_on(data_dir: Path, small_disk: Path) -> ServerProcess:
    """A started server, one training worker, its database on the small disk."""
    server = ServerProcess(
        data_dir=data_dir,
        port=free_port(),
        flags=["--workers", "1", "--max-body-bytes", str(16 * 1024 * 1024)],
        log_dir=small_disk.parent,
        log_level="warning",
    )
    server.start()
    return server


def test_a_full_disk_answers_507_fails_the_job_for_its_storage_and_recovers(
    small_disk: Path,
) -> None:
    data_dir = small_disk / "data"
    server = server_on(data_dir, small_disk)
    try:
        with server.client() as client:
            assert client.get("/readyz").status_code == 200
            kept = client.post("/jobs", json={"epochs": 50})
            kept_job = wait_for_job(client, kept.json()["id"])
            assert kept_job["status"] == "succeeded"
            training = client.post("/jobs", json=large_job())
            assert training.status_code == 202, training.text
            training_id = training.json()["id"]
            wait_for_progress(client, training_id)

            filler = fill(small_disk)
            not_ready = client.get("/readyz")
            assert "full" in assert_problem(not_ready, 503, "not-ready")["detail"]
            refused = client.post("/jobs", json={"epochs": 10, "data": {"n_samples": 5000}})
            body = assert_problem(refused, 507, "storage-unavailable")
            assert "full or it is read-only" in body["detail"]
            assert_problem(
                client.delete(f"/models/{kept_job['model_id']}"), 507, "storage-unavailable"
            )
            # The running job ends; its model cannot be stored, and its reason says why.
            cancelled = client.post(f"/jobs/{training_id}/cancel")
            assert cancelled.status_code in {200, 202, 507}
            total_before = client.get("/jobs").json()["total"]

            filler.unlink()
            ready = client.get("/readyz")
            assert ready.status_code == 200, ready.text
            # Nothing half-written: what was refused is absent, what was stored is intact.
            assert client.get("/jobs").json()["total"] == total_before == 2
            model = client.get(f"/models/{kept_job['model_id']}")
            assert model.status_code == 200
            predicted = client.post(
                f"/models/{kept_job['model_id']}/predict", json={"points": [[1, 1]]}
            )
            assert predicted.status_code == 200
            # The cancel may have been refused while full: ask again, then train anew.
            client.post(f"/jobs/{training_id}/cancel")
            assert wait_for_job(client, training_id)["status"] == "cancelled"
            again = client.post("/jobs", json={"epochs": 50})
            assert wait_for_job(client, again.json()["id"])["status"] == "succeeded"
    finally:
        server.stop()
    integrity = subprocess.run(
        ["python3", "-c", "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]);"
         "print(c.execute('PRAGMA integrity_check').fetchone()[0])", str(data_dir / "planenet.db")],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert integrity.stdout.strip() == "ok"


def test_a_model_that_cannot_be_stored_fails_its_job_naming_the_storage(
    small_disk: Path,
) -> None:
    data_dir = small_disk / "data"
    server = server_on(data_dir, small_disk)
    try:
        with server.client() as client:
            job = {**large_job(), "epochs": 3000}
            submitted = client.post("/jobs", json=job)
            assert submitted.status_code == 202, submitted.text
            job_id = submitted.json()["id"]
            wait_for_progress(client, job_id)
            filler = fill(small_disk)
            try:
                # The worker retries writing the job's end for a while: free space once the
                # model has been refused, as an operator would.
                deadline = time.monotonic() + 120
                while "the model could not be stored" not in server.log_path.read_text():
                    assert time.monotonic() < deadline, server.log_tail()
                    time.sleep(0.2)
            finally:
                filler.unlink()
            failed = wait_for_job(client, job_id)
            assert (failed["status"], failed["error"]) == ("failed", STORAGE_FAILURE)
            assert failed["model_id"] is None
            assert client.get("/models").json()["total"] == 0
            assert client.get("/readyz").status_code == 200
    finally:
        server.stop()
