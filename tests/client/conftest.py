"""A real ``planenet serve`` for the client's tests, with an API key and a small epoch limit."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import planenet
from tests.e2e.conftest import planenet_server  # noqa: F401 (a fixture: used by its name)
from tests.helpers.server import ServerProcess, free_port

API_KEY = "client-tests-key"
MAX_EPOCHS = 50_000
QUICK_JOB: dict[str, Any] = {"name": "quick", "epochs": 300}
"""A job that trains in a few milliseconds."""
SLOW_JOB: dict[str, Any] = {
    "name": "slow",
    "data": {"generator": "moons", "n_samples": 1000, "noise": 0.2, "seed": 3},
    "hidden_layers": [32, 32],
    "epochs": 8000,
}
"""A job that trains for several seconds, sending many progress events."""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the session: an API key, and MAX_EPOCHS as its epoch limit."""
    directory: Path = tmp_path_factory.mktemp("client")
    process = ServerProcess(
        data_dir=directory / "data",
        port=free_port(),
        flags=["--workers", "1", "--api-key", API_KEY, "--max-epochs", str(MAX_EPOCHS)],
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[planenet.Client]:
    with planenet.Client(server.base_url, api_key=API_KEY) as session_client:
        yield session_client


@pytest.fixture(scope="session")
def model(server: ServerProcess) -> planenet.Model:
    """A model trained once for the session (tests must not delete it)."""
    with planenet.Client(server.base_url, api_key=API_KEY) as session_client:
        return session_client.train(QUICK_JOB)


@pytest.fixture
def client_env(server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> ServerProcess:
    """PLANENET_URL and PLANENET_API_KEY naming the session's server, for code that reads them."""
    monkeypatch.setenv("PLANENET_URL", server.base_url)
    monkeypatch.setenv("PLANENET_API_KEY", API_KEY)
    return server
