"""Fixtures of the service tests: a store on SQLite or on a throwaway PostgreSQL server."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.store.database import Database
from service.store.repository import Repository
from tests.helpers.postgres import PostgresServer, throwaway_postgres


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server shared by the whole test session (started on first use)."""
    with throwaway_postgres() as server:
        yield server


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A store with the schema and no rows: SQLite, or a new PostgreSQL database when a test
    is parametrized with ``"postgresql"`` (see :func:`on_every_database`)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'store' / 'planenet.db'}")
        database.upgrade_schema()
        yield database
        database.dispose()
        return
    assert backend == "postgresql", backend
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    database = Database(server.url(name))
    try:
        database.upgrade_schema()
        yield database
    finally:
        database.dispose()
        server.drop_database(name)


@pytest.fixture
def repository(database: Database) -> Repository:
    return Repository(database)
