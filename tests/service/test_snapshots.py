"""Job snapshots for live watchers: consistent reads that decode the loss history only when new."""

import pytest

from service.domain.errors import NotFound
from service.domain.jobs import JobStatus
from service.domain.records import LossHistory
from service.store import snapshots
from service.store.codec import decode_loss_history
from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.databases import on_every_database
from tests.helpers.events import PlayedWorker

pytest_generate_tests = on_every_database

UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The byte size of every loss history blob the snapshot reader decodes, in order."""
    sizes: list[int] = []

    def counting_decode(data: bytes) -> LossHistory:
        sizes.append(len(data))
        return decode_loss_history(data)

    monkeypatch.setattr(snapshots, "decode_loss_history", counting_decode)
    return sizes


def test_an_unknown_job_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound, match=UNKNOWN_ID):
        Repository(database).job_snapshot(UNKNOWN_ID)
    with pytest.raises(NotFound, match=UNKNOWN_ID):
        Repository(database).job_status(UNKNOWN_ID)


def test_a_queued_job_has_no_history_to_decode(
    database: Database, repository: Repository, decodes: list[int]
) -> None:
    worker = PlayedWorker(repository)
    snapshot = Repository(database).job_snapshot(worker.job_id)
    assert (snapshot.status, snapshot.epoch, snapshot.epochs) == (JobStatus.QUEUED, 0, 300)
    assert snapshot.losses.shape == (0,)
    assert snapshot.validation_losses is None
    assert snapshot.history_version == 0
    assert Repository(database).job_status(worker.job_id) == JobStatus.QUEUED
    assert decodes == []


def test_the_history_is_decoded_only_when_the_stored_one_changed(
    database: Database, repository: Repository, decodes: list[int]
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(50)
    first = Repository(database).job_snapshot(worker.job_id)
    assert first.losses.tolist() == worker.history[:50].tolist()
    assert len(decodes) == 1
    assert Repository(database).job_snapshot(worker.job_id, first) is first

    worker.report(60, with_history=False)
    progressed = Repository(database).job_snapshot(worker.job_id, first)
    assert (progressed.epoch, progressed.loss) == (60, worker.history[59])
    assert progressed.losses is first.losses
    assert len(decodes) == 1

    worker.report(120)
    grown = Repository(database).job_snapshot(worker.job_id, progressed)
    assert grown.losses.tolist() == worker.history[:120].tolist()
    assert len(decodes) == 2

    worker.succeed()
    finished = Repository(database).job_snapshot(worker.job_id, grown)
    assert finished.status == JobStatus.SUCCEEDED
    assert finished.losses.tolist() == worker.history.tolist()
    assert len(decodes) == 3
    assert Repository(database).job_snapshot(worker.job_id, finished) is finished
    assert len(decodes) == 3


def test_a_finished_job_keeps_its_decoded_history_when_no_new_one_was_written(
    database: Database, repository: Repository, decodes: list[int]
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(80)
    running = Repository(database).job_snapshot(worker.job_id)
    worker.finish(JobStatus.CANCELLED)
    cancelled = Repository(database).job_snapshot(worker.job_id, running)
    assert cancelled is not running
    assert cancelled.status == JobStatus.CANCELLED
    assert cancelled.history_version == running.history_version
    assert cancelled.losses.tolist() == worker.history[:80].tolist()
    assert len(decodes) == 1


def test_a_rewritten_history_of_the_same_size_is_read_again(
    database: Database, repository: Repository, decodes: list[int]
) -> None:
    worker = PlayedWorker(repository)
    worker.claim()
    worker.report(80)
    first = Repository(database).job_snapshot(worker.job_id)
    worker.report(80)  # the same history written again: same bytes, a new version
    again = Repository(database).job_snapshot(worker.job_id, first)
    assert again.history_version == first.history_version + 1
    assert len(decodes) == 2


def test_one_read_serves_every_watched_job_and_keeps_what_did_not_change(
    database: Database, repository: Repository, decodes: list[int]
) -> None:
    workers = [PlayedWorker(repository) for _ in range(3)]
    for worker in workers[:2]:
        worker.claim()
        worker.report(20)
    ids = [worker.job_id for worker in workers]
    first = repository.job_snapshots(dict.fromkeys([*ids, UNKNOWN_ID]))
    assert sorted(first) == sorted(ids)
    assert [first[job_id].epoch for job_id in ids] == [20, 20, 0]
    assert len(decodes) == 2
    workers[1].report(40)
    second = repository.job_snapshots(first)
    assert second[ids[0]] is first[ids[0]]
    assert second[ids[2]] is first[ids[2]]
    assert second[ids[1]].epoch == 40
    assert second[ids[1]].losses.tolist() == workers[1].history[:40].tolist()
    assert len(decodes) == 3
