"""Figures of training: a running job's boundary, a model's replay and its neuron maps.

A job's boundary draws the newest parameters its worker stored (a few times a second), so it
changes while the job runs and is never cached; ``layout.meta.epoch`` says which epoch's
parameters it draws. A model's replay and neuron maps never change, and are drawn once and kept,
with an ETag, like the model's other figures.
"""

from typing import Annotated, Any

from fastapi import Query, Request, Response

from core.backprop import FlatParameters
from core.figures import (
    NEURON_RESOLUTION,
    REPLAY_RESOLUTION,
    ReplaySnapshot,
    boundary_figure,
    neuron_figure,
    replay_figure,
)
from core.figures.neurons import MAX_UNITS_PER_LAYER
from core.network import Network
from service.domain.errors import WrongState
from service.http.deps import (
    ModelCacheDep,
    RepositoryDep,
    SettingsDep,
    resource_router,
)
from service.http.responses import FastJSONResponse
from service.model_lookup import load_model
from service.routes.figures import FIGURE_RESPONSES, boundary_resolution, model_figure_response
from service.routes.models import REF_FIELD, ModelRef
from service.runner.plan import job_datasets
from service.schemas.common import problem_responses
from service.schemas.figures import (
    MAX_THUMBNAIL_RESOLUTION,
    BoundaryModeQuery,
    BoundaryResolution,
)

job_router = resource_router("/jobs/{job_id}/figures", "figures")
model_router = resource_router("/models/{model_id}/figures", "figures")

MAX_NEURON_UNITS = 32
"""Most maps per layer a client may ask for."""

ThumbnailResolution = Annotated[
    int,
    Query(ge=2, le=MAX_THUMBNAIL_RESOLUTION, description="grid points per axis of each map"),
]


@job_router.get(
    "/boundary",
    summary="A running job's decision boundary, from its newest stored parameters",
    responses={
        200: FIGURE_RESPONSES[200],
        **problem_responses(404, 409, 413, 422),
    },
)
def job_boundary_figure(
    *,
    job_id: str,
    repository: RepositoryDep,
    settings: SettingsDep,
    resolution: BoundaryResolution = None,
    mode: BoundaryModeQuery = "regions",
) -> Response:
    resolution = boundary_resolution(resolution, settings)
    inputs = repository.job_figure_inputs(job_id)
    if inputs.live is None:
        raise WrongState(
            f"job {job_id!r} ({inputs.status}) has stored no parameters yet; its boundary can "
            "be drawn once it has trained a moment (watch GET /jobs/{id}/events for a "
            "snapshot event)"
        )
    _, train_set, validation_set = job_datasets(inputs.config, inputs.training_data)
    core_config = inputs.config.core_config()
    network = Network(inputs.live.parameters, core_config.activation, core_config.features)
    figure = boundary_figure(
        network.predict_proba,
        train_set,
        resolution=resolution,
        mode=mode,
        validation=validation_set,
        epoch=inputs.live.epoch,
    )
    return FastJSONResponse(figure, headers={"Cache-Control": "no-store"})


@model_router.get(
    "/training",
    summary="The training replay: a frame per snapshot, with a slider and a play button",
    responses={**FIGURE_RESPONSES, **problem_responses(409)},
)
def model_training_figure(
    model_id: ModelRef,
    request: Request,
    cache: ModelCacheDep,
    settings: SettingsDep,
    resolution: Annotated[
        int,
        Query(
            ge=2,
            le=MAX_THUMBNAIL_RESOLUTION,
            description=(
                f"grid points per axis of each frame's regions (the default, "
                f"{REPLAY_RESOLUTION}, keeps the answer under 2 MB)"
            ),
        ),
    ] = REPLAY_RESOLUTION,
) -> Response:
    loaded = load_model(cache, model_id, REF_FIELD)

    def draw() -> dict[str, Any]:
        snapshots = loaded.snapshots()
        if snapshots is None:
            raise WrongState(
                f"model {model_id!r} was trained before PlaneNet kept training snapshots, so "
                f"it has no replay; GET /models/{model_id}/figures/boundary draws its boundary"
            )
        network = loaded.network
        layer_sizes = network.parameters.layer_sizes
        frames = [
            ReplaySnapshot(
                int(epoch),
                Network(
                    FlatParameters(layer_sizes, vector.copy()).to_parameters(),
                    network.activation,
                    network.features,
                ).predict_proba,
            )
            for epoch, vector in zip(snapshots.epochs, snapshots.vectors, strict=True)
        ]
        history, datasets = loaded.loss_history(), loaded.datasets()
        return replay_figure(
            frames,
            history.loss,
            datasets.train_set,
            validation=datasets.validation_set,
            validation_loss_history=history.validation_loss,
            resolution=resolution,
        )

    return model_figure_response(
        request, settings, cache, loaded, key=("training", resolution), draw=draw
    )


@model_router.get(
    "/neurons",
    summary="Each unit's activation over the plane: a map per hidden unit and the output",
    responses=FIGURE_RESPONSES,
)
def model_neuron_figure(
    *,
    model_id: ModelRef,
    request: Request,
    cache: ModelCacheDep,
    settings: SettingsDep,
    resolution: ThumbnailResolution = NEURON_RESOLUTION,
    max_units: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_NEURON_UNITS,
            description="maps per layer at most; a wider layer shows its first units",
        ),
    ] = MAX_UNITS_PER_LAYER,
) -> Response:
    loaded = load_model(cache, model_id, REF_FIELD)

    def draw() -> dict[str, Any]:
        datasets = loaded.datasets()
        return neuron_figure(
            loaded.network.layer_activations,
            datasets.train_set,
            validation=datasets.validation_set,
            resolution=resolution,
            max_units=max_units,
        )

    return model_figure_response(
        request, settings, cache, loaded, key=("neurons", resolution, max_units), draw=draw
    )
