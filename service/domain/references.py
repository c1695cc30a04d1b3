"""Model references (an id, ``name``, ``name@vN``, ``name@alias``) and the rules for names.

A registered name is 1 to 100 characters: ASCII letters, digits, ``.``, ``-`` and ``_``,
starting with a letter or a digit, and not 32 lowercase hex digits (which read as a model
id). So every name can be written in a reference (it holds no ``@``) and as one URL path
segment (no ``/``, no ``%``, never ``.`` or ``..``) without escaping. An alias is 1 to 64
letters, digits, ``-`` and ``_``; ``latest`` and ``v`` followed by digits are reserved
(``name@latest`` is the newest version, ``name@v3`` version 3). A job whose name breaks
these rules still trains (v1 took any text) and yields a model addressed by its id only.
"""

import re
from dataclasses import dataclass

from service.domain.errors import InvalidInput

NAME_MAX_LENGTH = 100
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
ALIAS_MAX_LENGTH = 64
ALIAS_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
LATEST = "latest"
MAX_VERSION = 2**31 - 1
"""The highest version number (the databases' INTEGER); a larger one is refused with 422."""
REFERENCE_MAX_LENGTH = NAME_MAX_LENGTH + 1 + ALIAS_MAX_LENGTH

_NAME = re.compile(NAME_PATTERN)
_ALIAS = re.compile(ALIAS_PATTERN)
_MODEL_ID = re.compile(r"^[0-9a-f]{32}$")
_VERSION_SELECTOR = re.compile(r"^[vV](-?[0-9]+)$")

REFERENCE_HELP = "a model id, 'name', 'name@vN' (version N) or 'name@alias'"


def is_model_id(text: str) -> bool:
    """Whether ``text`` has the shape of a model id (32 lowercase hex digits)."""
    return _MODEL_ID.match(text) is not None


def is_registrable_name(name: str) -> bool:
    """Whether ``name`` may name a registered model (see the module's rules)."""
    return _NAME.match(name) is not None and not is_model_id(name)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a registered model, or None when it can."""
    if is_model_id(name):
        return "must not be 32 hex digits, which read as a model id"
    if _NAME.match(name) is None:
        return (
            f"must be 1 to {NAME_MAX_LENGTH} ASCII letters, digits, '.', '-' or '_', "
            "starting with a letter or a digit"
        )
    return None


def alias_problem(alias: str) -> str | None:
    """Why ``alias`` cannot be an alias, or None when it can."""
    if _ALIAS.match(alias) is None:
        return f"must be 1 to {ALIAS_MAX_LENGTH} letters, digits, '-' or '_'"
    if alias.lower() == LATEST or _VERSION_SELECTOR.match(alias):
        return "is reserved: 'latest' and 'v' followed by a number select versions"
    return None


def version_problem(version: int) -> str | None:
    """Why ``version`` cannot be a version number, or None when it can."""
    if not 1 <= version <= MAX_VERSION:
        return f"must be a whole number from 1 to {MAX_VERSION}, got {version}"
    return None


@dataclass(frozen=True)
class ModelReference:
    """A parsed reference: a model id, or a name with a version, an alias or neither (newest)."""

    model_id: str | None = None
    name: str | None = None
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.model_id is not None:
            return self.model_id
        if self.version is not None:
            return f"{self.name}@v{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return str(self.name)


def parse_model_reference(text: str, field: str = "model") -> ModelReference:
    """The reference ``text`` names; :class:`InvalidInput` (422) at ``field`` when malformed."""

    def refuse(message: str) -> InvalidInput:
        return InvalidInput([(field, f"{message}; a reference is {REFERENCE_HELP}")])

    if not text or len(text) > REFERENCE_MAX_LENGTH:
        raise refuse(f"must be 1 to {REFERENCE_MAX_LENGTH} characters, got {len(text)}")
    name, at, selector = text.partition("@")
    if not at:
        if is_model_id(text):
            return ModelReference(model_id=text)
        problem = name_problem(text)
        if problem is not None:
            raise refuse(f"{text!r} is no model id, and as a name it {problem}")
        return ModelReference(name=text)
    problem = name_problem(name)
    if problem is not None:
        raise refuse(f"the name {name!r} {problem}")
    version = _VERSION_SELECTOR.match(selector)
    if version is not None:
        number = int(version.group(1))
        problem = version_problem(number)
        if problem is not None:
            raise refuse(f"the version {problem}")
        return ModelReference(name=name, version=number)
    if selector.lower() == LATEST:
        return ModelReference(name=name)
    if _ALIAS.match(selector) is None:
        raise refuse(
            f"the alias {selector!r} must be 1 to {ALIAS_MAX_LENGTH} letters, digits, '-' or '_'"
        )
    return ModelReference(name=name, alias=selector)
