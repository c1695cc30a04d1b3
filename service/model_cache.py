"""An in-process LRU of loaded models: the network at once, histories and data when asked for."""

import logging
import queue
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from core.network import Network
from service.domain.errors import NotFound
from service.domain.records import LossHistory, ModelDatasets, ModelRecord, ParameterSnapshots
from service.rendered_figures import RenderedFigures
from service.store.repository import Repository

DEFAULT_CAPACITY = 32

REVALIDATE_SECONDS = 2.0
"""How long a cached model is served without asking the store whether it still exists."""

CONFIRM_AHEAD_FRACTION = 0.5
"""A model read after this fraction of ``revalidate_seconds`` is confirmed in the background."""

CLOSE_WAIT_SECONDS = 1.0
"""How long closing the cache waits for a confirmation under way (one small read)."""

logger = logging.getLogger("planenet.model_cache")


@dataclass
class LoadedModel:
    """A stored model ready to predict, whose figures' inputs are loaded on first use.

    Prediction needs only the network; the loss history and the datasets (which can be
    megabytes) are read from the store the first time a figure asks for them, then kept.
    """

    record: ModelRecord
    network: Network
    repository: Repository
    _history: LossHistory | None = field(default=None, repr=False)
    _datasets: ModelDatasets | None = field(default=None, repr=False)
    _snapshots: ParameterSnapshots | None = field(default=None, repr=False)
    _snapshots_read: bool = field(default=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def loss_history(self) -> LossHistory:
        """The model's loss per epoch (and validation loss), read once."""
        with self._lock:
            if self._history is None:
                self._history = self.repository.model_loss_history(self.record.id)
            return self._history

    def snapshots(self) -> ParameterSnapshots | None:
        """The model's training snapshots (None for a model trained before they were kept),
        read once."""
        with self._lock:
            if not self._snapshots_read:
                self._snapshots = self.repository.model_snapshots(self.record.id)
                self._snapshots_read = True
            return self._snapshots

    def datasets(self) -> ModelDatasets:
        """The model's training (and validation) points, read once."""
        with self._lock:
            if self._datasets is None:
                self._datasets = self.repository.model_datasets(self.record.id)
            return self._datasets


@dataclass
class _Entry:
    """A cached model and when the store last confirmed it (``time.monotonic()``)."""

    model: LoadedModel
    confirmed_at: float
    confirming: bool = False
    # The confirmed_at a background check failed for (an outage): not checked again ahead of
    # time until a request's own check renews it, so an outage costs no loop of failures.
    failed_for: float | None = None


class ModelCache:
    """The ``capacity`` most recently used models, keyed by id; safe to share between threads.

    Models are immutable, so a cached entry stays right until the model is deleted; the
    route that deletes one calls :meth:`invalidate`. A load that started before an
    invalidation never puts its (possibly deleted) model back: each invalidation bumps a
    generation, and a load only stores its result when the generation is unchanged.
    The cache is per process, and another API process over the same database may delete a
    model: an entry older than ``revalidate_seconds`` is therefore served only after a cheap
    check that the model still exists (:meth:`peek` never serves one), so a model deleted
    elsewhere stops answering within that time.
    """

    def __init__(
        self,
        repository: Repository,
        capacity: int = DEFAULT_CAPACITY,
        revalidate_seconds: float = REVALIDATE_SECONDS,
    ) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.repository = repository
        self.capacity = capacity
        self.revalidate_seconds = revalidate_seconds
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation = 0
        self._hits = 0
        self._misses = 0
        self._lock = threading.Lock()
        # One daemon thread, started on first use, confirms models one at a time: a
        # confirmation is one small read, and a store that hangs must not keep the process
        # from exiting.
        self._confirmations: queue.SimpleQueue[tuple[str, _Entry] | None] = queue.SimpleQueue()
        self._confirmer: threading.Thread | None = None
        self._closed = False
        self.figures = RenderedFigures()
        """The models' figures as drawn (forgotten with a model, by :meth:`invalidate`)."""

    def close(self) -> None:
        """Stop confirming models in the background (the app's shutdown, before the store
        closes): waits a moment for a confirmation under way."""
        with self._lock:
            self._closed = True
            confirmer = self._confirmer
        self._confirmations.put(None)
        if confirmer is not None:
            confirmer.join(CLOSE_WAIT_SECONDS)

    def counts(self) -> tuple[int, int]:
        """How many reads were served from the cache (hits) and loaded from the store (misses)."""
        with self._lock:
            return self._hits, self._misses

    def get(self, model_id: str) -> LoadedModel:
        """The model with this id, from the cache or the store (:class:`NotFound` if none)."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is not None:
                self._hits += 1
                self._entries.move_to_end(model_id)
                if self._fresh(entry):
                    self._confirm_ahead_if_due(model_id, entry)
                    return entry.model
            else:
                self._misses += 1
            generation = self._generation
        if entry is not None:
            return self._confirm(model_id, entry)
        # Loading decodes arrays: do it outside the lock so other models stay available.
        record, parameters = self.repository.model_parameters(model_id)
        network = Network(parameters, record.config.activation, tuple(record.config.features))
        loaded = LoadedModel(record, network, self.repository)
        with self._lock:
            if generation == self._generation:
                self._entries[model_id] = _Entry(loaded, time.monotonic())
                self._entries.move_to_end(model_id)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        return loaded

    def _fresh(self, entry: _Entry) -> bool:
        return time.monotonic() - entry.confirmed_at < self.revalidate_seconds

    def _confirm(self, model_id: str, entry: _Entry) -> LoadedModel:
        """Serve a stale entry once the store says the model still exists.

        When the store cannot be asked (an outage), the entry is served as it is: a model
        that exists answers on, and the check is made again on the next request.
        """
        asked_at = time.monotonic()
        try:
            exists = self.repository.model_exists(model_id)
        except SQLAlchemyError:
            logger.warning("could not confirm a cached model", exc_info=True)
            return entry.model
        if not exists:
            self.invalidate(model_id)
            raise NotFound("model", model_id)
        with self._lock:  # the model existed when asked: from then on, not from the answer
            entry.confirmed_at = max(entry.confirmed_at, asked_at)
        return entry.model

    def peek(self, model_id: str) -> LoadedModel | None:
        """The model if it is cached and recently confirmed, else None; never waits for the
        store (a confirmation ahead of time runs on the cache's own thread)."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is None or not self._fresh(entry):
                return None
            self._hits += 1
            self._entries.move_to_end(model_id)
            self._confirm_ahead_if_due(model_id, entry)
            return entry.model

    def _confirm_ahead_if_due(self, model_id: str, entry: _Entry) -> None:
        """Queue a background confirmation of a fresh entry past half its time (under the
        lock), unless one is under way or failed for this confirmation."""
        age = time.monotonic() - entry.confirmed_at
        if (
            entry.confirming
            or self._closed
            or age < self.revalidate_seconds * CONFIRM_AHEAD_FRACTION
            or entry.failed_for == entry.confirmed_at
        ):
            return
        entry.confirming = True
        if self._confirmer is None:
            self._confirmer = threading.Thread(
                target=self._confirm_queued, name="planenet-model-confirm", daemon=True
            )
            self._confirmer.start()
        self._confirmations.put((model_id, entry))

    def _confirm_queued(self) -> None:
        """The confirming thread: each queued model in turn, until the cache closes."""
        while (queued := self._confirmations.get()) is not None:
            self._confirm_in_background(*queued)

    def _confirm_in_background(self, model_id: str, entry: _Entry) -> None:
        """Ask the store whether the model still exists: renew the entry, or forget it. An
        outage leaves it to go stale, when a request checks again."""
        asked_at = time.monotonic()
        exists: bool | None
        try:
            exists = self.repository.model_exists(model_id)
        except Exception:  # whatever it was, this thread goes on; the entry goes stale
            logger.warning("could not confirm a cached model", exc_info=True)
            exists = None
        with self._lock:
            entry.confirming = False
            if exists:
                entry.confirmed_at = max(entry.confirmed_at, asked_at)
            elif exists is None:
                entry.failed_for = entry.confirmed_at
        if exists is False:
            self.invalidate(model_id)

    def invalidate(self, model_id: str) -> None:
        """Forget the model with this id, and its figures (after it was deleted)."""
        with self._lock:
            self._entries.pop(model_id, None)
            self._generation += 1
        self.figures.forget(model_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, model_id: object) -> bool:
        with self._lock:
            return model_id in self._entries
