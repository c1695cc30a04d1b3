"""The worker process: claim the oldest queued job, run it, and repeat until told to stop."""

import contextlib
import logging
import multiprocessing.queues
import os
import queue
import signal
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.synchronize import Event

from threadpoolctl import threadpool_limits

from service.domain.jobs import JobStatus
from service.log import configure_logging
from service.runner.identity import worker_name
from service.runner.job import INTERNAL_FAILURE, run_job
from service.store.database import Database
from service.store.repository import Repository

logger = logging.getLogger("planenet.worker")

HUNG_EXIT_CODE = 3
"""Exit status of a worker process that gave up on a hung training."""

WORKER_NICENESS = 10
"""How much lower than the API's the workers' CPU priority is: training is batch work, and
on a machine with as many workers as cores the API must still answer promptly."""


@dataclass(frozen=True)
class WorkerOptions:
    """What a worker process is started with (picklable, for ``spawn``)."""

    database_url: str
    parent_pid: int
    log_level: str
    interrupted_reason: str
    poll_seconds: float


def worker_main(
    options: WorkerOptions, wake: "multiprocessing.queues.Queue[str | None]", stop: Event
) -> None:
    """Entry point of a worker process (started with ``spawn``).

    Claims queued jobs oldest first and runs them one at a time. It waits on ``wake`` (one
    message per submitted job) or polls every ``poll_seconds``, and returns when ``stop``
    is set or when its parent process has died, abandoning a running job as interrupted.
    """
    # Ctrl-C reaches the whole process group (and a service manager may send SIGTERM to the
    # whole group too): the parent decides how the workers stop, through ``stop``.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.nice(WORKER_NICENESS)
    use_one_math_thread()
    configure_logging(options.log_level)
    database = Database(options.database_url)
    repository = Repository(database)
    name = worker_name(os.getpid())

    def interrupted() -> bool:
        return stop.is_set() or os.getppid() != options.parent_pid

    logger.info("worker started", extra={"worker": name})
    try:
        while not interrupted():
            if not _run_next_job(repository, name, interrupted, options):
                with contextlib.suppress(queue.Empty):
                    wake.get(timeout=options.poll_seconds)
    finally:
        database.dispose()
        logger.info("worker stopped", extra={"worker": name})


def use_one_math_thread() -> None:
    """Run this process's NumPy maths (BLAS, OpenMP) on one thread, whatever the environment says.

    A machine runs one worker per core, and each trains one job: BLAS pools of several
    threads per worker fight over the same cores, and two jobs together then train far slower
    than one alone. The limit holds for the life of the process.
    """
    threadpool_limits(limits=1)


def _run_next_job(
    repository: Repository, name: str, interrupted: Callable[[], bool], options: WorkerOptions
) -> bool:
    """Claim and run the oldest queued job; False when there was none to claim."""
    try:
        job = repository.claim_next_job(name)
    except Exception:
        logger.exception("could not claim a job", extra={"worker": name})
        return False
    if job is None:
        return False
    try:
        run_job(
            repository,
            job,
            interrupted,
            options.interrupted_reason,
            on_hung=lambda seconds: give_up_hung(repository, job.id, job.lease, seconds),
        )
    except Exception:
        logger.exception("could not record the end of a job", extra={"job_id": job.id})
        _fail_quietly(repository, job.id, job.lease)
    return True


def hung_reason(seconds: float) -> str:
    """The error of a job whose training showed no progress for ``seconds``."""
    return f"the training showed no progress for {seconds:.0f} s and was stopped; start it again"


def give_up_hung(repository: Repository, job_id: str, lease: str, seconds: float) -> None:
    """Fail the hung job and end this process at once, from the heartbeat thread.

    The training thread cannot be stopped from outside, so the process exits and its
    runner starts a fresh worker in its place; the job is failed first, with the reason,
    as long as the store can still be reached.
    """
    try:
        repository.finish_job(job_id, lease, JobStatus.FAILED, hung_reason(seconds))
    except Exception:
        logger.exception("could not mark the hung job failed", extra={"job_id": job_id})
    logger.error("exiting a hung worker process", extra={"job_id": job_id})
    logging.shutdown()
    os._exit(HUNG_EXIT_CODE)


def _fail_quietly(repository: Repository, job_id: str, lease: str) -> None:
    """One more attempt to mark a job failed; if the store is still down, the next start-up will."""
    try:
        repository.finish_job(job_id, lease, JobStatus.FAILED, INTERNAL_FAILURE)
    except Exception:
        logger.exception("could not mark the job failed", extra={"job_id": job_id})
