"""Retries and resumption against a real server: a restart, 503 answers, a stream cut mid-event."""

import asyncio
import re
import threading
from typing import Any

import pytest

import planenet
from tests.client.conftest import API_KEY, QUICK_JOB, SLOW_JOB
from tests.client.proxy import running_proxy
from tests.helpers.server import ServerFactory, ServerProcess

pytestmark = pytest.mark.e2e

PATIENT = planenet.Retry(retries=10, backoff=0.2, max_backoff=2.0)
"""About 15 s of retries: more than a restart takes."""

RESTART_DELAY_SECONDS = 1.0


def _restart_later(server: ServerProcess) -> threading.Timer:
    """Start the stopped ``server`` again in a second, from another thread."""
    restarter = threading.Timer(RESTART_DELAY_SECONDS, server.start)
    restarter.start()
    return restarter


def test_safe_requests_are_repeated_until_a_restarted_server_answers_and_new_jobs_never(
    planenet_server: ServerFactory,
) -> None:
    server = planenet_server(workers=1)
    with planenet.Client(server.base_url, retry=PATIENT) as client:
        model = client.train(QUICK_JOB)
        running = client.create_job(SLOW_JOB)
        queued = client.create_job(SLOW_JOB)
        server.stop()
        restarter = _restart_later(server)
        try:
            # A cancel is repeated only while no connection can be made: here, until the restart.
            cancelled = client.cancel_job(queued.id)
            assert cancelled.id == queued.id
            assert client.get_model(model.id).id == model.id
            assert client.predict(model.id, [[1, 1], [-1, -1]]).labels == [0, 1]
        finally:
            restarter.join()
        assert client.wait(queued.id).status == "cancelled"
        interrupted = client.get_job(running.id)
        assert interrupted.status == "failed"
        assert "interrupted" in (interrupted.error or "")

        jobs_before = client.list_jobs().total
        server.stop()
        restarter = _restart_later(server)
        try:
            # Were it repeated, it would succeed once the server is back.
            with pytest.raises(planenet.ConnectionFailed):
                client.create_job(QUICK_JOB)
        finally:
            restarter.join()
        assert client.list_jobs().total == jobs_before


def test_503_answers_are_retried_for_reads_only(
    server: ServerProcess, model: planenet.Model
) -> None:
    with (
        running_proxy(server.port, unavailable=2) as proxy,
        planenet.Client(proxy.url, api_key=API_KEY, retry=PATIENT) as client,
    ):
        assert client.get_model(model.id).id == model.id
        assert [c.answered_unavailable for c in proxy.connections] == [True, True, False]

    with (
        running_proxy(server.port, unavailable=1) as proxy,
        planenet.Client(proxy.url, api_key=API_KEY, retry=PATIENT) as client,
    ):
        with pytest.raises(planenet.ServiceUnavailable) as raised:
            client.create_job(QUICK_JOB)
        assert raised.value.status == 503
        assert raised.value.detail == "the proxy is not forwarding yet"
        assert len(proxy.connections) == 1

    never_ready = planenet.Retry(retries=2, backoff=0.0)
    with (
        running_proxy(server.port, unavailable=100) as proxy,
        planenet.Client(proxy.url, retry=never_ready) as client,
    ):
        with pytest.raises(planenet.ServiceUnavailable):
            client.health()
        assert len(proxy.connections) == 3


def _watch(url: str, job_id: str, flavour: str) -> list[planenet.JobEvent]:
    """Every event of a watch through ``url``, with the sync or the async client."""
    if flavour == "sync":
        with planenet.Client(url, retry=PATIENT) as client:
            return list(client.watch(job_id))

    async def watch_async() -> list[planenet.JobEvent]:
        async with planenet.AsyncClient(url, retry=PATIENT) as client:
            return [event async for event in client.watch(job_id)]

    return asyncio.run(watch_async())


def _losses(events: list[planenet.JobEvent]) -> list[float | None]:
    return [loss for event in events for loss in event.losses]


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_a_stream_cut_mid_event_resumes_without_losing_or_repeating_a_loss(
    server: ServerProcess, client: planenet.Client, flavour: str
) -> None:
    job = client.create_job(SLOW_JOB)
    with running_proxy(server.port, cut_after_events=4) as proxy:
        events = _watch(proxy.url, job.id, flavour)

    # The first connection was cut inside an event, and the next one resumed after the last
    # complete event the client had.
    first, resumed, *_ = proxy.connections
    assert first.cut
    assert not first.response.endswith(b"\n\n\r\n")
    match = re.search(rb"(?i)last-event-id: (\d+)\r\n", bytes(resumed.request))
    assert match is not None, bytes(resumed.request)
    resumed_after = match[1].decode()
    assert resumed_after in [event.id for event in events]

    # No loss value is lost or repeated: each event's values start where the last ones ended,
    # and together they are the job's whole history, as an unbroken watch gives it.
    assert events[-1].kind == "succeeded"
    received = 0
    for event in events[:-1]:
        progress: dict[str, Any] = event.data
        assert progress["offset"] == received
        received += len(event.losses)
        assert event.id == str(received)
    unbroken = list(client.watch(job.id))
    assert _losses(events) == _losses(unbroken)
    assert len(_losses(events)) == SLOW_JOB["epochs"]
