"""Liveness and readiness: is the process up, and can it serve (database and workers)?"""

from fastapi import APIRouter

from service.domain.errors import NotReady
from service.http.deps import RepositoryDep, RunnerDep
from service.schemas.common import problem_responses
from service.schemas.health import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: the database answers and takes writes, the training workers are alive",
    responses=problem_responses(503),
)
def readyz(repository: RepositoryDep, runner: RunnerDep) -> Readiness:
    repository.ping()
    repository.check_writable()
    workers = runner.health()
    if not workers.healthy:
        raise NotReady(f"{workers.alive} of {workers.expected} training workers are alive")
    return Readiness(status="ready", workers_alive=workers.alive, workers_expected=workers.expected)


# HEAD too, undocumented: load balancers and container runtimes often probe with it.
for path, probe in (("/healthz", healthz), ("/readyz", readyz)):
    router.add_api_route(path, probe, methods=["HEAD"], include_in_schema=False)
