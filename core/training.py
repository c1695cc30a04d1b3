"""The training loop: epochs of forward, loss, backward and update, with progress and stopping."""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from core.activations import get_activation
from core.arrays import FloatArray
from core.backprop import FlatParameters, Workspace, labels_row, with_ones_row
from core.compiled import choose_engine, make_kernel
from core.config import EarlyStopping, TrainingConfig
from core.dataset import Dataset
from core.errors import TrainingCancelled, TrainingDiverged
from core.features import apply_features
from core.initializers import initialize
from core.losses import binary_cross_entropy, sigmoid
from core.network import DEFAULT_THRESHOLD, Network, accuracy
from core.optimizers import make_optimizer
from core.parameters import Parameters, check_fit
from core.snapshots import SnapshotRecorder

if TYPE_CHECKING:
    from core._kernel import Kernel

__all__ = [
    "EarlyStopping",
    "Metrics",
    "Progress",
    "TrainingConfig",
    "TrainingResult",
    "evaluate",
    "train",
]


@dataclass(frozen=True)
class Progress:
    """A snapshot of a run, handed to the progress callback.

    ``loss_history`` (epoch,) and ``validation_loss_history`` (epoch,) are read-only views
    of the run's histories so far; copy them to keep them past the callback.
    """

    epoch: int
    epochs: int
    loss: float
    validation_loss: float | None
    validation_accuracy: float | None
    loss_history: FloatArray
    validation_loss_history: FloatArray | None
    elapsed_seconds: float


@dataclass(frozen=True)
class TrainingResult:
    """What a finished run gives: the network and its per-epoch histories (epochs_run,)."""

    network: Network
    loss_history: FloatArray
    validation_loss_history: FloatArray | None
    validation_accuracy_history: FloatArray | None
    epochs_run: int
    best_epoch: int | None
    stopped_early: bool
    train_seconds: float
    accuracy_history: FloatArray | None = None
    """Training accuracy per epoch, of the parameters (and batches) ``loss_history`` measured;
    both engines record it (None only in results made without it)."""


@dataclass(frozen=True)
class Metrics:
    """Cross-entropy loss and accuracy (in [0, 1]) of a network on a dataset."""

    loss: float
    accuracy: float


def evaluate(network: Network, dataset: Dataset) -> Metrics:
    """Loss and accuracy of ``network`` on ``dataset``, without the L2 penalty."""
    logits = network.logits(dataset.points)
    loss = binary_cross_entropy(logits, dataset.labels.astype(np.float64))
    return Metrics(loss=loss, accuracy=accuracy(_labels_of(logits), dataset.labels))


def _labels_of(logits: FloatArray) -> NDArray[np.int64]:
    """Predicted labels (same shape as ``logits``) at the 0.5 threshold, as Network.predict."""
    return (sigmoid(logits) > DEFAULT_THRESHOLD).astype(np.int64)


def _correct(logits: FloatArray, labels: FloatArray) -> int:
    """How many of the points whose logits (1, n) the loss computed are labelled right."""
    return int(np.count_nonzero(_labels_of(logits) == labels))


class _Stopper:
    """Early-stopping bookkeeping: the best monitored loss, its epoch and parameters."""

    def __init__(self, rule: EarlyStopping) -> None:
        self.rule = rule
        self.best_loss = math.inf
        self.best_epoch = 0
        self.best_vector: FloatArray | None = None

    def should_stop(self, epoch: int, monitored_loss: float, parameters: FlatParameters) -> bool:
        """Record ``epoch``'s loss (of the parameters before its update); True to stop."""
        if monitored_loss < self.best_loss - self.rule.min_delta:
            self.best_loss, self.best_epoch = monitored_loss, epoch
            if self.rule.restore_best:
                self.best_vector = parameters.vector.copy()
            return False
        return epoch - self.best_epoch >= self.rule.patience


def train(
    config: TrainingConfig,
    train_set: Dataset,
    validation_set: Dataset | None = None,
    *,
    initial_parameters: Parameters | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    progress_interval: float = 0.25,
    engine: str | None = None,
    snapshots: SnapshotRecorder | None = None,
) -> TrainingResult:
    """Train a network on ``train_set`` as ``config`` says.

    Full batch (the tutorial): each epoch records the loss of the current parameters (and
    the validation loss, when there is a validation set), then updates them. Mini-batch:
    the epoch's loss is the mean of its batch losses, and the validation loss is measured
    after the epoch's updates. ``on_progress`` and ``should_cancel`` are called at most every
    ``progress_interval`` seconds, and ``on_progress`` once more at the end.

    ``engine`` is ``compiled`` or ``numpy`` (see :mod:`core.compiled`); None picks the
    compiled kernel where it is built, for networks it can hold. Both give the same result
    to within rounding (1e-12).

    ``snapshots`` records the parameters at its scheduled epochs (the initial ones first,
    the kept network last, under ``epochs_run``), and notes the newest parameters at every
    progress report, before ``on_progress`` is called.

    Raises :class:`TrainingCancelled` when ``should_cancel`` returns True,
    :class:`TrainingDiverged` when the loss stops being finite, and
    :class:`ParameterError` for initial parameters that do not fit the configuration.
    """
    engine = choose_engine(engine, config.layer_sizes)
    run = _TrainingRun(config, train_set, validation_set, initial_parameters, engine)
    return run.run(on_progress, should_cancel, progress_interval, snapshots)


class _TrainingRun:
    """The state of one run: parameters, optimizer, buffers and histories."""

    def __init__(
        self,
        config: TrainingConfig,
        train_set: Dataset,
        validation_set: Dataset | None,
        initial_parameters: Parameters | None,
        engine: str,
    ) -> None:
        self.config = config
        self.rng = np.random.default_rng(config.seed)
        if initial_parameters is None:
            initial_parameters = initialize(config.layer_sizes, config.init, self.rng)
        else:
            check_fit(initial_parameters, config.hidden_layers, config.features)
        self.parameters = FlatParameters.from_parameters(initial_parameters)
        self.gradient = FlatParameters(config.layer_sizes)
        self.optimizer = make_optimizer(
            config.optimizer, self.parameters.vector.size, config.hyperparameters
        )
        self.activation = get_activation(config.activation)

        self.points = with_ones_row(apply_features(train_set.points, config.features))
        self.labels = labels_row(train_set.labels)
        self.n_points = self.points.shape[1]
        self.batch_size = min(config.batch_size or self.n_points, self.n_points)
        self.kernel: Kernel | None = None
        if engine == "compiled":
            self.kernel = make_kernel(config, self.parameters.vector, self.gradient.vector)
        self.kernel_loss = np.empty(1)
        self.kernel_accuracy = np.empty(1)
        self.workspaces: dict[int, Workspace] = {}
        self.shuffled_points = np.empty_like(self.points)
        self.shuffled_labels = np.empty_like(self.labels)

        self.validation: tuple[FloatArray, FloatArray, Workspace | None] | None = None
        if validation_set is not None:
            self.validation = (
                with_ones_row(apply_features(validation_set.points, config.features)),
                labels_row(validation_set.labels),
                # The kernel measures in its own tiles; NumPy needs buffers for every point.
                None
                if self.kernel is not None
                else Workspace(config.layer_sizes, len(validation_set), self.activation),
            )
        self.loss_history = np.empty(config.epochs)
        self.accuracy_history = np.empty(config.epochs)
        self.epoch_accuracy = 0.0
        self.validation_loss_history = np.empty(config.epochs) if validation_set else None
        self.validation_accuracy_history = np.empty(config.epochs) if validation_set else None
        self.validation_loss: float | None = None
        self.validation_accuracy: float | None = None
        self.stopper = _Stopper(config.early_stopping) if config.early_stopping else None
        self.next_snapshot = 0  # the next epoch a snapshot recorder wants

    def _workspace(self, rows: int) -> Workspace:
        if rows not in self.workspaces:
            self.workspaces[rows] = Workspace(self.config.layer_sizes, rows, self.activation)
        return self.workspaces[rows]

    def _validate(self, epoch: int) -> None:
        """Measure the current parameters on the validation set, if there is one."""
        if (
            self.validation is None
            or self.validation_loss_history is None
            or self.validation_accuracy_history is None
        ):
            return
        points, labels, workspace = self.validation
        if self.kernel is not None:
            self.validation_loss, self.validation_accuracy = self.kernel.evaluate(points, labels)
        else:
            assert workspace is not None
            logits = workspace.forward(points, self.parameters)
            self.validation_loss = binary_cross_entropy(logits, labels)
            self.validation_accuracy = float(np.mean(_labels_of(logits) == labels))
        if not math.isfinite(self.validation_loss):
            raise TrainingDiverged(epoch, self.validation_loss)
        self.validation_loss_history[epoch] = self.validation_loss
        self.validation_accuracy_history[epoch] = self.validation_accuracy

    def _mini_batch_epoch(self) -> float:
        """One pass over the reshuffled points; returns the mean of the batch losses."""
        order = self.rng.permutation(self.n_points)
        np.take(self.points, order, axis=1, out=self.shuffled_points)
        np.take(self.labels, order, axis=1, out=self.shuffled_labels)
        if self.kernel is not None:
            self.kernel.epochs(
                self.shuffled_points,
                self.shuffled_labels,
                self.batch_size,
                self.kernel_loss,
                self.kernel_accuracy,
            )
            self.epoch_accuracy = float(self.kernel_accuracy[0])
            return float(self.kernel_loss[0])
        epoch_loss = 0.0
        correct = 0
        for start in range(0, self.n_points, self.batch_size):
            batch_points = self.shuffled_points[:, start : start + self.batch_size]
            batch_labels = self.shuffled_labels[:, start : start + self.batch_size]
            rows = batch_points.shape[1]
            workspace = self._workspace(rows)
            batch_loss = workspace.loss_and_gradient(
                batch_points,
                batch_labels,
                self.parameters,
                self.gradient,
                l2=self.config.l2,
                l1=self.config.l1,
            )
            correct += _correct(workspace.logits[-1], batch_labels)
            self.optimizer.step(self.parameters.vector, self.gradient.vector, 1.0 / rows)
            epoch_loss += batch_loss * rows / self.n_points
        self.epoch_accuracy = correct / self.n_points
        return epoch_loss

    def _full_batch_epoch(self, epoch: int) -> bool:
        """Validate, record the loss, then update unless stopping; True to stop here."""
        self._validate(epoch)
        if self.kernel is not None:
            loss, self.epoch_accuracy = self.kernel.loss_and_gradient(self.points, self.labels)
        else:
            workspace = self._workspace(self.n_points)
            loss = workspace.loss_and_gradient(
                self.points,
                self.labels,
                self.parameters,
                self.gradient,
                l2=self.config.l2,
                l1=self.config.l1,
            )
            self.epoch_accuracy = _correct(workspace.logits[-1], self.labels) / self.n_points
        stopped_early = self._record(epoch, loss)
        if not stopped_early:
            if self.kernel is not None:
                self.kernel.step(1.0 / self.n_points)
            else:
                self.optimizer.step(
                    self.parameters.vector, self.gradient.vector, 1.0 / self.n_points
                )
        return stopped_early

    def _kernel_epochs(self, first: int, count: int) -> int:
        """Run up to ``count`` full-batch epochs in the kernel, from epoch ``first``; how many."""
        assert self.kernel is not None
        end = min(first + count, self.config.epochs)
        done = self.kernel.epochs(
            self.points,
            self.labels,
            self.n_points,
            self.loss_history[first:end],
            self.accuracy_history[first:end],
        )
        last = first + done - 1
        if not math.isfinite(self.loss_history[last]):
            raise TrainingDiverged(last, float(self.loss_history[last]))
        return done

    def _record(self, epoch: int, loss: float) -> bool:
        """Store the epoch's loss; True when early stopping says to stop here."""
        if not math.isfinite(loss):
            raise TrainingDiverged(epoch, loss)
        self.loss_history[epoch] = loss
        self.accuracy_history[epoch] = self.epoch_accuracy
        if self.stopper is None:
            return False
        monitored = loss if self.validation_loss is None else self.validation_loss
        return self.stopper.should_stop(epoch, monitored, self.parameters)

    def _progress(self, epochs_run: int, elapsed_seconds: float) -> Progress:
        history = self.validation_loss_history
        return Progress(
            epoch=epochs_run,
            epochs=self.config.epochs,
            loss=float(self.loss_history[epochs_run - 1]),
            validation_loss=self.validation_loss,
            validation_accuracy=self.validation_accuracy,
            loss_history=self.loss_history[:epochs_run],
            validation_loss_history=None if history is None else history[:epochs_run],
            elapsed_seconds=elapsed_seconds,
        )

    def run(
        self,
        on_progress: Callable[[Progress], None] | None,
        should_cancel: Callable[[], bool] | None,
        progress_interval: float,
        snapshots: SnapshotRecorder | None = None,
    ) -> TrainingResult:
        # A diverging run overflows before its loss turns non-finite; _record reports that
        # as TrainingDiverged, so NumPy's own overflow warnings would only be noise.
        with np.errstate(over="ignore", invalid="ignore"):
            result = self._run(on_progress, should_cancel, progress_interval, snapshots)
        if snapshots is not None:
            snapshots.finish(result.epochs_run, self.parameters.vector)
        return result

    def _run(
        self,
        on_progress: Callable[[Progress], None] | None,
        should_cancel: Callable[[], bool] | None,
        progress_interval: float,
        snapshots: SnapshotRecorder | None,
    ) -> TrainingResult:
        started = time.perf_counter()
        next_report = started + progress_interval
        full_batch = self.batch_size == self.n_points
        # With nothing to look at between epochs, the kernel runs a chunk of them per call.
        in_chunks = (
            full_batch
            and self.kernel is not None
            and self.validation is None
            and self.stopper is None
        )
        chunk = 1
        epochs_run = reported = 0
        stopped_early = False
        self._snapshot(snapshots, epochs_run)
        while epochs_run < self.config.epochs:
            if in_chunks:
                chunk_started = time.perf_counter()
                epochs_run += self._kernel_epochs(
                    epochs_run, _until_due(chunk, epochs_run, snapshots)
                )
                chunk = _next_chunk(chunk, time.perf_counter() - chunk_started, progress_interval)
            else:
                if full_batch:
                    stopped_early = self._full_batch_epoch(epochs_run)
                else:
                    loss = self._mini_batch_epoch()
                    self._validate(epochs_run)
                    stopped_early = self._record(epochs_run, loss)
                epochs_run += 1
                if stopped_early:
                    break
            self._snapshot(snapshots, epochs_run)
            now = time.perf_counter()
            if now >= next_report:
                next_report = now + progress_interval
                if should_cancel is not None and should_cancel():
                    raise TrainingCancelled(epochs_run)
                if snapshots is not None:
                    snapshots.note_newest(epochs_run, self.parameters.vector)
                if on_progress is not None:
                    on_progress(self._progress(epochs_run, now - started))
                    reported = epochs_run

        if snapshots is not None:
            snapshots.note_newest(epochs_run, self.parameters.vector)
        if on_progress is not None and reported < epochs_run:
            on_progress(self._progress(epochs_run, time.perf_counter() - started))
        return self._result(epochs_run, stopped_early, time.perf_counter() - started)

    def _snapshot(self, snapshots: SnapshotRecorder | None, epochs_run: int) -> None:
        """Record the parameters after ``epochs_run`` updates when the schedule wants them."""
        if snapshots is None or epochs_run < self.next_snapshot:
            return  # the common case, checked on plain ints: an epoch of NumPy is microseconds
        if snapshots.due(epochs_run):
            snapshots.record(epochs_run, self.parameters.vector)
        due = snapshots.next_due
        self.next_snapshot = self.config.epochs + 1 if due is None else due

    def _result(self, epochs_run: int, stopped_early: bool, seconds: float) -> TrainingResult:
        if self.stopper is not None and self.stopper.best_vector is not None:
            self.parameters.vector[:] = self.stopper.best_vector
        if not np.isfinite(self.parameters.vector).all():
            raise TrainingDiverged(epochs_run, math.nan)
        losses, accuracies = self.validation_loss_history, self.validation_accuracy_history
        return TrainingResult(
            network=Network(
                self.parameters.to_parameters(), self.config.activation, self.config.features
            ),
            loss_history=self.loss_history[:epochs_run].copy(),
            validation_loss_history=None if losses is None else losses[:epochs_run].copy(),
            validation_accuracy_history=(
                None if accuracies is None else accuracies[:epochs_run].copy()
            ),
            epochs_run=epochs_run,
            accuracy_history=self.accuracy_history[:epochs_run].copy(),
            best_epoch=None if self.stopper is None else self.stopper.best_epoch,
            stopped_early=stopped_early,
            train_seconds=seconds,
        )


def _until_due(chunk: int, epochs_run: int, snapshots: SnapshotRecorder | None) -> int:
    """``chunk``, cut short so that a kernel call ends at the next scheduled snapshot."""
    due = None if snapshots is None else snapshots.next_due
    if due is None or due <= epochs_run:
        return chunk
    return min(chunk, due - epochs_run)


def _next_chunk(chunk: int, seconds: float, progress_interval: float) -> int:
    """Epochs for the next kernel call after ``chunk`` took ``seconds``: doubling, until a
    call takes about a quarter of the progress interval, so callbacks stay on time."""
    target = progress_interval / 4
    fitting = int(chunk * target / seconds) if seconds > 0 else 2 * chunk
    return max(1, min(2 * chunk, fitting))
