"""The container's recipe, run without a Docker engine: wheel, fresh venv, the Dockerfile's CMD.

Builds the wheel, installs it alone into a new virtual environment, then starts the
Dockerfile's own CMD with the environment its final stage sets (only the port and the data
directory are pointed at free, temporary places), and checks that the service answers
``/healthz``, that the HEALTHCHECK command passes, and that a small training succeeds.
"""

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def final_stage(dockerfile: str) -> list[str]:
    """The instructions of the last build stage, continuation lines joined, comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in dockerfile.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    last_from = max(i for i, line in enumerate(logical) if line.upper().startswith("FROM "))
    return logical[last_from:]


def instruction(stage: list[str], name: str) -> list[str]:
    """Arguments of every ``name`` instruction in ``stage``, in order."""
    prefix = name.upper() + " "
    return [line[len(prefix) :].strip() for line in stage if line.upper().startswith(prefix)]


def environment_of(stage: list[str]) -> dict[str, str]:
    """The variables the stage's ENV instructions set (``KEY=value`` form)."""
    variables: dict[str, str] = {}
    for arguments in instruction(stage, "ENV"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            variables[key] = value
    return variables


def exec_form(arguments: str) -> list[str]:
    """A JSON exec-form command (``["planenet", "serve"]``) as an argument list."""
    command = json.loads(arguments)
    assert isinstance(command, list), f"expected exec form, got {arguments!r}"
    return [str(part) for part in command]


def test_dockerfile_parsing_reads_the_final_stage() -> None:
    stage = final_stage(
        'FROM a AS build\nENV X=1\nFROM b\nENV A=1 \\\n    B="two words"\nCMD ["run", "it"]\n'
    )
    assert environment_of(stage) == {"A": "1", "B": "two words"}
    assert exec_form(instruction(stage, "CMD")[-1]) == ["run", "it"]


def test_the_build_stage_gets_every_package_the_wheel_holds() -> None:
    """Each top-level package of the wheel is copied into the build stage and not ignored."""
    find = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    packages = {name.split(".")[0] for name in find["find"]["include"]}
    dockerfile = (ROOT / "Dockerfile").read_text()
    build_stage = dockerfile[: dockerfile.rindex("\nFROM ")]
    copied = {
        line.split()[1].rstrip("/") for line in build_stage.splitlines() if line.startswith("COPY ")
    }
    let_through = {
        line[1:].rstrip("/")
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    assert packages <= copied, packages - copied
    assert packages <= let_through, packages - let_through


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def installed_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment holding only the built wheel and what it depends on."""
    work = tmp_path_factory.mktemp("container")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(work / "dist"), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = list((work / "dist").glob("planenet-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheels[0])],
        check=True,
        capture_output=True,
    )
    return venv


@pytest.fixture(scope="module")
def container_like_server(
    installed_venv: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """The Dockerfile's CMD running from the fresh venv with the Dockerfile's environment."""
    stage = final_stage((ROOT / "Dockerfile").read_text())
    command = exec_form(instruction(stage, "CMD")[-1])
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLANENET_")}
    environment.update(environment_of(stage))
    port = free_port()
    environment["PLANENET_PORT"] = str(port)
    environment["PLANENET_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    environment["PATH"] = f"{installed_venv / 'bin'}{os.pathsep}{environment['PATH']}"
    environment.pop("VIRTUAL_ENV", None)
    process = subprocess.Popen(command, env=environment, cwd=tmp_path_factory.mktemp("home"))
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{command} exited with {process.returncode}"
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the service did not answer /healthz in 60 s"
            time.sleep(0.2)
        healthcheck = instruction(stage, "HEALTHCHECK")[-1]
        _, _, check_command = healthcheck.partition("CMD ")
        yield base_url, environment, exec_form(check_command)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_installed_wheel_trains_and_predicts_on_the_compiled_kernel(
    installed_venv: Path,
) -> None:
    check = (
        "from core.compiled import default_engine\n"
        "from core.initializers import initialize\n"
        "from core.network import Network\n"
        "import numpy\n"
        "network = Network(initialize((2, 4, 1), 'he', numpy.random.default_rng(0)), 'relu')\n"
        "labels, probabilities, _ = network.classify([(0.5, -0.25)])\n"
        "assert network._compiled and 0.0 < probabilities[0] < 1.0, probabilities\n"
        "print(default_engine())"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PLANENET_")}
    result = subprocess.run(
        [str(installed_venv / "bin" / "python"), "-c", check],
        check=True,
        capture_output=True,
        text=True,
        env=environment,
        cwd=installed_venv,
    )
    assert result.stdout.strip() == "compiled"


def test_the_image_command_serves_health(
    container_like_server: tuple[str, dict[str, str], list[str]],
) -> None:
    base_url, environment, healthcheck = container_like_server
    response = httpx.get(f"{base_url}/healthz", timeout=5)
    assert response.status_code == 200
    result = subprocess.run(
        healthcheck, check=False, env=environment, capture_output=True, timeout=30
    )
    assert result.returncode == 0, result.stderr.decode()


def test_the_image_command_trains_a_model(
    container_like_server: tuple[str, dict[str, str], list[str]],
) -> None:
    base_url, _, _ = container_like_server
    with httpx.Client(base_url=base_url, timeout=10) as client:
        created = client.post("/jobs", json={"epochs": 500, "name": "container"})
        assert created.status_code == 202, created.text
        job_url = created.headers["location"]
        deadline = time.monotonic() + 60
        job = created.json()
        while job["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, f"job still {job['status']} after 60 s"
            time.sleep(0.2)
            job = client.get(job_url).json()
        assert job["status"] == "succeeded", job
        model = client.get(f"/models/{job['model_id']}").json()
        assert model["metrics"]["epochs_run"] == 500
        assert model["metrics"]["train_accuracy"] == 1.0
