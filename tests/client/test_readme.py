"""The README's client and command-line examples, run against a real server so they cannot drift."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.client.conftest import API_KEY
from tests.helpers.server import ServerProcess

pytestmark = pytest.mark.e2e

README = Path(__file__).resolve().parents[2] / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)
EXAMPLE_SECONDS = 120


def section(title: str) -> str:
    """The text of the README section ``## title``, up to the next section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n") + len(f"\n## {title}\n")
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def examples(title: str, language: str) -> list[str]:
    """The fenced ``language`` blocks of a section, in order."""
    return [code for lang, code in FENCE.findall(section(title)) if lang == language]


def _environment(server: ServerProcess) -> dict[str, str]:
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith("PLANENET_")
    }
    environment |= {
        "PLANENET_URL": server.base_url,
        "PLANENET_API_KEY": API_KEY,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{environment.get('PATH', '')}",
    }
    return environment


def _run(command: list[str], server: ServerProcess, directory: Path) -> str:
    completed = subprocess.run(
        command,
        cwd=directory,
        env=_environment(server),
        capture_output=True,
        text=True,
        timeout=EXAMPLE_SECONDS,
        check=False,
    )
    assert completed.returncode == 0, f"{completed.stdout}\n{completed.stderr}"
    assert "Traceback" not in completed.stderr
    return completed.stdout


@pytest.mark.parametrize("title", ["The Python client", "The command line"])
def test_each_section_opens_with_its_shortest_example(title: str) -> None:
    body = section(title).lstrip("\n")
    assert body.startswith("```"), body[:200]
    language = "python" if "Python" in title else "sh"
    blocks = examples(title, language)
    assert len(blocks) >= 2
    assert len(blocks[0].splitlines()) == min(len(block.splitlines()) for block in blocks)


def test_the_python_examples_run(server: ServerProcess, tmp_path: Path) -> None:
    outputs = [
        _run([sys.executable, "-c", code], server, tmp_path)
        for code in examples("The Python client", "python")
    ]
    assert outputs[0] == "[0, 1]\n"  # as the first example's comment says
    assert outputs[1].startswith("succeeded 20000 epochs")
    assert (tmp_path / "boundary.html").stat().st_size > 1_000_000
    assert "body.epochs -" in outputs[2]
    assert "body.activation -" in outputs[2]
    assert outputs[3] == "[1, 1, 0, 0]\n"  # as the async example's comment says
    registry = outputs[4].splitlines()
    assert registry[0] == "[0, 1, 0]"  # as the registry example's comments say
    assert registry[1].startswith("1.0 ConfusionMatrix(tn=2, fp=0, fn=0, tp=1)")
    assert registry[1].endswith("['confusion_matrix', 'roc']")
    assert registry[2] == "['champion']"


def test_the_command_line_examples_run(server: ServerProcess, tmp_path: Path) -> None:
    script = "set -euo pipefail\n" + "\n".join(examples("The command line", "sh"))
    output = _run(["bash", "-c", script], server, tmp_path)
    assert "x,y,label,probability" in output
    assert "models" in output
    assert (tmp_path / "boundary.html").exists()
    assert (tmp_path / "loss.json").exists()
    assert re.search(r"^deleted model [0-9a-f]{32}$", output, re.MULTILINE)
    # The registry's block: the alias set and moved, the forced delete of the version it named.
    assert "two-blobs@champion -> v1\n" in output
    assert "two-blobs@champion -> v2\n" in output
    assert "true positives" in output
    assert "deleted model two-blobs@champion\n" in output
    remaining = json.loads(output[output.rindex("\n{") :])
    assert [version["version"] for version in remaining["versions"]] == [1]
    assert remaining["aliases"] == {}
    assert remaining["description"] == "two blobs"
