"""Which stored model a protocol request names: the one place a name and a version become an id.

Every route under ``/v2/models/{name}`` resolves its model here, and only here, through the
registry's resolver: ``name`` is any model reference (an id, ``name``, ``name@vN``,
``name@alias``), and the protocol's ``version`` is a version number of a registered name.
"""

from service.domain.errors import InvalidInput, NotFound
from service.domain.references import MAX_VERSION, ModelReference, parse_model_reference
from service.store.repository import Repository


class UnknownVersion(NotFound):
    """The model exists under this name, but not in this version."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__("model version", version)
        self.args = (f"there is no version {version!r} of the model {name!r}",)


def resolve(repository: Repository, name: str, version: str | None) -> str:
    """The id of the model ``name`` names (in ``version`` when given).

    ``name`` is a model reference; ``version`` selects a version of a bare registered name
    (``name`` with ``version`` 3 is ``name@v3``). A model addressed by its id, an alias or a
    version has no versions below it, so any ``version`` is unknown there. Raises
    :class:`NotFound` (404) for an unknown model or version; a name that is no reference
    names no model, so it is a 404 too.
    """
    try:
        reference = parse_model_reference(name)
    except InvalidInput:
        raise NotFound("model", name) from None
    model_id = repository.resolve_model_id(reference)  # an unknown model is named first
    if version is None:
        return model_id
    bare_name = reference.name is not None and reference == ModelReference(name=reference.name)
    if not (bare_name and version.isdigit() and 1 <= int(version) <= MAX_VERSION):
        raise UnknownVersion(name, version)
    return repository.resolve_model_id(ModelReference(name=reference.name, version=int(version)))
