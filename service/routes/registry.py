"""Registered models: names with their versions, descriptions, tags and aliases."""

from typing import Annotated

from fastapi import Depends, Path, Response, status

from service.domain.errors import InvalidInput
from service.domain.references import alias_problem, name_problem
from service.http.deps import RepositoryDep, RequireKey, resource_router
from service.http.request_body import json_body, request_body_openapi
from service.schemas.common import DEFAULT_PAGE_SIZE, Page, PageLimit, PageOffset, problem_responses
from service.schemas.registry import (
    AliasBody,
    MetadataPatch,
    RegisteredModelDetail,
    RegisteredModelOut,
)

router = resource_router("/registered-models", "registered models")

Name = Annotated[str, Path(description="a registered name")]
Alias = Annotated[
    str, Path(description="letters, digits, '-' and '_'; not 'latest' nor 'v' and digits")
]


def checked_name(name: str) -> str:
    """``name`` when it may name a registered model, else a 422 saying why."""
    problem = name_problem(name)
    if problem is not None:
        raise InvalidInput([("path.name", f"{name!r} {problem}")])
    return name


def checked_alias(alias: str) -> str:
    """``alias`` when it may be an alias, else a 422 saying why."""
    problem = alias_problem(alias)
    if problem is not None:
        raise InvalidInput([("path.alias", f"{alias!r} {problem}")])
    return alias


@router.get(
    "",
    summary="List the registered models, each with its newest version",
    responses=problem_responses(422),
)
def list_registered_models(
    repository: RepositoryDep, limit: PageLimit = DEFAULT_PAGE_SIZE, offset: PageOffset = 0
) -> Page[RegisteredModelOut]:
    return Page[RegisteredModelOut].model_validate(repository.list_registered_models(limit, offset))


@router.get(
    "/{name}",
    summary="A registered model with all its versions",
    responses=problem_responses(404, 422),
)
def get_registered_model(name: Name, repository: RepositoryDep) -> RegisteredModelDetail:
    record = repository.get_registered_model(checked_name(name))
    return RegisteredModelDetail.model_validate(record)


@router.patch(
    "/{name}",
    summary="Set a registered model's description and tags (a JSON merge patch)",
    openapi_extra=request_body_openapi(MetadataPatch),
    responses=problem_responses(404, 415, 422),
)
def patch_registered_model(
    name: Name,
    repository: RepositoryDep,
    _: RequireKey,
    body: Annotated[MetadataPatch, Depends(json_body(MetadataPatch))],
) -> RegisteredModelDetail:
    record = repository.update_registered_model(
        checked_name(name), body.description, "description" in body.model_fields_set, body.tags
    )
    return RegisteredModelDetail.model_validate(record)


@router.put(
    "/{name}/aliases/{alias}",
    summary="Point an alias at a version (set it, or move it)",
    openapi_extra=request_body_openapi(AliasBody),
    responses=problem_responses(404, 415, 422),
)
def put_alias(
    name: Name,
    alias: Alias,
    repository: RepositoryDep,
    _: RequireKey,
    body: Annotated[AliasBody, Depends(json_body(AliasBody))],
) -> RegisteredModelDetail:
    record = repository.set_alias(checked_name(name), checked_alias(alias), body.version)
    return RegisteredModelDetail.model_validate(record)


@router.delete(
    "/{name}/aliases/{alias}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Remove an alias",
    responses=problem_responses(404, 422),
)
def delete_alias(name: Name, alias: Alias, repository: RepositoryDep, _: RequireKey) -> Response:
    repository.delete_alias(checked_name(name), checked_alias(alias))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
