"""Revision 0002 on v1 data: named models become versions in creation order; all still answer."""

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect, text

from service.store.database import Database
from service.store.schema import V1_REVISION, alembic_config
from tests.helpers.app import await_job, make_settings, serve
from tests.helpers.registry import HEX_NAME, add_copies
from tests.helpers.v1_database import load_v1_sqlite, v1_answers

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_v1_names_become_versions_in_creation_order(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    url = load_v1_sqlite(path)
    names = add_copies(url)
    generated = [
        "c0000000000000000000000000000001",
        next(i for i, n in names.items() if n == "generated" and not i.startswith("c0")),
        "c0000000000000000000000000000002",
        "c0000000000000000000000000000003",
    ]
    database = Database(url)
    try:
        database.upgrade_schema()
    finally:
        database.dispose()
    points = {"points": v1_answers()["predict_points"]}
    settings = make_settings(tmp_path / "unused", database_url=url, workers=1)
    async with serve(settings) as client:
        for version, model_id in enumerate(generated, start=1):
            model = (await client.get(f"/models/generated@v{version}")).json()
            assert (model["id"], model["version"]) == (model_id, version)
            by_reference = await client.post(f"/models/generated@v{version}/predict", json=points)
            by_id = await client.post(f"/models/{model_id}/predict", json=points)
            assert by_reference.json() == by_id.json()
        assert (await client.get("/models/generated")).json()["id"] == generated[-1]
        shown = (await client.get("/registered-models/generated")).json()
        assert [version["id"] for version in shown["versions"]] == generated[::-1]
        listed = (await client.get("/registered-models", params={"limit": 100})).json()
        registered = {item["name"] for item in listed["items"]}
        assert registered == {
            "generated", "given-points", "validation-split", "initial-parameters"
        }  # fmt: skip
        for model_id in ("c0000000000000000000000000000004", "c0000000000000000000000000000005"):
            model = (await client.get(f"/models/{model_id}")).json()
            assert (model["name"], model["version"]) == (names[model_id], None)
            predicted = await client.post(f"/models/{model_id}/predict", json=points)
            assert predicted.status_code == 200
        # A name shaped like an id is read as one: it names no model.
        assert (await client.get(f"/models/{HEX_NAME}")).status_code == 404
        # The next job of a migrated name continues its numbering.
        submitted = await client.post("/jobs", json={"name": "generated", "epochs": 50})
        job = await await_job(client, submitted.json()["id"])
        model = (await client.get(f"/models/{job['model_id']}")).json()
        assert (model["name"], model["version"]) == ("generated", 5)


def test_revision_0002_downgrades_to_v1s_tables_keeping_every_model(tmp_path: Path) -> None:
    """Alembic's downgrade of 0002 (PlaneNet itself refuses to run on an older revision)."""
    url = load_v1_sqlite(tmp_path / "v1.db")
    add_copies(url)
    database = Database(url)
    try:
        with database.engine.connect() as connection:
            before = connection.execute(text("SELECT id, name FROM models ORDER BY id")).all()
        database.upgrade_schema()
        with database.engine.begin() as connection:
            command.downgrade(alembic_config(connection), V1_REVISION)
        with database.engine.connect() as connection:
            after = connection.execute(text("SELECT id, name FROM models ORDER BY id")).all()
            tables = set(inspect(connection).get_table_names())
            columns = {column["name"] for column in inspect(connection).get_columns("models")}
        assert after == before
        assert tables == {"alembic_version", "jobs", "models"}
        assert not {"version", "tags", "description"} & columns
    finally:
        database.dispose()
