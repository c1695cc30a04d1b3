"""The model registry: list, show and delete trained models, and hand out their parameters."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response, status

from core.serialization import parameters_to_dict
from service.deps import ReadAccess, RepositoryDep, RequireKey
from service.model_cache import ModelCacheDep
from service.responses import FastJSONResponse
from service.schemas.common import (
    DEFAULT_PAGE_SIZE,
    Page,
    PageLimit,
    PageOffset,
    ParametersBody,
    problem_responses,
)
from service.schemas.models import ModelOut

router = APIRouter(prefix="/models", tags=["models"])


@router.get("", summary="List the trained models, newest first", responses=problem_responses(422))
def list_models(
    repository: RepositoryDep,
    _: ReadAccess,
    limit: Annotated[PageLimit, Query()] = DEFAULT_PAGE_SIZE,
    offset: Annotated[PageOffset, Query()] = 0,
) -> Page[ModelOut]:
    page = repository.list_models(limit=limit, offset=offset)
    return Page[ModelOut](
        items=[ModelOut.from_record(record) for record in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{model_id}", summary="A model's configuration and metrics", responses=problem_responses(404)
)
def get_model(model_id: str, repository: RepositoryDep, _: ReadAccess) -> ModelOut:
    return ModelOut.from_record(repository.get_model(model_id))


@router.delete(
    "/{model_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a model (its job keeps its history)",
    responses=problem_responses(401, 404),
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
def get_parameters(model_id: str, cache: ModelCacheDep, _: ReadAccess) -> Any:
    parameters = cache.get(model_id).artifacts.parameters
    return FastJSONResponse(parameters_to_dict(parameters))
