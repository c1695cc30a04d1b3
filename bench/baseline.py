"""The baseline: the twenty-line FastAPI app a user would write to serve the tutorial's weights.

It is installed as FastAPI's documentation says (``pip install "fastapi[standard]"``: uvicorn
with uvloop and httptools) in a virtual environment of its own, cached between runs, and
started as ``uvicorn app:app``.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

CACHE_DIR = Path(tempfile.gettempdir()) / "planenet-bench-cache"
VENV_DIR = CACHE_DIR / "baseline-venv"
REQUIREMENTS = ("fastapi[standard]", "numpy")
STARTUP_SECONDS = 30.0

APP_SOURCE = """\
import json

import numpy as np
from fastapi import FastAPI
from pydantic import BaseModel

params = json.load(open("parameters.json"))
weights = [np.array(w) for w in params["weights"]]
biases = [np.array(b) for b in params["biases"]]

app = FastAPI()


class Points(BaseModel):
    points: list[list[float]]


@app.post("/predict")
async def predict(body: Points):
    a = np.array(body.points)
    for w, b in zip(weights[:-1], biases[:-1]):
        a = np.maximum(a @ w + b, 0)
    p = 1 / (1 + np.exp(-(a @ weights[-1] + biases[-1])))[:, 0]
    return {"labels": (p > 0.5).astype(int).tolist(), "probabilities": p.tolist()}


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}
"""


def baseline_python() -> Path:
    """The baseline's interpreter, creating and caching its virtual environment first."""
    stamp = VENV_DIR / ".installed"
    if not stamp.exists() or stamp.read_text() != repr(REQUIREMENTS):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV_DIR)], check=True)
        subprocess.run(
            [str(VENV_DIR / "bin" / "pip"), "install", "--quiet", *REQUIREMENTS], check=True
        )
        stamp.write_text(repr(REQUIREMENTS))
    return VENV_DIR / "bin" / "python"


def installed_versions() -> str:
    """The versions of the baseline's server stack, for the report."""
    script = (
        "import importlib.metadata as m; print(', '.join(f'{n} {m.version(n)}' for n in "
        "('fastapi', 'uvicorn', 'uvloop', 'httptools', 'pydantic')))"
    )
    result = subprocess.run(
        [str(baseline_python()), "-c", script], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


@contextmanager
def running_baseline(parameters: dict[str, Any], port: int) -> Iterator[subprocess.Popen[bytes]]:
    """``uvicorn app:app`` of the baseline serving ``parameters`` on ``port``."""
    python = baseline_python()
    with tempfile.TemporaryDirectory() as directory:
        app_dir = Path(directory)
        (app_dir / "app.py").write_text(APP_SOURCE)
        (app_dir / "parameters.json").write_text(json.dumps(parameters))
        environment = {**os.environ, "PATH": f"{python.parent}:{os.environ['PATH']}"}
        with (app_dir / "uvicorn.log").open("wb") as log:
            process = subprocess.Popen(
                [str(python.parent / "uvicorn"), "app:app", "--port", str(port)],
                cwd=app_dir,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            _wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
            yield process
        finally:
            process.terminate()
            process.wait(10)


def _wait_until_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("the baseline exited at start-up")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the baseline did not answer /healthz")
