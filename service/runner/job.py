"""Running one claimed job: train with the core, report progress, store the model or the failure.

The same function runs in a local worker process or on another machine against a shared
database: everything it needs comes from the store, and everything it writes names the
lease of its claim, so a job that was failed or re-assigned meanwhile is never overwritten.
"""

import logging
import math
import time
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError

from core.errors import CoreError, TrainingCancelled, TrainingDiverged
from core.serialization import parameters_to_bytes
from core.training import Progress, TrainingResult, evaluate, train
from service.domain.errors import InvalidInput, LeaseLost, StorageUnavailable
from service.domain.heartbeats import HEARTBEAT_SECONDS
from service.domain.jobs import JobStatus
from service.domain.records import ClaimedJob, ModelMetrics, NewModel, ProgressAck
from service.runner.heartbeat import HUNG_TRAINING_SECONDS, Heartbeat, Liveness
from service.runner.plan import PreparedTraining, prepare_training
from service.store.codec import encode_datasets, encode_loss_history
from service.store.repository import Repository

PROGRESS_INTERVAL_SECONDS = 0.25
HISTORY_INTERVAL_SECONDS = 1.0
INTERNAL_FAILURE = "internal error while training; the server log has the details"
STORAGE_FAILURE = (
    "the model could not be stored: the database's storage is full or read-only; "
    "free space and start the job again"
)
FINISH_ATTEMPTS = 30
FINISH_RETRY_SECONDS = 1.0

logger = logging.getLogger("planenet.worker")


class ProgressReporter:
    """The training callbacks: write progress to the store, and say when to stop.

    Training stops when a cancel is requested, when the lease is lost, or when
    ``interrupted()`` turns true (the worker is shutting down or its server died). Every
    callback touches ``liveness``: the heartbeat stops once it has long been silent.
    """

    def __init__(
        self,
        repository: Repository,
        job: ClaimedJob,
        interrupted: Callable[[], bool],
        liveness: Liveness,
    ) -> None:
        self.repository = repository
        self.job = job
        self.interrupted = interrupted
        self.liveness = liveness
        self.ack = ProgressAck(lease_held=True, cancel_requested=False)
        self.was_interrupted = False
        self._history_written_at = 0.0
        self._latest: Progress | None = None
        self._history_epoch = 0

    def on_progress(self, progress: Progress) -> None:
        self.liveness.touch()
        now = time.monotonic()
        self._latest = progress
        write_history = now - self._history_written_at >= HISTORY_INTERVAL_SECONDS
        if write_history:
            self._history_written_at = now
        self._write(progress, write_history)

    def flush_history(self) -> None:
        """Store the loss history up to the last progress report, if not stored yet.

        Called when training ends without a model (cancelled, interrupted, diverged), so
        the job's curve keeps every epoch reported rather than stopping up to a
        history interval earlier.
        """
        if self._latest is not None and self._latest.epoch > self._history_epoch:
            self._write(self._latest, write_history=True)

    def _write(self, progress: Progress, write_history: bool) -> None:
        history = None
        if write_history:
            history = encode_loss_history(progress.loss_history, progress.validation_loss_history)
            self._history_epoch = progress.epoch
        try:
            self.ack = self.repository.record_progress(
                self.job.id,
                self.job.lease,
                epoch=progress.epoch,
                epochs=progress.epochs,
                loss=progress.loss,
                validation_loss=progress.validation_loss,
                loss_history=history,
            )
        except (SQLAlchemyError, StorageUnavailable):
            logger.warning(
                "could not record progress", exc_info=True, extra={"job_id": self.job.id}
            )

    def should_cancel(self) -> bool:
        self.liveness.touch()
        if self.interrupted():
            self.was_interrupted = True
            return True
        return self.ack.cancel_requested or not self.ack.lease_held


def run_job(
    repository: Repository,
    job: ClaimedJob,
    interrupted: Callable[[], bool] = lambda: False,
    interrupted_reason: str = "interrupted: the worker stopped",
    *,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
    hung_after: float = HUNG_TRAINING_SECONDS,
    on_hung: Callable[[float], None] | None = None,
) -> JobStatus | None:
    """Run a job this worker has claimed, to ``succeeded``, ``failed`` or ``cancelled``.

    A heartbeat is written every ``heartbeat_seconds`` until the job ends, unless the training
    shows no progress for ``hung_after`` seconds; ``on_hung`` is then called from the
    heartbeat thread (a worker process uses it to give up). Returns the status written, or
    None when the lease was lost (someone else decided).
    """
    liveness = Liveness()
    with Heartbeat(
        repository,
        job.id,
        job.lease,
        interrupted,
        liveness,
        interval=heartbeat_seconds,
        hung_after=hung_after,
        on_hung=on_hung,
    ):
        return _run(repository, job, interrupted, interrupted_reason, liveness)


def _run(
    repository: Repository,
    job: ClaimedJob,
    interrupted: Callable[[], bool],
    interrupted_reason: str,
    liveness: Liveness,
) -> JobStatus | None:
    log_extra = {"job_id": job.id}
    try:
        prepared = prepare_training(job)
    except InvalidInput as error:
        return _finish(repository, job, JobStatus.FAILED, str(error))
    reporter = ProgressReporter(repository, job, interrupted, liveness)
    logger.info("training started", extra=log_extra)
    try:
        result = train(
            prepared.config,
            prepared.train_set,
            prepared.validation_set,
            initial_parameters=prepared.initial_parameters,
            on_progress=reporter.on_progress,
            should_cancel=reporter.should_cancel,
            progress_interval=PROGRESS_INTERVAL_SECONDS,
        )
    except TrainingCancelled:
        reporter.flush_history()
        if reporter.was_interrupted:
            return _finish(repository, job, JobStatus.FAILED, interrupted_reason)
        if not reporter.ack.lease_held:
            logger.warning("job was taken away while training; dropping it", extra=log_extra)
            return None
        return _finish(repository, job, JobStatus.CANCELLED, None)
    except CoreError as error:
        reporter.flush_history()
        return _finish(repository, job, JobStatus.FAILED, str(error))
    except Exception:
        logger.exception("training failed unexpectedly", extra=log_extra)
        return _finish(repository, job, JobStatus.FAILED, INTERNAL_FAILURE)
    try:
        model = _new_model(job, prepared, result)
        # The loss of the network kept (the best one when stopped early), after training.
        repository.complete_job(
            job.id, job.lease, model, result.epochs_run, model.metrics.train_loss
        )
    except LeaseLost:
        logger.warning("job was taken away before its model was stored", extra=log_extra)
        return None
    except StorageUnavailable:
        logger.exception("the model could not be stored", extra=log_extra)
        return _finish(repository, job, JobStatus.FAILED, STORAGE_FAILURE)
    except CoreError as error:
        return _finish(repository, job, JobStatus.FAILED, str(error))
    except Exception:
        logger.exception("storing the model failed", extra=log_extra)
        return _finish(repository, job, JobStatus.FAILED, INTERNAL_FAILURE)
    logger.info("training succeeded", extra={**log_extra, "epochs_run": result.epochs_run})
    return JobStatus.SUCCEEDED


def _new_model(job: ClaimedJob, prepared: PreparedTraining, result: TrainingResult) -> NewModel:
    """The model to store; :class:`TrainingDiverged` when its final loss is not finite.

    The last update can still overflow after every recorded loss was finite; such a network
    is no model, and a non-finite metric could not be stored as a number anyway.
    """
    train_metrics = evaluate(result.network, prepared.train_set)
    if not math.isfinite(train_metrics.loss):
        raise TrainingDiverged(result.epochs_run, train_metrics.loss)
    validation = (
        None
        if prepared.validation_set is None
        else evaluate(result.network, prepared.validation_set)
    )
    metrics = ModelMetrics(
        train_accuracy=train_metrics.accuracy,
        train_loss=train_metrics.loss,
        validation_accuracy=None if validation is None else validation.accuracy,
        validation_loss=None if validation is None else validation.loss,
        epochs_run=result.epochs_run,
        train_seconds=result.train_seconds,
        stopped_early=result.stopped_early,
        best_epoch=result.best_epoch,
    )
    return NewModel(
        name=job.name,
        config=job.config,
        metrics=metrics,
        parameters=parameters_to_bytes(result.network.parameters),
        loss_history=encode_loss_history(result.loss_history, result.validation_loss_history),
        datasets=encode_datasets(prepared.train_set, prepared.validation_set),
    )


def _finish(
    repository: Repository, job: ClaimedJob, status: JobStatus, error: str | None
) -> JobStatus | None:
    for attempt in range(1, FINISH_ATTEMPTS + 1):
        try:
            finished = repository.finish_job(job.id, job.lease, status, error)
            break
        except StorageUnavailable:
            # The small write of a job's end may pass once the storage frees a little.
            if attempt == FINISH_ATTEMPTS:
                raise
            time.sleep(FINISH_RETRY_SECONDS)
    if finished:
        logger.info("training ended", extra={"job_id": job.id, "status": str(status)})
        return status
    logger.warning("job was taken away; its end was not recorded", extra={"job_id": job.id})
    return None
