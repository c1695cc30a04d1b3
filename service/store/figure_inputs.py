"""Reads for the figures of training: a running job's newest parameters, a model's snapshots."""

from sqlalchemy import select

from core.serialization import parameters_from_bytes
from service.domain.errors import NotFound
from service.domain.jobs import JobStatus
from service.domain.records import JobFigureInputs, LiveParameters, ParameterSnapshots
from service.domain.training import JobConfig
from service.store.codec import decode_dataset, decode_snapshots
from service.store.database import Database
from service.store.tables import JobRow, ModelRow


class FigureInputStore:
    """Parameter snapshots over one :class:`Database`; the worker writes them with its progress."""

    database: Database

    def job_figure_inputs(self, job_id: str) -> JobFigureInputs:
        """A job's configuration, points and newest parameters; :class:`NotFound` otherwise."""
        with self.database.reading() as session:
            row = session.get(JobRow, job_id)
            if row is None:
                raise NotFound("job", job_id)
            config, status = JobConfig.model_validate(row.config), JobStatus(row.status)
            data, epoch, blob = row.training_data, row.snapshot_epoch, row.snapshot
        return JobFigureInputs(
            config=config,
            status=status,
            training_data=None if data is None else decode_dataset(data),
            live=None
            if epoch is None or blob is None
            else LiveParameters(epoch, parameters_from_bytes(blob)),
        )

    def model_snapshots(self, model_id: str) -> ParameterSnapshots | None:
        """A model's training snapshots; None for a model trained before they were kept."""
        with self.database.reading() as session:
            found = session.execute(
                select(ModelRow.id, ModelRow.snapshots).where(ModelRow.id == model_id)
            ).first()
        if found is None:
            raise NotFound("model", model_id)
        return None if found.snapshots is None else decode_snapshots(found.snapshots)
