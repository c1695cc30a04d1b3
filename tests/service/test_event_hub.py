"""The event hub: one poller feeds every watched job, and is started again if it ever ends."""

import asyncio
import contextlib

import anyio
import pytest

from service.domain.jobs import JobStatus
from service.event_hub import EventHub, JobFeed
from service.routes import events
from service.store.repository import Repository
from tests.helpers.events import WAIT_SECONDS, Event, PlayedWorker, losses_of, parse_events

pytestmark = pytest.mark.anyio

POLL_SECONDS = 0.01


async def stop(task: asyncio.Task[None] | None) -> None:
    """Cancel a poller from outside and wait until it has ended."""
    assert task is not None
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert task.done()


async def wait_for_epoch(feed: JobFeed, epoch: int) -> None:
    """Wait until the feed has published a snapshot at ``epoch`` or later."""
    with anyio.fail_after(WAIT_SECONDS):
        while True:
            change = feed.changed
            if feed.snapshot is not None and feed.snapshot.epoch >= epoch:
                return
            await change.wait()


async def test_one_poller_feeds_every_watched_job_with_one_read_per_tick(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read = Repository.job_snapshots

    def counted(self: Repository, previous: dict[str, object]) -> object:
        reads.append(len(previous))
        return read(self, previous)  # type: ignore[arg-type]

    monkeypatch.setattr(Repository, "job_snapshots", counted)
    workers = [PlayedWorker(repository) for _ in range(5)]
    for number, worker in enumerate(workers):
        worker.claim()
        worker.report(10 + number)
    hub = EventHub(repository, POLL_SECONDS)
    hub.start()
    try:
        async with contextlib.AsyncExitStack() as stack:
            feeds = [await stack.enter_async_context(hub.watch(w.job_id)) for w in workers]
            for number, feed in enumerate(feeds):
                await wait_for_epoch(feed, 10 + number)
            assert max(reads) == 5
            assert hub.poller is not None
            assert sorted(hub.feeds) == sorted(worker.job_id for worker in workers)
        assert hub.feeds == {}
    finally:
        await hub.stop()


async def test_a_new_watcher_restarts_a_poller_that_ended(repository: Repository) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(40)
    hub = EventHub(repository, POLL_SECONDS)
    hub.start()
    try:
        async with hub.watch(worker.job_id) as feed:
            await wait_for_epoch(feed, 40)
            ended = hub.poller
            await stop(ended)
            async with hub.watch(worker.job_id) as joined:
                assert joined is feed
                assert hub.poller is not ended
                assert hub.poller is not None
                assert not hub.poller.done()
                worker.succeed()
                await wait_for_epoch(feed, worker.epochs)
        assert feed.snapshot is not None
        assert feed.snapshot.status == JobStatus.SUCCEEDED
    finally:
        await hub.stop()


async def test_a_waiting_stream_restarts_a_dead_poller_at_its_heartbeat(
    repository: Repository, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "KEEPALIVE_SECONDS", 0.05)
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(40)
    hub = EventHub(repository, POLL_SECONDS)
    hub.start()
    received: list[Event] = []
    heartbeats = 0
    try:
        with anyio.fail_after(WAIT_SECONDS):
            async for text in events.job_event_stream(hub, worker.job_id, 0):
                heartbeats += text.startswith(": heartbeat")
                for event in parse_events(iter(text.splitlines())):
                    received.append(event)
                    if event.name == "progress" and event.data["epoch"] == 40:
                        await stop(hub.poller)
                        worker.succeed()
    finally:
        await hub.stop()
    assert heartbeats >= 1
    assert received[-1].name == "succeeded"
    assert losses_of(received) == worker.history.tolist()
    assert hub.feeds == {}
