"""Running store tests on every database PlaneNet supports."""

import pytest

DATABASE_BACKENDS = ("sqlite", "postgresql")


def on_every_database(metafunc: pytest.Metafunc) -> None:
    """A ``pytest_generate_tests`` for the store's test modules: each test that uses the
    ``database`` fixture (itself or through ``repository``) runs on SQLite and on PostgreSQL."""
    if "database" in metafunc.fixturenames:
        metafunc.parametrize("database", DATABASE_BACKENDS, indirect=True)
