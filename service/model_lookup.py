"""Finding the model a reference names: the one path from a reference to a loaded model.

A reference is resolved against the store on every request (never cached), so an alias
moved by any process is followed at once; the model it names is then taken from the cache,
which is keyed by id and revalidates an entry every 2 s, so a delete made by another
process is obeyed within that time.
"""

from service.domain.references import parse_model_reference
from service.model_cache import LoadedModel, ModelCache
from service.store.repository import Repository


def resolve_model_id(repository: Repository, reference: str, field: str = "model") -> str:
    """The id of the model ``reference`` names (an id, ``name``, ``name@vN``, ``name@alias``).

    Raises InvalidInput (422, at ``field``) for a malformed reference and NotFound (404,
    saying what is missing) for one that names nothing. An id is returned as it is, unread.
    """
    parsed = parse_model_reference(reference, field)
    if parsed.model_id is not None:
        return parsed.model_id
    return repository.resolve_model_id(parsed)


def load_model(cache: ModelCache, reference: str, field: str = "model") -> LoadedModel:
    """The loaded model ``reference`` names (see :func:`resolve_model_id`)."""
    return cache.get(resolve_model_id(cache.repository, reference, field))


def peek_model(cache: ModelCache, reference: str, field: str = "model") -> LoadedModel | None:
    """The model if ``reference`` is an id whose model is cached and fresh; never reads."""
    parsed = parse_model_reference(reference, field)
    return None if parsed.model_id is None else cache.peek(parsed.model_id)
