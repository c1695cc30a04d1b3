"""The job event stream: progress in order, the final event, resuming, sharing and leaving."""

import logging
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from service import event_hub
from service.app import create_app
from service.domain.jobs import JobStatus
from service.domain.records import JobSnapshot
from service.event_hub import EventHub
from service.routes import events
from service.settings import Settings
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.app import make_settings, serve
from tests.helpers.events import (
    EPOCHS,
    WAIT_SECONDS,
    Event,
    PlayedWorker,
    losses_of,
    parse_events,
    wait_for,
)
from tests.helpers.problems import assert_problem


@pytest.fixture
def settings(tmp_path: Path, database: Database) -> Settings:
    """No workers, and the store the played worker writes to (as a worker process would)."""
    return make_settings(tmp_path, database_url=database.url)


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@dataclass(frozen=True)
class LiveServer:
    """The app served by uvicorn in a thread, so streams can be left half-way."""

    url: str
    app: FastAPI


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[LiveServer]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: server.started)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app)
    finally:
        server.should_exit = True
        thread.join(WAIT_SECONDS)
        sock.close()


async def read_finished(
    settings: Settings, job_id: str, last_event_id: str | None = None
) -> list[Event]:
    """The whole event stream of a finished job (it ends by itself, well within the deadline)."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    async with serve(settings) as client:
        with anyio.fail_after(WAIT_SECONDS):
            response = await client.get(f"/jobs/{job_id}/events", headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return list(parse_events(iter(response.text.splitlines())))


@pytest.mark.anyio
async def test_unknown_job_is_a_404_problem(settings: Settings) -> None:
    async with serve(settings) as client:
        response = await client.get("/jobs/0123456789abcdef0123456789abcdef/events")
    body = assert_problem(response, 404, "not-found")
    assert "0123456789abcdef0123456789abcdef" in body["detail"]


@pytest.mark.anyio
async def test_finished_job_sends_its_history_then_the_outcome_at_once(
    settings: Settings, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(100)
    model_id = worker.succeed()
    received = await read_finished(settings, worker.job_id)
    assert received[-1].name == "succeeded"
    assert received[-1].data["model_id"] == model_id
    assert received[-1].id == f"{EPOCHS}-end"
    assert losses_of(received) == worker.history.tolist()


@pytest.mark.anyio
async def test_long_history_comes_in_several_events_with_increasing_ids(
    settings: Settings, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "MAX_LOSSES_PER_EVENT", 70)
    worker = PlayedWorker(repository)
    worker.claim()
    worker.succeed()
    received = await read_finished(settings, worker.job_id)
    counts = [event.count for event in received]
    assert counts == sorted(counts)
    assert len([event for event in received if event.name == "progress"]) == -(-EPOCHS // 70)
    assert losses_of(received) == worker.history.tolist()


@pytest.mark.anyio
async def test_last_event_id_resumes_a_finished_job_without_repeats(
    settings: Settings, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.succeed()
    received = await read_finished(settings, worker.job_id, last_event_id="120")
    assert received[0].data["offset"] == 120
    resumed = [
        loss for event in received if event.name == "progress" for loss in event.data["losses"]
    ]
    assert resumed == worker.history[120:].tolist()
    caught_up = await read_finished(settings, worker.job_id, last_event_id=str(EPOCHS))
    assert [event.name for event in caught_up] == ["succeeded"]


@pytest.mark.anyio
async def test_a_client_that_has_the_final_event_gets_no_content(
    settings: Settings, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.succeed()
    received = await read_finished(settings, worker.job_id)
    assert [event.id.endswith("-end") for event in received] == [False] * (len(received) - 1) + [
        True
    ]
    async with serve(settings) as client:
        response = await client.get(
            f"/jobs/{worker.job_id}/events", headers={"Last-Event-ID": received[-1].id}
        )
    assert response.status_code == 204
    assert response.content == b""


@pytest.mark.parametrize(
    ("last_event_id", "sent", "ended"),
    [
        (None, 0, False),
        ("150", 150, False),
        (" 150 ", 150, False),
        ("150-end", 150, True),
        ("0-end", 0, True),
        ("-end", 0, False),
        ("150-end-end", 0, False),
        ("-3", 0, False),
        ("an id from elsewhere", 0, False),
    ],
)
def test_last_event_id_says_what_the_client_holds(
    last_event_id: str | None, sent: int, ended: bool
) -> None:
    assert events.parse_last_event_id(last_event_id) == events.ResumePoint(sent, ended)


@pytest.mark.anyio
async def test_a_failing_read_is_logged_and_retried_until_the_final_event(
    settings: Settings,
    repository: Repository,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(event_hub, "POLL_INTERVAL_SECONDS", 0.01)
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(100)
    worker.succeed()
    faults: list[Exception] = [KeyError("loss"), ValueError("not an npz archive")]

    read = Repository.job_snapshots

    def flaky_read(
        self: Repository, previous: Mapping[str, JobSnapshot | None]
    ) -> dict[str, JobSnapshot]:
        if faults:
            raise faults.pop(0)
        return read(self, previous)

    monkeypatch.setattr(Repository, "job_snapshots", flaky_read)
    with caplog.at_level(logging.ERROR, logger="planenet.events"):
        received = await read_finished(settings, worker.job_id)
    assert faults == []
    assert received[-1].name == "succeeded"
    assert losses_of(received) == worker.history.tolist()
    logged = [
        record.exc_info[0]
        for record in caplog.records
        if record.getMessage() == "could not read job progress; retrying" and record.exc_info
    ]
    assert logged == [KeyError, ValueError]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("status", "error"), [(JobStatus.FAILED, "training diverged"), (JobStatus.CANCELLED, None)]
)
async def test_failed_and_cancelled_jobs_end_with_their_outcome(
    settings: Settings, repository: Repository, status: JobStatus, error: str | None
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(50)
    worker.finish(status, error)
    received = await read_finished(settings, worker.job_id)
    assert received[-1].name == str(status)
    assert received[-1].data.get("error") == error
    assert losses_of(received) == worker.history[:50].tolist()


def test_running_job_streams_progress_in_order_until_the_final_event(
    live_server: LiveServer, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    received: list[Event] = []
    steps = [60, 150, 240]
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    with httpx.Client(timeout=WAIT_SECONDS) as http, http.stream("GET", url) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for event in parse_events(response.iter_lines()):
            received.append(event)
            if worker.claimed is None:
                worker.claim()
                worker.report(steps[0])
            elif steps and event.name == "progress" and event.data["epoch"] == steps[0]:
                steps.pop(0)
                if steps:
                    worker.report(steps[0])
                else:
                    worker.succeed()
    assert received[0].data["status"] == "queued"
    assert received[-1].name == "succeeded"
    epochs_seen = [event.data["epoch"] for event in received if event.name == "progress"]
    assert epochs_seen == sorted(epochs_seen)
    assert {60, 150, 240} <= set(epochs_seen)
    assert losses_of(received) == worker.history.tolist()


def test_a_final_id_for_a_job_still_running_resumes_from_its_count(
    live_server: LiveServer, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(120)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    received: list[Event] = []
    with (
        httpx.Client(timeout=WAIT_SECONDS) as http,
        http.stream("GET", url, headers={"Last-Event-ID": "100-end"}) as response,
    ):
        assert response.status_code == 200
        for event in parse_events(response.iter_lines()):
            received.append(event)
            if event.name == "progress" and event.data["epoch"] == 120:
                worker.succeed()
    assert received[0].data["offset"] == 100
    resumed = [
        loss for event in received if event.name == "progress" for loss in event.data["losses"]
    ]
    assert resumed == worker.history[100:].tolist()
    assert received[-1].id == f"{EPOCHS}-end"


def test_two_partial_connections_give_the_whole_history(
    live_server: LiveServer, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(80)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    first: list[Event] = []
    with httpx.Client(timeout=WAIT_SECONDS) as http:
        with http.stream("GET", url) as response:
            for event in parse_events(response.iter_lines()):
                first.append(event)
                if event.id == "80":
                    worker.report(200)
                if event.id == "200":
                    break
        worker.report(260)
        worker.succeed()
        headers = {"Last-Event-ID": str(first[-1].id)}
        second = list(parse_events(iter(http.get(url, headers=headers).text.splitlines())))
    segments = losses_of(first) + [
        loss for event in second if event.name == "progress" for loss in event.data["losses"]
    ]
    assert second[0].data["offset"] == first[-1].count
    assert segments == worker.history.tolist()
    assert second[-1].name == "succeeded"


def test_a_client_ahead_of_the_store_gets_only_what_follows_its_id(
    live_server: LiveServer, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(100)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    received: list[Event] = []
    with (
        httpx.Client(timeout=WAIT_SECONDS) as http,
        http.stream("GET", url, headers={"Last-Event-ID": "150"}) as response,
    ):
        for event in parse_events(response.iter_lines()):
            received.append(event)
            if event.name == "progress" and event.data["epoch"] == 100:
                worker.report(200)
            elif event.name == "progress" and event.data["epoch"] == 200:
                worker.succeed()
    progress = [event for event in received if event.name == "progress"]
    assert (progress[0].data["offset"], progress[0].data["losses"]) == (150, [])
    resumed = [loss for event in progress for loss in event.data["losses"]]
    assert resumed == worker.history[150:].tolist()
    assert received[-1].name == "succeeded"


def test_watchers_of_one_job_share_one_feed_and_leaving_releases_it(
    live_server: LiveServer, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(10)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    with httpx.Client(timeout=WAIT_SECONDS) as http:
        streams = [http.stream("GET", url) for _ in range(3)]
        responses = [stream.__enter__() for stream in streams]
        # Keep the readers: dropping one closes its connection.
        readers = [parse_events(response.iter_lines()) for response in responses]
        assert [next(reader).id for reader in readers] == ["10", "10", "10"]
        hub: EventHub = live_server.app.state.event_hub
        assert list(hub.feeds) == [worker.job_id]
        feed = hub.feeds[worker.job_id]
        assert feed.watchers == 3
        for stream in streams:
            stream.__exit__(None, None, None)
    wait_for(lambda: not hub.feeds)
    assert feed.watchers == 0


def test_an_idle_stream_sends_heartbeat_comments(
    live_server: LiveServer, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.05)
    worker = PlayedWorker(repository)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    with httpx.Client(timeout=WAIT_SECONDS) as http, http.stream("GET", url) as response:
        lines = response.iter_lines()
        assert any(line.startswith(": heartbeat") for line in lines)


@pytest.mark.anyio
async def test_with_protected_reads_a_stream_needs_the_key(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, api_key="k", protect_reads=True)
    async with serve(settings) as client:
        job = await client.post("/jobs", json={"epochs": 10}, headers={"X-API-Key": "k"})
        path = f"/jobs/{job.json()['id']}/events"
        assert_problem(await client.get(path), 401, "unauthorized")
        refused = await client.get(path, headers={"X-API-Key": "wrong"})
        assert_problem(refused, 401, "unauthorized")


def test_streams_past_the_limit_get_503_with_retry_after_until_one_closes(
    live_server: LiveServer, repository: Repository
) -> None:
    live_server.app.state.settings.max_event_streams = 2
    hub: EventHub = live_server.app.state.event_hub
    workers = [PlayedWorker(repository) for _ in range(3)]
    urls = [f"{live_server.url}/jobs/{worker.job_id}/events" for worker in workers]
    with httpx.Client(timeout=WAIT_SECONDS) as http:
        first_stream = http.stream("GET", urls[0])  # kept: dropping it closes the stream
        first = first_stream.__enter__()
        with http.stream("GET", urls[1]) as second:
            assert (first.status_code, second.status_code) == (200, 200)
            refused = http.get(urls[2])
            problem = assert_problem(refused, 503, "overloaded")
            assert refused.headers["retry-after"] == str(events.STREAMS_RETRY_AFTER_SECONDS)
            assert "PLANENET_MAX_EVENT_STREAMS" in problem["detail"]
            assert hub.open_streams == 2
        wait_for(lambda: hub.open_streams == 1)
        with http.stream("GET", urls[2]) as third:
            assert third.status_code == 200
        first_stream.__exit__(None, None, None)
    wait_for(lambda: hub.open_streams == 0)
