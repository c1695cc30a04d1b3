"""Training jobs: start one, list them, watch one, cancel one."""

import time
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from core.errors import CoreError
from core.parameters import make_parameters
from service.deps import ReadAccess, RepositoryDep, RequireKey, RunnerDep, SettingsDep
from service.errors import InvalidInput
from service.limits import check_training_limits
from service.runner.plan import prepare_training
from service.schemas.common import DEFAULT_PAGE_SIZE, PageLimit, PageOffset, problem_responses
from service.schemas.jobs import JobOut, JobPage, PointsData, TrainingRequest
from service.store.tables import JobStatus

CANCEL_WAIT_SECONDS = 2.0
CANCEL_POLL_SECONDS = 0.05

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start training a network",
    responses=problem_responses(401, 413, 422),
)
def create_job(
    body: TrainingRequest,
    response: Response,
    settings: SettingsDep,
    repository: RepositoryDep,
    runner: RunnerDep,
    _: RequireKey,
) -> JobOut:
    """Queue a training job; a worker starts it as soon as one is free.

    The answer (202) is the queued job, with its URL in ``Location``. Everything is checked
    first: limits (413) and the values themselves (422), so a job that is accepted can run.
    """
    check_training_limits(body, settings)
    training_data = None
    if isinstance(body.data, PointsData):
        try:
            training_data = body.data.dataset()
        except CoreError as error:
            raise InvalidInput([("body.data", str(error))]) from None
    initial_parameters = None
    if body.initial_parameters is not None:
        try:
            initial_parameters = make_parameters(
                body.initial_parameters.weights, body.initial_parameters.biases
            )
        except CoreError as error:
            raise InvalidInput([("body.initial_parameters", str(error))]) from None
    config = body.stored_config()
    prepare_training(config, training_data, initial_parameters)
    job = repository.create_job(config, body.name, training_data, initial_parameters)
    runner.submit(job.id)
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobOut.from_record(job)


@router.get("", summary="List jobs, newest first", responses=problem_responses(401, 422))
def list_jobs(
    repository: RepositoryDep,
    _: ReadAccess,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    offset: PageOffset = 0,
    job_status: Annotated[JobStatus | None, Query(alias="status")] = None,
) -> JobPage:
    page = repository.list_jobs(limit, offset, job_status)
    return JobPage(
        items=[JobOut.from_record(job) for job in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get(
    "/{job_id}", summary="One job: status and progress", responses=problem_responses(401, 404, 422)
)
def get_job(job_id: str, repository: RepositoryDep, _: ReadAccess) -> JobOut:
    return JobOut.from_record(repository.get_job(job_id))


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a queued or running job",
    responses={202: {"model": JobOut}, **problem_responses(401, 404, 409, 422)},
)
def cancel_job(
    job_id: str, response: Response, repository: RepositoryDep, runner: RunnerDep, _: RequireKey
) -> JobOut:
    """A queued job is cancelled at once. A running job stops at its next progress check
    (well within a second): the answer waits up to two seconds for that and is 200 once the
    job has finished, or 202 with ``cancel_requested`` while it is still stopping.
    A finished job cannot be cancelled (409)."""
    job = repository.request_cancel(job_id)
    if job.status is JobStatus.RUNNING:
        runner.cancel(job_id)
        deadline = time.monotonic() + CANCEL_WAIT_SECONDS
        while job.status is JobStatus.RUNNING and time.monotonic() < deadline:
            time.sleep(CANCEL_POLL_SECONDS)
            job = repository.get_job(job_id)
    if job.status is JobStatus.RUNNING:
        response.status_code = status.HTTP_202_ACCEPTED
    return JobOut.from_record(job)
