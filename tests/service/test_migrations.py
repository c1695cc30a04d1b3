"""Schema migrations: a v1 database upgrades in place and serves every model as v1 did.

Every revision gets a case in ``test_each_revision_upgrades_from_the_one_before_with_data``
by itself (the cases are the revisions of the migrations): a later schema change only adds its
revision, and a fixture when its data needs one.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, inspect, select, text

from core.compiled import ENGINE_VARIABLE
from service.settings import Settings
from service.store.database import Database, SchemaError
from service.store.migrations import MIGRATIONS_DIR
from service.store.repository import Repository
from service.store.schema import (
    V1_REVISION,
    alembic_config,
    head_revision,
    revisions,
    upgrade_to_head,
)
from tests.helpers.app import make_settings, serve
from tests.helpers.databases import DATABASE_BACKENDS
from tests.helpers.postgres import PostgresServer
from tests.helpers.v1_database import (
    load_v1_postgres,
    load_v1_sqlite,
    postgres_dump,
    v1_answers,
)

UNKNOWN_REVISION = "ffffffffffff"


@pytest.fixture
def v1_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh copy of the v1 database: SQLite, or PostgreSQL when parametrized."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield load_v1_sqlite(tmp_path / "data" / "planenet.db")
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = load_v1_postgres(server)
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


on_both = pytest.mark.parametrize("v1_url", DATABASE_BACKENDS, indirect=True)


def settings_on(url: str, tmp_path: Path, **overrides: Any) -> Settings:
    return make_settings(tmp_path / "unused", database_url=url, **overrides)


@on_both
def test_a_v1_database_is_stamped_at_the_first_revision_and_keeps_every_job(v1_url: str) -> None:
    database = Database(v1_url)
    try:
        before = database.upgrade_schema()
        assert (before.revision, before.v1_tables) == (None, True)
        after = database.schema_state()
        assert (after.revision, after.at_head) == (head_revision(), True)
        repository = Repository(database)
        stored = v1_answers()["jobs_in_store"]
        assert {job.id for job in repository.list_jobs(limit=100).items} == set(stored)
        for job_id, expected in stored.items():
            job = repository.get_job(job_id)
            kept = {
                "name": job.name,
                "status": str(job.status),
                "epoch": job.epoch,
                "epochs": job.epochs,
                "loss": job.loss,
                "error": job.error,
                "model_id": job.model_id,
            }
            assert kept == {key: expected[key] for key in kept}, job_id
            assert keeps(job.config.model_dump(mode="json"), expected["config"]), job_id
            history = repository.job_loss_history(job_id)
            assert (None if history is None else history.loss.tolist()) == expected["loss_history"]
        assert {str(job.status) for job in repository.list_jobs(limit=100).items} == {
            "queued",
            "running",
            "succeeded",
            "failed",
            "cancelled",
        }
        assert database.schema_differences() == []
    finally:
        database.dispose()


def keeps(answer: Any, v1: Any) -> bool:
    """Whether ``answer`` holds everything v1 answered, equal to the bit (later releases may add
    members to an object, such as new settings with their defaults, but change none)."""
    if isinstance(v1, dict):
        return isinstance(answer, dict) and all(
            key in answer and keeps(answer[key], value) for key, value in v1.items()
        )
    if isinstance(v1, list):
        return (
            isinstance(answer, list)
            and len(answer) == len(v1)
            and all(keeps(new, old) for new, old in zip(answer, v1, strict=True))
        )
    return bool(answer == v1)


def draws_the_same(figure: dict[str, Any], v1: dict[str, Any]) -> bool:
    """Whether every trace v1 drew is drawn again with the same data (figures may gain traces,
    such as the exact boundary curve, and layout members, such as a log-scale toggle).

    A decision surface is compared value for value when it lies on v1's grid; since the grid
    also spans a model's validation points (drawn apart now), such a model's grid is wider,
    and it must then cover v1's.
    """
    return all(
        any(
            trace.get("name") == old.get("name") and same_trace(trace, old)
            for trace in figure["data"]
        )
        for old in v1["data"]
    )


def same_trace(trace: dict[str, Any], v1: dict[str, Any]) -> bool:
    if v1.get("type") != "contour" or (trace["x"], trace["y"]) == (v1["x"], v1["y"]):
        return keeps(trace, v1)
    return all(
        min(trace[axis]) <= min(v1[axis]) and max(trace[axis]) >= max(v1[axis]) for axis in "xy"
    )


@pytest.mark.anyio
@on_both
@pytest.mark.parametrize("engine", ["numpy", "compiled"])
async def test_after_the_upgrade_every_model_answers_exactly_as_in_v1(
    v1_url: str, tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the NumPy engine, v1's, predictions are v1's to the bit; the compiled forward pass
    (the default where it is built) sums in its own order: the same labels, and probabilities
    within 1e-12."""
    if engine == "numpy":
        monkeypatch.setenv(ENGINE_VARIABLE, "numpy")
    answers = v1_answers()
    async with serve(settings_on(v1_url, tmp_path)) as client:
        listed = (await client.get("/models", params={"limit": 100})).json()
        assert {model["id"] for model in listed["items"]} == set(answers["models"])
        for model_id, v1 in answers["models"].items():
            model = (await client.get(f"/models/{model_id}")).json()
            assert keeps(model, v1["model"])
            # Each v1 name is used once in the fixture: each becomes version 1 of itself.
            assert (model["version"], model["aliases"], model["tags"]) == (1, [], {})
            assert model["description"] is None
            parameters = await client.get(f"/models/{model_id}/parameters")
            assert parameters.json() == v1["parameters"]
            predicted = await client.post(
                f"/models/{model_id}/predict", json={"points": answers["predict_points"]}
            )
            if engine == "numpy":
                # Floats from JSON compare equal only when they are the same double: bit for bit.
                assert predicted.json() == v1["prediction"]
            else:
                got, expected = predicted.json(), v1["prediction"]
                assert (got["model_id"], got["labels"]) == (
                    expected["model_id"],
                    expected["labels"],
                )
                assert got["probabilities"] == pytest.approx(
                    expected["probabilities"], rel=0, abs=1e-12
                )
            for path in answers["figure_paths"]:
                figure = await client.get(f"/models/{model_id}/{path}")
                assert draws_the_same(figure.json(), v1["figures"][path]), (model_id, path)
        for job_id, v1 in answers["finished_jobs"].items():
            assert keeps((await client.get(f"/jobs/{job_id}")).json(), v1["job"])
            loss = await client.get(f"/jobs/{job_id}/figures/loss")
            assert draws_the_same(loss.json(), v1["loss_figure"])
    kinds = {model["model"]["name"] for model in answers["models"].values()}
    assert kinds == {"generated", "given-points", "validation-split", "initial-parameters"}


@pytest.mark.anyio
async def test_models_from_before_snapshots_have_neuron_maps_but_no_replay(
    v1_url: str, tmp_path: Path
) -> None:
    """Revision 0002 keeps snapshots from then on: an older model's replay is a clear 409."""
    async with serve(settings_on(v1_url, tmp_path)) as client:
        for model_id in v1_answers()["models"]:
            replay = await client.get(f"/models/{model_id}/figures/training")
            assert replay.status_code == 409
            assert "before PlaneNet kept training snapshots" in replay.json()["detail"]
            neurons = await client.get(f"/models/{model_id}/figures/neurons")
            assert neurons.status_code == 200
            assert neurons.json()["data"]


@pytest.mark.anyio
async def test_models_from_before_accuracy_histories_have_no_accuracy_figure(
    v1_url: str, tmp_path: Path
) -> None:
    """v1 kept no accuracy per epoch: its models' accuracy figure is a clear 409."""
    async with serve(settings_on(v1_url, tmp_path)) as client:
        for model_id in v1_answers()["models"]:
            path = f"/models/{model_id}/figures/loss"
            accuracy = await client.get(path, params={"metric": "accuracy"})
            assert accuracy.status_code == 409
            assert "trained before PlaneNet recorded it" in accuracy.json()["detail"]
            assert (await client.get(path)).status_code == 200


def test_the_first_revision_makes_exactly_v1s_sqlite_tables(tmp_path: Path) -> None:
    v1_schema = schema_of_sqlite(
        Path(load_v1_sqlite(tmp_path / "v1.db").removeprefix("sqlite:///"))
    )
    fresh = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with fresh.engine.begin() as connection:
            command.upgrade(alembic_config(connection), V1_REVISION)
    finally:
        fresh.dispose()
    assert schema_of_sqlite(tmp_path / "fresh.db") == v1_schema


def test_the_first_revision_makes_exactly_v1s_postgresql_tables(
    postgres_server: PostgresServer,
) -> None:
    v1_name = load_v1_postgres(postgres_server)
    fresh_name = postgres_server.create_database()
    fresh = Database(postgres_server.url(fresh_name))
    try:
        with fresh.engine.begin() as connection:
            command.upgrade(alembic_config(connection), V1_REVISION)
        fresh.dispose()
        options = ("--schema-only", "--exclude-table=alembic_version")
        assert postgres_dump(postgres_server, fresh_name, *options) == postgres_dump(
            postgres_server, v1_name, *options
        )
    finally:
        postgres_server.drop_database(v1_name)
        postgres_server.drop_database(fresh_name)


def schema_of_sqlite(path: Path) -> list[tuple[str, ...]]:
    """The SQL of every table and index of a SQLite file but alembic_version's."""
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master "
            "WHERE tbl_name != 'alembic_version' ORDER BY name"
        ).fetchall()
    finally:
        connection.close()


@on_both
@pytest.mark.parametrize("start", ["empty", "v1 data"])
@pytest.mark.parametrize("revision", revisions())
def test_each_revision_upgrades_from_the_one_before(v1_url: str, revision: str, start: str) -> None:
    """From the revision before, empty or holding the v1 data brought there (for the first
    revision: an empty database, and v1's tables made by create_all)."""
    previous = ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision).down_revision
    database = Database(v1_url)
    try:
        with database.engine.begin() as connection:
            if start == "empty":
                drop_every_table(connection)
            if previous is not None:
                upgrade_to_head(connection, target=str(previous))
        before = rows_of_every_table(database)
        assert bool(before) == (start == "v1 data")
        with database.engine.begin() as connection:
            upgrade_to_head(connection, target=revision)
        assert database.schema_state().revision == revision
        after = rows_of_every_table(database)
        for table, rows in before.items():
            kept_columns = set(after[table][0]) & set(rows[0])
            assert [{c: row[c] for c in kept_columns} for row in after[table]] == [
                {c: row[c] for c in kept_columns} for row in rows
            ], table
        database.upgrade_schema()
        assert database.schema_differences() == []
        assert database.schema_state().at_head
    finally:
        database.dispose()


def drop_every_table(connection: Any) -> None:
    """Empty the database: the case of the first revision, which has nothing before it."""
    metadata = MetaData()
    metadata.reflect(connection)
    metadata.drop_all(connection)


def rows_of_every_table(database: Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table but alembic_version, in primary-key order."""
    metadata = MetaData()
    with database.engine.connect() as connection:
        metadata.reflect(connection)
        rows = {}
        for table in metadata.sorted_tables:
            if table.name == "alembic_version":
                continue
            ordered = select(table).order_by(*table.primary_key.columns)
            found = [dict(row._mapping) for row in connection.execute(ordered)]
            if found:
                rows[table.name] = found
        return rows


@on_both
def test_a_database_at_an_unknown_newer_revision_is_refused_and_left_unchanged(
    v1_url: str,
) -> None:
    database = Database(v1_url)
    try:
        database.upgrade_schema()
        with database.engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :newer"),
                {"newer": UNKNOWN_REVISION},
            )
        before = rows_of_every_table(database)
        with pytest.raises(SchemaError) as refused:
            database.upgrade_schema()
        assert UNKNOWN_REVISION in str(refused.value)
        assert head_revision() in str(refused.value)
        with pytest.raises(SchemaError):
            database.schema_differences()
        assert rows_of_every_table(database) == before
        state = database.schema_state()
        assert (state.revision, state.known) == (UNKNOWN_REVISION, False)
        assert sorted(inspect(database.engine).get_table_names()) == [
            "alembic_version",
            "job_loss_chunks",
            "jobs",
            "model_aliases",
            "models",
            "registered_models",
        ]
    finally:
        database.dispose()


@pytest.mark.anyio
async def test_with_auto_migrate_off_the_app_refuses_a_v1_database(
    v1_url: str, tmp_path: Path
) -> None:
    with pytest.raises(SchemaError, match="planenet db upgrade"):
        async with serve(settings_on(v1_url, tmp_path, auto_migrate=False)):
            pass
    database = Database(v1_url)
    try:
        assert database.schema_state().v1_tables, "nothing was written"
        database.upgrade_schema()
    finally:
        database.dispose()
    async with serve(settings_on(v1_url, tmp_path, auto_migrate=False)) as client:
        assert (await client.get("/models")).json()["total"] == len(v1_answers()["models"])


def test_a_v1_database_from_before_history_version_gets_the_column(tmp_path: Path) -> None:
    """Databases made early in v1 lack jobs.history_version: it is added with its default, and
    a job's whole-history blob then becomes its first chunk (version 1), read as before."""
    path = tmp_path / "early.db"
    load_v1_sqlite(path)
    connection = sqlite3.connect(path)
    connection.execute("ALTER TABLE jobs DROP COLUMN history_version")
    connection.commit()
    connection.close()
    database = Database(f"sqlite:///{path}")
    try:
        assert database.upgrade_schema().v1_tables
        assert database.schema_differences() == []
        with database.engine.connect() as reading:
            rows = reading.execute(text("SELECT id, history_version FROM jobs"))
            versions: dict[str, int] = {row.id: row.history_version for row in rows}
        repository = Repository(database)
        stored = v1_answers()["jobs_in_store"]
        assert len(repository.list_jobs(limit=100).items) == len(stored)
        for job_id, expected in stored.items():
            history = repository.job_loss_history(job_id)
            assert (None if history is None else history.loss.tolist()) == expected["loss_history"]
            assert versions[job_id] == (0 if history is None else 1)
    finally:
        database.dispose()
