"""The model registry: listing, metadata, parameters that seed new jobs, deletion and the cache."""

import asyncio
import itertools
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError

from core.parameters import Parameters
from core.serialization import parameters_from_dict
from service.domain.errors import NotFound
from service.domain.records import LossHistory, ModelDatasets, ModelRecord
from service.model_cache import ModelCache
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.problems import assert_problem, problem_fields
from tests.helpers.store import model_artifacts

pytestmark = pytest.mark.anyio

KEY = "registry-key"
WITH_KEY = {"X-API-Key": KEY}
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
METRIC_NAMES = {
    "train_accuracy",
    "train_loss",
    "validation_accuracy",
    "validation_loss",
    "epochs_run",
    "train_seconds",
}


@dataclass(frozen=True)
class Registry:
    """A running app with one training worker, three models (oldest first) and their store."""

    client: httpx.AsyncClient
    repository: Repository
    jobs: list[dict[str, Any]]

    @property
    def model_ids(self) -> list[str]:
        return [str(job["model_id"]) for job in self.jobs]


async def train(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    """Train a model through the API; returns its succeeded job."""
    submitted = await client.post("/jobs", json=body, headers=WITH_KEY)
    assert submitted.status_code == 202, submitted.text
    job = await await_job(client, submitted.json()["id"])
    assert job["status"] == "succeeded", job
    return job


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def registry(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Registry]:
    data_dir = tmp_path_factory.mktemp("registry")
    settings = make_settings(data_dir, workers=1, api_key=KEY)
    async with serve(settings) as client:
        jobs = [
            await train(client, {**QUICK_JOB, "name": "first"}),
            await train(client, {**QUICK_JOB, "name": "second", "hidden_layers": [3]}),
            await train(client, {**QUICK_JOB, "name": "split", "validation_fraction": 0.25}),
        ]
        database = Database(settings.resolved_database_url)
        yield Registry(client, Repository(database), jobs)
        database.dispose()


async def test_models_are_listed_newest_first_and_paginated(registry: Registry) -> None:
    client = registry.client
    page = (await client.get("/models")).json()
    assert [item["id"] for item in page["items"]] == registry.model_ids[::-1]
    assert (page["total"], page["limit"], page["offset"]) == (3, 20, 0)
    first = (await client.get("/models", params={"limit": 2})).json()
    rest = (await client.get("/models", params={"limit": 2, "offset": 2})).json()
    assert [item["name"] for item in first["items"]] == ["split", "second"]
    assert [item["name"] for item in rest["items"]] == ["first"]
    assert (rest["total"], rest["limit"], rest["offset"]) == (3, 2, 2)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"offset": -1}, "query.offset"),
    ],
)
async def test_bad_pagination_is_422_naming_the_query_field(
    registry: Registry, params: dict[str, int], field: str
) -> None:
    problem = assert_problem(await registry.client.get("/models", params=params), 422)
    assert problem_fields(problem) == {field}


async def test_a_model_shows_its_job_config_and_metrics(registry: Registry) -> None:
    job = registry.jobs[0]
    response = await registry.client.get(f"/models/{job['model_id']}")
    assert response.status_code == 200
    model = response.json()
    assert set(model) == {
        *("id", "name", "created_at", "job_id", "config", "metrics"),
        *("version", "aliases", "tags", "description"),
    }
    assert (model["version"], model["aliases"], model["tags"], model["description"]) == (
        1,
        [],
        {},
        None,
    )
    assert (model["id"], model["name"], model["job_id"]) == (job["model_id"], "first", job["id"])
    assert model["config"] == job["config"]
    assert model["created_at"].endswith("Z") or model["created_at"].endswith("+00:00")
    metrics = model["metrics"]
    assert set(metrics) >= METRIC_NAMES
    assert 0.0 <= metrics["train_accuracy"] <= 1.0
    assert metrics["train_loss"] > 0.0
    assert metrics["epochs_run"] == QUICK_JOB["epochs"]
    assert metrics["train_seconds"] > 0.0
    assert metrics["validation_accuracy"] is None
    assert metrics["validation_loss"] is None


async def test_a_split_model_has_validation_metrics(registry: Registry) -> None:
    metrics = (await registry.client.get(f"/models/{registry.model_ids[2]}")).json()["metrics"]
    assert 0.0 <= metrics["validation_accuracy"] <= 1.0
    assert metrics["validation_loss"] > 0.0


async def test_parameters_are_the_stored_ones_bit_for_bit(registry: Registry) -> None:
    for model_id in registry.model_ids:
        response = await registry.client.get(f"/models/{model_id}/parameters")
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"weights", "biases"}
        _, artifacts = model_artifacts(registry.repository, model_id)
        assert parameters_from_dict(body).equals(artifacts.parameters)
    second = (await registry.client.get(f"/models/{registry.model_ids[1]}/parameters")).json()
    assert [len(layer) for layer in second["weights"]] == [2, 3]
    assert [len(layer[0]) for layer in second["weights"]] == [3, 1]


async def test_parameters_seed_a_new_job_that_starts_where_the_model_ended(
    registry: Registry,
) -> None:
    client = registry.client
    model_id = registry.model_ids[0]
    parameters = (await client.get(f"/models/{model_id}/parameters")).json()
    model = (await client.get(f"/models/{model_id}")).json()
    seeded = await train(client, {"epochs": 1, "initial_parameters": parameters})
    assert seeded["config"]["initial_parameters"] == {"layer_sizes": [2, 4, 1]}
    # The first epoch's loss is that of the seed network on the same data: the model's loss.
    curve = (await client.get(f"/jobs/{seeded['id']}/figures/loss")).json()["data"][0]
    assert curve["y"][0] == pytest.approx(model["metrics"]["train_loss"], rel=1e-9)
    await client.delete(f"/models/{seeded['model_id']}", headers=WITH_KEY)


async def test_unknown_models_are_404_problems(registry: Registry) -> None:
    client = registry.client
    for response in (
        await client.get(f"/models/{UNKNOWN_ID}"),
        await client.get(f"/models/{UNKNOWN_ID}/parameters"),
        await client.delete(f"/models/{UNKNOWN_ID}", headers=WITH_KEY),
    ):
        problem = assert_problem(response, 404, "not-found")
        assert UNKNOWN_ID in problem["detail"]


async def test_delete_needs_the_key_then_forgets_the_model_everywhere(registry: Registry) -> None:
    client = registry.client
    job = await train(client, {**QUICK_JOB, "name": "doomed"})
    model_id = job["model_id"]
    predict = {"points": [[1.0, 1.0]]}
    assert (await client.post(f"/models/{model_id}/predict", json=predict)).status_code == 200

    assert_problem(await client.delete(f"/models/{model_id}"), 401, "unauthorized")
    wrong_key = {"Authorization": "Bearer not-the-key"}
    assert_problem(await client.delete(f"/models/{model_id}", headers=wrong_key), 401)
    assert (await client.get(f"/models/{model_id}")).status_code == 200

    deleted = await client.delete(f"/models/{model_id}", headers={"Authorization": f"Bearer {KEY}"})
    assert deleted.status_code == 204
    assert deleted.content == b""
    for response in (
        await client.get(f"/models/{model_id}"),
        await client.get(f"/models/{model_id}/parameters"),
        await client.post(f"/models/{model_id}/predict", json=predict),
        await client.post("/predict", json={**predict, "model_id": model_id}),
        await client.get(f"/models/{model_id}/figures/boundary"),
        await client.delete(f"/models/{model_id}", headers=WITH_KEY),
    ):
        assert_problem(response, 404, "not-found")
    listed = (await client.get("/models")).json()
    assert model_id not in {item["id"] for item in listed["items"]}
    kept_job = (await client.get(f"/jobs/{job['id']}")).json()
    assert kept_job["status"] == "succeeded"


# The cache itself, over the registry's store.


async def test_the_cache_loads_once_and_evicts_the_least_recently_used(registry: Registry) -> None:
    loads: list[str] = []
    cache = ModelCache(CountingRepository(registry.repository, loads), capacity=2)
    first, second, third = registry.model_ids
    assert cache.peek(first) is None
    assert loads == []
    assert cache.get(first) is cache.get(first) is cache.peek(first)
    assert loads == [first]
    cache.get(second)
    cache.get(first)  # now the most recently used
    cache.get(third)  # evicts second
    assert (first in cache, second in cache, third in cache) == (True, False, True)
    assert len(cache) == 2
    loaded = cache.get(first)
    assert loaded.record.id == first
    assert loaded.network.parameters.equals(
        model_artifacts(registry.repository, first)[1].parameters
    )
    with pytest.raises(NotFound):
        cache.get(UNKNOWN_ID)
    assert UNKNOWN_ID not in cache


async def test_invalidate_forgets_and_a_load_racing_it_is_not_kept(registry: Registry) -> None:
    first, second, _ = registry.model_ids
    cache = ModelCache(registry.repository)
    cache.get(first)
    cache.invalidate(first)
    assert first not in cache

    class RacingRepository(Repository):
        def model_parameters(self, model_id: str) -> tuple[ModelRecord, Parameters]:
            loaded = super().model_parameters(model_id)
            cache.invalidate(model_id)  # a DELETE lands while this load is under way
            return loaded

    cache.repository = RacingRepository(registry.repository.database)
    assert cache.get(second).record.id == second
    assert second not in cache


async def test_the_cache_is_safe_to_share_between_threads(registry: Registry) -> None:
    cache = ModelCache(registry.repository, capacity=2)
    results: list[str] = []
    errors: list[BaseException] = []

    def read(model_id: str) -> None:
        try:
            for _ in range(20):
                results.append(cache.get(model_id).record.id)
                cache.invalidate(model_id)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=read, args=(model_id,)) for model_id in registry.model_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(set(results)) == sorted(registry.model_ids)
    assert len(results) == 60
    assert len(cache) <= 2


async def test_a_stale_entry_is_served_only_while_the_store_still_has_the_model(
    registry: Registry,
) -> None:
    first = registry.model_ids[0]
    loads: list[str] = []
    repository = CountingRepository(registry.repository, loads)
    cache = ModelCache(repository, revalidate_seconds=0.0)
    cache.get(first)
    assert cache.peek(first) is None  # stale at once: peek never serves it unconfirmed
    assert cache.get(first).record.id == first  # confirmed by a cheap check, not reloaded
    assert loads == [first]

    class DeletedElsewhere(CountingRepository):
        def model_exists(self, model_id: str) -> bool:
            return False  # another API process deleted it

    class Unreachable(CountingRepository):
        def model_exists(self, model_id: str) -> bool:
            raise OperationalError("SELECT", {}, Exception("the database is down"))

    cache.repository = Unreachable(registry.repository, loads)
    assert cache.get(first).record.id == first  # an outage does not take cached models down
    assert first in cache

    cache.repository = DeletedElsewhere(registry.repository, loads)
    with pytest.raises(NotFound):
        cache.get(first)
    assert first not in cache


async def test_a_model_in_use_is_confirmed_ahead_and_never_goes_stale(
    registry: Registry,
) -> None:
    """Reads keep finding the entry fresh: past half its time, one read starts a single
    background check, and a model deleted elsewhere is forgotten by that check."""
    first = registry.model_ids[0]
    checks: list[float] = []

    class Counting(Repository):
        def model_exists(self, model_id: str) -> bool:
            checks.append(time.monotonic())
            time.sleep(0.05)  # a slow store: reads go on meanwhile
            return super().model_exists(model_id)

    cache = ModelCache(Counting(registry.repository.database), revalidate_seconds=1.0)
    try:
        cache.get(first)
        started = time.monotonic()
        while time.monotonic() - started < 3.0:  # three times the entry's time
            assert cache.peek(first) is not None
            await asyncio.sleep(0.01)
        # One check per renewal, not one per read: about every 0.5 s, never two at once.
        assert 3 <= len(checks) <= 7
        assert all(later - earlier >= 0.45 for earlier, later in itertools.pairwise(checks))

        class DeletedElsewhere(Repository):
            def model_exists(self, model_id: str) -> bool:
                return False

        cache.repository = DeletedElsewhere(registry.repository.database)
        deadline = time.monotonic() + 1.0
        while cache.peek(first) is not None:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)
        assert first not in cache
    finally:
        cache.close()


async def test_an_outage_costs_one_background_check_and_closing_waits_for_it(
    registry: Registry,
) -> None:
    first = registry.model_ids[0]
    attempts: list[float] = []

    class Unreachable(Repository):
        def model_exists(self, model_id: str) -> bool:
            attempts.append(time.monotonic())
            raise OperationalError("SELECT", {}, Exception("the database is down"))

    cache = ModelCache(registry.repository, revalidate_seconds=0.4)
    cache.get(first)
    cache.repository = Unreachable(registry.repository.database)
    await asyncio.sleep(0.25)
    for _ in range(100):  # reads while the entry is fresh: one failed check, not a loop
        assert cache.peek(first) is not None
        await asyncio.sleep(0.001)
    assert len(attempts) == 1
    # Stale, the model is read through a request's own check, which an outage does not fail.
    await asyncio.sleep(0.3)
    assert cache.peek(first) is None
    assert cache.get(first).record.id == first
    assert len(attempts) == 2

    finished: list[float] = []

    class Slow(Repository):
        def model_exists(self, model_id: str) -> bool:
            time.sleep(0.2)
            finished.append(time.monotonic())
            return True

    cache.repository = Slow(registry.repository.database)
    cache.invalidate(first)
    cache.get(first)
    await asyncio.sleep(0.25)
    assert cache.peek(first) is not None  # starts a check that takes 0.2 s
    cache.close()  # waits for it, before the store would be closed
    assert len(finished) == 1
    assert cache.peek(first) is not None  # closed: still served while fresh, no new checks


class CountingRepository(Repository):
    """A repository that records every model it loads, and every figure input it reads."""

    def __init__(self, repository: Repository, loads: list[str]) -> None:
        super().__init__(repository.database)
        self.loads = loads
        self.figure_reads: list[str] = []

    def model_parameters(self, model_id: str) -> tuple[ModelRecord, Parameters]:
        self.loads.append(model_id)
        return super().model_parameters(model_id)

    def model_loss_history(self, model_id: str) -> LossHistory:
        self.figure_reads.append(f"history {model_id}")
        return super().model_loss_history(model_id)

    def model_datasets(self, model_id: str) -> ModelDatasets:
        self.figure_reads.append(f"datasets {model_id}")
        return super().model_datasets(model_id)


async def test_the_cache_loads_what_prediction_needs_and_figure_inputs_once_asked(
    registry: Registry,
) -> None:
    loads: list[str] = []
    repository = CountingRepository(registry.repository, loads)
    cache = ModelCache(repository)
    first = registry.model_ids[0]
    loaded = cache.get(first)
    assert loads == [first]
    assert repository.figure_reads == []
    _, stored = model_artifacts(registry.repository, first)
    assert loaded.datasets().train_set.points.tolist() == stored.train_set.points.tolist()
    assert loaded.datasets() is loaded.datasets()
    assert loaded.loss_history() is loaded.loss_history()
    assert repository.figure_reads == [f"datasets {first}", f"history {first}"]


async def test_the_model_routes_are_documented(registry: Registry) -> None:
    paths = (await registry.client.get("/openapi.json")).json()["paths"]
    assert set(paths["/models/{model_id}"]) == {"get", "patch", "delete"}
    assert "401" in paths["/models/{model_id}"]["delete"]["responses"]
    assert "get" in paths["/models/{model_id}/parameters"]
