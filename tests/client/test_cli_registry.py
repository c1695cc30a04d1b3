"""The registry's commands of ``planenet`` against a real server: registered-models, alias,
annotate, evaluate, predict --threshold and delete --force, with their failures."""

import csv
import io
import uuid
from pathlib import Path

import pytest

import planenet
from tests.client import test_cli
from tests.client.conftest import QUICK_JOB
from tests.client.test_cli import Cli, _failed, _ok

cli = test_cli.cli
"""The same fixture as test_cli's: ``planenet ARGS...`` in this process, against the server."""

pytestmark = pytest.mark.e2e

LABELLED_CSV = "x,y,label\n1,1,1\n-1,-1,0\n0.9,1.2,1\n-1.1,-0.8,0\n"
"""Two points deep in each blob of the default data, with their classes."""


@pytest.fixture
def name(client: planenet.Client) -> str:
    """A registered name with two versions, v1 and v2."""
    registered = f"cli-{uuid.uuid4().hex[:10]}"
    client.train(QUICK_JOB, name=registered)
    client.train(QUICK_JOB, name=registered)
    return registered


def test_registered_models_lists_a_table_or_json_and_shows_one(
    cli: Cli, client: planenet.Client, name: str
) -> None:
    client.set_alias(name, "champion", 1)
    table = _ok(cli("registered-models", "--limit", "100")).out
    row = next(line for line in table.splitlines() if name in line)
    assert "v2" in row
    assert "champion=v1" in row
    page = _ok(cli("registered-models", "--limit", "100", "--json")).json()
    listed = {entry["name"]: entry for entry in page["items"]}
    assert listed[name]["aliases"] == {"champion": 1}
    assert listed[name]["latest_version"]["version"] == 2

    versions = [model.id for model in client.get_registered_model(name).versions]
    shown = _ok(cli("registered-models", name)).out
    assert f"registered model {name}" in shown
    assert "2 versions, newest first" in shown
    assert shown.index(versions[0]) < shown.index(versions[1])
    detail = _ok(cli("registered-models", name, "--json")).json()
    assert [version["id"] for version in detail["versions"]] == versions


def test_alias_set_moves_and_deletes(cli: Cli, client: planenet.Client, name: str) -> None:
    assert _ok(cli("alias", "set", name, "prod", "1")).out == f"{name}@prod -> v1\n"
    assert client.get_model(f"{name}@prod").version == 1
    moved = _ok(cli("alias", "set", name, "prod", "v2", "--json")).json()
    assert moved["aliases"] == {"prod": 2}
    assert _ok(cli("models", f"{name}@prod", "--json")).json()["version"] == 2
    assert _ok(cli("alias", "delete", name, "prod")).out == f"deleted alias {name}@prod\n"
    assert client.get_registered_model(name).aliases == {}
    _failed(cli("alias", "delete", name, "prod"), 1, "prod")


def test_alias_failures(cli: Cli, name: str) -> None:
    _failed(cli("alias", "set", name, "latest", "1"), 1, "reserved")
    _failed(cli("alias", "set", name, "v7", "1"), 1, "reserved")
    _failed(cli("alias", "set", name, "prod", "9"), 1, "version 9")
    _failed(cli("alias", "set", "no-such-name", "prod", "1"), 1, "no-such-name")
    usage = cli("alias", "set", name, "prod", "two")
    assert usage.status == 2
    assert "not a version number" in usage.err
    assert cli("alias").status == 2  # set or delete must be named


def test_annotate_sets_and_clears_description_and_tags(
    cli: Cli, client: planenet.Client, name: str
) -> None:
    model = _ok(
        cli("annotate", f"{name}@v1", "--description", "first", "--tag", "team=geo",
            "--tag", "note=a=b", "--json")
    ).json()  # fmt: skip
    assert model["description"] == "first"
    assert model["tags"] == {"team": "geo", "note": "a=b"}
    shown = _ok(cli("annotate", f"{name}@v1", "--untag", "note", "--tag", "stage=dev")).out
    assert "stage" in shown
    assert "first" in shown  # the description was left as it was
    assert client.get_model(f"{name}@v1").tags == {"team": "geo", "stage": "dev"}
    _ok(cli("annotate", f"{name}@v1", "--clear-description"))
    assert client.get_model(f"{name}@v1").description is None

    registered = _ok(
        cli("annotate", name, "--registered", "--description", "blobs", "--tag", "kind=demo")
    ).out
    assert f"registered model {name}" in registered
    detail = client.get_registered_model(name)
    assert (detail.description, detail.tags) == ("blobs", {"kind": "demo"})
    assert client.get_model(name).description is None  # the name's, not its newest version's


def test_annotate_failures(cli: Cli, name: str) -> None:
    for arguments, message in [
        ((), "nothing to change"),
        (("--tag", "novalue"), "KEY=VALUE"),
        (("--tag", "a=1", "--untag", "a"), "both set and removed"),
    ]:
        result = cli("annotate", name, *arguments)
        assert result.status == 2, result
        assert message in result.err
    _failed(cli("annotate", "no-such-name", "--registered", "--tag", "a=b"), 1, "no-such-name")
    _failed(cli("annotate", f"{name}@", "--tag", "a=b"), 1, "Invalid")


def test_evaluate_reads_a_file_or_stdin(
    cli: Cli, client: planenet.Client, name: str, tmp_path: Path
) -> None:
    path = tmp_path / "labelled.csv"
    path.write_text(LABELLED_CSV)
    expected = client.evaluate(name, [[1, 1], [-1, -1], [0.9, 1.2], [-1.1, -0.8]], [1, 0, 1, 0])
    answer = _ok(cli("evaluate", name, "--file", str(path), "--json")).json()
    assert answer == expected.raw
    table = _ok(cli("evaluate", f"{name}@v1", "--threshold", "0.7", stdin=LABELLED_CSV)).out
    assert "at threshold 0.7" in table
    assert "accuracy" in table
    assert "true positives" in table
    at = _ok(cli("evaluate", name, "--threshold", "0.3", "--json", stdin=LABELLED_CSV)).json()
    assert at["threshold"] == 0.3


def test_evaluate_failures(cli: Cli, name: str, tmp_path: Path) -> None:
    missing = cli("evaluate", name, "--file", str(tmp_path / "absent.csv"))
    assert missing.status == 2
    assert "cannot read" in missing.err
    short = cli("evaluate", name, stdin="1,1\n")
    assert short.status == 2
    assert "expected 3 columns" in short.err
    _failed(cli("evaluate", name, stdin="1,1,2\n"), 1, "labels")
    _failed(cli("evaluate", f"{name}@v9", stdin=LABELLED_CSV), 1, "version 9")
    _failed(cli("evaluate", name, "--threshold", "1", stdin=LABELLED_CSV), 1, "threshold")


def test_predict_takes_a_threshold_and_any_reference(cli: Cli, name: str) -> None:
    def rows(*options: str) -> list[dict[str, str]]:
        out = _ok(cli("predict", f"{name}@v1", "1,1", "-1,-1", *options)).out
        return list(csv.DictReader(io.StringIO(out)))

    default = rows()
    for threshold in ("0.01", "0.99"):
        answer = rows("--threshold", threshold)
        assert [row["probability"] for row in answer] == [row["probability"] for row in default]
        assert [int(row["label"]) for row in answer] == [
            int(float(row["probability"]) > float(threshold)) for row in answer
        ]
    _failed(cli("predict", name, "1,1", "--threshold", "0"), 1, "threshold")


def test_delete_needs_force_for_an_aliased_version(
    cli: Cli, client: planenet.Client, name: str
) -> None:
    client.set_alias(name, "keep", 1)
    first = client.get_model(f"{name}@keep").id
    _failed(cli("delete", f"{name}@keep"), 1, "keep")
    assert client.get_model(first).id == first
    assert _ok(cli("delete", f"{name}@keep", "--force")).out == f"deleted model {name}@keep\n"
    with pytest.raises(planenet.NotFound):
        client.get_model(first)
    assert client.get_registered_model(name).aliases == {}
