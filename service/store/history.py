"""A job's loss history as chunks: append one per progress write, lay them end to end to read.

A running job's history grows by appending a chunk (the epochs since the previous one) under
the next ``seq``, so a write costs the same at epoch 100 and at epoch 100,000. Readers lay the
chunks in ``seq`` order, each from its ``first_epoch`` on; a live watcher that kept the history
up to some ``seq`` reads only the chunks after it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from core.arrays import FloatArray
from service.domain.records import LossHistory
from service.store.codec import decode_loss_history
from service.store.tables import LossChunkRow

NO_LOSSES: FloatArray = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class StoredChunk:
    """One stored chunk as read: its job, its place and its encoded losses."""

    job_id: str
    seq: int
    first_epoch: int
    history: bytes


def chunks_after(session: Session, after: dict[str, int]) -> dict[str, list[StoredChunk]]:
    """The chunks of each job in ``after`` whose ``seq`` is at least the given one, in order."""
    if not after:
        return {}
    wanted: list[ColumnElement[bool]] = [
        and_(LossChunkRow.job_id == job_id, LossChunkRow.seq >= seq)
        for job_id, seq in after.items()
    ]
    query = (
        select(
            LossChunkRow.job_id, LossChunkRow.seq, LossChunkRow.first_epoch, LossChunkRow.history
        )
        .where(or_(false(), *wanted))
        .order_by(LossChunkRow.job_id, LossChunkRow.seq)
    )
    found: dict[str, list[StoredChunk]] = {job_id: [] for job_id in after}
    for job_id, seq, first_epoch, history in session.execute(query):
        found[job_id].append(StoredChunk(job_id, seq, first_epoch, history))
    return found


def laid_end_to_end(
    losses: FloatArray,
    validation_losses: FloatArray | None,
    chunks: Iterable[StoredChunk],
    decode: Callable[[bytes], LossHistory] = decode_loss_history,
) -> tuple[FloatArray, FloatArray | None]:
    """``losses`` (epochs,) and ``validation_losses`` with each chunk laid from its first epoch."""
    for chunk in chunks:
        piece = decode(chunk.history)
        start = min(chunk.first_epoch, losses.shape[0])
        losses = np.concatenate([losses[:start], piece.loss])
        if piece.validation_loss is None or (validation_losses is None and start > 0):
            validation_losses = None
        else:
            kept = NO_LOSSES if validation_losses is None else validation_losses[:start]
            validation_losses = np.concatenate([kept, piece.validation_loss])
    return losses, validation_losses
