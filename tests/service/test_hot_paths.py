"""The hot paths answer exactly as the routes do: same responses, problems, key checks, docs,
request log lines and request metrics.

Each request goes to two apps over the same store: PlaneNet as served, and the same app
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

from service.app import create_app, served_app
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
        hot = served_app(settings)
        apps: tuple[ASGIApp, FastAPI] = (hot, create_app(settings))
        for app, fastapi_app in ((apps[0], hot.fastapi_app), (apps[1], apps[1])):
            await stack.enter_async_context(fastapi_app.router.lifespan_context(fastapi_app))
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


async def test_the_hot_path_honours_the_threshold_and_leaves_references_to_the_routes(
    pair: Pair,
) -> None:
    path = f"/models/{pair.model_id}/predict"
    near = {"points": [[0.0, 0.0], [1.0, 1.0], [-1.0, -1.0]]}
    low = (await pair.both("POST", path, json={**near, "threshold": 0.01})).json()
    high = (await pair.both("POST", path, json={**near, "threshold": 0.99})).json()
    assert pair.answered_by_hot_path(path)
    assert low["probabilities"] == high["probabilities"]
    assert sum(low["labels"]) >= sum(high["labels"])
    named = {**near, "model": pair.model_id}
    response = await pair.both("POST", "/predict", json=named)
    assert response.status_code == 200
    assert not pair.answered_by_hot_path("/predict")
    twice = b'{"points": [[1, 1]], "points": [[2, 2]]}'
    refused = await pair.both("POST", path, content=twice, headers=JSON)
    assert refused.status_code == 422
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


def request_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The request log lines captured, without what differs between two answers."""
    fields = ("method", "path", "status", "client")
    return [
        {name: getattr(record, name) for name in (*fields, "request_id")}
        for record in caplog.records
        if record.name == "planenet.request"
    ]


async def test_the_hot_paths_log_each_request_as_the_request_log_does(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="planenet.request")
    path = f"/models/{pair.model_id}/predict"
    for method, where, options in (
        ("GET", "/healthz", {}),
        ("POST", path, {"json": {"points": [[1, 1]]}}),
        ("POST", "/predict", {"json": {"points": [[1, 1]], "model_id": pair.model_id}}),
    ):
        caplog.clear()
        given = {"X-Request-ID": f"trace-{where}"}
        response = await pair.both(method, where, headers=given, **options)
        assert pair.answered_by_hot_path(where)
        assert response.headers["x-request-id"] == f"trace-{where}"
        fast, plain = request_lines(caplog)
        assert fast == plain
        assert fast["request_id"] == f"trace-{where}"
        assert fast["path"] == where
        assert fast["status"] == 200
        durations = [
            record.__dict__["duration_ms"]
            for record in caplog.records
            if record.name == "planenet.request"
        ]
        assert len(durations) == 2
        assert all(isinstance(duration, float) and duration >= 0 for duration in durations)
    caplog.clear()
    await pair.fast.get("/healthz")
    (generated,) = request_lines(caplog)
    assert len(generated["request_id"]) == 32


def request_counts(exposition: str, model_id: str) -> dict[str, float]:
    """The request and point counters of a /metrics answer, by sample."""
    wanted = ("planenet_http_request", "planenet_predicted_points")
    counts = {}
    for line in exposition.splitlines():
        if line.startswith(wanted) and not any(
            part in line for part in ("_created", "_bucket", "_sum")
        ):
            sample, value = line.rsplit(" ", 1)
            counts[sample.replace(model_id, "{id}")] = float(value)
    return counts


async def test_the_hot_paths_count_each_request_as_the_request_metrics_do(pair: Pair) -> None:
    path = f"/models/{pair.model_id}/predict"
    before = [
        request_counts((await client.get("/metrics")).text, pair.model_id)
        for client in (pair.fast, pair.plain)
    ]
    await pair.both("GET", "/healthz")
    await pair.both("POST", path, json={"points": [[1, 1], [2, 2]]})
    await pair.both("POST", "/predict", json={"points": [[1, 1]], "model_id": pair.model_id})
    assert pair.answered_by_hot_path(path)
    assert pair.answered_by_hot_path("/predict")
    after = [
        request_counts((await client.get("/metrics")).text, pair.model_id)
        for client in (pair.fast, pair.plain)
    ]
    changes = [
        {sample: value - old.get(sample, 0.0) for sample, value in new.items()}
        for old, new in zip(before, after, strict=True)
    ]
    assert changes[0] == changes[1]
    fast = changes[0]
    assert fast["planenet_predicted_points_total"] == 3
    route = 'method="POST",route="/models/{model_id}/predict"'
    assert fast[f'planenet_http_requests_total{{{route},status="200"}}'] == 1
    assert fast[f"planenet_http_request_duration_seconds_count{{{route}}}"] == 1
    health = 'planenet_http_requests_total{method="GET",route="/healthz",status="200"}'
    assert fast[health] == 1


async def test_a_body_over_the_body_limit_gets_the_limits_problem(
    data_dir: Path, model_ids: list[str]
) -> None:
    settings = make_settings(data_dir, max_body_bytes=1024)
    async for pair in pair_on(settings, model_ids[0]):
        path = f"/models/{pair.model_id}/predict"
        points = {"points": [[0.125, 0.25]] * 100}  # about 1.5 KB
        response = await pair.both("POST", path, json=points)
        assert response.status_code == 413
        assert not pair.answered_by_hot_path(path)


async def test_with_cors_on_every_request_gets_the_cors_headers(
    data_dir: Path, model_ids: list[str]
) -> None:
    origin = "http://app.example"
    settings = make_settings(data_dir, cors_origins=[origin])
    async for pair in pair_on(settings, model_ids[0]):
        path = f"/models/{pair.model_id}/predict"
        for method, where, options in (
            ("GET", "/healthz", {}),
            ("POST", path, {"json": {"points": [[1, 1]]}}),
        ):
            response = await pair.both(method, where, headers={"Origin": origin}, **options)
            assert response.headers["access-control-allow-origin"] == origin
            assert not pair.answered_by_hot_path(where)
            plain = await pair.both(method, where, **options)
            assert plain.headers["vary"] == "Origin"
            assert not pair.answered_by_hot_path(where)
