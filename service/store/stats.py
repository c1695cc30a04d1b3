"""Figures about the jobs of every process sharing the store, for the metrics: counts and times.

Each is one aggregate query, computed by the database at scrape time, so every API process
reports the same store-wide figures whichever process queued, ran or finished the jobs.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, case, func, select

from service.domain.jobs import JobStatus
from service.store.clock import seconds_between
from service.store.database import Database
from service.store.tables import JobRow


@dataclass(frozen=True)
class DurationCounts:
    """A histogram of durations: ``cumulative[i]`` of ``count`` are at most ``bounds[i]`` s."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total_seconds: float


class StatsStore:
    """Aggregates over the jobs table of one :class:`Database`."""

    database: Database

    def job_counts(self) -> dict[JobStatus, int]:
        """How many jobs are in each status (every status present, zero when none)."""
        query = select(JobRow.status, func.count()).group_by(JobRow.status)
        with self.database.reading() as session:
            found = {JobStatus(status): count for status, count in session.execute(query)}
        return {status: found.get(status, 0) for status in JobStatus}

    def busy_workers(self) -> int:
        """How many distinct workers, on any host, are running a job now."""
        query = select(func.count(func.distinct(JobRow.worker))).where(
            JobRow.status == JobStatus.RUNNING
        )
        with self.database.reading() as session:
            return int(session.scalar(query) or 0)

    def queue_waits(self, bounds: Sequence[float]) -> DurationCounts:
        """Seconds each job that was started waited in the queue (created to started)."""
        return self._durations(
            seconds_between(JobRow.created_at, JobRow.started_at),
            JobRow.started_at.is_not(None),
            bounds,
        )

    def training_durations(self, bounds: Sequence[float]) -> DurationCounts:
        """Seconds each succeeded job ran (started to finished)."""
        return self._durations(
            seconds_between(JobRow.started_at, JobRow.finished_at),
            (JobRow.status == JobStatus.SUCCEEDED) & JobRow.started_at.is_not(None),
            bounds,
        )

    def _durations(
        self,
        duration: ColumnElement[float],
        condition: ColumnElement[bool],
        bounds: Sequence[float],
    ) -> DurationCounts:
        durations = select(duration.label("seconds")).where(condition).subquery()
        seconds = durations.c.seconds
        query = select(
            func.count(),
            func.coalesce(func.sum(seconds), 0.0),
            *(func.coalesce(func.sum(case((seconds <= bound, 1), else_=0)), 0) for bound in bounds),
        )
        with self.database.reading() as session:
            count, total, *cumulative = session.execute(query).one()
        return DurationCounts(
            tuple(bounds), tuple(int(n) for n in cumulative), int(count), float(total)
        )
