"""Snapshots of jobs' progress for live watchers: one read for every watched job, decoding news.

Watchers poll jobs a few times a second while their workers report progress (epoch, loss)
about as often, and their whole loss history about once a second. A snapshot pairs the
progress with the loss history of the same transaction, and decodes a history blob only
when the stored blob changed since the previous snapshot, so a poll costs O(jobs), not
O(epochs), between history writes. The newest parameters are fetched and decoded only when
their epoch changed.
"""

from collections.abc import Mapping, Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.arrays import FloatArray
from core.serialization import parameters_from_bytes
from service.domain.errors import NotFound
from service.domain.jobs import JobStatus
from service.domain.records import JobSnapshot, LiveParameters
from service.store.codec import decode_loss_history
from service.store.database import Database
from service.store.tables import JobRow

_NO_HISTORY: FloatArray = np.zeros(0, dtype=np.float64)

_PROGRESS_COLUMNS = (
    JobRow.id,
    JobRow.status,
    JobRow.epoch,
    JobRow.epochs,
    JobRow.loss,
    JobRow.validation_loss,
    JobRow.model_id,
    JobRow.error,
    JobRow.progress_at,
    JobRow.history_version,
    JobRow.snapshot_epoch,
)


class SnapshotStore:
    """Reads of job progress for live watchers over one :class:`Database`."""

    database: Database

    def job_status(self, job_id: str) -> JobStatus:
        """The job's status alone; :class:`NotFound` for an unknown id."""
        with self.database.reading() as session:
            status = session.scalar(select(JobRow.status).where(JobRow.id == job_id))
        if status is None:
            raise NotFound("job", job_id)
        return JobStatus(status)

    def job_snapshot(self, job_id: str, previous: JobSnapshot | None = None) -> JobSnapshot:
        """One job's snapshot (see :meth:`job_snapshots`); :class:`NotFound` for an unknown id."""
        found = self.job_snapshots({job_id: previous})
        if job_id not in found:
            raise NotFound("job", job_id)
        return found[job_id]

    def job_snapshots(self, previous: Mapping[str, JobSnapshot | None]) -> dict[str, JobSnapshot]:
        """Snapshots of the jobs named by ``previous``'s keys, read in one transaction.

        A job whose progress, status and history are those of its previous snapshot gets that
        very object back, so a caller can tell news by identity. History blobs are fetched and
        decoded only for the jobs whose history version (bumped by every write of it) differs
        from the one their previous snapshot was decoded from. Unknown ids are left out.
        """
        if not previous:
            return {}
        with self.database.reading() as session:
            rows = session.execute(
                select(*_PROGRESS_COLUMNS).where(JobRow.id.in_(list(previous)))
            ).all()
            stale = [
                row.id
                for row in rows
                if (kept := previous[row.id]) is None or kept.history_version != row.history_version
            ]
            blobs: dict[str, tuple[bytes | None, int]] = {}
            if stale:
                query = select(JobRow.id, JobRow.loss_history, JobRow.history_version)
                for job_id, blob, version in session.execute(query.where(JobRow.id.in_(stale))):
                    blobs[job_id] = (blob, version)
            live = _new_live_parameters(
                session, [(row.id, row.snapshot_epoch) for row in rows], previous
            )
        snapshots: dict[str, JobSnapshot] = {}
        for row in rows:
            kept = previous[row.id]
            status = JobStatus(row.status)
            if row.id in blobs or kept is None:
                blob, history_version = blobs.get(row.id, (None, row.history_version))
                losses, validation_losses = _decoded(blob)
            elif (kept.progress_at, kept.status) == (row.progress_at, status):
                snapshots[row.id] = kept
                continue
            else:
                losses, validation_losses = kept.losses, kept.validation_losses
                history_version = kept.history_version
            snapshots[row.id] = JobSnapshot(
                status=status,
                epoch=row.epoch,
                epochs=row.epochs,
                loss=row.loss,
                validation_loss=row.validation_loss,
                model_id=row.model_id,
                error=row.error,
                progress_at=row.progress_at,
                losses=losses,
                validation_losses=validation_losses,
                history_version=history_version,
                live=live.get(row.id, None if kept is None else kept.live),
            )
        return snapshots


def _decoded(blob: bytes | None) -> tuple[FloatArray, FloatArray | None]:
    """The loss and validation loss arrays of a stored history blob (empty before the first)."""
    if blob is None:
        return _NO_HISTORY, None
    history = decode_loss_history(blob)
    return history.loss, history.validation_loss


def _new_live_parameters(
    session: Session,
    epochs: Sequence[tuple[str, int | None]],
    previous: Mapping[str, JobSnapshot | None],
) -> dict[str, LiveParameters | None]:
    """The newest parameters of the jobs whose snapshot epoch differs from their previous one."""
    changed = []
    for job_id, epoch in epochs:
        kept = previous[job_id]
        kept_epoch = None if kept is None or kept.live is None else kept.live.epoch
        if epoch != kept_epoch:
            changed.append(job_id)
    if not changed:
        return {}
    query = select(JobRow.id, JobRow.snapshot_epoch, JobRow.snapshot)
    found: dict[str, LiveParameters | None] = {}
    for job_id, epoch, blob in session.execute(query.where(JobRow.id.in_(changed))):
        found[job_id] = (
            None
            if epoch is None or blob is None
            else LiveParameters(epoch, parameters_from_bytes(blob))
        )
    return found
