"""The objects the start makes are frozen out of the garbage collector while the app runs."""

import gc
from pathlib import Path

import pytest
from fastapi import FastAPI

from service.app import create_app
from tests.helpers.app import make_settings

pytestmark = pytest.mark.anyio


async def test_a_full_collection_does_not_walk_what_the_start_made(tmp_path: Path) -> None:
    assert gc.get_freeze_count() == 0
    app: FastAPI = create_app(make_settings(tmp_path))
    async with app.router.lifespan_context(app):
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # modules, the app, its routes and schemas
        collectable = {id(item) for item in gc.get_objects()}
        assert id(app.router.routes) not in collectable
        assert id(app.state.model_cache.__dict__) not in collectable
        # A second app in the same process (tests do this) leaves the freeze alone.
        other: FastAPI = create_app(make_settings(tmp_path / "other"))
        async with other.router.lifespan_context(other):
            assert gc.get_freeze_count() == frozen
    # Stopped, the app gives its objects back to the collector.
    assert gc.get_freeze_count() == 0
    assert id(app.router.routes) in {id(item) for item in gc.get_objects()}
