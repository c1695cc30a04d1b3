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

from core.backprop import FlatParameters
from core.errors import CoreError, TrainingCancelled, TrainingDiverged
from core.serialization import parameters_to_bytes
from core.snapshots import SnapshotRecorder
from core.training import Progress, TrainingResult, evaluate, train
from service.domain.errors import InvalidInput, LeaseLost, StorageUnavailable
from service.domain.evaluation import evaluate_network
from service.domain.heartbeats import HEARTBEAT_SECONDS
from service.domain.jobs import JobStatus
from service.domain.records import ClaimedJob, ModelMetrics, NewModel, ProgressAck
from service.runner.heartbeat import HUNG_TRAINING_SECONDS, Heartbeat, Liveness
from service.runner.plan import PreparedTraining, prepare_training
from service.store.codec import encode_datasets, encode_loss_history, encode_snapshots
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

    Each progress write carries the newest parameters when they changed; each history write
    the scheduled snapshots, when there are new ones.

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
        *,
        snapshots: SnapshotRecorder | None = None,
        layer_sizes: tuple[int, ...] = (),
    ) -> None:
        self.repository = repository
        self.snapshots = snapshots
        self.layer_sizes = layer_sizes
        self._snapshot_epoch: int | None = None
        self._snapshots_written = 0
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

    @property
    def history_epoch(self) -> int:
        """How many epochs of loss history the store holds (the next chunk starts after them)."""
        return self._history_epoch

    def _write(self, progress: Progress, write_history: bool) -> None:
        """Write progress; with ``write_history``, append the epochs since the last chunk."""
        chunk = None
        start = self._history_epoch
        if write_history:
            validation = progress.validation_loss_history
            chunk = encode_loss_history(
                progress.loss_history[start : progress.epoch],
                None if validation is None else validation[start : progress.epoch],
            )
        snapshot, snapshots = self._snapshot_blobs(write_history)
        try:
            self.ack = self.repository.record_progress(
                self.job.id,
                self.job.lease,
                epoch=progress.epoch,
                epochs=progress.epochs,
                loss=progress.loss,
                validation_loss=progress.validation_loss,
                loss_history=chunk,
                history_start=start,
                snapshot=snapshot,
                snapshots=snapshots,
            )
        except (SQLAlchemyError, StorageUnavailable):
            logger.warning(
                "could not record progress", exc_info=True, extra={"job_id": self.job.id}
            )
            return
        if chunk is not None and self.ack.lease_held:
            self._history_epoch = progress.epoch

    def _snapshot_blobs(self, write_history: bool) -> tuple[tuple[int, bytes] | None, bytes | None]:
        """The newest parameters when they changed, and the scheduled snapshots when due."""
        if self.snapshots is None:
            return None, None
        snapshot = None
        newest = self.snapshots.newest
        if newest is not None and newest[0] != self._snapshot_epoch:
            epoch, vector = newest
            parameters = FlatParameters(self.layer_sizes, vector.copy()).to_parameters()
            snapshot = (epoch, parameters_to_bytes(parameters))
            self._snapshot_epoch = epoch
        snapshots = None
        recorded = len(self.snapshots.epochs)
        if write_history and recorded > self._snapshots_written:
            snapshots = encode_snapshots(self.snapshots.epochs, self.snapshots.vectors)
            self._snapshots_written = recorded
        return snapshot, snapshots

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
    layer_sizes = prepared.config.layer_sizes
    recorder = SnapshotRecorder(prepared.config.epochs, FlatParameters(layer_sizes).vector.size)
    reporter = ProgressReporter(
        repository, job, interrupted, liveness, snapshots=recorder, layer_sizes=layer_sizes
    )
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
            snapshots=recorder,
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
        model = _new_model(job, prepared, result, recorder)
        # The loss of the network kept (the best one when stopped early), after training.
        repository.complete_job(
            job.id,
            job.lease,
            model,
            result.epochs_run,
            model.metrics.train_loss,
            history_start=reporter.history_epoch,
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


def _new_model(
    job: ClaimedJob, prepared: PreparedTraining, result: TrainingResult, recorder: SnapshotRecorder
) -> NewModel:
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
        train_evaluation=evaluate_network(result.network, prepared.train_set),
        validation_evaluation=(
            None
            if prepared.validation_set is None
            else evaluate_network(result.network, prepared.validation_set)
        ),
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
        loss_history=encode_loss_history(
            result.loss_history,
            result.validation_loss_history,
            result.accuracy_history,
            result.validation_accuracy_history,
        ),
        datasets=encode_datasets(prepared.train_set, prepared.validation_set),
        snapshots=encode_snapshots(recorder.epochs, recorder.vectors),
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
