"""The core depends on NumPy and the standard library alone, never on the service's stack."""

import ast
import sys
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "core"
ALLOWED_THIRD_PARTY = {"numpy"}


def imported_roots(source: str) -> set[str]:
    """Top-level package names imported by ``source`` (absolute imports only)."""
    roots: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_imported_roots_sees_both_import_forms() -> None:
    assert imported_roots("import numpy as np\nfrom fastapi import X\n") == {"numpy", "fastapi"}


@pytest.mark.parametrize(
    "module", sorted(CORE.rglob("*.py")), ids=lambda path: str(path.relative_to(CORE))
)
def test_core_module_imports_only_numpy_and_the_standard_library(module: Path) -> None:
    roots = imported_roots(module.read_text())
    allowed = {"core", *ALLOWED_THIRD_PARTY, *sys.stdlib_module_names}
    foreign = roots - allowed
    assert not foreign, f"{module.name} imports {sorted(foreign)}"
