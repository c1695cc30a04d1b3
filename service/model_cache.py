"""An in-process LRU of loaded models: the network at once, histories and data when asked for."""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy.exc import SQLAlchemyError

from core.network import Network
from service.domain.errors import NotFound
from service.domain.records import LossHistory, ModelDatasets, ModelRecord
from service.store.repository import Repository

DEFAULT_CAPACITY = 32

REVALIDATE_SECONDS = 2.0
"""How long a cached model is served without asking the store whether it still exists."""

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
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def loss_history(self) -> LossHistory:
        """The model's loss per epoch (and validation loss), read once."""
        with self._lock:
            if self._history is None:
                self._history = self.repository.model_loss_history(self.record.id)
            return self._history

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
        self._lock = threading.Lock()

    def get(self, model_id: str) -> LoadedModel:
        """The model with this id, from the cache or the store (:class:`NotFound` if none)."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is not None:
                self._entries.move_to_end(model_id)
                if self._fresh(entry):
                    return entry.model
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
        try:
            exists = self.repository.model_exists(model_id)
        except SQLAlchemyError:
            logger.warning("could not confirm a cached model", exc_info=True)
            return entry.model
        if not exists:
            self.invalidate(model_id)
            raise NotFound("model", model_id)
        entry.confirmed_at = time.monotonic()
        return entry.model

    def peek(self, model_id: str) -> LoadedModel | None:
        """The model if it is cached and recently confirmed, else None; never touches the store."""
        with self._lock:
            entry = self._entries.get(model_id)
            if entry is None or not self._fresh(entry):
                return None
            self._entries.move_to_end(model_id)
            return entry.model

    def invalidate(self, model_id: str) -> None:
        """Forget the model with this id (after it was deleted)."""
        with self._lock:
            self._entries.pop(model_id, None)
            self._generation += 1

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, model_id: object) -> bool:
        with self._lock:
            return model_id in self._entries
