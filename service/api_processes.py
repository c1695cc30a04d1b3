"""Several API processes on one port, over one pool of training workers (``--http-workers``).

The ``planenet serve`` process binds the port, runs the training workers (a
:class:`LocalRunner`, which also replaces dead workers and recovers abandoned jobs) and
uvicorn's process supervisor, which starts ``http_workers`` API processes on the shared
socket and replaces any that dies. An API process's runner starts no workers: it wakes the
pool's workers through the pool's own queue and reports the pool's health, which the main
process publishes twice a second, so ``/readyz`` means the same in every API process.
"""

import contextlib
import logging
import multiprocessing
import multiprocessing.queues
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.sharedctypes import Synchronized
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors import Multiprocess

from service.app import INTERRUPTED_REASON, local_runner, served_app
from service.http.server import guarded_protocol
from service.log import configure_logging
from service.routes.hot_paths import HotPaths
from service.runner.base import RunnerHealth
from service.runner.local import MONITOR_SECONDS, LocalRunner
from service.runner.recovery import JobRecovery
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository

logger = logging.getLogger("planenet.serve")

ORPHAN_CHECK_SECONDS = 0.5
"""How often an API process checks that the main process is still there."""

PROCESS_HEALTHCHECK_SECONDS = 30
"""How long an API process may take to answer its supervisor (e.g. importing at start-up on a
busy machine) before it is taken to be hung and replaced."""


@dataclass
class PoolLink:
    """What an API process shares with the worker pool: its wake queue and its health.

    Made in the main process and handed to each API process when it is spawned.
    """

    wake: "multiprocessing.queues.Queue[str | None]"
    expected: "Synchronized[int]"
    alive: "Synchronized[int]"

    def publish(self, health: RunnerHealth) -> None:
        self.expected.value, self.alive.value = health.expected, health.alive


class PoolRunner:
    """The runner of an API process: wakes the main process's workers, reports their health."""

    def __init__(self, link: PoolLink) -> None:
        self.link = link

    def start(self) -> None:
        """Nothing to start: the main process runs the workers."""

    def stop(self) -> None:
        """Nothing to stop: the main process stops the workers and fails their jobs."""

    def submit(self, job_id: str) -> None:
        """Wake an idle worker; workers also poll the store, so a full queue loses nothing."""
        if self.link.expected.value:
            with contextlib.suppress(queue.Full):
                self.link.wake.put_nowait(job_id)

    def health(self) -> RunnerHealth:
        return RunnerHealth(expected=self.link.expected.value, alive=self.link.alive.value)


@dataclass
class ApiAppFactory:
    """Builds the application in an API process (uvicorn calls it there, after the spawn).

    The process also watches the main process: should it die (killed, out of memory), the
    API process stops as on SIGTERM instead of serving on without its workers.
    """

    settings: Settings
    link: PoolLink
    main_pid: int = field(default_factory=os.getpid)

    def __call__(self) -> HotPaths:
        link = self.link
        threading.Thread(
            target=_stop_when_orphaned, args=(self.main_pid,), name="planenet-orphan", daemon=True
        ).start()
        return served_app(self.settings, runner_factory=lambda _s, _r: PoolRunner(link))


def _stop_when_orphaned(main_pid: int) -> None:
    while os.getppid() == main_pid:
        time.sleep(ORPHAN_CHECK_SECONDS)
    logger.warning("the main process is gone: stopping", extra={"main_pid": main_pid})
    os.kill(os.getpid(), signal.SIGTERM)


class ApiProcessConfig(uvicorn.Config):
    """uvicorn's configuration, setting up PlaneNet's logging first in every API process."""

    def __init__(self, settings: Settings, link: PoolLink, server_options: dict[str, Any]) -> None:
        self.planenet_log_level = settings.log_level
        self.deadlines = (settings.header_timeout, settings.body_timeout)
        super().__init__(
            ApiAppFactory(settings, link),
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.http_workers,
            log_config=None,
            log_level=settings.log_level,
            timeout_worker_healthcheck=PROCESS_HEALTHCHECK_SECONDS,
            **server_options,
        )

    def configure_logging(self) -> None:
        configure_logging(self.planenet_log_level)
        super().configure_logging()

    def load(self) -> None:
        """Load in the API process, with the slow-client deadlines: their protocol class is
        made here, since a class made at run time cannot be sent to a spawned process."""
        self.http = guarded_protocol(*self.deadlines)
        super().load()


def serve_api_processes(settings: Settings, server_options: dict[str, Any]) -> int:
    """Serve with ``settings.http_workers`` API processes until stopped; the exit status."""
    database = Database(settings.resolved_database_url)
    try:
        database.upgrade_schema(auto_upgrade=settings.auto_migrate)
        repository = Repository(database)
        JobRecovery(repository, settings.job_heartbeat_timeout).recover(INTERRUPTED_REASON)
        runner = local_runner(settings, repository)
        assert isinstance(runner, LocalRunner)
        context = multiprocessing.get_context("spawn")
        link = PoolLink(runner.wake_queue, context.Value("i", 0), context.Value("i", 0))
        runner.start()
        link.publish(runner.health())
        stop_publishing = threading.Event()
        publisher = threading.Thread(
            target=_publish_health,
            args=(runner, link, stop_publishing),
            name="planenet-pool-health",
            daemon=True,
        )
        publisher.start()
        try:
            return _supervise(settings, link, server_options)
        finally:
            stop_publishing.set()
            publisher.join()
            runner.stop()
    finally:
        database.dispose()


def _publish_health(runner: LocalRunner, link: PoolLink, stop: threading.Event) -> None:
    while not stop.wait(MONITOR_SECONDS):
        link.publish(runner.health())


def _supervise(settings: Settings, link: PoolLink, server_options: dict[str, Any]) -> int:
    """Run uvicorn's supervisor of the API processes until a stop signal; the exit status."""
    config = ApiProcessConfig(settings, link, server_options)
    supervisor = Multiprocess(config, sockets=[config.bind_socket()])
    logger.info(
        "serving", extra={"http_workers": settings.http_workers, "workers": settings.workers}
    )
    supervisor.run()
    failed = any(process.exitcode == STARTUP_FAILURE for process in supervisor.processes)
    return 1 if failed else 0
