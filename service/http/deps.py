"""Request dependencies as `Annotated` aliases: the application's long-lived parts and key checks.

The parts (settings, repository, runner, model cache, event hub) are built side by side in
the lifespan and kept on ``app.state``; these only hand them out. They are ``async``
although they never await: FastAPI runs a plain ``def`` dependency in a worker thread, a hop
per dependency per request that costs more than the work itself.
"""

import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from service.domain.errors import Unauthorized
from service.event_hub import EventHub
from service.model_cache import ModelCache
from service.runner import Runner
from service.schemas.common import problem_responses
from service.settings import Settings
from service.store.repository import Repository

PartT = TypeVar("PartT")

_bearer = HTTPBearer(auto_error=False, description="the API key as a bearer token")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="the API key")


def app_part(name: str, kind: type[PartT]) -> Callable[[Request], Awaitable[PartT]]:
    """A dependency handing out the long-lived part the lifespan keeps as ``app.state.<name>``."""

    async def get(request: Request) -> PartT:
        part = getattr(request.app.state, name)
        assert isinstance(part, kind)
        return part

    get.__name__ = f"get_{name}"
    return get


get_settings = app_part("settings", Settings)
get_repository = app_part("repository", Repository)
get_model_cache = app_part("model_cache", ModelCache)
get_event_hub = app_part("event_hub", EventHub)


async def get_runner(request: Request) -> Runner:
    runner: Runner = request.app.state.runner  # a Protocol: nothing to check it against
    return runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
RepositoryDep = Annotated[Repository, Depends(get_repository)]
RunnerDep = Annotated[Runner, Depends(get_runner)]
ModelCacheDep = Annotated[ModelCache, Depends(get_model_cache)]
EventHubDep = Annotated[EventHub, Depends(get_event_hub)]


def _check_key(
    settings: Settings,
    request: Request,
    bearer: HTTPAuthorizationCredentials | None,
    header_key: str | None,
) -> None:
    accepted = settings.api_keys
    if not accepted:
        return
    if "authorization" in request.headers and bearer is None:
        raise Unauthorized("the Authorization header must be 'Bearer <key>'")
    given = [key for key in (header_key, bearer.credentials if bearer else None) if key]
    if not given:
        raise Unauthorized(
            "this request needs the API key, as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    # Every credential given must be valid, and every key is compared (no early exit), so the
    # time taken says nothing about which one matched.
    for credential in given:
        matches = [secrets.compare_digest(credential.encode(), key.encode()) for key in accepted]
        if not any(matches):
            raise Unauthorized("the API key is not valid")


async def require_key(
    settings: SettingsDep,
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> None:
    """Refuse a state-changing request without the configured API key (if one is set)."""
    _check_key(settings, request, bearer, header_key)


async def require_read_key(
    settings: SettingsDep,
    request: Request,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    header_key: Annotated[str | None, Depends(_api_key_header)],
) -> None:
    """Refuse a read without the API key, but only when ``protect_reads`` is set."""
    if settings.protect_reads:
        _check_key(settings, request, bearer, header_key)


RequireKey = Annotated[None, Depends(require_key)]
"""Add ``_: RequireKey`` to a route that changes state."""


def resource_router(prefix: str, tag: str) -> APIRouter:
    """The router of one resource: every route checks the key for reads (when
    ``protect_reads`` is set), and documents the 401 it may answer; writes add
    ``_: RequireKey``."""
    return APIRouter(
        prefix=prefix,
        tags=[tag],
        dependencies=[Depends(require_read_key)],
        responses=problem_responses(401),
    )
