"""Plotly figures of a model (loss, decision boundary, data) and of a job's loss so far.

A model never changes, so its figures are drawn once and kept (service.rendered_figures),
and carry a strong ``ETag`` (a hash of the body); a request with a matching
``If-None-Match`` gets ``304 Not Modified`` without the body. A
model can be deleted, though, so ``Cache-Control: no-cache`` has clients revalidate each
use (a 304 is cheap) rather than keep showing a figure of a model that is gone. A job's
loss curve changes while it trains, so it is never cached. A job with no loss reported yet
(queued, or just started) answers an empty figure (200, no points), so a client can draw
and poll one URL from the moment it starts the job.
"""

from collections.abc import Callable, Hashable
from typing import Annotated, Any

import numpy as np
from fastapi import Query, Request, Response
from starlette.status import HTTP_304_NOT_MODIFIED

from core.figures import Metric, boundary_figure, data_figure, loss_figure
from service.domain.errors import WrongState
from service.http.deps import ModelCacheDep, RepositoryDep, SettingsDep, resource_router
from service.http.limits import check_limit
from service.http.responses import FastJSONResponse
from service.model_cache import LoadedModel, ModelCache
from service.model_lookup import load_model
from service.routes.models import REF_FIELD, ModelRef
from service.schemas.common import problem_responses
from service.schemas.figures import (
    DEFAULT_BOUNDARY_RESOLUTION,
    DEFAULT_LOSS_POINTS,
    MAX_LOSS_POINTS,
    BoundaryModeQuery,
    BoundaryResolution,
    Figure,
)
from service.settings import Settings

model_router = resource_router("/models/{model_id}/figures", "figures")
job_router = resource_router("/jobs/{job_id}/figures", "figures")

MaxPoints = Annotated[
    int,
    Query(
        ge=2,
        le=MAX_LOSS_POINTS,
        description="keep at most this many points per curve (the shape survives thinning)",
    ),
]


def model_figure_response(
    request: Request,
    settings: Settings,
    cache: ModelCache,
    loaded: LoadedModel,
    *,
    key: Hashable,
    draw: Callable[[], dict[str, Any]],
) -> Response:
    """A model's figure as JSON with an ETag and caching headers, or a 304 when the client
    has it. ``key`` names the figure and its options: ``draw()`` runs only the first time
    (a model never changes), after which the rendered JSON is served as it is."""
    rendered = cache.figures.get_or_draw(loaded.record.id, key, draw)
    visibility = "private" if settings.protect_reads else "public"
    headers = {"ETag": rendered.etag, "Cache-Control": f"{visibility}, no-cache"}
    if _matches(request.headers.get("if-none-match"), rendered.etag):
        return Response(status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(rendered.body, media_type=FastJSONResponse.media_type, headers=headers)


def _matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` header names ``etag`` (weak comparison, as RFC 9110 asks)."""
    if not if_none_match:
        return False
    candidates = {candidate.strip().removeprefix("W/") for candidate in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


NO_ACCURACY_HISTORY = (
    "this model recorded no accuracy per epoch: it was trained before PlaneNet recorded it; "
    "its loss figure (metric=loss) is available"
)

FIGURE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": Figure, "description": "Plotly figure JSON"},
    304: {"description": "the client's copy (If-None-Match) is current"},
    **problem_responses(404, 422),
}


@model_router.get(
    "/loss",
    summary="The training (and validation) loss, or accuracy, per epoch",
    responses={**FIGURE_RESPONSES, **problem_responses(409)},
)
def model_loss_figure(
    *,
    model_id: ModelRef,
    request: Request,
    cache: ModelCacheDep,
    settings: SettingsDep,
    max_points: MaxPoints = DEFAULT_LOSS_POINTS,
    metric: Annotated[
        Metric,
        Query(
            description=(
                "loss: the training and validation loss; accuracy: the training and validation "
                "accuracy per epoch (409 for a model that recorded none)"
            )
        ),
    ] = "loss",
) -> Response:
    loaded = load_model(cache, model_id, REF_FIELD)

    def draw() -> dict[str, Any]:
        history = loaded.loss_history()
        if metric == "accuracy":
            if history.accuracy is None and history.validation_accuracy is None:
                raise WrongState(NO_ACCURACY_HISTORY)
            curves = (history.accuracy, history.validation_accuracy)
        else:
            curves = (history.loss, history.validation_loss)
        return loss_figure(*curves, max_points=max_points, metric=metric)

    return model_figure_response(
        request, settings, cache, loaded, key=("loss", max_points, metric), draw=draw
    )


def boundary_resolution(resolution: int | None, settings: Settings) -> int:
    """The grid a boundary figure is drawn on: the one asked for within the limit (413 over
    it), else the default, or the limit when that is lower."""
    if resolution is None:
        return min(DEFAULT_BOUNDARY_RESOLUTION, settings.max_boundary_resolution)
    check_limit("resolution", resolution, settings, "max_boundary_resolution")
    return resolution


@model_router.get(
    "/boundary",
    summary="The decision regions (or the class-1 probability) over a grid, with the points",
    responses={**FIGURE_RESPONSES, **problem_responses(413)},
)
def model_boundary_figure(
    *,
    model_id: ModelRef,
    request: Request,
    cache: ModelCacheDep,
    settings: SettingsDep,
    resolution: BoundaryResolution = None,
    mode: BoundaryModeQuery = "regions",
) -> Response:
    resolution = boundary_resolution(resolution, settings)
    loaded = load_model(cache, model_id, REF_FIELD)

    def draw() -> dict[str, Any]:
        datasets = loaded.datasets()
        return boundary_figure(
            loaded.network.predict_proba,
            datasets.train_set,
            resolution=resolution,
            mode=mode,
            validation=datasets.validation_set,
        )

    return model_figure_response(
        request, settings, cache, loaded, key=("boundary", resolution, mode), draw=draw
    )


@model_router.get(
    "/data",
    summary="The training points by class",
    responses=FIGURE_RESPONSES,
)
def model_data_figure(
    model_id: ModelRef, request: Request, cache: ModelCacheDep, settings: SettingsDep
) -> Response:
    loaded = load_model(cache, model_id, REF_FIELD)

    def draw() -> dict[str, Any]:
        datasets = loaded.datasets()
        return data_figure(datasets.train_set, validation=datasets.validation_set)

    return model_figure_response(request, settings, cache, loaded, key=("data",), draw=draw)


@job_router.get(
    "/loss",
    summary="A job's loss per epoch so far (empty before its first report)",
    responses={200: FIGURE_RESPONSES[200], **problem_responses(404, 422)},
)
def job_loss_figure(
    job_id: str,
    repository: RepositoryDep,
    max_points: MaxPoints = DEFAULT_LOSS_POINTS,
) -> Response:
    history = repository.job_loss_history(job_id)
    if history is None:
        figure = loss_figure(np.empty(0), max_points=max_points)
    else:
        figure = loss_figure(history.loss, history.validation_loss, max_points=max_points)
    return FastJSONResponse(figure, headers={"Cache-Control": "no-store"})
