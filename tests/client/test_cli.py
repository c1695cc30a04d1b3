"""The client commands of ``planenet`` against a real server: every command, every failure."""

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import planenet
from service.cli import main
from tests.client.conftest import MAX_EPOCHS, QUICK_JOB, SLOW_JOB
from tests.helpers.server import ServerProcess, planenet_command

pytestmark = pytest.mark.e2e

ID = re.compile(r"[0-9a-f]{32}")


@dataclass(frozen=True)
class Result:
    """What one command did: its exit status and what it wrote."""

    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Cli = Callable[..., Result]


@pytest.fixture
def cli(
    client_env: ServerProcess, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Cli:
    """Run ``planenet ARGS...`` in this process, with PLANENET_URL and the key set."""

    def run(*arguments: str, stdin: str = "") -> Result:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        try:
            status = main(list(arguments))
        except SystemExit as exit_:
            status = int(exit_.code or 0)
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run


def _ok(result: Result) -> Result:
    assert result.status == 0, result.err
    assert "Traceback" not in result.err
    return result


def _failed(result: Result, status: int, message: str) -> None:
    """The command failed with ``status``, one message on stderr (no traceback), nothing out."""
    assert result.status == status, result
    assert "Traceback" not in result.err
    assert result.err.startswith("planenet: "), result.err
    assert message in result.err, result.err
    assert result.out == ""


def test_train_prints_the_job_then_watch_follows_it(cli: Cli, client: planenet.Client) -> None:
    job_id = _ok(cli("train", "--epochs", "300", "--name", "from the command line")).out.strip()
    assert ID.fullmatch(job_id)
    watched = _ok(cli("watch", job_id))
    model_id = watched.out.strip()
    assert client.get_job(job_id).model_id == model_id
    assert "succeeded" in watched.err
    assert "epoch 300/300" in watched.err


def test_train_flags_make_the_body(cli: Cli, client: planenet.Client) -> None:
    result = _ok(
        cli(
            "train", "--watch", "--name", "flags", "--generator", "moons", "--n-samples", "120",
            "--noise", "0.1", "--data-seed", "7", "--hidden-layers", "8,3", "--activation", "tanh",
            "--init", "glorot", "--epochs", "1500", "--learning-rate", "0.3", "--optimizer", "adam",
            "--batch-size", "32", "--l2", "0.001", "--validation-fraction", "0.25", "--seed", "9",
        )
    )  # fmt: skip
    model = client.get_model(result.out.strip())
    assert model.name == "flags"
    assert model.config["data"] == {"generator": "moons", "n_samples": 120, "noise": 0.1, "seed": 7}
    expected = {
        "hidden_layers": [8, 3],
        "activation": "tanh",
        "init": "glorot",
        "epochs": 1500,
        "learning_rate": 0.3,
        "optimizer": "adam",
        "batch_size": 32,
        "l2": 0.001,
        "validation_fraction": 0.25,
        "seed": 9,
    }
    assert {name: model.config[name] for name in expected} == expected
    # The live progress bar: epoch, loss and time left, finishing with the outcome.
    assert "flags: succeeded" in result.err
    assert "epoch 1500/1500" in result.err
    assert re.search(r"loss \d", result.err)
    assert "left" in result.err


def test_train_takes_a_body_file_or_stdin_with_flags_over_it(cli: Cli, tmp_path: Path) -> None:
    body = {"name": "from a file", "epochs": 100, "data": {"generator": "xor", "n_samples": 80}}
    path = tmp_path / "body.json"
    path.write_text(json.dumps(body))
    model = _ok(
        cli("train", "--body", str(path), "--epochs", "200", "--noise", "0.05", "--wait", "--json")
    ).json()
    assert model["name"] == "from a file"
    assert model["config"]["epochs"] == 200
    assert model["config"]["data"]["generator"] == "xor"
    assert model["config"]["data"]["n_samples"] == 80
    assert model["config"]["data"]["noise"] == 0.05
    job = _ok(cli("train", "--body", "-", "--json", stdin=json.dumps(body))).json()
    assert job["name"] == "from a file"
    assert job["config"]["epochs"] == 100


def test_train_on_points_from_a_csv_file(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text("x,y,label\n1,1,0\n1.2,0.8,0\n-1,-1,1\n-0.9,-1.1,1\n")
    model = _ok(cli("train", "--data-csv", str(path), "--epochs", "300", "--wait", "--json")).json()
    assert model["config"]["data"] == {"kind": "points", "n_points": 4}
    assert model["metrics"]["train_accuracy"] == 1.0


def test_a_failed_job_fails_the_command(cli: Cli) -> None:
    result = cli("train", "--epochs", "50", "--learning-rate", "1e100", "--wait")
    _failed(result, 1, "failed: training diverged")


def test_jobs_lists_a_table_or_json_and_shows_one(cli: Cli, model: planenet.Model) -> None:
    table = _ok(cli("jobs")).out
    assert model.job_id is not None
    assert model.job_id in table
    assert model.id in table
    assert re.search(r"\d+ of \d+ jobs, newest first", table)
    page = _ok(cli("jobs", "--json", "--status", "succeeded", "--limit", "2")).json()
    assert len(page["items"]) <= 2
    assert {item["status"] for item in page["items"]} == {"succeeded"}
    assert page["limit"] == 2
    one = _ok(cli("jobs", model.job_id)).out
    assert f"job {model.job_id}" in one
    assert "succeeded" in one
    assert _ok(cli("jobs", model.job_id, "--json")).json()["model_id"] == model.id
    offset = _ok(cli("jobs", "--json", "--offset", "1", "--limit", "1")).json()
    assert offset["offset"] == 1


def test_models_lists_a_table_or_json_and_shows_one(cli: Cli, model: planenet.Model) -> None:
    table = _ok(cli("models")).out
    assert model.id in table
    assert re.search(r"\d+ of \d+ models, newest first", table)
    page = _ok(cli("models", "--json", "--limit", "100")).json()
    assert model.id in [item["id"] for item in page["items"]]
    one = _ok(cli("models", model.id)).out
    assert f"model {model.id}" in one
    assert "train accuracy" in one
    assert _ok(cli("models", model.id, "--json")).json()["id"] == model.id


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_predict_reads_arguments_files_or_stdin(
    cli: Cli, client: planenet.Client, model: planenet.Model, tmp_path: Path
) -> None:
    expected = client.predict(model.id, [[1, 1], [-1, -1], [0.5, -2.25]])
    rows = _csv(_ok(cli("predict", model.id, "1,1", "-1,-1", "0.5,-2.25")).out)
    assert [(row["x"], row["y"]) for row in rows] == [
        ("1.0", "1.0"),
        ("-1.0", "-1.0"),
        ("0.5", "-2.25"),
    ]
    assert [int(row["label"]) for row in rows] == expected.labels
    assert [float(row["probability"]) for row in rows] == expected.probabilities

    path = tmp_path / "points.csv"
    path.write_text("x,y\n1,1\n\n-1,-1\n0.5,-2.25\n")
    assert _csv(_ok(cli("predict", model.id, "--file", str(path))).out) == rows
    assert _csv(_ok(cli("predict", model.id, stdin="1,1\n-1,-1\n0.5,-2.25\n")).out) == rows
    answer = _ok(cli("predict", model.id, "1,1", "-1,-1", "0.5,-2.25", "--json")).json()
    assert answer == {
        "model_id": model.id,
        "labels": expected.labels,
        "probabilities": expected.probabilities,
    }


def test_figure_writes_json_or_an_offline_page(
    cli: Cli, client: planenet.Client, model: planenet.Model, tmp_path: Path
) -> None:
    json_path = tmp_path / "loss.json"
    _ok(cli("figure", model.id, "loss", "-o", str(json_path)))
    assert json.loads(json_path.read_text()) == client.figure(model.id, "loss")

    page_path = tmp_path / "boundary.html"
    _ok(cli("figure", model.id, "boundary", "-o", str(page_path), "--resolution", "20"))
    page = page_path.read_text()
    assert page.lower().startswith("<!doctype html>")
    assert "Plotly.newPlot" in page
    assert re.search(r"<script[^>]*\bsrc=", page) is None  # nothing fetched from elsewhere
    assert "plotly.js v" in page  # the library itself is inside

    boundary = _ok(
        cli("figure", model.id, "boundary", "--mode", "probability", "--resolution", "10")
    ).json()
    assert len(boundary["data"][0]["z"]) == 10
    data = _ok(cli("figure", model.id, "data")).json()
    assert data == client.figure(model.id, "data")
    job_loss = _ok(cli("figure", model.job_id or "", "loss", "--job", "--max-points", "50")).json()
    assert len(job_loss["data"][0]["y"]) <= 50

    _failed(cli("figure", model.id, "boundary", "-o", str(tmp_path / "x.png")), 2, ".json or .html")
    _failed(cli("figure", model.job_id or "", "boundary", "--job"), 2, "loss figure only")


def test_cancel_stops_a_job_and_delete_removes_a_model(cli: Cli, client: planenet.Client) -> None:
    job = client.create_job(SLOW_JOB)
    cancelled = _ok(cli("cancel", job.id)).out
    assert cancelled.strip() in {f"job {job.id}: stopping", f"job {job.id}: cancelled"}
    assert client.wait(job.id).status == "cancelled"
    _failed(cli("cancel", job.id), 1, "Not possible in the current state: ")

    doomed = client.train(QUICK_JOB)
    assert _ok(cli("delete", doomed.id)).out.strip() == f"deleted model {doomed.id}"
    _failed(cli("models", doomed.id), 1, f"Not found: there is no model with id {doomed.id!r}")
    _failed(cli("delete", doomed.id), 1, "Not found")
    job_json = _ok(cli("cancel", client.create_job(SLOW_JOB).id, "--json")).json()
    assert job_json["cancel_requested"] is True


def test_every_problem_is_one_message_and_a_failing_status(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, model: planenet.Model
) -> None:
    _failed(cli("predict", "0" * 32, "1,1"), 1, "Not found: there is no model with id")
    invalid = cli("train", "--epochs", "0", "--activation", "swish")
    _failed(invalid, 1, "planenet: Invalid request:\n")
    assert "\n  body.epochs: " in invalid.err
    assert "\n  body.activation: " in invalid.err
    _failed(
        cli("train", "--epochs", str(MAX_EPOCHS + 1)),
        1,
        f"Over a limit: epochs is {MAX_EPOCHS + 1}, over the limit of {MAX_EPOCHS}",
    )
    _failed(cli("cancel", model.job_id or ""), 1, "has already finished")
    _failed(
        cli("train", "--api-key", "wrong"),
        1,
        "Missing or invalid API key: the API key is not valid",
    )
    monkeypatch.delenv("PLANENET_API_KEY")
    _failed(
        cli("delete", model.id), 1, "Missing or invalid API key: this request needs the API key"
    )
    _failed(
        cli("jobs", "--url", "http://127.0.0.1:1", "--retries", "0"),
        1,
        "Cannot reach the PlaneNet server: http://127.0.0.1:1",
    )


def test_unusable_input_is_a_usage_error(cli: Cli, model: planenet.Model, tmp_path: Path) -> None:
    _failed(cli("predict", model.id, "1,a"), 2, "the point '1,a': 'a' is not a number")
    _failed(cli("predict", model.id, "1,2,3"), 2, "is not two numbers x,y")
    _failed(cli("predict", model.id, "--file", str(tmp_path / "none.csv")), 2, "cannot read")
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("x,y\n1,1\n2\n")
    _failed(
        cli("predict", model.id, "--file", str(bad_csv)), 2, "bad.csv, line 3: expected 2 columns"
    )
    _failed(cli("predict", model.id, stdin="x,y\n"), 2, "standard input holds no points")
    not_json = tmp_path / "body.json"
    not_json.write_text("{epochs: 3}")
    _failed(cli("train", "--body", str(not_json)), 2, "is not JSON")
    _failed(cli("train", "--body", "-", stdin="[1, 2]"), 2, "must hold a JSON object, not list")
    _failed(cli("jobs", "--url", "localhost:8000"), 2, "must start with http:// or https://")
    usage = cli("train", "--epochs", "many")
    assert usage.status == 2
    assert "invalid int value: 'many'" in usage.err


def test_a_real_process_exits_non_zero_with_the_problem_only(
    client_env: ServerProcess, model: planenet.Model
) -> None:
    completed = subprocess.run(
        [*planenet_command(), "predict", "0" * 32, "1,1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 1
    assert completed.stdout == ""
    assert completed.stderr == f"planenet: Not found: there is no model with id {'0' * 32!r}\n"
    piped = subprocess.run(
        [*planenet_command(), "predict", "--json", model.id],
        input="1,1\n-1,-1\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(piped.stdout)["labels"] == [0, 1]


SERVER_MODULES = ("fastapi", "starlette", "sqlalchemy", "alembic", "uvicorn", "service.app")


def test_the_client_commands_start_without_the_servers_modules() -> None:
    """A client command parses its command line and talks HTTP: importing the server's
    framework, database layer and migrations would only make it start slowly."""
    probe = (
        "import sys\n"
        "from service.cli import main\n"
        "try:\n"
        "    main(['jobs', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print([name for name in {SERVER_MODULES!r} if name in sys.modules])\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert "usage: planenet jobs" in completed.stdout
    assert completed.stdout.strip().splitlines()[-1] == "[]"
    # The server's commands still have them, loaded when they run.
    help_text = subprocess.run(
        [*planenet_command(), "db", "current", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert "--database-url" in help_text.stdout
