"""schemathesis over the whole API of a real server: every phase, a fixed budget of requests.

The run must find no server error, no response outside the schema, no request the schema
allows that the server mostly refuses, and no other warning: schemathesis exits non-zero on
any failure and, as configured here, on any warning.
"""

import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.helpers.server import ServerProcess, free_port, wait_for_job

API_KEY = "fuzz-key"
PHASES = "examples,coverage,fuzzing,stateful"
MAX_EXAMPLES = 100
SEED = 20261204
MIN_REQUESTS = 3000
RUN_SECONDS = 600
# One worker thread: Python 3.11's ast.parse, which hypothesis calls to describe strategies,
# can fail in two threads at once ("AST constructor recursion depth mismatch").
CONFIG = """
request-timeout = 20
max-stream-events = 3
[warnings]
fail-on = true
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
[phases.stateful]
max-steps = 20
[parameters]
"path.model_id" = "{model_id}"
"path.job_id" = "{job_id}"
"path.name" = "{name}"
"path.alias" = "{alias}"
"path.version" = "1"
[[operations]]
include-method = "DELETE"
parameters = {{ "path.model_id" = "{spare_model_id}", "path.job_id" = "{spare_job_id}" }}
"""


def schemathesis_command() -> list[str]:
    script = Path(sys.executable).with_name("schemathesis")
    return [str(script)] if script.exists() else [sys.executable, "-m", "schemathesis.cli"]


NAME = "fuzzed"
ALIAS = "champion"


def trained_model(client: httpx.Client, name: str | None = None) -> tuple[str, str]:
    """A quick model trained through the API; returns (job id, model id)."""
    body = {"epochs": 30, "data": {"n_samples": 40}, "name": name}
    job_id = client.post("/jobs", json=body).json()["id"]
    job = wait_for_job(client, job_id)
    assert job["status"] == "succeeded", job
    return job_id, job["model_id"]


def test_schemathesis_finds_nothing_in_any_phase(tmp_path: Path) -> None:
    key_flags = ["--api-key", API_KEY, "--protect-reads"]
    headers = {"X-API-Key": API_KEY}
    server = ServerProcess(
        data_dir=tmp_path / "data",
        port=free_port(),
        flags=["--workers", "1", *key_flags],
        log_level="warning",
        log_dir=tmp_path,
    )
    server.start()
    try:
        with server.client(headers=headers) as client:
            # A registered name (version 1) with an alias, for the registry's routes and /v2.
            job_id, model_id = trained_model(client, NAME)
            aliased = client.put(f"/registered-models/{NAME}/aliases/{ALIAS}", json={"version": 1})
            assert aliased.status_code == 200, aliased.text
            spare_job_id, spare_model_id = trained_model(client)
        server.stop()
        # Fuzzing then trains nothing: jobs it starts stay queued (up to the queue's cap).
        server.flags = ["--workers", "0", *key_flags]
        server.start()
        config = tmp_path / "schemathesis.toml"
        config.write_text(
            CONFIG.format(
                model_id=model_id,
                job_id=job_id,
                spare_model_id=spare_model_id,
                spare_job_id=spare_job_id,
                name=NAME,
                alias=ALIAS,
            )
        )
        completed = subprocess.run(
            [
                *schemathesis_command(), "--config-file", str(config), "run",
                f"{server.base_url}/openapi.json", "--phases", PHASES,
                "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED),
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--header", f"X-API-Key: {API_KEY}", "--workers", "1",
                "--generation-database", "none", "--no-color",
            ],
            capture_output=True, text=True, timeout=RUN_SECONDS, cwd=tmp_path, check=False,
        )  # fmt: skip
    finally:
        if server.process is not None:
            server.stop()
    report = completed.stdout + completed.stderr
    assert completed.returncode == 0, report[-6000:]
    generated = re.search(r"(\d+) generated", report)
    assert generated is not None, report[-3000:]
    assert int(generated.group(1)) >= MIN_REQUESTS, report[-3000:]
    for phase in PHASES.split(","):
        assert re.search(rf"✅ {phase.capitalize()}", report), report[-3000:]
