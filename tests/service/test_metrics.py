"""GET /metrics, read with prometheus-client's own parser: requests, jobs, predictions, cache."""

from datetime import datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve

pytestmark = pytest.mark.anyio

KEY = "open-sesame"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(client: httpx.AsyncClient, headers: dict[str, str] | None = None) -> Samples:
    """Every sample of ``GET /metrics`` by (name, labels), as the Prometheus parser reads them."""
    response = await client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_a_trained_job_and_a_prediction_show_in_the_metrics(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        submitted = (await client.post("/jobs", json=QUICK_JOB)).json()
        job = await await_job(client, submitted["id"])
        assert job["status"] == "succeeded"
        before = await scrape(client)
        predicted = await client.post(
            f"/models/{job['model_id']}/predict", json={"points": [[1, 1], [-1, -1], [0, 2]]}
        )
        assert predicted.status_code == 200
        after = await scrape(client)
        assert (
            value(after, "planenet_predicted_points_total")
            - value(before, "planenet_predicted_points_total")
            == 3
        )
        predict_route = {"route": "/models/{model_id}/predict", "method": "POST"}
        assert value(after, "planenet_http_requests_total", **predict_route, status="200") == 1
        assert value(after, "planenet_http_request_duration_seconds_count", **predict_route) == 1

        # Templates, never paths, label the requests; a path no route has is "unmatched".
        assert (await client.get("/models/nope")).status_code == 404
        assert (await client.get("/no/such/route")).status_code == 404
        await client.post(f"/models/{job['model_id']}/predict", json={"points": [[0, 0]]})
        later = await scrape(client)
        one_model = {"route": "/models/{model_id}", "method": "GET", "status": "404"}
        assert value(later, "planenet_http_requests_total", **one_model) == 1
        unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
        assert value(later, "planenet_http_requests_total", **unmatched) == 1
        assert not any("nope" in str(labels) for _name, labels in later)
        assert value(later, "planenet_predicted_points_total") == 4
        # The second prediction (of a cached model) is counted under its template too.
        assert value(later, "planenet_http_requests_total", **predict_route, status="200") == 2
        assert (await client.get("/healthz")).status_code == 200
        health = {"route": "/healthz", "method": "GET", "status": "200"}
        assert value(await scrape(client), "planenet_http_requests_total", **health) == 1
        # The first prediction loaded the model, the second was served from the cache.
        assert value(later, "planenet_model_cache_misses_total") >= 1
        assert (
            value(later, "planenet_model_cache_hits_total")
            == value(after, "planenet_model_cache_hits_total") + 1
        )

        assert value(later, "planenet_jobs", status="succeeded") == 1
        assert value(later, "planenet_jobs", status="queued") == 0
        assert value(later, "planenet_training_workers_alive") == 1
        assert value(later, "planenet_training_workers_expected") == 1
        started = datetime.fromisoformat(job["started_at"])
        waited = (started - datetime.fromisoformat(job["created_at"])).total_seconds()
        trained = (datetime.fromisoformat(job["finished_at"]) - started).total_seconds()
        for name, seconds in (
            ("planenet_job_queue_wait_seconds", waited),
            ("planenet_job_training_seconds", trained),
        ):
            assert value(later, f"{name}_count") == 1
            assert value(later, f"{name}_sum") == pytest.approx(seconds, abs=0.002)
            assert value(later, f"{name}_bucket", le="+Inf") == 1


async def test_jobs_by_status_count_the_jobs_of_every_process_sharing_the_store(
    tmp_path: Path,
) -> None:
    """Two API processes over one database: jobs queued through one show in the other's."""
    settings = make_settings(tmp_path)
    async with serve(settings) as first, serve(settings) as second:
        for _ in range(3):
            assert (await first.post("/jobs", json=QUICK_JOB)).status_code == 202
        cancelled = (await first.post("/jobs", json=QUICK_JOB)).json()["id"]
        await second.post(f"/jobs/{cancelled}/cancel")
        seen = await scrape(second)
    assert value(seen, "planenet_jobs", status="queued") == 3
    assert value(seen, "planenet_jobs", status="cancelled") == 1
    assert value(seen, "planenet_jobs", status="running") == 0
    assert value(seen, "planenet_job_queue_wait_seconds_count") == 0


async def test_metrics_follow_protect_reads(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_key=KEY, protect_reads=True)
    async with serve(settings) as client:
        assert (await client.get("/metrics")).status_code == 401
        samples = await scrape(client, headers={"X-API-Key": KEY})
    refused = {"route": "/metrics", "method": "GET", "status": "401"}
    assert value(samples, "planenet_http_requests_total", **refused) == 1
    async with serve(make_settings(tmp_path, api_key=KEY)) as client:
        await scrape(client)
