"""Training jobs: start one, list them, show one, cancel one."""

import logging
from typing import Annotated

import anyio
from fastapi import Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from core.dataset import Dataset, validation_rows
from core.errors import CoreError
from core.parameters import Parameters, make_parameters
from service.domain.errors import InvalidInput
from service.domain.jobs import JobStatus, QueueLimit
from service.domain.records import JobRecord
from service.http.deps import RepositoryDep, RequireKey, RunnerDep, SettingsDep, resource_router
from service.http.limits import check_bracket_count, check_training_limits, training_body_brackets
from service.http.request_body import parse_body, read_json_body, request_body_openapi
from service.runner import Runner
from service.schemas.common import DEFAULT_PAGE_SIZE, Page, PageLimit, PageOffset, problem_responses
from service.schemas.jobs import JobOut, PointsData, TrainingRequest
from service.settings import Settings, setting_env_name
from service.store.repository import Repository

CANCEL_WAIT_SECONDS = 1.5
CANCEL_POLL_SECONDS = 0.05

logger = logging.getLogger("planenet.jobs")

router = resource_router("/jobs", "jobs")


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start training a network",
    response_model=JobOut,
    responses=problem_responses(413, 415, 422, 429, 507),
    openapi_extra=request_body_openapi(TrainingRequest),
)
async def create_job(
    request: Request,
    response: Response,
    settings: SettingsDep,
    repository: RepositoryDep,
    runner: RunnerDep,
    _: RequireKey,
) -> JobOut:
    """Queue a training job (the body is a ``TrainingRequest``); a worker starts it when free.

    The answer (202) is the queued job, with its URL in ``Location``. Everything is checked
    first: the API key (401) before the body is even read, then limits (413) and the values
    themselves (422), so a job that is accepted can run; when ``max_queued_jobs`` jobs already
    wait, across every process sharing the database, the answer is 429 with ``Retry-After``.
    The body is read here rather than
    by FastAPI, so that a body with clearly too many points is refused by its raw bytes and
    the parsing of a big body runs in a worker thread, not on the event loop.
    """
    body = await read_json_body(request)
    check_bracket_count(
        body,
        training_body_brackets(settings),
        "the number of training points",
        settings,
        "max_training_points",
    )
    job = await run_in_threadpool(_queue_job, body, settings, repository, runner)
    response.headers["Location"] = f"/jobs/{job.id}"
    return JobOut.model_validate(job)


def _queue_job(
    body: bytes, settings: Settings, repository: Repository, runner: Runner
) -> JobRecord:
    """Validate the body, check the limits, store the job as queued and wake a worker."""
    training = parse_body(body, TrainingRequest)
    check_training_limits(training, settings)
    job = repository.create_job(
        training.job_config(),
        training.name,
        _given_points(training),
        _given_parameters(training),
        queue_limit=QueueLimit(settings.max_queued_jobs, setting_env_name("max_queued_jobs")),
    )
    try:
        runner.submit(job.id)
    except Exception:
        # The job is stored: workers poll the store and will claim it, only later than woken.
        logger.exception("could not hand a job to the runner", extra={"job_id": job.id})
    return job


def _given_points(training: TrainingRequest) -> Dataset | None:
    """The body's own points as a dataset, checked with the split they must survive."""
    data = training.data
    try:
        for label, size in enumerate(data.class_sizes):
            validation_rows(label, size, training.validation_fraction)
    except CoreError as error:
        raise InvalidInput.at("body", error) from None
    if not isinstance(data, PointsData):
        return None
    try:
        return data.dataset()
    except CoreError as error:
        raise InvalidInput([("body.data", str(error))]) from None


def _given_parameters(training: TrainingRequest) -> Parameters | None:
    """The body's initial parameters, checked once against the network they must start."""
    given = training.initial_parameters
    if given is None:
        return None
    try:
        return make_parameters(
            given.weights, given.biases, training.hidden_layers, training.features
        )
    except CoreError as error:
        raise InvalidInput([("body.initial_parameters", str(error))]) from None


@router.get("", summary="List jobs, newest first", responses=problem_responses(422))
def list_jobs(
    repository: RepositoryDep,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    offset: PageOffset = 0,
    job_status: Annotated[
        JobStatus | None, Query(alias="status", description="only jobs in this state")
    ] = None,
) -> Page[JobOut]:
    return Page[JobOut].model_validate(repository.list_jobs(limit, offset, job_status))


@router.get("/{job_id}", summary="One job: status and progress", responses=problem_responses(404))
def get_job(job_id: str, repository: RepositoryDep) -> JobOut:
    return JobOut.model_validate(repository.get_job(job_id))


@router.delete(
    "/{job_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a finished job and its history (its model stays)",
    responses=problem_responses(404, 409, 507),
)
def delete_job(job_id: str, repository: RepositoryDep, _: RequireKey) -> Response:
    """A queued or running job cannot be deleted (409): cancel it first."""
    repository.delete_job(job_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{job_id}/cancel",
    summary="Cancel a queued or running job",
    responses={202: {"model": JobOut}, **problem_responses(404, 409)},
)
async def cancel_job(
    job_id: str, response: Response, repository: RepositoryDep, _: RequireKey
) -> JobOut:
    """A queued job is cancelled at once. A running job stops at its next progress check
    (well within a second): the answer waits up to 1.5 seconds for that and is 200 once the
    job has finished, or 202 with ``cancel_requested`` while it is still stopping.
    A finished job cannot be cancelled (409)."""
    job = await run_in_threadpool(repository.request_cancel, job_id)
    with anyio.move_on_after(CANCEL_WAIT_SECONDS):
        while job.status is JobStatus.RUNNING:
            await anyio.sleep(CANCEL_POLL_SECONDS)
            job = await run_in_threadpool(repository.get_job, job_id)
    if job.status is JobStatus.RUNNING:
        response.status_code = status.HTTP_202_ACCEPTED
    return JobOut.model_validate(job)
