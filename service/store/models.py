"""The store's operations on trained models: read, list, pick the newest, load their arrays."""

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.parameters import Parameters
from core.serialization import parameters_from_bytes
from service.domain.errors import NotFound
from service.domain.records import (
    LossHistory,
    ModelDatasets,
    ModelMetrics,
    ModelRecord,
    RecordPage,
)
from service.domain.training import JobConfig
from service.store.codec import decode_datasets, decode_loss_history
from service.store.database import Database
from service.store.tables import ModelAliasRow, ModelRow


class ModelStore:
    """Models over one :class:`Database`; models are written by ``JobStore.complete_job``."""

    database: Database

    def get_model(self, model_id: str) -> ModelRecord:
        """The model's metadata; :class:`NotFound` otherwise."""
        with self.database.reading() as session:
            return model_records(session, [self._model_row(session, model_id)])[0]

    def model_exists(self, model_id: str) -> bool:
        """Whether a model with this id is stored (a cheap check, no arrays read)."""
        with self.database.reading() as session:
            found = session.scalar(select(ModelRow.id).where(ModelRow.id == model_id))
            return found is not None

    def list_models(self, limit: int = 20, offset: int = 0) -> RecordPage[ModelRecord]:
        """Models newest first, with the total count."""
        query = select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id.desc())
        with self.database.reading() as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            total = session.scalar(select(func.count()).select_from(ModelRow)) or 0
            return RecordPage(model_records(session, rows), total, limit, offset)

    def newest_model(self) -> ModelRecord | None:
        """The most recently trained model (every stored model comes from a succeeded job)."""
        query = select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id.desc()).limit(1)
        with self.database.reading() as session:
            row = session.scalars(query).first()
            return None if row is None else model_records(session, [row])[0]

    def model_parameters(self, model_id: str) -> tuple[ModelRecord, Parameters]:
        """A model's metadata and its parameters, decoded: all that prediction needs."""
        with self.database.reading() as session:
            row = self._model_row(session, model_id)
            record, blob = model_records(session, [row])[0], row.parameters
        return record, parameters_from_bytes(blob)

    def model_loss_history(self, model_id: str) -> LossHistory:
        """A model's loss (and validation loss) per epoch, decoded."""
        with self.database.reading() as session:
            blob = self._model_row(session, model_id).loss_history
        return decode_loss_history(blob)

    def model_datasets(self, model_id: str) -> ModelDatasets:
        """The points a model was trained (and validated) on, decoded."""
        with self.database.reading() as session:
            blob = self._model_row(session, model_id).datasets
        return decode_datasets(blob)

    @staticmethod
    def _model_row(session: Session, model_id: str) -> ModelRow:
        row = session.get(ModelRow, model_id)
        if row is None:
            raise NotFound("model", model_id)
        return row


def model_record(row: ModelRow, aliases: tuple[str, ...] = ()) -> ModelRecord:
    """The typed record of a model row (no arrays), with the aliases pointing at it."""
    return ModelRecord(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        job_id=row.job_id,
        config=JobConfig.model_validate(row.config),
        metrics=ModelMetrics.model_validate(row.metrics),
        version=row.version,
        description=row.description,
        tags=dict(row.tags or {}),
        aliases=aliases,
    )


def model_records(session: Session, rows: Sequence[ModelRow]) -> list[ModelRecord]:
    """The records of model rows, each with the aliases pointing at it (one query)."""
    names = {row.name for row in rows if row.version is not None}
    pointing: dict[tuple[str | None, int | None], list[str]] = defaultdict(list)
    if names:
        aliases = session.execute(
            select(ModelAliasRow.name, ModelAliasRow.version, ModelAliasRow.alias)
            .where(ModelAliasRow.name.in_(names))
            .order_by(ModelAliasRow.alias)
        )
        for name, version, alias in aliases:
            pointing[(name, version)].append(alias)
    return [model_record(row, tuple(pointing.get((row.name, row.version), ()))) for row in rows]
