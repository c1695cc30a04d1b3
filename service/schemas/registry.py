"""Schemas of the registry: registered names, their versions and aliases, metadata patches."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from service.domain.references import MAX_VERSION
from service.schemas.common import RequestModel
from service.schemas.models import ModelOut

TAG_KEY_MAX_LENGTH = 64
TAG_VALUE_MAX_LENGTH = 500
DESCRIPTION_MAX_LENGTH = 5000
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*$"
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

TagKey = Annotated[
    str, StringConstraints(min_length=1, max_length=TAG_KEY_MAX_LENGTH, pattern=_NO_CONTROL)
]
TagValue = Annotated[str, StringConstraints(max_length=TAG_VALUE_MAX_LENGTH, pattern=_NO_CONTROL)]
Description = Annotated[str, StringConstraints(max_length=DESCRIPTION_MAX_LENGTH, pattern=_TEXT)]


class MetadataPatch(RequestModel):
    """A JSON merge patch of a description and tags: members left out stay as they are.

    ``description`` null clears it; in ``tags`` a string sets that tag and null removes it.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"description": "blobs at noise 0.2", "tags": {"team": "geometry", "old": None}}
            ]
        }
    )

    description: Description | None = Field(
        default=None, description="free text (tabs and line breaks allowed), or null to clear"
    )
    tags: dict[TagKey, TagValue | None] | None = Field(
        default=None, description="tags to set (a string) or remove (null)"
    )


class AliasBody(RequestModel):
    """The version an alias points at."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"version": 1}]})

    version: int = Field(strict=True, ge=1, le=MAX_VERSION, description="an existing version")


class RegisteredModelOut(BaseModel):
    """A registered name: its metadata, its aliases (alias -> version) and its newest version."""

    model_config = ConfigDict(from_attributes=True)

    name: str
    created_at: datetime
    description: str | None
    tags: dict[str, str]
    aliases: dict[str, int]
    latest_version: ModelOut | None = Field(description="null once every version is deleted")


class RegisteredModelDetail(RegisteredModelOut):
    """A registered name with every version it still has, newest first."""

    versions: list[ModelOut]
