"""Two real API processes on one SQLite database: alias moves and deletes are obeyed by both
within 2 s, and concurrent moves of one alias end with one of the values, never a 5xx."""

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from service.model_cache import REVALIDATE_SECONDS
from tests.helpers.databases import DATABASE_BACKENDS
from tests.helpers.postgres import PostgresServer
from tests.helpers.registry import add_copies
from tests.helpers.server import ServerProcess, free_port
from tests.helpers.v1_database import load_v1_postgres, load_v1_sqlite

OBEYED_WITHIN = REVALIDATE_SECONDS
"""How soon every process must follow a move or a delete made through another."""
MOVES_PER_PROCESS = 25
POINTS = {"points": [[1.0, 1.0], [-1.0, -1.0]]}


@pytest.fixture(params=DATABASE_BACKENDS)
def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two ``planenet serve --workers 0`` on one database (a SQLite file, or PostgreSQL)
    holding v1's data with four models named 'generated' (versions 1 to 4 once upgraded)."""
    data_dir = tmp_path / "data"
    flags = ["--workers", "0"]
    postgres: PostgresServer | None = None
    name = ""
    if request.param == "sqlite":
        url = load_v1_sqlite(data_dir / "planenet.db")
    else:
        postgres = request.getfixturevalue("postgres_server")
        name = load_v1_postgres(postgres)
        url = postgres.url(name)
        flags += ["--database-url", url]
    add_copies(url)
    servers = [ServerProcess(data_dir, free_port(), flags) for _ in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            if server.process is not None:
                server.stop()
        if postgres is not None:
            postgres.drop_database(name)


def first_within(seconds: float, check: Callable[[], bool]) -> bool:
    """Whether ``check()`` turns true before ``seconds`` pass (asked every 50 ms)."""
    deadline = time.monotonic() + seconds
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def version_ids(client: httpx.Client) -> dict[int, str]:
    shown = client.get("/registered-models/generated").json()
    return {version["version"]: version["id"] for version in shown["versions"]}


def test_an_alias_move_and_a_delete_are_obeyed_by_the_other_process(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    writer_server, reader_server = two_servers
    with writer_server.client() as writer, reader_server.client() as reader:
        ids = version_ids(writer)
        assert sorted(ids) == [1, 2, 3, 4]

        def reader_follows(version: int) -> Callable[[], bool]:
            def check() -> bool:
                answer = reader.post("/predict", json={**POINTS, "model": "generated@champion"})
                return answer.status_code == 200 and answer.json()["model_id"] == ids[version]

            return check

        path = "/registered-models/generated/aliases/champion"
        assert (
            reader.post("/predict", json={**POINTS, "model": "generated@champion"}).status_code
            == 404
        )
        assert writer.put(path, json={"version": 1}).status_code == 200
        assert first_within(OBEYED_WITHIN, reader_follows(1))
        assert writer.put(path, json={"version": 3}).status_code == 200
        assert first_within(OBEYED_WITHIN, reader_follows(3))

        # The reader caches version 2 by id; the writer deletes it.
        for _ in range(3):
            assert reader.post(f"/models/{ids[2]}/predict", json=POINTS).status_code == 200
        assert writer.delete(f"/models/{ids[2]}").status_code == 204
        assert first_within(
            OBEYED_WITHIN + 0.5,
            lambda: reader.post(f"/models/{ids[2]}/predict", json=POINTS).status_code == 404,
        )
        assert reader.get("/models/generated@v2").status_code == 404


def test_concurrent_moves_of_one_alias_end_with_one_of_the_values(
    two_servers: tuple[ServerProcess, ServerProcess],
) -> None:
    first, second = two_servers
    path = "/registered-models/generated/aliases/champion"
    with first.client() as one, second.client() as two:

        def move(client: httpx.Client, version: int) -> list[int]:
            return [
                client.put(path, json={"version": version}).status_code
                for _ in range(MOVES_PER_PROCESS)
            ]

        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = [
                pool.submit(move, one, 1),
                pool.submit(move, two, 4),
                pool.submit(move, one, 4),
                pool.submit(move, two, 1),
            ]
            statuses = [status for future in futures for status in future.result()]
        assert set(statuses) == {200}
        final_one = one.get("/registered-models/generated").json()["aliases"]
        final_two = two.get("/registered-models/generated").json()["aliases"]
        assert final_one == final_two
        assert final_one["champion"] in (1, 4)
        followed = two.post("/predict", json={**POINTS, "model": "generated@champion"}).json()
        assert followed["model_id"] == version_ids(two)[final_one["champion"]]
