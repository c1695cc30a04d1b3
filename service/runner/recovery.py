"""Recovery of abandoned running jobs: their worker process is gone, or it is silent.

Several API processes and worker hosts may share one database, so a process only fails the
jobs it can tell are abandoned: those claimed by a process of its own host, boot and PID
namespace that no longer exists (or whose pid now belongs to another process; see
:mod:`service.runner.identity`), and those whose heartbeat is older than the time-to-live
(whatever their worker). A job of any other worker that still beats is left alone. Clocks of
the hosts sharing a database are assumed to agree to well within the time-to-live.
"""

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta

from service.domain.heartbeats import DEFAULT_HEARTBEAT_TIMEOUT_SECONDS
from service.runner.identity import worker_is_gone
from service.store.repository import Repository
from service.store.tables import utc_now

logger = logging.getLogger("planenet.recovery")


def gone_worker_reason(worker: str) -> str:
    """The error of a job whose worker process on this host no longer exists."""
    return f"interrupted: its worker process ({worker}) is gone; start it again"


def silent_worker_reason(heartbeat_timeout: float) -> str:
    """The error of a job whose worker has not written a heartbeat within the time-to-live."""
    return (
        f"no heartbeat from its worker for {heartbeat_timeout:g} s "
        "(the worker stopped, hung or lost the database); start it again"
    )


@dataclass(frozen=True)
class JobRecovery:
    """Fails abandoned running jobs; run at start-up and then every few seconds."""

    repository: Repository
    heartbeat_timeout: float = DEFAULT_HEARTBEAT_TIMEOUT_SECONDS

    def recover(self, gone_reason: str | None = None, spare: Collection[str] = ()) -> list[str]:
        """Fail the abandoned running jobs; returns their ids.

        ``gone_reason`` is the error of a job whose local worker process is gone (by default
        one naming the worker); workers named in ``spare`` are skipped by that rule (their
        owner deals with them).
        """
        failed: list[str] = []
        for worker in self.repository.running_workers():
            if worker in spare or not worker_is_gone(worker):
                continue
            reason = gone_reason or gone_worker_reason(worker)
            failed += self.repository.fail_jobs_of_worker(worker, reason)
        silent_since = utc_now() - timedelta(seconds=self.heartbeat_timeout)
        failed += self.repository.fail_silent_jobs(
            silent_since, silent_worker_reason(self.heartbeat_timeout)
        )
        if failed:
            logger.warning("marked abandoned jobs failed", extra={"job_ids": failed})
        return failed
