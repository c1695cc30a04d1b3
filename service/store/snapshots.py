"""Snapshots of jobs' progress for live watchers: one read for every watched job, decoding news.

Watchers poll jobs a few times a second while their workers report progress (epoch, loss)
about as often, and append a chunk of loss history about once a second. A snapshot pairs the
progress with the loss history of the same transaction, and reads and decodes only the chunks
stored since the previous snapshot, so a poll costs O(jobs), not O(epochs). The newest
parameters are fetched and decoded only when their epoch changed.
"""

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.arrays import FloatArray
from core.serialization import parameters_from_bytes
from service.domain.errors import NotFound
from service.domain.jobs import JobStatus
from service.domain.records import JobSnapshot, LiveParameters
from service.store.codec import decode_loss_history
from service.store.database import Database
from service.store.history import NO_LOSSES, StoredChunk, chunks_after, laid_end_to_end
from service.store.tables import JobRow

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
        very object back, so a caller can tell news by identity. History chunks are fetched and
        decoded only for the jobs whose history version (their count of chunks) differs from
        the one their previous snapshot was decoded from, and only the chunks after it. Unknown
        ids are left out.
        """
        if not previous:
            return {}
        with self.database.reading() as session:
            rows = session.execute(
                select(*_PROGRESS_COLUMNS).where(JobRow.id.in_(list(previous)))
            ).all()
            stale = {
                row.id: _kept_chunks(kept, row.history_version)
                for row in rows
                if (kept := previous[row.id]) is None or kept.history_version != row.history_version
            }
            news = chunks_after(session, stale)
            live = _new_live_parameters(
                session, [(row.id, row.snapshot_epoch) for row in rows], previous
            )
        snapshots: dict[str, JobSnapshot] = {}
        for row in rows:
            kept = previous[row.id]
            status = JobStatus(row.status)
            if kept is None or row.id in news:
                losses, validation_losses, history_version = _grown(kept, news.get(row.id, []))
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


def _kept_chunks(kept: JobSnapshot | None, history_version: int) -> int:
    """How many of the job's stored chunks the previous snapshot holds (0: read them all)."""
    if kept is None or kept.history_version > history_version:
        return 0
    return kept.history_version


def _grown(
    kept: JobSnapshot | None, chunks: list[StoredChunk]
) -> tuple[FloatArray, FloatArray | None, int]:
    """The previous snapshot's histories with the new chunks laid on, and their version."""
    if kept is None or (chunks and chunks[0].seq == 0):
        losses, validation_losses, version = NO_LOSSES, None, 0
    else:
        losses, validation_losses = kept.losses, kept.validation_losses
        version = kept.history_version
    if chunks:
        # Looked up here, so that tests may count the decodes.
        losses, validation_losses = laid_end_to_end(
            losses, validation_losses, chunks, decode=decode_loss_history
        )
        version = chunks[-1].seq + 1
    return losses, validation_losses, version


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
