"""The store: jobs' life cycle, claims and leases, recovery, and models kept bit-identically."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import inspect, text, update
from sqlalchemy.engine import make_url

from core.dataset import make_dataset
from core.parameters import Parameters, make_parameters
from core.serialization import parameters_to_bytes
from service.domain.errors import LeaseLost, NotFound, NotReady, WrongState
from service.domain.jobs import JobStatus
from service.domain.records import ModelMetrics, NewModel
from service.store.codec import encode_datasets, encode_loss_history
from service.store.database import Database, json_text
from service.store.jobs import new_id
from service.store.repository import Repository
from service.store.tables import Base, JobRow
from tests.helpers.databases import on_every_database
from tests.helpers.store import job_config, model_artifacts

pytest_generate_tests = on_every_database

CONFIG = job_config({"epochs": 100, "hidden_layers": [4]})
METRICS = ModelMetrics(train_accuracy=1.0, train_loss=0.1, epochs_run=100, train_seconds=0.5)


def some_parameters(seed: int = 0) -> Parameters:
    rng = np.random.default_rng(seed)
    return make_parameters(
        [rng.normal(size=(2, 4)), rng.normal(size=(4, 1))], [rng.normal(size=4), rng.normal(size=1)]
    )


def some_model(seed: int = 0) -> NewModel:
    rng = np.random.default_rng(seed)
    train_set = make_dataset(rng.normal(size=(10, 2)), [0, 1] * 5)
    validation_set = make_dataset(rng.normal(size=(4, 2)), [0, 1, 1, 0])
    return NewModel(
        name=f"model-{seed}",
        config=CONFIG,
        metrics=METRICS,
        parameters=parameters_to_bytes(some_parameters(seed)),
        loss_history=encode_loss_history(rng.random(100), rng.random(100)),
        datasets=encode_datasets(train_set, validation_set),
    )


def train_one(repository: Repository, seed: int = 0) -> str:
    """Create, claim and complete a job; returns the model id."""
    job = repository.create_job(CONFIG, name=f"job-{seed}")
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    assert claimed.id == job.id
    return repository.complete_job(job.id, claimed.lease, some_model(seed), 100, 0.1).id


def test_new_job_is_queued_and_readable(repository: Repository) -> None:
    job = repository.create_job(CONFIG, name="first")
    stored = repository.get_job(job.id)
    assert stored.status is JobStatus.QUEUED
    assert (stored.name, stored.config, stored.epochs) == ("first", CONFIG, 100)
    assert stored.created_at.tzinfo is not None


def test_unknown_job_is_not_found(repository: Repository) -> None:
    with pytest.raises(NotFound, match="no job with id 'nope'"):
        repository.get_job("nope")


def test_jobs_list_newest_first_with_total_and_status_filter(repository: Repository) -> None:
    ids = [repository.create_job(CONFIG).id for _ in range(5)]
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    assert claimed.id == ids[0]
    page = repository.list_jobs(limit=2, offset=1)
    assert [job.id for job in page.items] == [ids[3], ids[2]]
    assert (page.total, page.limit, page.offset) == (5, 2, 1)
    running = repository.list_jobs(status=JobStatus.RUNNING)
    assert [job.id for job in running.items] == [ids[0]]
    assert running.total == 1


def test_claims_take_the_oldest_job_once(repository: Repository) -> None:
    first, second = repository.create_job(CONFIG), repository.create_job(CONFIG)
    claims = [repository.claim_next_job(f"tester:{n}") for n in range(3)]
    assert [claim.id if claim else None for claim in claims] == [first.id, second.id, None]
    assert claims[0] is not None
    assert claims[1] is not None
    assert claims[0].lease != claims[1].lease
    assert repository.get_job(first.id).worker == "tester:0"


def test_claim_returns_the_given_points_and_initial_parameters(repository: Repository) -> None:
    data = make_dataset([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]], [0, 1, 1])
    parameters = some_parameters(3)
    repository.create_job(CONFIG, training_data=data, initial_parameters=parameters)
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    assert claimed.training_data is not None
    assert np.array_equal(claimed.training_data.points, data.points)
    assert np.array_equal(claimed.training_data.labels, data.labels)
    assert claimed.initial_parameters is not None
    assert claimed.initial_parameters.equals(parameters)


def test_cancel_of_a_queued_job_is_immediate_and_it_is_never_claimed(
    repository: Repository,
) -> None:
    job = repository.create_job(CONFIG)
    cancelled = repository.request_cancel(job.id)
    assert cancelled.status is JobStatus.CANCELLED
    assert cancelled.finished_at is not None
    assert repository.claim_next_job("tester:1") is None


def test_cancel_of_a_running_job_is_a_request_the_worker_sees(repository: Repository) -> None:
    job = repository.create_job(CONFIG)
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    before = repository.record_progress(
        job.id, claimed.lease, epoch=1, epochs=100, loss=0.5, validation_loss=None
    )
    assert before.lease_held
    assert not before.cancel_requested
    requested = repository.request_cancel(job.id)
    assert requested.status is JobStatus.RUNNING
    assert requested.cancel_requested
    after = repository.record_progress(
        job.id, claimed.lease, epoch=2, epochs=100, loss=0.4, validation_loss=None
    )
    assert after.lease_held
    assert after.cancel_requested
    assert repository.finish_job(job.id, claimed.lease, JobStatus.CANCELLED)
    assert repository.get_job(job.id).status is JobStatus.CANCELLED


def test_cancel_of_a_finished_job_is_a_wrong_state(repository: Repository) -> None:
    job = repository.create_job(CONFIG)
    repository.request_cancel(job.id)
    with pytest.raises(WrongState, match="already finished"):
        repository.request_cancel(job.id)
    with pytest.raises(NotFound):
        repository.request_cancel("nope")


def test_progress_and_loss_history_so_far(repository: Repository) -> None:
    job = repository.create_job(CONFIG)
    assert repository.job_loss_history(job.id) is None
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    losses = np.array([0.7, 0.6, 0.5])
    repository.record_progress(
        job.id,
        claimed.lease,
        epoch=3,
        epochs=100,
        loss=0.5,
        validation_loss=0.55,
        loss_history=encode_loss_history(losses),
    )
    stored = repository.get_job(job.id)
    assert (stored.epoch, stored.epochs, stored.loss, stored.validation_loss) == (3, 100, 0.5, 0.55)
    history = repository.job_loss_history(job.id)
    assert history is not None
    assert np.array_equal(history.loss, losses)
    assert history.validation_loss is None
    with pytest.raises(NotFound):
        repository.job_loss_history("nope")


def test_success_stores_the_model_and_marks_the_job_in_one_step(repository: Repository) -> None:
    model_id = train_one(repository)
    model = repository.get_model(model_id)
    job = repository.get_job(model.job_id or "")
    assert job.status is JobStatus.SUCCEEDED
    assert job.model_id == model_id
    assert (model.name, model.config, model.metrics) == ("model-0", CONFIG, METRICS)


def test_model_arrays_come_back_bit_identical(repository: Repository) -> None:
    model_id = train_one(repository, seed=7)
    record, artifacts = model_artifacts(repository, model_id)
    assert record.id == model_id
    assert artifacts.parameters.equals(some_parameters(7))
    assert artifacts.activation == "relu"
    rng = np.random.default_rng(7)
    train_points, validation_points = rng.normal(size=(10, 2)), rng.normal(size=(4, 2))
    assert np.array_equal(artifacts.train_set.points, train_points)
    assert artifacts.validation_set is not None
    assert np.array_equal(artifacts.validation_set.points, validation_points)
    assert np.array_equal(artifacts.loss_history.loss, rng.random(100))
    assert artifacts.loss_history.validation_loss is not None


def test_nan_and_infinite_metrics_are_stored_as_null(repository: Repository) -> None:
    job = repository.create_job(CONFIG)
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    metrics = METRICS.model_copy(update={"validation_loss": float("nan")})
    model = replace(some_model(), metrics=metrics)
    model_id = repository.complete_job(job.id, claimed.lease, model, 100, 0.5).id
    stored = repository.get_model(model_id).metrics
    assert stored == METRICS.model_copy(update={"validation_loss": None})


def test_json_text_writes_nan_and_infinities_nested_anywhere_as_null() -> None:
    value = {"loss": float("nan"), "worst": [float("-inf"), 1.0], "ok": {"x": float("inf")}}
    assert json.loads(json_text(value)) == {"loss": None, "worst": [None, 1.0], "ok": {"x": None}}


def test_a_lost_lease_refuses_every_later_write(repository: Repository) -> None:
    job = repository.create_job(CONFIG)
    claimed = repository.claim_next_job("tester:1")
    assert claimed is not None
    assert repository.fail_jobs_of_worker("tester:1", "interrupted: test") == [job.id]
    ack = repository.record_progress(
        job.id, claimed.lease, epoch=5, epochs=100, loss=0.1, validation_loss=None
    )
    assert not ack.lease_held
    assert not repository.heartbeat(job.id, claimed.lease)
    with pytest.raises(LeaseLost):
        repository.complete_job(job.id, claimed.lease, some_model(), 100, 0.1)
    assert not repository.finish_job(job.id, claimed.lease, JobStatus.CANCELLED)
    stored = repository.get_job(job.id)
    assert (stored.status, stored.error, stored.epoch) == (JobStatus.FAILED, "interrupted: test", 0)
    assert repository.list_models().total == 0


def test_models_list_newest_first_delete_and_newest(repository: Repository) -> None:
    assert repository.newest_model() is None
    ids = [train_one(repository, seed) for seed in range(3)]
    page = repository.list_models(limit=2)
    assert [model.id for model in page.items] == [ids[2], ids[1]]
    assert page.total == 3
    newest = repository.newest_model()
    assert newest is not None
    assert newest.id == ids[2]
    repository.delete_model(ids[2])
    with pytest.raises(NotFound, match="no model"):
        repository.get_model(ids[2])
    with pytest.raises(NotFound):
        repository.delete_model(ids[2])
    newest = repository.newest_model()
    assert newest is not None
    assert newest.id == ids[1]
    assert repository.list_models().total == 2


def test_deleting_a_model_leaves_its_job_succeeded_without_a_model(
    repository: Repository,
) -> None:
    kept, deleted = train_one(repository, seed=1), train_one(repository, seed=2)
    job_id = repository.get_model(deleted).job_id
    assert job_id is not None
    repository.delete_model(deleted)
    job = repository.get_job(job_id)
    assert (job.status, job.model_id, job.error) == (JobStatus.SUCCEEDED, None, None)
    kept_job = repository.get_job(repository.get_model(kept).job_id or "")
    assert kept_job.model_id == kept


def test_the_store_survives_reopening(database: Database) -> None:
    model_id = train_one(Repository(database), seed=5)
    reopened = Database(database.url)
    try:
        _, artifacts = model_artifacts(Repository(reopened), model_id)
        assert artifacts.parameters.equals(some_parameters(5))
    finally:
        reopened.dispose()


def test_ping_answers_and_an_unreachable_database_is_not_ready(
    database: Database, repository: Repository, tmp_path: Path
) -> None:
    repository.ping()
    # A directory is no SQLite database, and the server has no such database: every
    # connection attempt fails.
    if database.is_sqlite:
        unreachable_url = f"sqlite:///{tmp_path}"
    else:
        absent = make_url(database.url).set(database="absent")
        unreachable_url = absent.render_as_string(hide_password=False)
    unreachable = Database(unreachable_url)
    try:
        with pytest.raises(NotReady, match="cannot be reached"):
            Repository(unreachable).ping()
    finally:
        unreachable.dispose()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'planenet.db'}")
    try:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        database.dispose()


def test_simultaneous_claims_each_take_a_different_job_while_any_is_queued(
    repository: Repository,
) -> None:
    workers, rounds = 6, 5
    job_ids = {repository.create_job(CONFIG).id for _ in range(workers * rounds)}
    start_together = threading.Barrier(workers, timeout=60)

    def claim_in_rounds(worker: str) -> list[str | None]:
        """One claim per round, each started at the same moment as the other workers'."""
        claimed: list[str | None] = []
        for _ in range(rounds):
            start_together.wait()
            job = repository.claim_next_job(worker)
            claimed.append(None if job is None else job.id)
        return claimed

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(claim_in_rounds, [f"tester:{n}" for n in range(workers)]))
    every_claim = [job_id for claimed in results for job_id in claimed]
    # There was a queued job for every claim: none may come back empty-handed.
    assert None not in every_claim
    assert sorted(every_claim, key=str) == sorted(job_ids)
    assert repository.claim_next_job("tester:late") is None
    running = repository.list_jobs(limit=100, status=JobStatus.RUNNING)
    assert running.total == len(job_ids)
    assert len({job.worker for job in running.items}) == workers


def test_processes_starting_together_on_a_new_database_all_create_its_schema(
    database: Database,
) -> None:
    Base.metadata.drop_all(database.engine)
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    starters = 4
    start_together = threading.Barrier(starters, timeout=60)

    def start(_n: int) -> None:
        """What every API or worker process does first, each with its own engine."""
        own = Database(database.url)
        try:
            start_together.wait()
            own.upgrade_schema()
        finally:
            own.dispose()

    with ThreadPoolExecutor(max_workers=starters) as pool:
        list(pool.map(start, range(starters)))
    assert sorted(inspect(database.engine).get_table_names()) == [
        "alembic_version",
        "job_loss_chunks",
        "jobs",
        "model_aliases",
        "models",
        "registered_models",
    ]
    assert train_one(Repository(database))


def test_ids_sort_in_the_order_they_were_made_even_within_one_millisecond() -> None:
    ids = [new_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(job_id) == 32 and int(job_id, 16) >= 0 for job_id in ids)
    # The random half differs even between ids made one after the other.
    assert len({job_id[16:] for job_id in ids}) == len(ids)


def test_the_lease_token_alone_refuses_a_stale_workers_writes(repository: Repository) -> None:
    """A job re-queued and claimed again is running, by a new lease: the old worker's writes
    match the job and its status, and are refused only because their lease differs."""
    job = repository.create_job(job_config({"epochs": 10}))
    stale = repository.claim_next_job("worker-a")
    assert stale is not None
    with repository.database.writing() as session:
        session.execute(
            update(JobRow).where(JobRow.id == job.id).values(status=JobStatus.QUEUED, lease=None)
        )
    fresh = repository.claim_next_job("worker-b")
    assert fresh is not None
    assert (fresh.id, repository.get_job(job.id).status) == (job.id, JobStatus.RUNNING)
    assert fresh.lease != stale.lease

    def progress(lease: str) -> bool:
        ack = repository.record_progress(
            job.id, lease, epoch=5, epochs=10, loss=0.5, validation_loss=None
        )
        return ack.lease_held

    assert not progress(stale.lease)
    assert not repository.heartbeat(job.id, stale.lease)
    assert not repository.finish_job(job.id, stale.lease, JobStatus.FAILED, "stale")
    with pytest.raises(LeaseLost):
        repository.complete_job(job.id, stale.lease, some_model(), 10, 0.1)
    after = repository.get_job(job.id)
    assert (after.status, after.epoch, after.worker, after.model_id) == (
        JobStatus.RUNNING, 0, "worker-b", None,
    )  # fmt: skip
    assert repository.list_models().total == 0
    # The same writes under the live lease pass.
    assert progress(fresh.lease)
    assert repository.get_job(job.id).epoch == 5
