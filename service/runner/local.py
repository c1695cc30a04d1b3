"""LocalRunner: N long-lived worker processes (``spawn``) on this machine, watched and replaced."""

import contextlib
import logging
import multiprocessing
import multiprocessing.queues
import os
import queue
import threading
import time
from multiprocessing.process import BaseProcess

from service.domain.heartbeats import DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
from service.runner.base import RunnerHealth
from service.runner.identity import worker_name
from service.runner.recovery import JobRecovery
from service.runner.worker import WorkerOptions, worker_main
from service.store.repository import Repository

MONITOR_SECONDS = 0.5
POLL_SECONDS = 1.0
RECOVERY_SECONDS = 5.0
STOP_GRACE_SECONDS = 5.0
RESTART_BACKOFF_SECONDS = 1.0

logger = logging.getLogger("planenet.runner")


class LocalRunner:
    """Runs jobs in ``workers`` processes that claim them from the store.

    Processes are started with the ``spawn`` method: never ``fork``, since the API process
    runs threads. ``submit`` puts a token on a queue so an idle worker wakes at once; workers
    also poll the store, so the queue holds at most one token per worker (none without
    workers). A monitor thread replaces a worker that died and marks its job failed, and
    every ``recovery_seconds`` fails the abandoned jobs of any process (see
    :class:`JobRecovery`), with or without workers here. ``stop`` asks workers to stop (a
    running job is marked failed as interrupted), then kills any that do not within a few
    seconds.
    """

    def __init__(
        self,
        *,
        database_url: str,
        repository: Repository,
        workers: int,
        log_level: str,
        interrupted_reason: str,
        poll_seconds: float = POLL_SECONDS,
        heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS,
        recovery_seconds: float = RECOVERY_SECONDS,
        listen: bool = True,
    ) -> None:
        self.database_url = database_url
        self.repository = repository
        self.workers = workers
        self.log_level = log_level
        self.interrupted_reason = interrupted_reason
        self.poll_seconds = poll_seconds
        self.recovery = JobRecovery(repository, heartbeat_timeout)
        self.recovery_seconds = recovery_seconds
        self._options = WorkerOptions(
            database_url=database_url,
            parent_pid=os.getpid(),
            log_level=log_level,
            interrupted_reason=interrupted_reason,
            poll_seconds=poll_seconds,
            listen=listen,
        )
        self._context = multiprocessing.get_context("spawn")
        self._wake: multiprocessing.queues.Queue[str | None] = self._context.Queue(
            maxsize=max(1, workers)
        )
        self._stop = self._context.Event()
        self._processes: list[BaseProcess] = []
        # The store names of the workers (by pid), taken while each is certainly unreaped.
        self._names: dict[int, str] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._monitor: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            self._processes = [self._spawn() for _ in range(self.workers)]
        self._monitor = threading.Thread(
            target=self._watch, name="planenet-worker-monitor", daemon=True
        )
        self._monitor.start()

    def _spawn(self) -> BaseProcess:
        process = self._context.Process(
            target=worker_main,
            args=(self._options, self._wake, self._stop),
            name="planenet-worker",
            daemon=True,
        )
        process.start()
        if process.pid is not None:
            self._names[process.pid] = worker_name(process.pid)
        logger.info("worker process started", extra={"pid": process.pid})
        return process

    def submit(self, job_id: str) -> None:
        """Wake an idle worker; a no-op without workers here or when enough tokens wait."""
        if self.workers:
            self._put_wake(job_id)

    def _put_wake(self, token: str | None) -> None:
        with contextlib.suppress(queue.Full):
            self._wake.put_nowait(token)

    @property
    def wake_queue(self) -> "multiprocessing.queues.Queue[str | None]":
        """The queue that wakes idle workers, for API processes that submit to this pool."""
        return self._wake

    def health(self) -> RunnerHealth:
        with self._lock:
            alive = sum(process.is_alive() for process in self._processes)
        return RunnerHealth(expected=self.workers, alive=alive)

    def pids(self) -> list[int]:
        """Process ids of the current workers (for operators and tests)."""
        with self._lock:
            return [process.pid for process in self._processes if process.pid is not None]

    def _watch(self) -> None:
        last_restart = last_recovery = 0.0
        while not self._stopping.wait(MONITOR_SECONDS):
            with self._lock:
                dead = [p for p in self._processes if not p.is_alive()]
            if dead and time.monotonic() - last_restart >= RESTART_BACKOFF_SECONDS:
                last_restart = time.monotonic()
                for process in dead:
                    self._replace(process)
            if time.monotonic() - last_recovery >= self.recovery_seconds:
                last_recovery = time.monotonic()
                self._recover()

    def _recover(self) -> None:
        """Fail abandoned jobs, leaving those of this runner's own workers to ``_replace``."""
        with self._lock:
            own_workers = set(self._names.values())
        try:
            self.recovery.recover(spare=own_workers)
        except Exception:
            logger.exception("could not recover abandoned jobs")

    def _replace(self, process: BaseProcess) -> None:
        reason = (
            f"the worker process running this job stopped unexpectedly "
            f"(exit code {process.exitcode}); start the job again"
        )
        logger.error(
            "worker process died", extra={"pid": process.pid, "exitcode": process.exitcode}
        )
        self._fail_jobs_of(process, reason)
        with self._lock:
            if self._stopping.is_set():
                return
            index = self._processes.index(process)
            self._processes[index] = self._spawn()

    def _fail_jobs_of(self, process: BaseProcess, reason: str) -> None:
        with self._lock:
            name = None if process.pid is None else self._names.pop(process.pid, None)
        if name is None:
            return
        try:
            failed = self.repository.fail_jobs_of_worker(name, reason)
        except Exception:
            logger.exception("could not mark a dead worker's jobs failed")
            return
        if failed:
            logger.warning("marked a dead worker's jobs failed", extra={"job_ids": failed})

    def stop(self) -> None:
        self._stopping.set()
        if self._monitor is not None:
            self._monitor.join()
        self._stop.set()
        with self._lock:
            processes = list(self._processes)
        for _ in processes:
            self._put_wake(None)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in processes:
            if process.is_alive():
                logger.warning("killing a worker that did not stop", extra={"pid": process.pid})
                process.kill()
                process.join(STOP_GRACE_SECONDS)
            self._fail_jobs_of(process, self.interrupted_reason)
        self._wake.close()
        self._wake.cancel_join_thread()
