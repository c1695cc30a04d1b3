"""The event hub's pollers: a poller that ends before its job does is started again."""

import asyncio
import contextlib

import anyio
import pytest

from service.domain import JobStatus
from service.routes import events
from service.store.database import Database
from service.store.repository import Repository
from tests.service.event_helpers import WAIT_SECONDS, Event, PlayedWorker, losses_of, parse_events

pytestmark = pytest.mark.anyio

POLL_SECONDS = 0.01


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a poller from outside and wait until it has ended."""
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.done()


async def wait_for_epoch(feed: events.JobFeed, epoch: int) -> None:
    """Wait until the feed has published a snapshot at ``epoch`` or later."""
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            change = feed.changed
            if feed.snapshot is not None and feed.snapshot.epoch >= epoch:
                return
            await change.wait()


async def test_a_new_watcher_restarts_a_poller_that_ended_before_its_job(
    database: Database, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(40)
    hub = events.EventHub(database, POLL_SECONDS)
    async with hub.watch(worker.job_id) as feed:
        await wait_for_epoch(feed, 40)
        ended = feed.poller
        await stop(ended)
        async with hub.watch(worker.job_id) as joined:
            assert joined is feed
            assert feed.poller is not ended
            assert feed.poller is not None
            assert not feed.poller.done()
            worker.succeed()
            await wait_for_epoch(feed, worker.epochs)
    assert feed.snapshot is not None
    assert feed.snapshot.status == JobStatus.SUCCEEDED


async def test_a_finished_feed_gets_no_new_poller(
    database: Database, repository: Repository
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.succeed()
    hub = events.EventHub(database, POLL_SECONDS)
    async with hub.watch(worker.job_id) as feed:
        await wait_for_epoch(feed, worker.epochs)
        assert feed.poller is not None
        with anyio.fail_after(WAIT_SECONDS):
            await feed.poller
        ended = feed.poller
        async with hub.watch(worker.job_id):
            assert feed.poller is ended


async def test_a_waiting_stream_restarts_a_dead_poller_at_its_heartbeat(
    database: Database, repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "HEARTBEAT_SECONDS", 0.05)
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(40)
    hub = events.EventHub(database, POLL_SECONDS)
    received: list[Event] = []
    heartbeats = 0
    with anyio.fail_after(WAIT_SECONDS):
        async for text in events.job_event_stream(hub, worker.job_id, 0):
            heartbeats += text.startswith(": heartbeat")
            for event in parse_events(iter(text.splitlines())):
                received.append(event)
                if event.name == "progress" and event.data["epoch"] == 40:
                    await stop(hub.feeds[worker.job_id].poller)
                    worker.succeed()
    assert heartbeats >= 1
    assert received[-1].name == "succeeded"
    assert losses_of(received) == worker.history.tolist()
    assert hub.feeds == {}
