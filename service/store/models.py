"""The store's operations on trained models: read, list, pick the newest, delete."""

from sqlalchemy import func, select, update

from core.serialization import parameters_from_bytes
from service.errors import NotFound
from service.store.codec import decode_datasets, decode_loss_history
from service.store.database import Database
from service.store.records import ModelArtifacts, ModelRecord, Page
from service.store.tables import JobRow, ModelRow


class ModelStore:
    """Models over one :class:`Database`; models are written by ``JobStore.complete_job``."""

    database: Database

    def get_model(self, model_id: str) -> ModelRecord:
        """The model's metadata; :class:`NotFound` otherwise."""
        with self.database.reading() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                raise NotFound("model", model_id)
            return model_record(row)

    def model_exists(self, model_id: str) -> bool:
        """Whether a model with this id is stored (a cheap check, no arrays read)."""
        with self.database.reading() as session:
            found = session.scalar(select(ModelRow.id).where(ModelRow.id == model_id))
            return found is not None

    def list_models(self, limit: int = 20, offset: int = 0) -> Page[ModelRecord]:
        """Models newest first, with the total count."""
        query = select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id.desc())
        with self.database.reading() as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            total = session.scalar(select(func.count()).select_from(ModelRow)) or 0
            return Page([model_record(row) for row in rows], total, limit, offset)

    def newest_succeeded_model(self) -> ModelRecord | None:
        """The most recently trained model (every stored model comes from a succeeded job)."""
        query = select(ModelRow).order_by(ModelRow.created_at.desc(), ModelRow.id.desc()).limit(1)
        with self.database.reading() as session:
            row = session.scalars(query).first()
            return None if row is None else model_record(row)

    def delete_model(self, model_id: str) -> None:
        """Delete a model; :class:`NotFound` if there is none.

        Its job stays ``succeeded`` (it did train) but loses its ``model_id`` in the same
        transaction, so no job ever points at a model that is gone.
        """
        with self.database.writing() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                raise NotFound("model", model_id)
            session.execute(update(JobRow).where(JobRow.model_id == model_id).values(model_id=None))
            session.delete(row)

    def get_model_artifacts(self, model_id: str) -> tuple[ModelRecord, ModelArtifacts]:
        """A model's metadata with its parameters, loss histories and data, decoded."""
        with self.database.reading() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                raise NotFound("model", model_id)
            record = model_record(row)
            parameters, history, datasets = row.parameters, row.loss_history, row.datasets
        train_set, validation_set = decode_datasets(datasets)
        artifacts = ModelArtifacts(
            parameters=parameters_from_bytes(parameters),
            activation=record.activation,
            loss_history=decode_loss_history(history),
            train_set=train_set,
            validation_set=validation_set,
        )
        return record, artifacts


def model_record(row: ModelRow) -> ModelRecord:
    """The plain record of a model row (no arrays)."""
    return ModelRecord(
        id=row.id,
        name=row.name,
        created_at=row.created_at,
        job_id=row.job_id,
        config=row.config,
        metrics=row.metrics,
    )
