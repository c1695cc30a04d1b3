"""GET /metrics: the Prometheus text exposition of this process's and the store's figures."""

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service.http.deps import require_read_key
from service.metrics import ServiceMetrics
from service.schemas.common import problem_responses

router = APIRouter(
    tags=["health"],
    dependencies=[Depends(require_read_key)],
    responses=problem_responses(401),
)


@router.get(
    "/metrics",
    summary="Metrics in the Prometheus text format",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}},
)
def metrics(request: Request) -> Response:
    """Requests, predictions and cache use of this process; jobs, queue waits, training
    times and busy workers of every process sharing the store (read now)."""
    service_metrics: ServiceMetrics = request.app.state.metrics
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)
