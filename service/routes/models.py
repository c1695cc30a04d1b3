"""Models: list, show, describe and delete trained models, and hand out their parameters.

Every path names a model by reference: its id, ``name`` (newest version), ``name@vN`` or
``name@alias`` (see service.domain.references).
"""

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Response, status

from core.serialization import parameters_to_dict
from service.domain.references import REFERENCE_HELP
from service.http.deps import ModelCacheDep, RepositoryDep, RequireKey, resource_router
from service.http.request_body import json_body, request_body_openapi
from service.http.responses import FastJSONResponse
from service.model_lookup import load_model, resolve_model_id
from service.schemas.common import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageLimit,
    PageOffset,
    ParametersBody,
    problem_responses,
)
from service.schemas.models import ModelOut
from service.schemas.registry import MetadataPatch

router = resource_router("/models", "models")

ModelRef = Annotated[str, Path(description=f"the model: {REFERENCE_HELP}")]
REF_FIELD = "path.model_id"


@router.get("", summary="List the trained models, newest first", responses=problem_responses(422))
def list_models(
    repository: RepositoryDep, limit: PageLimit = DEFAULT_PAGE_SIZE, offset: PageOffset = 0
) -> Page[ModelOut]:
    return Page[ModelOut].model_validate(repository.list_models(limit, offset))


@router.get(
    "/{model_id}",
    summary="A model's configuration, metrics, version, aliases and tags",
    responses=problem_responses(404, 422),
)
def get_model(model_id: ModelRef, repository: RepositoryDep) -> ModelOut:
    model_id = resolve_model_id(repository, model_id, REF_FIELD)
    return ModelOut.model_validate(repository.get_model(model_id))


@router.patch(
    "/{model_id}",
    summary="Set a model's description and tags (a JSON merge patch)",
    openapi_extra=request_body_openapi(MetadataPatch),
    responses=problem_responses(404, 415, 422),
)
def patch_model(
    model_id: ModelRef,
    repository: RepositoryDep,
    _: RequireKey,
    body: Annotated[MetadataPatch, Depends(json_body(MetadataPatch))],
) -> ModelOut:
    model_id = resolve_model_id(repository, model_id, REF_FIELD)
    record = repository.update_model(
        model_id, body.description, "description" in body.model_fields_set, body.tags
    )
    return ModelOut.model_validate(record)


@router.delete(
    "/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a model (its job keeps its history); 409 while an alias points at it",
    responses=problem_responses(404, 409, 422),
)
def delete_model(
    model_id: ModelRef,
    repository: RepositoryDep,
    cache: ModelCacheDep,
    _: RequireKey,
    force: Annotated[
        bool, Query(description="also remove the aliases that point at this version")
    ] = False,
) -> Response:
    model_id = resolve_model_id(repository, model_id, REF_FIELD)
    try:
        repository.delete_model(model_id, force=force)
    finally:
        cache.invalidate(model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{model_id}/parameters",
    summary="A model's weights and biases, in the shape `initial_parameters` takes",
    response_model=ParametersBody,
    response_class=FastJSONResponse,
    responses=problem_responses(404, 422),
)
def get_parameters(model_id: ModelRef, cache: ModelCacheDep) -> Any:
    loaded = load_model(cache, model_id, REF_FIELD)
    return FastJSONResponse(parameters_to_dict(loaded.network.parameters))
