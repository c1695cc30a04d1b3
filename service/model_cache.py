"""An in-process LRU of loaded models (network, loss history, data), so reads skip the store."""

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.exc import SQLAlchemyError

from core.network import Network
from service.deps import get_repository
from service.errors import NotFound
from service.store.records import ModelArtifacts, ModelRecord
from service.store.repository import Repository
from service.stored_config import stored_features

DEFAULT_CAPACITY = 32

logger = logging.getLogger("planenet.model_cache")

REVALIDATE_SECONDS = 2.0
"""How long a cached model is served without asking the store whether it still exists."""


@dataclass(frozen=True)
class LoadedModel:
    """A stored model ready to use: its metadata, its network and its figures' inputs."""

    record: ModelRecord
    network: Network
    artifacts: ModelArtifacts


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
        record, artifacts = self.repository.get_model_artifacts(model_id)
        loaded = LoadedModel(
            record=record,
            network=Network(
                artifacts.parameters, artifacts.activation, stored_features(record.config)
            ),
            artifacts=artifacts,
        )
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


async def get_model_cache(request: Request) -> ModelCache:
    """The application's model cache, created on first use for its repository.

    A coroutine that does no I/O, so FastAPI runs it on the event loop (one thread, hence
    no race creating the cache) instead of handing it to a worker thread, a hop that costs
    more than the lookup.
    """
    repository = await get_repository(request)
    state = request.app.state
    cache: ModelCache | None = getattr(state, "model_cache", None)
    if cache is None or cache.repository is not repository:
        cache = ModelCache(repository)
        state.model_cache = cache
    return cache


ModelCacheDep = Annotated[ModelCache, Depends(get_model_cache)]
