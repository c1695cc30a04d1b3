"""`planenet worker`: local worker processes claiming jobs from a shared database, no HTTP API.

This is the scale-out half of ``planenet serve --workers 0``: any number of these, on any
number of machines, run the jobs that API processes queue in the same database. Each also
recovers abandoned jobs (see :class:`JobRecovery`), at start-up and every few seconds.
"""

import logging
import threading

from service.runner.local import LocalRunner
from service.runner.recovery import JobRecovery
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository

WORKER_INTERRUPTED_REASON = (
    "interrupted: the worker stopped while this job was running; start it again"
)
STOP_CHECK_SECONDS = 1.0

logger = logging.getLogger("planenet.worker")


def run_worker_pool(settings: Settings, stop: threading.Event) -> None:
    """Run ``settings.workers`` worker processes until ``stop`` is set, then stop them.

    Jobs still running when ``stop`` is set are marked failed as interrupted.
    """
    database = Database(settings.resolved_database_url)
    try:
        database.upgrade_schema(auto_upgrade=settings.auto_migrate)
        repository = Repository(database)
        JobRecovery(repository, settings.job_heartbeat_timeout).recover()
        runner = LocalRunner(
            database_url=database.url,
            repository=repository,
            workers=settings.workers,
            log_level=settings.log_level,
            interrupted_reason=WORKER_INTERRUPTED_REASON,
            heartbeat_timeout=settings.job_heartbeat_timeout,
        )
        runner.start()
        logger.info("workers started", extra={"workers": settings.workers, "pids": runner.pids()})
        try:
            while not stop.wait(STOP_CHECK_SECONDS):
                pass
        finally:
            logger.info("workers stopping")
            runner.stop()
    finally:
        database.dispose()
