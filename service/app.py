"""The application factory: routes, error handling, middlewares, and the store and runner."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service.body_limit import BodyLimitMiddleware
from service.problems import install_problem_handlers
from service.request_log import REQUEST_ID_HEADER, RequestLogMiddleware
from service.routes import events, figures, health, jobs, models, predictions, web
from service.runner import Runner
from service.runner.local import LocalRunner
from service.runner.recovery import JobRecovery
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository

INTERRUPTED_REASON = "interrupted: the server stopped while this job was running; start it again"

RunnerFactory = Callable[[Settings, Repository], Runner]


def local_runner(settings: Settings, repository: Repository) -> Runner:
    """The default runner: ``settings.workers`` local worker processes."""
    return LocalRunner(
        database_url=repository.database.url,
        repository=repository,
        workers=settings.workers,
        log_level=settings.log_level,
        interrupted_reason=INTERRUPTED_REASON,
        heartbeat_timeout=settings.job_heartbeat_timeout,
    )


def create_app(
    settings: Settings | None = None, runner_factory: RunnerFactory = local_runner
) -> FastAPI:
    """Build the PlaneNet API for ``settings`` (read from the environment when None).

    The lifespan opens the store (upgrading its schema to the newest revision unless
    ``auto_migrate`` is off), marks failed the running jobs that are abandoned (their worker
    process on this host is gone, or their heartbeat is older than ``job_heartbeat_timeout``;
    jobs that other live processes run are left alone), starts the runner, and stops it again
    on shutdown.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.resolved_database_url)
        database.upgrade_schema(auto_upgrade=settings.auto_migrate)
        repository = Repository(database)
        JobRecovery(repository, settings.job_heartbeat_timeout).recover(INTERRUPTED_REASON)
        runner = runner_factory(settings, repository)
        runner.start()
        app.state.repository = repository
        app.state.runner = runner
        try:
            yield
        finally:
            runner.stop()
            database.dispose()

    app = FastAPI(
        title="PlaneNet",
        version="1",
        summary="Train small neural networks that sort 2-D points into two classes, and use them.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_problem_handlers(app)
    app.include_router(health.router)
    app.include_router(jobs.router)
    app.include_router(events.router)
    app.include_router(web.router)
    app.include_router(models.router)
    app.include_router(predictions.router)
    app.include_router(figures.router)

    # The last added middleware is the outermost: logging sees every request and response.
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=["Location", REQUEST_ID_HEADER],
        )
    app.add_middleware(RequestLogMiddleware)
    return app
