"""The README's registry session through the real server: two versions of one name, an alias
that predictions follow when it moves, evaluation, and the writes that need the key."""

from typing import Any

import pytest

from tests.helpers.server import ServerFactory, wait_for_job

pytestmark = pytest.mark.e2e

KEY = "registry-session-key"
WITH_KEY = {"X-API-Key": KEY}
JOB: dict[str, Any] = {
    "name": "two-blobs",
    "data": {"generator": "blobs", "n_samples": 200, "noise": 0.2, "seed": 42},
    "epochs": 500,
}
POINTS = [[1.0, 1.0], [-1.0, -1.0], [0.3, 0.2]]


def test_the_readme_session(planenet_server: ServerFactory) -> None:
    server = planenet_server(workers=1, env={"PLANENET_API_KEY": KEY})
    with server.client(headers=WITH_KEY) as client:
        ids = []
        for seed in (1, 2):
            job = client.post("/jobs", json={**JOB, "seed": seed}).json()
            ids.append(wait_for_job(client, job["id"])["model_id"])
        shown = client.get("/registered-models/two-blobs").json()
        assert [(v["version"], v["id"]) for v in shown["versions"]] == [(2, ids[1]), (1, ids[0])]

        alias = "/registered-models/two-blobs/aliases/champion"
        assert client.put(alias, json={"version": 1}).json()["aliases"] == {"champion": 1}
        body = {"model": "two-blobs@champion", "points": POINTS}
        assert client.post("/predict", json=body).json()["model_id"] == ids[0]
        assert client.put(alias, json={"version": 2}).json()["aliases"] == {"champion": 2}
        assert client.post("/predict", json=body).json()["model_id"] == ids[1]

        evaluated = client.post(
            "/models/two-blobs@champion/evaluate",
            json={"points": POINTS, "labels": [1, 0, 1], "threshold": 0.5},
        ).json()
        assert evaluated["model_id"] == ids[1]
        assert sum(evaluated["confusion_matrix"].values()) == len(POINTS)

        refused = client.delete(f"/models/{ids[1]}")
        assert refused.status_code == 409
        assert "two-blobs@champion" in refused.json()["detail"]

    with server.client() as anonymous:
        assert anonymous.put(alias, json={"version": 1}).status_code == 401
        assert anonymous.get("/models/two-blobs@champion").json()["id"] == ids[1]
