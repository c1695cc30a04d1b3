"""Registry writes read their bodies as every route does, and new figures take references."""

from pathlib import Path

import pytest

from tests.helpers.app import QUICK_JOB, await_job, make_settings, serve
from tests.helpers.problems import assert_problem

pytestmark = pytest.mark.anyio


async def test_registry_bodies_are_json_strictly_and_figures_take_references(
    tmp_path: Path,
) -> None:
    async with serve(make_settings(tmp_path, workers=1)) as client:
        job = (await client.post("/jobs", json={**QUICK_JOB, "name": "blobs"})).json()
        assert (await await_job(client, job["id"]))["status"] == "succeeded"
        for method, path in (
            ("PATCH", "/models/blobs@v1"),
            ("PATCH", "/registered-models/blobs"),
            ("PUT", "/registered-models/blobs/aliases/champion"),
        ):
            broken = await client.request(
                method, path, content=b"\xff{", headers={"Content-Type": "application/json"}
            )
            assert_problem(broken, 422, "validation-error")
            as_text = await client.request(
                method, path, content=b"{}", headers={"Content-Type": "text/plain"}
            )
            assert_problem(as_text, 415)
            twice = await client.request(
                method,
                path,
                content=b'{"description": "a", "description": "b", "version": 1}',
                headers={"Content-Type": "application/json"},
            )
            assert_problem(twice, 422)
        moved = await client.put("/registered-models/blobs/aliases/champion", json={"version": 1})
        assert moved.status_code == 200, moved.text
        for kind in ("neurons", "training"):
            figure = await client.get(f"/models/blobs@champion/figures/{kind}")
            assert figure.status_code == 200, (kind, figure.text)
