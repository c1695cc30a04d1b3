"""Fixtures of the end-to-end tests: real `planenet serve` processes, stopped at the end."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.server import ServerFactory, ServerProcess, free_port


@pytest.fixture
def planenet_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start real servers: ``planenet_server(workers=2, flags=[...], env={...})``.

    Each gets a free port and its own data directory under ``tmp_path``; whatever still
    runs at the end of the test is stopped (and killed if it does not stop).
    """
    servers: list[ServerProcess] = []

    def start(
        workers: int = 2, flags: list[str] | None = None, env: dict[str, str] | None = None
    ) -> ServerProcess:
        data_dir = tmp_path / f"data-{len(servers)}"
        server = ServerProcess(
            data_dir=data_dir,
            port=free_port(),
            flags=["--workers", str(workers), *(flags or [])],
            env=env or {},
        )
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        if server.process is not None:
            server.stop()
