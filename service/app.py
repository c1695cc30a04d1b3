"""The application factory: routes, errors, middlewares, and the parts the lifespan builds."""

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from service.event_hub import EventHub
from service.http.body_limit import BodyLimitMiddleware
from service.http.openapi_limits import document_limits
from service.http.problems import install_problem_handlers
from service.http.request_log import REQUEST_ID_HEADER, RequestLogMiddleware
from service.inference import routes as inference
from service.inference.errors import protocol_error_for
from service.metrics import ServiceMetrics
from service.metrics.middleware import RequestMetricsMiddleware
from service.metrics.registry import ServiceParts
from service.model_cache import ModelCache
from service.retention import keep_deleting_old_jobs
from service.routes import (
    docs,
    evaluation,
    events,
    figures,
    health,
    jobs,
    metrics,
    models,
    predictions,
    registry,
    training_figures,
    web,
)
from service.routes.hot_paths import HotPaths
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


def freeze_what_the_start_made() -> bool:
    """Move every object alive after the start (modules, the app, its routes and schemas,
    some 150,000 of them) out of the garbage collector's reach; True if it did.

    They live as long as the process, yet each full collection would walk them all: about
    45 ms on the event loop, every few thousand requests, which is the whole of a p99 under
    load. Frozen, a full collection walks only what requests left behind. Freezing moves a
    list, it costs nothing; not done while objects are already frozen (a test process that
    runs several apps at once freezes for the first).
    """
    if gc.get_freeze_count() > 0:
        return False
    gc.freeze()
    return True


def operation_id(route: APIRoute) -> str:
    """A route's OpenAPI ``operationId``: its function's name in camelCase (``createJob``)."""
    first, *rest = route.name.split("_")
    return first + "".join(word.capitalize() for word in rest)


def create_app(
    settings: Settings | None = None, runner_factory: RunnerFactory = local_runner
) -> FastAPI:
    """Build the PlaneNet API for ``settings`` (read from the environment when None).

    The lifespan builds the long-lived parts side by side: the store (upgrading its schema to
    the newest revision unless ``auto_migrate`` is off), the model cache and the event hub over
    it, and the runner. It first marks failed the running jobs that are abandoned (their worker
    process on this host is gone, or their heartbeat is older than ``job_heartbeat_timeout``;
    jobs that other live processes run are left alone), and stops everything again on shutdown.
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings.resolved_database_url)
        database.upgrade_schema(auto_upgrade=settings.auto_migrate)
        repository = Repository(database)
        JobRecovery(repository, settings.job_heartbeat_timeout).recover(INTERRUPTED_REASON)
        runner = runner_factory(settings, repository)
        hub = EventHub(repository)
        app.state.repository = repository
        app.state.model_cache = ModelCache(repository)
        app.state.event_hub = hub
        app.state.runner = runner
        service_metrics.parts = ServiceParts(repository, runner, app.state.model_cache)
        runner.start()
        hub.start()
        retention = (
            None
            if settings.job_retention_days is None
            else asyncio.create_task(
                keep_deleting_old_jobs(repository, settings.job_retention_days)
            )
        )
        frozen = freeze_what_the_start_made()
        try:
            yield
        finally:
            if frozen:
                gc.unfreeze()
            service_metrics.parts = None
            if retention is not None:
                retention.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await retention
            await hub.stop()
            runner.stop()
            app.state.model_cache.close()
            database.dispose()

    app = FastAPI(
        title="PlaneNet",
        version="1",
        summary="Train small neural networks that sort 2-D points into two classes, and use them.",
        lifespan=lifespan,
        generate_unique_id_function=operation_id,
        docs_url=None,  # served with local assets by service.routes.docs
        redoc_url=None,
    )
    app.state.settings = settings
    service_metrics = ServiceMetrics()
    app.state.metrics = service_metrics
    document_limits(app, settings)
    install_problem_handlers(app)
    for router in (
        health.router,
        metrics.router,
        jobs.router,
        events.router,
        figures.job_router,
        training_figures.job_router,
        web.router,
        docs.router,
        models.router,
        predictions.model_router,
        predictions.router,
        figures.model_router,
        training_figures.model_router,
        evaluation.model_router,
        registry.router,
    ):
        app.include_router(router)
    inference.install(app)

    # The last added middleware is the outermost: logging and the request metrics see every
    # request and response that reaches the app (served_app's hot paths, in front of it, log
    # and count the requests they answer alike).
    app.add_middleware(
        BodyLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        error_responses={inference.PREFIX: protocol_error_for},
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", REQUEST_ID_HEADER],
            expose_headers=["Location", REQUEST_ID_HEADER],
        )
    app.add_middleware(RequestLogMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=service_metrics)
    return app


def served_app(settings: Settings, runner_factory: RunnerFactory = local_runner) -> HotPaths:
    """The application as ``planenet serve`` runs it: :func:`create_app`'s behind the hot paths."""
    return HotPaths(create_app(settings, runner_factory), settings)
