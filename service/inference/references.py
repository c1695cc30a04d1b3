"""Which stored model a protocol request names: the one place a name and a version become an id.

Every route under ``/v2/models/{name}`` resolves its model here, and only here.
"""

from service.domain.errors import NotFound
from service.store.repository import Repository


class UnknownVersion(NotFound):
    """The model exists under this name, but not in this version."""

    def __init__(self, name: str, version: str) -> None:
        super().__init__("model version", version)
        self.args = (f"there is no version {version!r} of the model {name!r}",)


def resolve(repository: Repository, name: str, version: str | None) -> str:
    """The id of the model ``name`` names (in ``version`` when given).

    ``name`` is a model's id; a model addressed by its id has no versions, so any
    ``version`` is unknown. Raises :class:`NotFound` (404) for an unknown model or version.
    """
    if not repository.model_exists(name):
        raise NotFound("model", name)
    if version is not None:
        raise UnknownVersion(name, version)
    return name
