"""Recovery of abandoned jobs: heartbeats, silent and gone workers, at start-up and later."""

import multiprocessing
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import anyio
import numpy as np
import pytest
from sqlalchemy import update

from core.training import Progress
from service.app import INTERRUPTED_REASON
from service.domain.jobs import JobStatus
from service.domain.records import ClaimedJob
from service.runner import identity
from service.runner.heartbeat import Heartbeat, Liveness
from service.runner.identity import (
    WorkerIdentity,
    parse_worker_name,
    process_start_ticks,
    worker_is_gone,
    worker_name,
)
from service.runner.job import ProgressReporter
from service.runner.local import LocalRunner
from service.runner.recovery import JobRecovery, gone_worker_reason, silent_worker_reason
from service.runner.worker import HUNG_EXIT_CODE, give_up_hung, hung_reason
from service.store.database import Database
from service.store.repository import Repository
from service.store.tables import JobRow, utc_now
from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.databases import on_every_database
from tests.helpers.store import job_config, local_pid

pytestmark = pytest.mark.anyio
pytest_generate_tests = on_every_database

# The stored configuration of QUICK_JOB, as the API writes it.
QUICK_CONFIG = job_config(QUICK_JOB)


def dead_local_worker() -> str:
    """The worker name of a process of this host that has exited (named while it ran)."""
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    name = worker_name(process.pid)
    process.communicate(b"")
    return name


def identity_of(worker: str) -> WorkerIdentity:
    identity = parse_worker_name(worker)
    assert identity is not None, worker
    return identity


def age_heartbeat(database: Database, job_id: str, seconds: float) -> None:
    """Make a job's last heartbeat ``seconds`` old, as if its worker had fallen silent."""
    with database.writing() as session:
        session.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(progress_at=utc_now() - timedelta(seconds=seconds))
        )


def claim_as(repository: Repository, worker: str) -> ClaimedJob:
    """Queue a job and claim it for ``worker``."""
    job = repository.create_job(QUICK_CONFIG, name=worker)
    claimed = repository.claim_next_job(worker)
    assert claimed is not None
    assert claimed.id == job.id
    return claimed


async def test_start_up_fails_only_abandoned_jobs_and_runs_those_left_queued(
    tmp_path: Path, database: Database, repository: Repository
) -> None:
    settings = make_settings(
        tmp_path, workers=1, job_heartbeat_timeout=60, database_url=database.url
    )
    orphan = claim_as(repository, dead_local_worker()).id
    foreign = claim_as(repository, "elsewhere:1").id
    silent = claim_as(repository, "elsewhere:2").id
    age_heartbeat(database, silent, 120)
    queued = repository.create_job(QUICK_CONFIG)
    async with serve(settings) as client:
        recovered = (await client.get(f"/jobs/{orphan}")).json()
        assert (recovered["status"], recovered["error"]) == ("failed", INTERRUPTED_REASON)
        # Another host's worker that still beats keeps its job.
        assert (await client.get(f"/jobs/{foreign}")).json()["status"] == "running"
        stale = (await client.get(f"/jobs/{silent}")).json()
        assert stale["status"] == "failed"
        assert stale["error"] == silent_worker_reason(60)
        assert "no heartbeat from its worker for 60 s" in stale["error"]
        assert (await await_job(client, queued.id))["status"] == "succeeded"


async def test_abandoned_jobs_are_failed_while_the_server_runs(
    database: Database, repository: Repository
) -> None:
    runner = LocalRunner(
        database_url=database.url,
        repository=repository,
        workers=0,
        log_level="warning",
        interrupted_reason=INTERRUPTED_REASON,
        heartbeat_timeout=60,
        recovery_seconds=0.1,
    )
    runner.start()
    try:
        gone_worker = dead_local_worker()
        orphan = claim_as(repository, gone_worker).id
        silent = claim_as(repository, "elsewhere:2").id
        age_heartbeat(database, silent, 120)
        beating = claim_as(repository, "elsewhere:3").id
        with anyio.fail_after(30):
            while {repository.get_job(orphan).status, repository.get_job(silent).status} != {
                JobStatus.FAILED
            }:
                await anyio.sleep(0.05)
        assert repository.get_job(orphan).error == gone_worker_reason(gone_worker)
        assert gone_worker in (repository.get_job(orphan).error or "")
        assert repository.get_job(silent).error == silent_worker_reason(60)
        assert repository.get_job(beating).status is JobStatus.RUNNING
    finally:
        runner.stop()


def test_a_heartbeat_refreshes_the_job_without_changing_its_progress(
    repository: Repository, database: Database
) -> None:
    job = repository.create_job(QUICK_CONFIG)
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    repository.record_progress(
        job.id, claimed.lease, epoch=3, epochs=100, loss=0.5, validation_loss=None
    )
    age_heartbeat(database, job.id, 120)
    aged = repository.get_job(job.id)
    assert repository.heartbeat(job.id, claimed.lease)
    beaten = repository.get_job(job.id)
    assert aged.progress_at is not None
    assert beaten.progress_at is not None
    assert beaten.progress_at > aged.progress_at
    assert (beaten.status, beaten.epoch, beaten.loss) == (JobStatus.RUNNING, 3, 0.5)


def test_silent_jobs_fail_and_beating_ones_run_on(
    repository: Repository, database: Database
) -> None:
    silent, beating, queued = (repository.create_job(QUICK_CONFIG) for _ in range(3))
    for worker in ("elsewhere:1", "elsewhere:2"):
        assert repository.claim_next_job(worker) is not None
    assert repository.running_workers() == ["elsewhere:1", "elsewhere:2"]
    age_heartbeat(database, silent.id, 120)
    age_heartbeat(database, beating.id, 30)
    failed = repository.fail_silent_jobs(utc_now() - timedelta(seconds=60), "silent")
    assert failed == [silent.id]
    assert (repository.get_job(silent.id).status, repository.get_job(silent.id).error) == (
        JobStatus.FAILED,
        "silent",
    )
    assert repository.get_job(beating.id).status is JobStatus.RUNNING
    assert repository.get_job(queued.id).status is JobStatus.QUEUED
    assert repository.running_workers() == ["elsewhere:2"]


def test_processes_recovering_at_once_fail_each_silent_job_once(
    repository: Repository, database: Database
) -> None:
    silent = [claim_as(repository, f"elsewhere:{n}").id for n in range(20)]
    for job_id in silent:
        age_heartbeat(database, job_id, 120)
    recoverers = 4
    start_together = threading.Barrier(recoverers, timeout=60)

    def recover(_n: int) -> list[str]:
        start_together.wait()
        return repository.fail_silent_jobs(utc_now() - timedelta(seconds=60), "silent")

    with ThreadPoolExecutor(max_workers=recoverers) as pool:
        results = list(pool.map(recover, range(recoverers)))
    every_failure = [job_id for failed in results for job_id in failed]
    assert sorted(every_failure) == sorted(silent)
    assert repository.running_workers() == []


def test_failing_a_dead_workers_jobs_leaves_the_others(repository: Repository) -> None:
    first, second = repository.create_job(QUICK_CONFIG), repository.create_job(QUICK_CONFIG)
    finished = repository.create_job(QUICK_CONFIG)
    repository.claim_next_job("host:1")
    repository.claim_next_job("host:2")
    claimed = repository.claim_next_job("host:2")
    assert claimed is not None
    assert repository.finish_job(finished.id, claimed.lease, JobStatus.CANCELLED)
    assert repository.fail_jobs_of_worker("host:2", "died") == [second.id]
    assert repository.get_job(first.id).status is JobStatus.RUNNING
    assert repository.get_job(second.id).error == "died"
    assert repository.get_job(finished.id).status is JobStatus.CANCELLED


def test_a_heartbeat_beats_until_the_job_ends_or_its_lease_is_lost(
    repository: Repository, database: Database
) -> None:
    job = claim_as(repository, "tester:1")
    age_heartbeat(database, job.id, 120)
    aged = repository.get_job(job.id).progress_at
    deadline = time.monotonic() + 30
    with beating(repository, job, lambda: False) as heartbeat:
        while heartbeat.beats < 2:
            assert time.monotonic() < deadline, "no heartbeat was written"
            time.sleep(0.01)
    assert heartbeat.ended.is_set()
    beaten = repository.get_job(job.id)
    assert aged is not None
    assert beaten.progress_at is not None
    assert beaten.progress_at > aged
    assert (beaten.status, beaten.epoch) == (JobStatus.RUNNING, 0)

    assert repository.fail_jobs_of_worker("tester:1", "taken away") == [job.id]
    with beating(repository, job, lambda: False) as lost:
        assert lost.ended.wait(30)
    assert lost.beats == 0
    other = claim_as(repository, "tester:2")
    with beating(repository, other, lambda: True) as orphaned:
        assert orphaned.ended.wait(30)
    assert orphaned.beats == 0


def beating(
    repository: Repository,
    job: ClaimedJob,
    interrupted: Callable[[], bool],
    liveness: Liveness | None = None,
    on_hung: Callable[[float], None] | None = None,
) -> Heartbeat:
    """A heartbeat of ``job`` that beats every 10 ms and takes a 60 s silence for a hang."""
    return Heartbeat(
        repository,
        job.id,
        job.lease,
        interrupted,
        liveness or Liveness(),
        interval=0.01,
        hung_after=60,
        on_hung=on_hung,
    )


def wait_for_beats(heartbeat: Heartbeat, beats: int) -> None:
    deadline = time.monotonic() + 30
    while heartbeat.beats < beats:
        assert not heartbeat.ended.is_set(), "the heartbeat stopped"
        assert time.monotonic() < deadline, "no heartbeat was written"
        time.sleep(0.01)


def test_a_heartbeat_stops_once_the_training_has_long_shown_no_progress(
    repository: Repository,
) -> None:
    job = claim_as(repository, "tester:1")
    now = [1000.0]
    liveness = Liveness(clock=lambda: now[0])
    hung_for: list[float] = []
    with beating(repository, job, lambda: False, liveness, hung_for.append) as heartbeat:
        wait_for_beats(heartbeat, 2)
        # Progress within the window keeps it beating, however long the job runs.
        for _ in range(3):
            now[0] += 50
            liveness.touch()
            wait_for_beats(heartbeat, heartbeat.beats + 2)
        now[0] += 61
        # It stops by itself, while the (hung) job is still inside the block.
        assert heartbeat.ended.wait(30)
    assert hung_for == [61.0]


def _hung_worker_process(database_url: str, job_id: str, lease: str) -> None:
    """What a worker process does once its heartbeat finds the training hung."""
    give_up_hung(Repository(Database(database_url)), job_id, lease, 700.0)


def test_a_hung_worker_fails_its_job_and_exits_for_a_fresh_one(repository: Repository) -> None:
    job = claim_as(repository, "tester:1")
    process = multiprocessing.get_context("spawn").Process(
        target=_hung_worker_process, args=(repository.database.url, job.id, job.lease)
    )
    process.start()
    process.join(60)
    assert process.exitcode == HUNG_EXIT_CODE
    stored = repository.get_job(job.id)
    assert (stored.status, stored.error) == (JobStatus.FAILED, hung_reason(700.0))


def test_progress_callbacks_show_the_training_is_alive(repository: Repository) -> None:
    job = claim_as(repository, "tester:1")
    now = [0.0]
    liveness = Liveness(clock=lambda: now[0])
    reporter = ProgressReporter(repository, job, lambda: False, liveness)
    now[0] = 30.0
    assert liveness.silent_seconds() == 30
    assert not reporter.should_cancel()
    assert liveness.silent_seconds() == 0
    now[0] = 45.0
    loss_history = np.array([0.7, 0.6])
    reporter.on_progress(
        Progress(
            epoch=2,
            epochs=10,
            loss=0.6,
            validation_loss=None,
            validation_accuracy=None,
            loss_history=loss_history,
            validation_loss_history=None,
            elapsed_seconds=1.0,
        )
    )
    assert liveness.silent_seconds() == 0
    assert repository.get_job(job.id).epoch == 2


def test_a_worker_name_says_where_its_process_runs() -> None:
    me = identity_of(worker_name(os.getpid()))
    assert me.pid == os.getpid()
    assert me.host == socket.gethostname()
    assert me.pid_namespace == os.stat("/proc/self/ns/pid").st_ino
    assert me.is_local()
    assert not worker_is_gone(me.name)
    assert local_pid(me.name) == os.getpid()
    # The pid comes last, where names of the older ``host:pid`` form have it.
    assert me.name.rsplit(":", 1)[1] == str(os.getpid())
    for not_a_name in (f"{me.host}:{os.getpid()}", "elsewhere:1", "a:b:c:d:e", "", ":::::"):
        assert parse_worker_name(not_a_name) is None


def test_a_process_start_time_is_read_whatever_its_command_name() -> None:
    ticks_per_second = os.sysconf("SC_CLK_TCK")
    before = time.clock_gettime(time.CLOCK_BOOTTIME) * ticks_per_second
    # The command name is free text: it may hold spaces and parentheses.
    rename = "open('/proc/self/comm', 'w').write('a) (b c'); import sys; sys.stdin.read()"
    process = subprocess.Popen([sys.executable, "-c", rename], stdin=subprocess.PIPE)
    after = time.clock_gettime(time.CLOCK_BOOTTIME) * ticks_per_second
    try:
        started = process_start_ticks(process.pid)
        assert started is not None
        assert before - 1 <= started <= after + 1
    finally:
        process.communicate(b"")


def test_without_proc_a_worker_is_named_host_pid_and_judged_by_heartbeat_only(
    monkeypatch: pytest.MonkeyPatch, repository: Repository
) -> None:
    monkeypatch.setattr(identity, "process_start_ticks", lambda _pid: None)
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    name = worker_name(process.pid)
    assert name == f"{socket.gethostname()}:{process.pid}"
    assert not worker_is_gone(name)
    job = claim_as(repository, name).id
    assert JobRecovery(repository, 60).recover() == []
    assert repository.get_job(job).status is JobStatus.RUNNING


def test_recovery_judges_pids_only_of_this_host_boot_and_pid_namespace(
    repository: Repository,
) -> None:
    me = identity_of(worker_name(os.getpid()))
    gone = dead_local_worker()
    gone_identity = identity_of(gone)
    workers = {
        "gone": gone,
        # Another container with host networking: same host name, another PID namespace.
        "other namespace": replace(gone_identity, pid_namespace=me.pid_namespace + 1).name,
        "other boot": replace(gone_identity, boot="otherboot").name,
        # This pid now belongs to another process (here: this one, started at another time).
        "reused pid": replace(me, start_ticks=me.start_ticks + 1).name,
        "running": me.name,
        # Names already in older databases: host:pid, judged by heartbeat only.
        "old form": f"{me.host}:{gone_identity.pid}",
        "other host": replace(gone_identity, host="elsewhere").name,
    }
    jobs = {label: claim_as(repository, worker).id for label, worker in workers.items()}
    failed = JobRecovery(repository, 60).recover()
    assert sorted(failed) == sorted([jobs["gone"], jobs["reused pid"]])
    for label in ("gone", "reused pid"):
        assert repository.get_job(jobs[label]).error == gone_worker_reason(workers[label])
    for label in ("other namespace", "other boot", "running", "old form", "other host"):
        assert repository.get_job(jobs[label]).status is JobStatus.RUNNING, label
