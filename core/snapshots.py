"""Parameter snapshots for replays: which epochs to keep, and a bounded recorder of them.

Epoch ``e`` of a snapshot means the parameters after ``e`` updates: 0 is the initial draw,
``total_epochs`` the trained network. The schedule is log-spaced, so a replay shows the fast
early changes as well as the slow late ones.

How a training loop hooks the recorder in (one check per epoch, a copy only when due)::

    recorder = SnapshotRecorder(config.epochs, parameter_count=vector.size)
    recorder.record(0, vector)                       # the initial parameters
    for epoch in range(config.epochs):
        ...                                          # the epoch's update
        if recorder.due(epoch + 1):
            recorder.record(epoch + 1, vector)
    recorder.finish(epochs_run, vector)              # early stop or cancel: the last state

A snapshot's vector is a network again through
``Network(FlatParameters(layer_sizes, vector).to_parameters(), activation)``.

A live view also wants the newest parameters a few times a second, whenever it asks:
:meth:`SnapshotRecorder.note_newest` keeps one more copy, outside the bounded schedule.

``due`` is also right when checked only now and then (from a progress callback): a snapshot
is then taken at the first check at or after each scheduled epoch, under the epoch it was
actually taken at.
"""

import numpy as np
from numpy.typing import NDArray

from core.arrays import FloatArray
from core.errors import ConfigError

EpochArray = NDArray[np.int64]

MAX_SNAPSHOTS = 200
"""At most this many snapshots per run."""
MAX_SNAPSHOT_BYTES = 64 * 2**20
"""At most this much memory for one run's snapshots: wide networks keep fewer of them."""
_FLOAT_BYTES = 8


def snapshot_epochs(total_epochs: int, max_snapshots: int = MAX_SNAPSHOTS) -> EpochArray:
    """The epochs (k,) at which to keep parameters: 0 and ``total_epochs`` always, strictly
    increasing, k = min(total_epochs + 1, max_snapshots), spaced evenly on a log scale of
    epoch + 1 (every epoch at first, where one epoch changes the boundary most).
    """
    for name, value, least in (
        ("total_epochs", total_epochs, 0),
        ("max_snapshots", max_snapshots, 2),
    ):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < least:
            raise ConfigError(f"{name}: must be an integer of at least {least}, got {value!r}")
    last = total_epochs + 1  # positions 1 .. last on the log scale are epochs 0 .. total_epochs
    if last <= max_snapshots:
        return np.arange(total_epochs + 1, dtype=np.int64)
    positions = [1]
    while len(positions) < max_snapshots:
        remaining = max_snapshots - len(positions)
        # The ratio that would reach `last` in the remaining steps, recomputed each step so
        # that the forced steps of one epoch at the start do not use up the range.
        ratio = (last / positions[-1]) ** (1.0 / remaining)
        following = max(positions[-1] + 1, round(positions[-1] * ratio))
        positions.append(min(following, last - remaining + 1))
    return np.array(positions, dtype=np.int64) - 1


class SnapshotRecorder:
    """Copies of a run's flat parameter vector at the epochs of :func:`snapshot_epochs`.

    The memory is bounded: at most ``max_snapshots`` vectors and at most ``max_bytes`` in
    all (a network too wide for that keeps fewer snapshots, never fewer than two: the first
    and the last). The buffer is allocated once, up front.
    """

    def __init__(
        self,
        total_epochs: int,
        parameter_count: int,
        max_snapshots: int = MAX_SNAPSHOTS,
        max_bytes: int = MAX_SNAPSHOT_BYTES,
    ) -> None:
        if parameter_count < 1:
            raise ConfigError(f"parameter_count: must be at least 1, got {parameter_count}")
        affordable = max(2, max_bytes // (parameter_count * _FLOAT_BYTES))
        self.schedule = snapshot_epochs(total_epochs, min(max_snapshots, affordable))
        self._vectors = np.empty((self.schedule.shape[0], parameter_count))
        self._epochs: list[int] = []
        self._next = 0  # index in the schedule of the next snapshot due
        self._newest_epoch: int | None = None
        self._newest_vector = np.empty(parameter_count)

    def due(self, epoch: int) -> bool:
        """Whether the parameters after ``epoch`` updates should be recorded now."""
        return self._next < self.schedule.shape[0] and epoch >= int(self.schedule[self._next])

    @property
    def next_due(self) -> int | None:
        """The next scheduled epoch not yet recorded (None when the schedule is done)."""
        if self._next >= self.schedule.shape[0]:
            return None
        return int(self.schedule[self._next])

    def note_newest(self, epoch: int, vector: FloatArray) -> None:
        """Keep a copy of ``vector`` (parameter_count,) as the newest parameters, after
        ``epoch`` updates, without touching the schedule's snapshots."""
        self._newest_vector[:] = vector
        self._newest_epoch = epoch

    @property
    def newest(self) -> tuple[int, FloatArray] | None:
        """The newest parameters seen, recorded or noted: (epoch, vector (parameter_count,));
        None before any. The vector is a view that later calls overwrite."""
        recorded = self._epochs[-1] if self._epochs else None
        noted = self._newest_epoch
        if noted is not None and (recorded is None or noted > recorded):
            return noted, self._newest_vector
        if recorded is None:
            return None
        return recorded, self._vectors[len(self._epochs) - 1]

    def record(self, epoch: int, vector: FloatArray) -> None:
        """Keep a copy of ``vector`` (parameter_count,) as the parameters after ``epoch``
        updates; the schedule moves past every epoch up to ``epoch``."""
        if self._epochs and epoch <= self._epochs[-1]:
            raise ConfigError(
                f"epoch: snapshots must come in increasing epochs; {epoch} follows "
                f"{self._epochs[-1]}"
            )
        slot = len(self._epochs)
        if slot == self._vectors.shape[0]:  # full: the newest state replaces the last one
            slot -= 1
            self._epochs.pop()
        self._vectors[slot] = vector
        self._epochs.append(epoch)
        self._next = max(self._next, int(np.searchsorted(self.schedule, epoch, side="right")))

    def finish(self, epochs_run: int, vector: FloatArray) -> None:
        """Record the final ``vector`` after ``epochs_run`` updates, unless already recorded."""
        if not self._epochs or self._epochs[-1] != epochs_run:
            self.record(epochs_run, vector)

    @property
    def epochs(self) -> EpochArray:
        """The epochs recorded so far, shape (k,), strictly increasing."""
        return np.array(self._epochs, dtype=np.int64)

    @property
    def vectors(self) -> FloatArray:
        """The parameter vectors recorded so far, shape (k, parameter_count); a view."""
        return self._vectors[: len(self._epochs)]
