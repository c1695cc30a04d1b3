"""The protocol's routes under ``/v2``: server and model metadata, health, readiness, inference.

They share the API's app, model cache, key checks and limits, but answer errors in the
protocol's shape, ``{"error": "..."}``: :class:`ProtocolRoute` converts what a route (or
its dependencies) raises, so the rest of the API keeps its problem responses.
"""

import functools
import logging
from collections.abc import Callable, Coroutine
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from core.errors import CoreError
from service.domain.errors import ServiceError
from service.http.deps import ModelCacheDep, RepositoryDep, SettingsDep, require_read_key
from service.http.problems import internal_error_detail
from service.http.request_body import request_body_openapi
from service.inference import signature
from service.inference.body import HEADER_LENGTH
from service.inference.errors import (
    MalformedRequest,
    protocol_error_for,
    protocol_error_response,
    protocol_error_responses,
    protocol_status,
    validation_message,
)
from service.inference.infer import (
    BINARY_MEDIA_TYPE,
    decode_request,
    encode_response,
    run_inference,
)
from service.inference.references import resolve
from service.inference.schemas import (
    InferenceRequest,
    InferenceResponse,
    ModelMetadata,
    ModelReady,
    ServerLive,
    ServerMetadata,
    ServerReady,
)
from service.model_cache import ModelCache
from service.settings import Settings
from service.store.repository import Repository

error_logger = logging.getLogger("planenet.errors")

SERVER_NAME = "planenet"


def _server_version() -> str:
    """The installed package's version ("unknown" when run from a source tree not installed)."""
    try:
        return package_version(SERVER_NAME)
    except PackageNotFoundError:
        return "unknown"


SERVER_VERSION = _server_version()
EXTENSIONS = ["binary_tensor_data"]
"""Triton's binary tensor data extension, as Triton names it in its server metadata."""


class ProtocolRoute(APIRoute):
    """A route whose errors, its dependencies' included, answer ``{"error": "..."}``."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def handle_with_protocol_errors(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as error:
                return protocol_error_response(400, validation_message(error.errors()))
            except HTTPException as error:  # the body limit, counted while reading
                return protocol_error_response(error.status_code, str(error.detail))
            except (ServiceError, CoreError) as error:
                if protocol_status(error) is not None:
                    return protocol_error_for(error)
                return _internal_error(request)
            except Exception:
                return _internal_error(request)

        return handle_with_protocol_errors


def _internal_error(request: Request) -> Response:
    """Log the error being handled and answer a 500 that says where to find it in the log."""
    request_id = getattr(request.state, "request_id", None)
    error_logger.exception(
        "unhandled error", extra={"request_id": request_id, "path": request.url.path}
    )
    return protocol_error_response(500, internal_error_detail(request_id))


PREFIX = "/v2"

router = APIRouter(
    prefix=PREFIX,
    tags=["inference (v2)"],
    dependencies=[Depends(require_read_key)],
    route_class=ProtocolRoute,
    responses=protocol_error_responses(401),
)

MODEL_RESPONSES = protocol_error_responses(404)


@router.get("", summary="Server metadata: name, version and extensions")
async def server_metadata() -> ServerMetadata:
    return ServerMetadata(name=SERVER_NAME, version=SERVER_VERSION, extensions=EXTENSIONS)


@router.get("/health/live", summary="Liveness: the server answers")
async def server_live() -> ServerLive:
    return ServerLive(live=True)


@router.get(
    "/health/ready",
    summary="Readiness: the database answers, so models can be loaded",
    responses=protocol_error_responses(503),
)
async def server_ready(repository: RepositoryDep) -> ServerReady:
    await run_in_threadpool(repository.ping)
    return ServerReady(ready=True)


async def _metadata(repository: Repository, name: str, version: str | None) -> ModelMetadata:
    await run_in_threadpool(resolve, repository, name, version)
    return signature.model_metadata(name)


@router.get(
    "/models/{name}",
    summary="Model metadata: its input and outputs",
    responses=MODEL_RESPONSES,
    response_model_exclude_none=True,
)
async def model_metadata(name: str, repository: RepositoryDep) -> ModelMetadata:
    return await _metadata(repository, name, None)


@router.get(
    "/models/{name}/versions/{version}",
    summary="Metadata of one version of a model",
    responses=MODEL_RESPONSES,
    response_model_exclude_none=True,
)
async def model_version_metadata(
    name: str, version: str, repository: RepositoryDep
) -> ModelMetadata:
    return await _metadata(repository, name, version)


def _load(repository: Repository, cache: ModelCache, name: str, version: str | None) -> None:
    cache.get(resolve(repository, name, version))


@router.get(
    "/models/{name}/ready",
    summary="Model readiness: the model is loaded and can answer",
    responses=MODEL_RESPONSES,
)
async def model_ready(name: str, repository: RepositoryDep, cache: ModelCacheDep) -> ModelReady:
    await run_in_threadpool(_load, repository, cache, name, None)
    return ModelReady(name=name, ready=True)


@router.get(
    "/models/{name}/versions/{version}/ready",
    summary="Readiness of one version of a model",
    responses=MODEL_RESPONSES,
)
async def model_version_ready(
    name: str, version: str, repository: RepositoryDep, cache: ModelCacheDep
) -> ModelReady:
    await run_in_threadpool(_load, repository, cache, name, version)
    return ModelReady(name=name, ready=True)


def _infer(
    *,
    repository: Repository,
    cache: ModelCache,
    settings: Settings,
    name: str,
    version: str | None,
    body: bytes,
    header_length: str | None,
) -> Response:
    model_id = resolve(repository, name, version)
    inference = decode_request(body, header_length, settings)
    values = run_inference(cache.get(model_id).network, inference)
    return encode_response(name, version, inference, values)


async def _answer(
    request: Request,
    *,
    repository: Repository,
    cache: ModelCache,
    settings: Settings,
    name: str,
    version: str | None,
) -> Response:
    """Read the body once, then resolve, decode, predict and encode in a worker thread."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding != "identity":
        raise MalformedRequest(
            f"Content-Encoding {encoding!r} is not supported: send the body uncompressed"
        )
    body = await request.body()
    header_length = request.headers.get(HEADER_LENGTH)
    return await run_in_threadpool(
        functools.partial(
            _infer,
            repository=repository,
            cache=cache,
            settings=settings,
            name=name,
            version=version,
            body=body,
            header_length=header_length,
        )
    )


def _infer_openapi() -> dict[str, Any]:
    """The request body of inference: the JSON request, or the same followed by binary data."""
    openapi = request_body_openapi(InferenceRequest)
    openapi["requestBody"]["content"][BINARY_MEDIA_TYPE] = {
        "schema": {"type": "string", "format": "binary"},
        "description": f"the JSON request ({HEADER_LENGTH} bytes) followed by the binary "
        "data of each input with a binary_data_size parameter",
    }
    return openapi


INFER_OPENAPI = _infer_openapi()
INFER_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the outputs; with binary outputs, the JSON response "
        f"({HEADER_LENGTH} bytes) followed by their binary data",
        "content": {BINARY_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    },
    **protocol_error_responses(400, 404, 413),
}


@router.post(
    "/models/{name}/infer",
    summary="Classify points with a model",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def model_infer(
    name: str,
    request: Request,
    *,
    repository: RepositoryDep,
    cache: ModelCacheDep,
    settings: SettingsDep,
) -> Response:
    return await _answer(
        request, repository=repository, cache=cache, settings=settings, name=name, version=None
    )


@router.post(
    "/models/{name}/versions/{version}/infer",
    summary="Classify points with one version of a model",
    response_model=InferenceResponse,
    responses=INFER_RESPONSES,
    openapi_extra=INFER_OPENAPI,
)
async def model_version_infer(
    name: str,
    version: str,
    request: Request,
    *,
    repository: RepositoryDep,
    cache: ModelCacheDep,
    settings: SettingsDep,
) -> Response:
    return await _answer(
        request, repository=repository, cache=cache, settings=settings, name=name, version=version
    )


def install(app: FastAPI) -> None:
    """Serve the protocol on ``app``, its OpenAPI operations listing the errors they answer.

    FastAPI documents a 422 on every route with parameters; these answer 400 instead.
    """
    app.include_router(router)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build_openapi()
        for path, operations in schema["paths"].items():
            if path == PREFIX or path.startswith(f"{PREFIX}/"):
                for operation in operations.values():
                    operation["responses"].pop("422", None)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
