"""The store's operations on jobs: the API side, the worker side (under a lease), and recovery.

Job state changes are conditional updates (``... WHERE status = 'queued'``, ``... AND lease =
:lease``), so concurrent callers (API threads, worker processes, machines sharing a database)
never both win: a job is claimed once, and a worker that lost its lease cannot write.
A running job's ``progress_at`` is its heartbeat: the worker refreshes it with every progress
write and at least every few seconds while it holds the job (see service.store.recovery).
Every time written here is the database's (service.store.clock), never a host's.
"""

import secrets
import threading
import time
from datetime import datetime
from typing import Any

from sqlalchemy import Update, delete, func, select, text, update
from sqlalchemy.orm import Session

from core.dataset import Dataset
from core.parameters import Parameters
from core.serialization import parameters_from_bytes, parameters_to_bytes
from service.domain.errors import LeaseLost, NotFound, QueueFull, WrongState
from service.domain.jobs import QUEUE_RETRY_AFTER_SECONDS, JobStatus, QueueLimit
from service.domain.records import (
    ClaimedJob,
    JobRecord,
    LossHistory,
    ModelRecord,
    NewModel,
    ProgressAck,
    RecordPage,
)
from service.domain.training import JobConfig
from service.store.clock import db_now
from service.store.codec import (
    decode_dataset,
    decode_loss_history,
    encode_dataset,
    encode_loss_history,
)
from service.store.database import Database
from service.store.history import NO_LOSSES, chunks_after, laid_end_to_end
from service.store.models import model_record
from service.store.registry import issue_version
from service.store.tables import JobRow, LossChunkRow, ModelRow, utc_now

CLAIM_ATTEMPTS = 5
JOBS_CHANNEL = "planenet_jobs"
"""The PostgreSQL notification channel on which a new queued job wakes idle workers."""
# The PostgreSQL advisory lock that makes "count the queue, then add a job" one step.
QUEUE_LOCK_KEY = 0x504C414E4551


_id_lock = threading.Lock()
_last_id_time = 0


def new_id() -> str:
    """A fresh id: 32 lowercase hex digits, the first 16 a time that grows with every id.

    Lists order by creation time and then by id, and the store's clock counts milliseconds
    (SQLite's), so ids made in the same millisecond must sort in the order they were made;
    the last 16 digits are random, so an id cannot be guessed from another.
    """
    global _last_id_time  # noqa: PLW0603 - one counter per process, under its lock
    with _id_lock:
        _last_id_time = max(time.time_ns(), _last_id_time + 1)
        stamp = _last_id_time
    return f"{stamp:016x}{secrets.randbits(64):016x}"


class JobStore:
    """Jobs over one :class:`Database`; safe to share between threads."""

    database: Database

    # The API side.

    def create_job(
        self,
        config: JobConfig,
        name: str | None = None,
        training_data: Dataset | None = None,
        initial_parameters: Parameters | None = None,
        queue_limit: QueueLimit | None = None,
    ) -> JobRecord:
        """Store a new ``queued`` job. ``config`` is the training body as run, without the bulky
        arrays, which are kept as bytes: the points given as data and the initial parameters.

        With ``queue_limit``, raises :class:`QueueFull` (storing nothing) when that many jobs are
        queued already. The queue is counted in the transaction that adds the job, under a lock
        every adder takes (SQLite's write lock, a PostgreSQL advisory lock), so the limit holds
        across every process sharing the database. On PostgreSQL the commit also notifies the
        idle workers listening on every host (see service.runner.wakeup).
        """
        row = JobRow(
            id=new_id(),
            status=JobStatus.QUEUED,
            name=name,
            config=config.model_dump(mode="json"),
            training_data=None if training_data is None else encode_dataset(training_data),
            initial_parameters=(
                None if initial_parameters is None else parameters_to_bytes(initial_parameters)
            ),
            created_at=db_now(),
            epochs=config.epochs,
        )
        with self.database.writing() as session:
            if queue_limit is not None:
                _check_queue(session, queue_limit)
            session.add(row)
            session.flush()
            session.refresh(row)
            if not self.database.is_sqlite:
                session.execute(text(f"NOTIFY {JOBS_CHANNEL}"))
            return _job_record(row)

    def delete_job(self, job_id: str) -> None:
        """Delete a finished job and its history; the model it produced stays (unlinked).

        Raises :class:`NotFound` for an unknown id and :class:`WrongState` for a job still
        queued or running (cancel it first).
        """
        with self.database.writing() as session:
            status = session.scalar(select(JobRow.status).where(JobRow.id == job_id))
            if status is None:
                raise NotFound("job", job_id)
            if not JobStatus(status).finished:
                raise WrongState(
                    f"job {job_id!r} is {status}: cancel it first, then delete it once finished"
                )
            _delete_finished(session, [job_id])

    def delete_finished_jobs_before(self, cutoff: datetime) -> int:
        """Delete the finished jobs that finished before ``cutoff``; returns how many."""
        finished = [str(status) for status in JobStatus if status.finished]
        with self.database.writing() as session:
            job_ids = list(
                session.scalars(
                    select(JobRow.id).where(
                        JobRow.status.in_(finished), JobRow.finished_at < cutoff
                    )
                )
            )
            if job_ids:
                _delete_finished(session, job_ids)
            return len(job_ids)

    def get_job(self, job_id: str) -> JobRecord:
        """The job with this id; :class:`NotFound` otherwise."""
        with self.database.reading() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFound("job", job_id)
            return _job_record(row)

    def list_jobs(
        self, limit: int = 20, offset: int = 0, status: JobStatus | None = None
    ) -> RecordPage[JobRecord]:
        """Jobs newest first, optionally only those with ``status``, with the total count."""
        query = select(JobRow)
        count = select(func.count()).select_from(JobRow)
        if status is not None:
            query = query.where(JobRow.status == status)
            count = count.where(JobRow.status == status)
        query = query.order_by(JobRow.created_at.desc(), JobRow.id.desc())
        with self.database.reading() as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            total = session.scalar(count) or 0
            return RecordPage([_job_record(row) for row in rows], total, limit, offset)

    def request_cancel(self, job_id: str) -> JobRecord:
        """Cancel a queued job at once, or ask a running one to stop (its worker checks often).

        Raises :class:`NotFound` for an unknown id and :class:`WrongState` for a finished job.
        Asking twice is harmless.
        """
        now = utc_now()
        with self.database.writing() as session:
            cancelled = session.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED)
                .values(status=JobStatus.CANCELLED, finished_at=now, cancel_requested=True)
            )
            cancelled_now = rowcount(cancelled) == 1
            if not cancelled_now:
                session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == JobStatus.RUNNING)
                    .values(cancel_requested=True)
                )
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFound("job", job_id)
            status = JobStatus(row.status)
            if status.finished and not cancelled_now:
                raise WrongState(
                    f"job {job_id!r} has already finished ({status}); nothing to cancel"
                )
            return _job_record(row)

    def job_loss_history(self, job_id: str) -> LossHistory | None:
        """The loss per epoch recorded so far for a job (None before its first report).

        Raises :class:`NotFound` for an unknown id.
        """
        with self.database.reading() as session:
            if session.scalar(select(JobRow.id).where(JobRow.id == job_id)) is None:
                raise NotFound("job", job_id)
            chunks = chunks_after(session, {job_id: 0})[job_id]
        if not chunks:
            return None
        losses, validation_losses = laid_end_to_end(NO_LOSSES, None, chunks)
        return LossHistory(loss=losses, validation_loss=validation_losses)

    # The worker side. Every write names the lease the claim returned.

    def claim_next_job(self, worker: str) -> ClaimedJob | None:
        """Atomically take the oldest queued job and mark it ``running`` for ``worker``.

        Returns None when nothing is queued. Two workers never claim the same job. On SQLite
        the write transaction holds the database's write lock, so claims take turns; on
        PostgreSQL each claim locks the row it picks and skips those other claims hold, so
        simultaneous claims take different jobs instead of all racing for the oldest one.
        """
        for _attempt in range(CLAIM_ATTEMPTS):
            lease = new_id()
            now = db_now()
            with self.database.writing() as session:
                job_id = session.scalar(
                    select(JobRow.id)
                    .where(JobRow.status == JobStatus.QUEUED)
                    .order_by(JobRow.created_at, JobRow.id)
                    .limit(1)
                    .with_for_update(skip_locked=True)
                )
                if job_id is None:
                    return None
                claimed = session.execute(
                    update(JobRow)
                    .where(JobRow.id == job_id, JobRow.status == JobStatus.QUEUED)
                    .values(
                        status=JobStatus.RUNNING,
                        lease=lease,
                        worker=worker,
                        started_at=now,
                        progress_at=now,
                    )
                )
                if rowcount(claimed) == 1:
                    row = session.get_one(JobRow, job_id)
                    return _claimed_job(row, lease)
        return None

    def record_progress(
        self,
        job_id: str,
        lease: str,
        *,
        epoch: int,
        epochs: int,
        loss: float | None,
        validation_loss: float | None,
        loss_history: bytes | None = None,
        history_start: int = 0,
        snapshot: tuple[int, bytes] | None = None,
        snapshots: bytes | None = None,
    ) -> ProgressAck:
        """Write a running job's progress, and append a chunk of its loss history when given.

        ``loss_history`` holds the losses from epoch ``history_start + 1`` on (the epochs since
        the previous chunk): the write costs the same however long the job has run.
        ``snapshot`` is the newest parameters (epoch, core bytes), ``snapshots`` the scheduled
        ones so far (see :func:`service.store.codec.encode_snapshots`), each when given.

        This is also a heartbeat. Returns whether the lease still holds and whether a cancel
        was asked for.
        """
        values: dict[str, Any] = {
            "epoch": epoch,
            "epochs": epochs,
            "loss": loss,
            "validation_loss": validation_loss,
            "progress_at": db_now(),
        }
        if loss_history is not None:
            values["history_version"] = JobRow.history_version + 1
        if snapshot is not None:
            values["snapshot_epoch"], values["snapshot"] = snapshot
        if snapshots is not None:
            values["snapshots"] = snapshots
        with self.database.writing() as session:
            written = session.execute(
                _held(job_id, lease)
                .values(**values)
                .returning(JobRow.history_version, JobRow.cancel_requested)
            ).first()
            if written is None:
                return ProgressAck(lease_held=False, cancel_requested=False)
            if loss_history is not None:
                _append_chunk(session, job_id, written.history_version, history_start, loss_history)
        return ProgressAck(lease_held=True, cancel_requested=bool(written.cancel_requested))

    def heartbeat(self, job_id: str, lease: str) -> bool:
        """Say the worker still runs the job, without new progress; False once the lease is lost."""
        with self.database.writing() as session:
            written = session.execute(_held(job_id, lease).values(progress_at=db_now()))
            return rowcount(written) == 1

    def complete_job(
        self,
        job_id: str,
        lease: str,
        model: NewModel,
        epochs_run: int,
        final_loss: float | None,
        *,
        history_start: int = 0,
    ) -> ModelRecord:
        """Store the trained model and mark the job ``succeeded`` with its id, in ONE transaction.

        The job's loss history gets its last chunk: the model's from epoch ``history_start + 1``
        on (the epochs its progress writes had not stored yet). A model whose name is
        registrable becomes that name's next version. Raises :class:`LeaseLost` (and writes
        nothing) when the job is no longer this lease's.
        """
        now = utc_now()
        row = ModelRow(
            id=new_id(),
            name=model.name,
            created_at=now,
            job_id=job_id,
            config=model.config.model_dump(mode="json"),
            metrics=model.metrics.model_dump(mode="json"),
            parameters=model.parameters,
            loss_history=model.loss_history,
            datasets=model.datasets,
            snapshots=model.snapshots,
        )
        with self.database.writing() as session:
            marked = session.execute(
                _held(job_id, lease)
                .values(
                    status=JobStatus.SUCCEEDED,
                    model_id=row.id,
                    finished_at=db_now(),
                    progress_at=db_now(),
                    epoch=epochs_run,
                    loss=final_loss,
                    history_version=JobRow.history_version + 1,
                    snapshots=model.snapshots,
                    lease=None,
                )
                .returning(JobRow.history_version)
            ).first()
            if marked is None:
                raise LeaseLost(job_id)
            row.version = issue_version(session, model.name)
            session.add(row)
            tail = _history_tail(model.loss_history, history_start)
            _append_chunk(session, job_id, marked.history_version, history_start, tail)
        return model_record(row)

    def finish_job(
        self, job_id: str, lease: str, status: JobStatus, error: str | None = None
    ) -> bool:
        """Mark a running job ``failed`` or ``cancelled``; False when the lease no longer holds."""
        if status not in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise ValueError(f"finish_job sets failed or cancelled, not {status}")
        with self.database.writing() as session:
            marked = session.execute(
                _held(job_id, lease).values(
                    status=status, error=error, finished_at=db_now(), lease=None
                )
            )
            return rowcount(marked) == 1


def _check_queue(session: Session, limit: QueueLimit) -> None:
    """Raise :class:`QueueFull` when ``limit.jobs`` jobs are queued (counted under a lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": QUEUE_LOCK_KEY})
    queued = session.scalar(
        select(func.count()).select_from(JobRow).where(JobRow.status == JobStatus.QUEUED)
    )
    if (queued or 0) >= limit.jobs:
        raise QueueFull(limit.jobs, limit.setting, QUEUE_RETRY_AFTER_SECONDS)


def _append_chunk(
    session: Session, job_id: str, history_version: int, first_epoch: int, history: bytes
) -> None:
    """Store a chunk under ``history_version - 1``: the seq the UPDATE that bumped it reserved."""
    session.add(
        LossChunkRow(
            job_id=job_id, seq=history_version - 1, first_epoch=first_epoch, history=history
        )
    )


def _delete_finished(session: Session, job_ids: list[str]) -> None:
    """Delete finished jobs, first unlinking their models (which are kept)."""
    session.execute(update(ModelRow).where(ModelRow.job_id.in_(job_ids)).values(job_id=None))
    session.execute(
        delete(JobRow).where(
            JobRow.id.in_(job_ids),
            JobRow.status.in_([str(status) for status in JobStatus if status.finished]),
        )
    )


def _history_tail(history: bytes, start: int) -> bytes:
    """The losses of an encoded history from epoch ``start + 1`` on, encoded (all when 0)."""
    if start <= 0:
        return history
    whole = decode_loss_history(history)
    validation = None if whole.validation_loss is None else whole.validation_loss[start:]
    return encode_loss_history(whole.loss[start:], validation)


def _held(job_id: str, lease: str) -> Update:
    """An UPDATE of a job that only matches while it is running under this lease."""
    return update(JobRow).where(
        JobRow.id == job_id, JobRow.status == JobStatus.RUNNING, JobRow.lease == lease
    )


def rowcount(result: Any) -> int:
    """How many rows an UPDATE matched."""
    return int(result.rowcount)


def _claimed_job(row: JobRow, lease: str) -> ClaimedJob:
    training_data, initial_parameters = row.training_data, row.initial_parameters
    return ClaimedJob(
        id=row.id,
        lease=lease,
        name=row.name,
        config=JobConfig.model_validate(row.config),
        training_data=None if training_data is None else decode_dataset(training_data),
        initial_parameters=(
            None if initial_parameters is None else parameters_from_bytes(initial_parameters)
        ),
    )


def _job_record(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id,
        name=row.name,
        status=JobStatus(row.status),
        config=JobConfig.model_validate(row.config),
        created_at=row.created_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
        epoch=row.epoch,
        epochs=row.epochs,
        loss=row.loss,
        validation_loss=row.validation_loss,
        progress_at=row.progress_at,
        cancel_requested=row.cancel_requested,
        error=row.error,
        model_id=row.model_id,
        worker=row.worker,
    )
