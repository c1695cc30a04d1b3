"""Snapshots of a job's progress for live watchers: one consistent read, decoding only news.

Watchers poll a job a few times a second while its worker reports progress (epoch, loss)
about as often, and its whole loss history about once a second. A snapshot pairs the
progress with the loss history of the same transaction, and decodes the history blob only
when the stored blob changed since the previous snapshot, so a poll costs O(1), not
O(epochs), between history writes.
"""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from numpy.typing import NDArray
from sqlalchemy import select

from service.domain import JobStatus
from service.errors import NotFound
from service.store.codec import decode_loss_history
from service.store.database import Database
from service.store.tables import JobRow

FloatArray = NDArray[np.float64]
_NO_HISTORY: FloatArray = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class JobSnapshot:
    """A job's state as last read from the store, with its loss histories (epochs_so_far,).

    ``history_version`` is the stored history's version the arrays were decoded from (0
    before the first history write): what tells the next read whether to decode again.
    """

    status: JobStatus
    epoch: int
    epochs: int
    loss: float | None
    validation_loss: float | None
    model_id: str | None
    error: str | None
    progress_at: datetime | None
    losses: FloatArray
    validation_losses: FloatArray | None
    history_version: int


def job_status(database: Database, job_id: str) -> JobStatus:
    """The job's status alone; :class:`NotFound` for an unknown id."""
    with database.reading() as session:
        status = session.scalar(select(JobRow.status).where(JobRow.id == job_id))
    if status is None:
        raise NotFound("job", job_id)
    return JobStatus(status)


def read_job_snapshot(
    database: Database, job_id: str, previous: JobSnapshot | None = None
) -> JobSnapshot:
    """Read a job's progress and loss history in one read transaction.

    The history is never older than the progress beside it (it is read second, and on
    SQLite from the same snapshot of the database).

    Returns ``previous`` itself when nothing it holds changed, so a caller can tell news by
    identity. The history blob is fetched and decoded only when its version (bumped by
    every write of it) differs from the one ``previous`` was decoded from.

    Raises :class:`NotFound` for an unknown id.
    """
    query = select(
        JobRow.status,
        JobRow.epoch,
        JobRow.epochs,
        JobRow.loss,
        JobRow.validation_loss,
        JobRow.model_id,
        JobRow.error,
        JobRow.progress_at,
        JobRow.history_version,
    ).where(JobRow.id == job_id)
    with database.reading() as session:
        row = session.execute(query).one_or_none()
        if row is None:
            raise NotFound("job", job_id)
        status = JobStatus(row.status)
        kept = _history_to_keep(previous, row.history_version)
        if kept is not None and (kept.progress_at, kept.status) == (row.progress_at, status):
            return kept
        if kept is not None:
            losses, validation_losses = kept.losses, kept.validation_losses
            history_version = kept.history_version
        else:
            stored = session.execute(
                select(JobRow.loss_history, JobRow.history_version).where(JobRow.id == job_id)
            ).one()
            losses, validation_losses = _decoded(stored.loss_history)
            history_version = stored.history_version
    return JobSnapshot(
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
    )


def _history_to_keep(previous: JobSnapshot | None, history_version: int) -> JobSnapshot | None:
    """``previous`` when its decoded history is still the stored one, else None."""
    if previous is None or previous.history_version != history_version:
        return None
    return previous


def _decoded(blob: bytes | None) -> tuple[FloatArray, FloatArray | None]:
    """The loss and validation loss arrays of a stored history blob (empty before the first)."""
    if blob is None:
        return _NO_HISTORY, None
    history = decode_loss_history(blob)
    return history.loss, history.validation_loss
