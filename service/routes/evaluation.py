"""Evaluation: a model's metrics on labelled points, and optionally their figures."""

from typing import Annotated, Any

import numpy as np
from fastapi import Query, Request, Response
from starlette.concurrency import run_in_threadpool

from core.evaluation import evaluate_probabilities, roc_curve
from core.figures import confusion_figure, roc_figure
from service.domain.errors import InvalidInput
from service.domain.evaluation import summary_of
from service.http.deps import ModelCacheDep, SettingsDep, resource_router
from service.http.request_body import read_json_body, request_body_openapi
from service.http.responses import FastJSONResponse
from service.model_cache import ModelCache
from service.model_lookup import load_model
from service.routes.models import REF_FIELD, ModelRef
from service.routes.predictions import PREDICTION_RESPONSES, parse_points_body
from service.schemas.evaluation import EvaluationOut
from service.schemas.predictions import EvaluateBody

model_router = resource_router("/models/{model_id}", "evaluation")


def evaluation_answer(
    cache: ModelCache, reference: str, body: EvaluateBody, figures: bool
) -> dict[str, Any]:
    """The metrics of the model ``reference`` names on the body's points, with figures if asked."""
    loaded = load_model(cache, reference, REF_FIELD)
    with np.errstate(over="ignore", invalid="ignore"):
        probabilities = loaded.network.predict_proba(np.asarray(body.points, dtype=np.float64))
    if np.isnan(probabilities).any():
        index = int(np.argmax(np.isnan(probabilities)))
        raise InvalidInput(
            [(f"body.points[{index}]", "the coordinates are too large for the network to evaluate")]
        )
    labels = np.asarray(body.labels, dtype=np.int64)
    evaluation = evaluate_probabilities(labels, probabilities, body.threshold)
    answer: dict[str, Any] = {
        "model_id": loaded.record.id,
        **summary_of(evaluation).model_dump(mode="json"),
    }
    if figures:
        answer["figures"] = {
            "roc": roc_figure(roc_curve(labels, probabilities), evaluation.roc_auc),
            "confusion_matrix": confusion_figure(evaluation.confusion_matrix),
        }
    return answer


@model_router.post(
    "/evaluate",
    summary="Measure a model on labelled points: accuracy, log loss, precision, recall, F1, "
    "ROC-AUC, confusion matrix",
    response_model=EvaluationOut,
    responses=PREDICTION_RESPONSES,
    openapi_extra=request_body_openapi(EvaluateBody),
)
async def evaluate_model(
    model_id: ModelRef,
    request: Request,
    settings: SettingsDep,
    cache: ModelCacheDep,
    figures: Annotated[
        bool, Query(description="also return Plotly figures: the ROC curve, the confusion matrix")
    ] = False,
) -> Response:
    body = await parse_points_body(await read_json_body(request), EvaluateBody, settings)
    answer = await run_in_threadpool(evaluation_answer, cache, model_id, body, figures)
    return FastJSONResponse(answer)
