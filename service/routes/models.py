"""The model registry: list, show and delete trained models, and hand out their parameters."""

from typing import Any

from fastapi import Response, status

from core.serialization import parameters_to_dict
from service.http.deps import ModelCacheDep, RepositoryDep, RequireKey, resource_router
from service.http.responses import FastJSONResponse
from service.schemas.common import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageLimit,
    PageOffset,
    ParametersBody,
    problem_responses,
)
from service.schemas.models import ModelOut

router = resource_router("/models", "models")


@router.get("", summary="List the trained models, newest first", responses=problem_responses(422))
def list_models(
    repository: RepositoryDep, limit: PageLimit = DEFAULT_PAGE_SIZE, offset: PageOffset = 0
) -> Page[ModelOut]:
    return Page[ModelOut].model_validate(repository.list_models(limit, offset))


@router.get(
    "/{model_id}", summary="A model's configuration and metrics", responses=problem_responses(404)
)
def get_model(model_id: str, repository: RepositoryDep) -> ModelOut:
    return ModelOut.model_validate(repository.get_model(model_id))


@router.delete(
    "/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a model (its job keeps its history)",
    responses=problem_responses(404),
)
def delete_model(
    model_id: str, repository: RepositoryDep, cache: ModelCacheDep, _: RequireKey
) -> Response:
    try:
        repository.delete_model(model_id)
    finally:
        cache.invalidate(model_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/{model_id}/parameters",
    summary="A model's weights and biases, in the shape `initial_parameters` takes",
    response_model=ParametersBody,
    response_class=FastJSONResponse,
    responses=problem_responses(404),
)
def get_parameters(model_id: str, cache: ModelCacheDep) -> Any:
    return FastJSONResponse(parameters_to_dict(cache.get(model_id).network.parameters))
