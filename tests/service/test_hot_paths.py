"""The hot paths answer exactly as the routes do: same responses, problems, key checks, docs.

Each request goes to two apps over the same store: PlaneNet as built, and the same app
without its hot paths. A spy behind the hot paths tells which requests they answered.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from service.app import create_app
from service.http.body_limit import BodyLimitMiddleware
from service.http.request_log import RequestLogMiddleware
from service.routes.hot_paths import HotPaths
from service.settings import Settings
from tests.helpers.app import BASE_URL, QUICK_JOB, await_job, make_settings, serve

pytestmark = pytest.mark.anyio

MAX_POINTS = 3
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
API_KEY = "sesame"
KEY = {"X-API-Key": API_KEY}


@dataclass
class Spy:
    """An ASGI app that records the paths it is asked for and passes them on."""

    app: ASGIApp
    paths: list[str] = field(default_factory=list)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.paths.append(scope["path"])
        await self.app(scope, receive, send)


@dataclass
class Pair:
    """PlaneNet (``fast``) and the same app without hot paths (``plain``), on one store."""

    fast: httpx.AsyncClient
    plain: httpx.AsyncClient
    spy: Spy
    model_id: str

    async def both(self, method: str, path: str, **options: Any) -> httpx.Response:
        """Send the request to both apps; assert the answers are the same; return PlaneNet's.

        ``chunked=b"..."`` sends that body in chunks, without a ``Content-Length``.
        """
        chunked = options.pop("chunked", None)
        if chunked is not None:
            options["content"] = in_chunks(chunked)
        fast = await self.fast.request(method, path, **options)
        if chunked is not None:
            options["content"] = in_chunks(chunked)
        plain = await self.plain.request(method, path, **options)
        assert fast.status_code == plain.status_code, (fast.text, plain.text)
        assert fast.content == plain.content
        assert without_request_id(fast.headers) == without_request_id(plain.headers)
        return fast

    def answered_by_hot_path(self, path: str) -> bool:
        """Whether the last request for ``path`` stopped at the hot paths (clears the spy)."""
        passed_on = path in self.spy.paths
        self.spy.paths.clear()
        return not passed_on


async def in_chunks(body: bytes) -> AsyncIterator[bytes]:
    middle = len(body) // 2
    yield body[:middle]
    yield body[middle:]


def without_request_id(headers: httpx.Headers) -> list[tuple[str, str]]:
    return sorted((name, value) for name, value in headers.items() if name != "x-request-id")


def without_hot_paths(settings: Settings) -> FastAPI:
    app = create_app(settings)
    hot_paths: Any = HotPaths
    app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not hot_paths]
    return app


def hot_paths_of(app: FastAPI) -> HotPaths:
    """The app's HotPaths middleware (its middleware stack must be built)."""
    layer: Any = app.middleware_stack
    while not isinstance(layer, HotPaths):
        layer = layer.app
    return layer


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hot-paths")


@pytest.fixture(scope="module")
async def model_ids(data_dir: Path) -> list[str]:
    """Two models trained into the store of ``data_dir``."""
    ids = []
    async with serve(make_settings(data_dir, workers=1)) as client:
        for _ in range(2):
            submitted = (await client.post("/jobs", json=QUICK_JOB)).json()
            job = await await_job(client, submitted["id"])
            assert job["status"] == "succeeded", job
            ids.append(job["model_id"])
    return ids


async def pair_on(settings: Settings, model_id: str) -> AsyncIterator[Pair]:
    async with AsyncExitStack() as stack:
        clients = []
        apps = (create_app(settings), without_hot_paths(settings))
        for app in apps:
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app)
            clients.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url=BASE_URL)
                )
            )
        fast, plain = clients
        # The first request builds the middleware stack and puts the model in the cache.
        for client in clients:
            warm = await client.post(
                f"/models/{model_id}/predict", json={"points": [[0, 0]]}, headers=KEY
            )
            assert warm.status_code == 200
        hot = hot_paths_of(apps[0])
        spy = Spy(hot.app)
        hot.app = spy
        yield Pair(fast, plain, spy, model_id)


@pytest.fixture
async def pair(data_dir: Path, model_ids: list[str]) -> AsyncIterator[Pair]:
    settings = make_settings(data_dir, max_predict_points=MAX_POINTS, api_key=API_KEY)
    async for made in pair_on(settings, model_ids[0]):
        yield made


@pytest.fixture
async def protected_pair(data_dir: Path, model_ids: list[str]) -> AsyncIterator[Pair]:
    settings = make_settings(data_dir, api_key=API_KEY, protect_reads=True)
    async for made in pair_on(settings, model_ids[0]):
        yield made


async def test_liveness_is_answered_by_the_hot_path_as_by_the_route(pair: Pair) -> None:
    response = await pair.both("GET", "/healthz")
    assert response.json() == {"status": "ok"}
    assert pair.answered_by_hot_path("/healthz")
    await pair.both("HEAD", "/healthz")
    assert not pair.answered_by_hot_path("/healthz")


async def test_small_predictions_of_a_cached_model_are_answered_by_the_hot_path(
    pair: Pair,
) -> None:
    points = {"points": [[1.0, 1.0], [-1.0, -1.0], [0.25, -3]]}
    path = f"/models/{pair.model_id}/predict"
    response = await pair.both("POST", path, json=points)
    assert response.json()["model_id"] == pair.model_id
    assert len(response.json()["labels"]) == 3
    assert pair.answered_by_hot_path(path)
    await pair.both("POST", "/predict", json={**points, "model_id": pair.model_id})
    assert pair.answered_by_hot_path("/predict")
    # The same body with a media type parameter, and sent in chunks (no length): the routes.
    await pair.both(
        "POST", path, json=points, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert pair.answered_by_hot_path(path)
    await pair.both("POST", path, chunked=b'{"points": [[1, 1]]}', headers=JSON)
    assert not pair.answered_by_hot_path(path)


JSON = {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b'{"points": []}', 422),
        (b'{"points": [[10000000.0, 0]]}', 422),
        (b'{"points": [[1, "2"]]}', 422),
        (b'{"points": [[1, true]]}', 422),
        (b'{"points": [[1, 2, 3]]}', 422),
        (b'{"points": [[1, NaN]]}', 422),
        (b'{"points": [[1, 2]], "typo": 1}', 422),
        (b'{"points": [[1, 2]', 422),
        (b'{"points": [[1, 2], [3, 4], [5, 6], [7, 8]]}', 413),
    ],
)
async def test_bodies_the_hot_path_cannot_answer_get_the_routes_problems(
    pair: Pair, body: bytes, status: int
) -> None:
    named = body.replace(b"{", b'{"model_id": "%s", ' % pair.model_id.encode(), 1)
    for path, sent in ((f"/models/{pair.model_id}/predict", body), ("/predict", named)):
        response = await pair.both("POST", path, content=sent, headers=JSON)
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json"
        assert not pair.answered_by_hot_path(path)


async def test_other_requests_go_to_the_routes_with_their_answers(pair: Pair) -> None:
    cases: list[tuple[str, dict[str, Any], int]] = [
        (f"/models/{UNKNOWN_ID}/predict", {"json": {"points": [[1, 1]]}}, 404),
        ("/predict", {"json": {"points": [[1, 1]], "model_id": UNKNOWN_ID}}, 404),
        ("/predict", {"json": {"points": [[1, 1]]}}, 200),
        (f"/models/{pair.model_id}/predict", {"content": b"1,2", "headers": {}}, 415),
        (f"/models/{pair.model_id}/predict/", {"json": {"points": [[1, 1]]}}, 307),
        (f"/models/{pair.model_id}/x/predict", {"json": {"points": [[1, 1]]}}, 404),
    ]
    for path, options, status in cases:
        response = await pair.both("POST", path, **options)
        assert response.status_code == status, (path, response.text)
        assert not pair.answered_by_hot_path(path)
    await pair.both("GET", f"/models/{pair.model_id}/predict")
    assert not pair.answered_by_hot_path(f"/models/{pair.model_id}/predict")


async def test_protected_reads_are_checked_by_the_routes(protected_pair: Pair) -> None:
    pair = protected_pair
    path = f"/models/{pair.model_id}/predict"
    body = {"points": [[1, 1]]}
    assert (await pair.both("POST", path, json=body)).status_code == 401
    assert not pair.answered_by_hot_path(path)
    wrong = await pair.both("POST", path, json=body, headers={"X-API-Key": "open"})
    assert wrong.status_code == 401
    right = await pair.both("POST", path, json=body, headers={"Authorization": f"Bearer {API_KEY}"})
    assert right.status_code == 200
    assert not pair.answered_by_hot_path(path)
    await pair.both("GET", "/healthz")
    assert pair.answered_by_hot_path("/healthz")


async def test_a_deleted_model_is_not_answered_from_the_cache(
    data_dir: Path, model_ids: list[str]
) -> None:
    settings = make_settings(data_dir, api_key=API_KEY)
    async for pair in pair_on(settings, model_ids[1]):
        path = f"/models/{pair.model_id}/predict"
        await pair.both("POST", path, json={"points": [[1, 1]]})
        assert pair.answered_by_hot_path(path)
        deleted = await pair.fast.delete(f"/models/{pair.model_id}", headers=KEY)
        assert deleted.status_code == 204
        gone = await pair.fast.post(path, json={"points": [[1, 1]]})
        assert gone.status_code == 404
        assert not pair.answered_by_hot_path(path)


async def test_the_api_documentation_is_unchanged(pair: Pair) -> None:
    documented = await pair.both("GET", "/openapi.json")
    operations = documented.json()["paths"]
    assert "post" in operations["/models/{model_id}/predict"]
    assert "get" in operations["/healthz"]


def test_the_hot_paths_sit_inside_the_request_log_and_body_limit(tmp_path: Path) -> None:
    # user_middleware lists the outermost first.
    layers: list[Any] = [entry.cls for entry in create_app(make_settings(tmp_path)).user_middleware]
    assert layers.index(HotPaths) > layers.index(BodyLimitMiddleware)
    assert layers.index(HotPaths) > layers.index(RequestLogMiddleware)
