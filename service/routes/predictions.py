"""Predictions: labels and class-1 probabilities of points, from a named or the newest model.

A reference (``model`` in the body of ``/predict``, or the path) is an id, ``name``,
``name@vN`` or ``name@alias``; ``model_id`` keeps v1's meaning (an id). ``threshold``
(default 0.5) moves the labels, never the probabilities.

A body of 100,000 points is about 4 MB of JSON. FastAPI's usual path (``json.loads`` to
Python objects, then pydantic over them) spends most of a request there, so these routes
read the raw body and validate it in one pass with pydantic-core
(``model_validate_json``), keeping the 422 problem shape. For a big body the parsing, the
NumPy work and the encoding of the answer run in a worker thread, never on the event loop;
a small body (a few hundred points) for a model already in the cache is answered on the
event loop, since the hop to a thread would cost more than the work.
"""

from typing import TypeVar

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from core.network import DEFAULT_THRESHOLD, Network
from service.domain.errors import InvalidInput, WrongState
from service.domain.prediction import UNEVALUABLE, UnevaluablePoint, classify_points
from service.http.deps import ModelCacheDep, RepositoryDep, SettingsDep, resource_router
from service.http.limits import PREDICT_BODY_BRACKETS, check_bracket_count, check_limit
from service.http.request_body import parse_body, read_json_body, request_body_openapi
from service.http.responses import FastJSONResponse
from service.metrics import ServiceMetrics
from service.model_cache import LoadedModel, ModelCache
from service.model_lookup import load_model, peek_model
from service.routes.models import REF_FIELD, ModelRef
from service.schemas.common import problem_responses
from service.schemas.predictions import PointsBody, PredictBody, Prediction
from service.settings import Settings

model_router = resource_router("/models/{model_id}", "predictions")
router = resource_router("/predict", "predictions")

BodyT = TypeVar("BodyT", bound=PointsBody)

NO_MODEL_YET = "no model has been trained yet: train one with POST /jobs, then predict"

# Bodies up to this size (about 800 points) and as many points take well under a
# millisecond to parse and to predict: less than the hop to a worker thread.
INLINE_BODY_BYTES = 32 * 1024
INLINE_POINTS = 1000


def classify(
    network: Network, points: list[tuple[float, float]], threshold: float = DEFAULT_THRESHOLD
) -> tuple[list[int], list[float]]:
    """Labels at ``threshold`` and class-1 probabilities, as plain lists, of points (n, 2).

    The schema has checked each point: a pair of finite numbers within the coordinate bound.
    """
    try:
        return classify_points(network, points, threshold)
    except UnevaluablePoint as error:
        raise InvalidInput([(f"body.points[{error.index}]", UNEVALUABLE)]) from None


def _answer(loaded: LoadedModel, body: PointsBody) -> Response:
    labels, probabilities = classify(loaded.network, body.points, body.threshold)
    return FastJSONResponse(
        {"model_id": loaded.record.id, "labels": labels, "probabilities": probabilities}
    )


def _load_and_answer(cache: ModelCache, reference: str, field: str, body: PointsBody) -> Response:
    return _answer(load_model(cache, reference, field), body)


async def parse_points_body(body: bytes, schema: type[BodyT], settings: Settings) -> BodyT:
    """The body validated (in a worker thread when big), with the number of points checked.

    A body with clearly too many points is refused by counting its ``[`` first: parsing
    costs far more memory and time than the body's bytes.
    """
    what = "the number of points"
    check_bracket_count(body, PREDICT_BODY_BRACKETS, what, settings, "max_predict_points")
    if len(body) <= INLINE_BODY_BYTES:
        parsed = parse_body(body, schema)
    else:
        parsed = await run_in_threadpool(parse_body, body, schema)
    check_limit(what, len(parsed.points), settings, "max_predict_points")
    return parsed


async def _respond(
    request: Request, cache: ModelCache, reference: str, field: str, body: PointsBody
) -> Response:
    """The prediction, on the event loop for a few points of a cached model named by id,
    else in a thread (a name or alias is resolved against the store on every request); the
    points are counted once answered."""
    cached = peek_model(cache, reference, field)
    if cached is not None and len(body.points) <= INLINE_POINTS:
        response = _answer(cached, body)
    else:
        response = await run_in_threadpool(_load_and_answer, cache, reference, field, body)
    _count(request, body)
    return response


def _count(request: Request, body: PointsBody) -> None:
    metrics: ServiceMetrics = request.app.state.metrics
    metrics.predicted_points.inc(len(body.points))


PREDICTION_RESPONSES = problem_responses(404, 413, 415, 422)


@model_router.post(
    "/predict",
    summary="Classify points with this model",
    response_model=Prediction,
    responses=PREDICTION_RESPONSES,
    openapi_extra=request_body_openapi(PointsBody),
)
async def predict_with_model(
    model_id: ModelRef, request: Request, settings: SettingsDep, cache: ModelCacheDep
) -> Response:
    parsed = await parse_points_body(await read_json_body(request), PointsBody, settings)
    return await _respond(request, cache, model_id, REF_FIELD, parsed)


@router.post(
    "",
    summary="Classify points with the model the body names (`model` or `model_id`), or the newest",
    response_model=Prediction,
    responses={**PREDICTION_RESPONSES, **problem_responses(409)},
    openapi_extra=request_body_openapi(PredictBody),
)
async def predict(
    request: Request, settings: SettingsDep, cache: ModelCacheDep, repository: RepositoryDep
) -> Response:
    parsed = await parse_points_body(await read_json_body(request), PredictBody, settings)
    if parsed.model is not None:
        return await _respond(request, cache, parsed.model, "body.model", parsed)
    model_id = parsed.model_id
    if model_id is None:
        newest = await run_in_threadpool(repository.newest_model)
        if newest is None:
            raise WrongState(NO_MODEL_YET)
        model_id = newest.id
    return await _respond_by_id(request, cache, model_id, parsed)


async def _respond_by_id(
    request: Request, cache: ModelCache, model_id: str, body: PointsBody
) -> Response:
    """As :func:`_respond` for ``model_id``, which (as in v1) may be any text: not a reference."""
    cached = cache.peek(model_id)
    if cached is not None and len(body.points) <= INLINE_POINTS:
        response = _answer(cached, body)
    else:
        response = await run_in_threadpool(lambda: _answer(cache.get(model_id), body))
    _count(request, body)
    return response
