"""The job event stream: progress in order, the final event, resuming, sharing and leaving."""

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi import FastAPI

from service.app import create_app
from service.routes import events
from service.settings import Settings
from service.store.codec import encode_loss_history
from service.store.database import Database
from service.store.records import ClaimedJob, NewModel
from service.store.repository import Repository
from service.store.tables import JobStatus
from tests.service.conftest import assert_problem, make_settings, serve

EPOCHS = 300
WAIT_SECONDS = 20.0


@dataclass(frozen=True)
class Event:
    """One parsed Server-Sent Event."""

    name: str
    id: int
    data: dict[str, Any]


def parse_events(lines: Iterator[str]) -> Iterator[Event]:
    """Events from SSE text lines (comments and the retry field skipped)."""
    fields: dict[str, str] = {}
    for line in lines:
        if line == "":
            if "data" in fields:
                yield Event(fields["event"], int(fields["id"]), json.loads(fields["data"]))
            fields = {}
        elif not line.startswith(":"):
            key, _, value = line.partition(":")
            fields[key] = value.removeprefix(" ")


def losses_of(received: list[Event]) -> list[float]:
    """The loss values carried by the progress events, checked to be contiguous."""
    losses: list[float] = []
    for event in received:
        if event.name == "progress":
            assert event.data["offset"] == len(losses)
            losses.extend(event.data["losses"])
            assert event.id == len(losses)
    return losses


def loss_values(count: int, seed: int = 0) -> np.ndarray:
    """A made-up loss history of ``count`` epochs, shape (count,), with full float precision."""
    return np.random.default_rng(seed).random(count) + 0.01


class PlayedWorker:
    """Plays a worker: claims a job and writes its progress and outcome to the store."""

    def __init__(self, repository: Repository, epochs: int = EPOCHS) -> None:
        self.repository = repository
        self.epochs = epochs
        self.job_id = repository.create_job({"epochs": epochs}).id
        self.history = loss_values(epochs)
        self.claimed: ClaimedJob | None = None

    def claim(self) -> None:
        self.claimed = self.repository.claim_next_job("played-worker")
        assert self.claimed is not None
        assert self.claimed.id == self.job_id

    def report(self, epoch: int) -> None:
        assert self.claimed is not None
        history = self.history[:epoch]
        self.repository.record_progress(
            self.job_id,
            self.claimed.lease,
            epoch=epoch,
            epochs=self.epochs,
            loss=float(history[-1]),
            validation_loss=None,
            loss_history=encode_loss_history(history),
        )

    def succeed(self) -> str:
        assert self.claimed is not None
        model = NewModel(
            name=None,
            config={"epochs": self.epochs},
            metrics={},
            parameters=b"",
            loss_history=encode_loss_history(self.history),
            datasets=b"",
        )
        record = self.repository.complete_job(
            self.job_id, self.claimed.lease, model, self.epochs, float(self.history[-1])
        )
        return record.id

    def finish(self, status: JobStatus, error: str | None = None) -> None:
        assert self.claimed is not None
        assert self.repository.finish_job(self.job_id, self.claimed.lease, status, error)


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


def wait_for(condition: Callable[[], bool]) -> None:
    """Wait until ``condition()`` holds; fail after a generous deadline."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.01)


async def read_finished(
    settings: Settings, job_id: str, last_event_id: str | None = None
) -> list[Event]:
    """The whole event stream of a finished job (it ends by itself)."""
    headers = {} if last_event_id is None else {"Last-Event-ID": last_event_id}
    async with serve(settings) as client:
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
    assert received[-1].id == EPOCHS
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
    ids = [event.id for event in received]
    assert ids == sorted(ids)
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
                if event.id == 80:
                    worker.report(200)
                if event.id == 200:
                    break
        worker.report(260)
        worker.succeed()
        headers = {"Last-Event-ID": str(first[-1].id)}
        second = list(parse_events(iter(http.get(url, headers=headers).text.splitlines())))
    segments = losses_of(first) + [
        loss for event in second if event.name == "progress" for loss in event.data["losses"]
    ]
    assert second[0].data["offset"] == first[-1].id
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


def test_watchers_of_one_job_share_one_poller_and_leaving_releases_it(
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
        assert [next(reader).id for reader in readers] == [10, 10, 10]
        hub: events.EventHub = live_server.app.state.event_hub
        assert list(hub.feeds) == [worker.job_id]
        feed = hub.feeds[worker.job_id]
        assert feed.watchers == 3
        for stream in streams:
            stream.__exit__(None, None, None)
    wait_for(lambda: not hub.feeds)
    assert feed.watchers == 0
    assert feed.poller is not None
    wait_for(feed.poller.done)


def test_an_idle_stream_sends_heartbeat_comments(
    live_server: LiveServer, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.05)
    worker = PlayedWorker(repository)
    url = f"{live_server.url}/jobs/{worker.job_id}/events"
    with httpx.Client(timeout=WAIT_SECONDS) as http, http.stream("GET", url) as response:
        lines = response.iter_lines()
        assert any(line.startswith(": heartbeat") for line in lines)
