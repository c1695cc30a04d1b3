"""The database tables: training jobs, the models they produce, registered names and aliases."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from service.domain.jobs import JobStatus


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        in_utc = value.astimezone(UTC)
        return in_utc.replace(tzinfo=None) if dialect.name == "sqlite" else in_utc

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the PlaneNet tables."""


class JobRow(Base):
    """One training job: its request, its status and progress, and who (which lease) runs it.

    ``lease`` is a fresh token set when a worker claims the job; every write a worker makes
    names it, so a worker whose job was failed or re-assigned meanwhile cannot overwrite it.
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.QUEUED)
    name: Mapped[str | None] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    training_data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    initial_parameters: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    epoch: Mapped[int] = mapped_column(default=0)
    epochs: Mapped[int] = mapped_column(default=0)
    loss: Mapped[float | None] = mapped_column(Float)
    validation_loss: Mapped[float | None] = mapped_column(Float)
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many chunks of loss history are stored (see LossChunkRow): the next chunk's ``seq``.
    history_version: Mapped[int] = mapped_column(default=0, server_default="0")
    cancel_requested: Mapped[bool] = mapped_column(default=False)
    error: Mapped[str | None] = mapped_column(Text)
    model_id: Mapped[str | None] = mapped_column(String(32))
    lease: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(200))
    # Parameter snapshots (revision 0002): the newest parameters, written with every progress
    # write, and the scheduled ones for a replay, written with the loss history.
    snapshot_epoch: Mapped[int | None] = mapped_column()
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    snapshots: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    __table_args__ = (
        Index("ix_jobs_created_at", "created_at"),
        Index("ix_jobs_status_created_at", "status", "created_at"),
    )


class LossChunkRow(Base):
    """A run of a running job's loss history: the losses from epoch ``first_epoch + 1`` on.

    A worker appends one chunk with the epochs since its previous one, so a progress write costs
    the same at any epoch. A job's history is its chunks in ``seq`` order, each laid from its
    ``first_epoch`` on (a chunk that starts earlier replaces what it overlaps).
    """

    __tablename__ = "job_loss_chunks"

    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_epoch: Mapped[int]
    history: Mapped[bytes] = mapped_column(LargeBinary)


class ModelRow(Base):
    """One trained model: its configuration and metrics, and its arrays as the core's bytes."""

    __tablename__ = "models"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="SET NULL"))
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON)
    parameters: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    loss_history: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    datasets: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # The training's parameter snapshots (revision 0003); null for models trained before it.
    snapshots: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    # The version under ``name`` (null for a model without a registrable name).
    version: Mapped[int | None] = mapped_column()
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, str] | None] = mapped_column(JSON)

    __table_args__ = (
        Index("ix_models_created_at", "created_at"),
        UniqueConstraint("name", "version", name="uq_models_name_version"),
    )


class RegisteredModelRow(Base):
    """A registered name: its description and tags, and the last version number it issued.

    ``last_version`` only grows, so a version number is never reused, even after deletes.
    """

    __tablename__ = "registered_models"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_version: Mapped[int] = mapped_column(default=0)
    description: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[dict[str, str] | None] = mapped_column(JSON)


class ModelAliasRow(Base):
    """An alias of a registered name pointing at one of its versions (one row per alias)."""

    __tablename__ = "model_aliases"

    name: Mapped[str] = mapped_column(
        ForeignKey("registered_models.name", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
