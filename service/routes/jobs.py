"""Training jobs: start one, list them, watch one, cancel one."""

import logging
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from core.errors import CoreError
from core.parameters import make_parameters
from service.deps import ReadAccess, RepositoryDep, RequireKey, RunnerDep, SettingsDep
from service.domain import JobStatus
from service.errors import InvalidInput
from service.limits import check_bracket_count, check_training_limits, training_body_brackets
from service.request_body import parse_body, read_json_body, request_body_openapi
from service.runner import Runner
from service.runner.plan import prepare_training
from service.schemas.common import DEFAULT_PAGE_SIZE, PageLimit, PageOffset, problem_responses
from service.schemas.jobs import JobOut, JobPage, PointsData, TrainingRequest
from service.settings import Settings
from service.store.records import JobRecord
from service.store.repository import Repository

CANCEL_WAIT_SECONDS = 1.5
CANCEL_POLL_SECONDS = 0.05

logger = logging.getLogger("planenet.jobs")

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Start training a network",
    response_model=JobOut,
    responses=problem_responses(401, 413, 415, 422),
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
    themselves (422), so a job that is accepted can run. The body is read here rather than
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
    return JobOut.from_record(job)


def _queue_job(
    body: bytes, settings: Settings, repository: Repository, runner: Runner
) -> JobRecord:
    """Validate the body, check the limits, store the job as queued and wake a worker."""
    training = parse_body(body, TrainingRequest)
    check_training_limits(training, settings)
    training_data = None
    if isinstance(training.data, PointsData):
        try:
            training_data = training.data.dataset()
        except CoreError as error:
            raise InvalidInput([("body.data", str(error))]) from None
    initial_parameters = None
    if training.initial_parameters is not None:
        try:
            initial_parameters = make_parameters(
                training.initial_parameters.weights, training.initial_parameters.biases
            )
        except CoreError as error:
            raise InvalidInput([("body.initial_parameters", str(error))]) from None
    config = training.stored_config()
    prepare_training(config, training_data, initial_parameters)
    job = repository.create_job(config, training.name, training_data, initial_parameters)
    try:
        runner.submit(job.id)
    except Exception:
        # The job is stored: workers poll the store and will claim it, only later than woken.
        logger.exception("could not hand a job to the runner", extra={"job_id": job.id})
    return job


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
async def cancel_job(
    job_id: str, response: Response, repository: RepositoryDep, runner: RunnerDep, _: RequireKey
) -> JobOut:
    """A queued job is cancelled at once. A running job stops at its next progress check
    (well within a second): the answer waits up to 1.5 seconds for that and is 200 once the
    job has finished, or 202 with ``cancel_requested`` while it is still stopping.
    A finished job cannot be cancelled (409)."""
    job = await run_in_threadpool(repository.request_cancel, job_id)
    if job.status is JobStatus.RUNNING:
        try:
            await run_in_threadpool(runner.cancel, job_id)
        except Exception:
            # The request is stored: the worker sees it at its next progress check anyway.
            logger.exception("could not pass a cancel to the runner", extra={"job_id": job_id})
        with anyio.move_on_after(CANCEL_WAIT_SECONDS):
            while job.status is JobStatus.RUNNING:
                await anyio.sleep(CANCEL_POLL_SECONDS)
                job = await run_in_threadpool(repository.get_job, job_id)
    if job.status is JobStatus.RUNNING:
        response.status_code = status.HTTP_202_ACCEPTED
    return JobOut.from_record(job)
