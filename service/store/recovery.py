"""Recovery in the store: fail the running jobs whose worker is gone or has fallen silent.

A job's worker is named by :func:`service.runner.identity.worker_name`; its heartbeat is
``progress_at``, refreshed by every progress write and every few seconds while the worker
holds the job. Failing a job clears its lease, so a straggler that still runs it cannot write
it any more. Each job is failed by a conditional update that re-checks its condition, so a
heartbeat that arrives in between wins, and several processes may recover at once.
"""

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update

from service.domain.jobs import JobStatus
from service.store.database import Database
from service.store.jobs import rowcount
from service.store.tables import JobRow, utc_now


class RecoveryStore:
    """Finding and failing abandoned running jobs over one :class:`Database`."""

    database: Database

    def running_workers(self) -> list[str]:
        """The distinct ``worker`` names of the running jobs."""
        query = select(JobRow.worker).where(JobRow.status == JobStatus.RUNNING).distinct()
        with self.database.reading() as session:
            return sorted(worker for worker in session.scalars(query) if worker is not None)

    def fail_jobs_of_worker(self, worker: str, reason: str) -> list[str]:
        """Mark ``failed`` the running jobs claimed by ``worker`` (a process that is gone)."""
        return self._fail_running(JobRow.worker == worker, reason)

    def fail_silent_jobs(self, silent_since: datetime, reason: str) -> list[str]:
        """Mark ``failed`` the running jobs with no heartbeat since ``silent_since``."""
        silent = or_(JobRow.progress_at.is_(None), JobRow.progress_at < silent_since)
        return self._fail_running(silent, reason)

    def _fail_running(self, condition: ColumnElement[bool], reason: str) -> list[str]:
        """Fail the running jobs matching ``condition``, each only if it still matches.

        Jobs are updated in the order of their ids, so processes recovering at once on
        PostgreSQL lock the rows in the same order and never deadlock.
        """
        matching = (JobRow.status == JobStatus.RUNNING, condition)
        candidates = select(JobRow.id).where(*matching).order_by(JobRow.id)
        failed: list[str] = []
        with self.database.writing() as session:
            for job_id in session.scalars(candidates).all():
                marked = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, *matching)
                    .values(
                        status=JobStatus.FAILED, error=reason, finished_at=utc_now(), lease=None
                    )
                )
                if rowcount(marked) == 1:
                    failed.append(job_id)
        return failed
