"""The store's registry: versions of registered names, aliases, metadata, and resolving references.

Every write that reads a name's state first locks that name's row (``FOR UPDATE`` on
PostgreSQL; SQLite's write transactions take turns), so an alias is never set to a version
being deleted, and two moves of one alias end with one of the two values. An alias is one
row keyed by (name, alias) and written by an upsert, so concurrent moves never collide.
Nothing here is cached: every process reads the current aliases on each resolution.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from service.domain.errors import InvalidInput, ReferenceNotFound, WrongState
from service.domain.records import ModelRecord, RecordPage, RegisteredModelRecord
from service.domain.references import (
    ModelReference,
    is_registrable_name,
    parse_model_reference,
)
from service.store.database import Database
from service.store.models import model_records
from service.store.tables import JobRow, ModelAliasRow, ModelRow, RegisteredModelRow, utc_now

MAX_TAGS = 32
"""The most tags one model or registered name may carry."""

TagPatch = Mapping[str, str | None]
"""Tags to set (a string) or remove (None), as a JSON merge patch gives them."""


def _insert(session: Session, table: Any) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` / ``_do_update``."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def issue_version(session: Session, name: str | None) -> int | None:
    """The next version number of ``name`` (registering it), or None for no registrable name.

    The name's row is updated in the caller's transaction, which holds it locked until the
    commit, so concurrent jobs of one name get distinct numbers.
    """
    if name is None or not is_registrable_name(name):
        return None
    session.execute(
        _insert(session, RegisteredModelRow)
        .values(name=name, created_at=utc_now(), last_version=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    issued = session.execute(
        update(RegisteredModelRow)
        .where(RegisteredModelRow.name == name)
        .values(last_version=RegisteredModelRow.last_version + 1)
        .returning(RegisteredModelRow.last_version)
    ).scalar_one()
    return int(issued)


def merged_tags(current: Mapping[str, str] | None, patch: TagPatch | None) -> dict[str, str]:
    """``current`` with ``patch`` applied (None removes a key); 422 past :data:`MAX_TAGS`."""
    tags = dict(current or {})
    for key, value in (patch or {}).items():
        if value is None:
            tags.pop(key, None)
        else:
            tags[key] = value
    if len(tags) > MAX_TAGS:
        raise InvalidInput([("body.tags", f"at most {MAX_TAGS} tags, got {len(tags)}")])
    return dict(sorted(tags.items()))


class RegistryStore:
    """Registered names, versions and aliases over one :class:`Database`."""

    database: Database

    # Resolving references.

    def resolve_model(self, reference: str | ModelReference) -> ModelRecord:
        """The model a reference names, read now (never cached).

        ``reference`` is a model id, ``name`` (its newest version), ``name@vN`` or
        ``name@alias``. Raises :class:`InvalidInput` (422) for a malformed one and
        :class:`NotFound` (404, saying what is missing) for one naming nothing.
        """
        with self.database.reading() as session:
            row = session.get(ModelRow, _resolve_id(session, _parsed(reference)))
            if row is None:  # deleted between the two reads of this transaction
                raise ReferenceNotFound(str(reference), f"the model {str(reference)!r} is gone")
            return model_records(session, [row])[0]

    def resolve_model_id(self, reference: str | ModelReference) -> str:
        """The id of the model a reference names, read now (never cached): one small query
        of ids, no metadata decoded. Errors as :meth:`resolve_model`."""
        with self.database.reading() as session:
            return _resolve_id(session, _parsed(reference))

    # Registered models.

    def list_registered_models(
        self, limit: int = 20, offset: int = 0
    ) -> RecordPage[RegisteredModelRecord]:
        """Registered names, most recently registered first, each with its newest version."""
        query = select(RegisteredModelRow).order_by(
            RegisteredModelRow.created_at.desc(), RegisteredModelRow.name
        )
        with self.database.reading() as session:
            rows = session.scalars(query.limit(limit).offset(offset)).all()
            total = session.scalar(select(func.count()).select_from(RegisteredModelRow)) or 0
            items = _registered_records(session, rows, with_versions=False)
            return RecordPage(items, total, limit, offset)

    def get_registered_model(self, name: str) -> RegisteredModelRecord:
        """One registered name with all its versions (newest first); 404 if unknown."""
        with self.database.reading() as session:
            row = _registered_row(session, name)
            return _registered_records(session, [row], with_versions=True)[0]

    def update_registered_model(
        self, name: str, description: str | None, set_description: bool, tags: TagPatch | None
    ) -> RegisteredModelRecord:
        """Set a registered name's description (when ``set_description``) and patch its tags."""
        with self.database.writing() as session:
            row = _registered_row(session, name, lock=True)
            if set_description:
                row.description = description
            if tags is not None:
                row.tags = merged_tags(row.tags, tags)
        return self.get_registered_model(name)

    def update_model(
        self, model_id: str, description: str | None, set_description: bool, tags: TagPatch | None
    ) -> ModelRecord:
        """Set a model's description (when ``set_description``) and patch its tags."""
        with self.database.writing() as session:
            row = session.get(ModelRow, model_id, with_for_update=True)
            if row is None:
                raise ReferenceNotFound(model_id, f"there is no model with id {model_id!r}")
            if set_description:
                row.description = description
            if tags is not None:
                row.tags = merged_tags(row.tags, tags)
        return self.resolve_model(ModelReference(model_id=model_id))

    # Aliases.

    def set_alias(self, name: str, alias: str, version: int) -> RegisteredModelRecord:
        """Point ``name@alias`` at ``version`` (set or move it); 404 if that version is absent."""
        with self.database.writing() as session:
            _registered_row(session, name, lock=True)
            _version_id(session, name, version)
            now = utc_now()
            session.execute(
                _insert(session, ModelAliasRow)
                .values(name=name, alias=alias, version=version, updated_at=now)
                .on_conflict_do_update(
                    index_elements=["name", "alias"], set_={"version": version, "updated_at": now}
                )
            )
        return self.get_registered_model(name)

    def delete_alias(self, name: str, alias: str) -> None:
        """Remove ``name@alias``; 404 when the name or the alias is unknown."""
        with self.database.writing() as session:
            _registered_row(session, name, lock=True)
            removed = session.execute(
                delete(ModelAliasRow).where(
                    ModelAliasRow.name == name, ModelAliasRow.alias == alias
                )
            )
            if not removed.rowcount:  # type: ignore[attr-defined]
                raise ReferenceNotFound(
                    f"{name}@{alias}", f"the registered model {name!r} has no alias {alias!r}"
                )

    # Deleting a model.

    def delete_model(self, model_id: str, force: bool = False) -> None:
        """Delete a model; :class:`NotFound` if there is none.

        A version some alias points at is refused with :class:`WrongState` naming the
        aliases, unless ``force``, which removes those aliases in the same transaction. Its
        job stays ``succeeded`` (it did train) but loses its ``model_id``, so no job ever
        points at a model that is gone. The name keeps its last version number.
        """
        with self.database.writing() as session:
            row = session.get(ModelRow, model_id)
            if row is None:
                raise ReferenceNotFound(model_id, f"there is no model with id {model_id!r}")
            _release_aliases(session, row, force)
            session.execute(update(JobRow).where(JobRow.model_id == model_id).values(model_id=None))
            session.delete(row)


def _release_aliases(session: Session, row: ModelRow, force: bool) -> None:
    """Refuse (409) to delete a version aliases point at, or with ``force`` remove them."""
    if row.version is None or row.name is None:
        return
    _registered_row(session, row.name, lock=True)
    pointing = session.scalars(
        select(ModelAliasRow.alias)
        .where(ModelAliasRow.name == row.name, ModelAliasRow.version == row.version)
        .order_by(ModelAliasRow.alias)
    ).all()
    if not pointing:
        return
    if not force:
        names = ", ".join(f"{row.name}@{alias}" for alias in pointing)
        raise WrongState(
            f"version {row.version} of {row.name!r} is aliased as {names}: move or delete "
            "the alias first, or delete with ?force=true to remove the alias too"
        )
    session.execute(
        delete(ModelAliasRow).where(
            ModelAliasRow.name == row.name, ModelAliasRow.version == row.version
        )
    )


def _parsed(reference: str | ModelReference) -> ModelReference:
    return reference if isinstance(reference, ModelReference) else parse_model_reference(reference)


def _resolve_id(session: Session, reference: ModelReference) -> str:
    """The id ``reference`` names, selecting ids only; :class:`ReferenceNotFound` otherwise."""
    if reference.model_id is not None:
        found = session.scalar(select(ModelRow.id).where(ModelRow.id == reference.model_id))
        if found is None:
            raise ReferenceNotFound(
                reference.model_id, f"there is no model with id {reference.model_id!r}"
            )
        return found
    name = str(reference.name)
    if reference.version is not None:
        return _version_id(session, name, reference.version)
    if reference.alias is not None:
        version = session.scalar(
            select(ModelAliasRow.version).where(
                ModelAliasRow.name == name, ModelAliasRow.alias == reference.alias
            )
        )
        if version is None:
            _registered_row(session, name)
            raise ReferenceNotFound(
                str(reference), f"the registered model {name!r} has no alias {reference.alias!r}"
            )
        return _version_id(session, name, version)
    newest = session.scalar(
        select(ModelRow.id)
        .where(ModelRow.name == name, ModelRow.version.is_not(None))
        .order_by(ModelRow.version.desc())
        .limit(1)
    )
    if newest is None:
        _registered_row(session, name)
        raise ReferenceNotFound(
            name, f"the registered model {name!r} has no versions left (all deleted)"
        )
    return newest


def _version_id(session: Session, name: str, version: int) -> str:
    found = session.scalar(
        select(ModelRow.id).where(ModelRow.name == name, ModelRow.version == version)
    )
    if found is None:
        _registered_row(session, name)
        raise ReferenceNotFound(
            f"{name}@v{version}", f"the registered model {name!r} has no version {version}"
        )
    return found


def _registered_row(session: Session, name: str, lock: bool = False) -> RegisteredModelRow:
    row = session.get(RegisteredModelRow, name, with_for_update=lock)
    if row is None:
        raise ReferenceNotFound(name, f"there is no registered model named {name!r}")
    return row


def _registered_records(
    session: Session, rows: Iterable[RegisteredModelRow], with_versions: bool
) -> list[RegisteredModelRecord]:
    rows = list(rows)
    names = [row.name for row in rows]
    aliases: dict[str, dict[str, int]] = defaultdict(dict)
    versions: dict[str, list[ModelRecord]] = defaultdict(list)
    if names:
        for name, alias, version in session.execute(
            select(ModelAliasRow.name, ModelAliasRow.alias, ModelAliasRow.version)
            .where(ModelAliasRow.name.in_(names))
            .order_by(ModelAliasRow.alias)
        ):
            aliases[name][alias] = version
        query = select(ModelRow).where(ModelRow.name.in_(names), ModelRow.version.is_not(None))
        if not with_versions:
            newest = (
                select(ModelRow.name, func.max(ModelRow.version).label("version"))
                .where(ModelRow.name.in_(names), ModelRow.version.is_not(None))
                .group_by(ModelRow.name)
                .subquery()
            )
            query = select(ModelRow).join(
                newest, (ModelRow.name == newest.c.name) & (ModelRow.version == newest.c.version)
            )
        model_rows = session.scalars(query.order_by(ModelRow.version.desc())).all()
        for record in model_records(session, model_rows):
            versions[str(record.name)].append(record)
    return [
        RegisteredModelRecord(
            name=row.name,
            created_at=row.created_at,
            description=row.description,
            tags=dict(row.tags or {}),
            aliases=aliases[row.name],
            latest_version=versions[row.name][0] if versions[row.name] else None,
            versions=versions[row.name] if with_versions else None,
        )
        for row in rows
    ]
