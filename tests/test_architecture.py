"""The layers' boundaries, read from the source with ``ast``: who may import whom.

``core`` is NumPy only and knows nothing of the service; the client talks HTTP only; the
subpackages of ``service`` depend on one another in one direction, never both ways.
"""

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_MAY_NOT_IMPORT = ("service", "planenet", "fastapi", "starlette", "pydantic", "sqlalchemy")
CLIENT_MAY_NOT_IMPORT = ("service", "core")


def modules(package: str) -> Iterator[tuple[str, Path]]:
    """Every module of a top-level package, as (dotted name, path)."""
    directory = ROOT / package
    for path in sorted(directory.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def imported_names(path: Path, module: str) -> set[str]:
    """The absolute names of every module ``path`` imports (relative imports resolved)."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def service_subpackage(name: str) -> str | None:
    """``service.store.jobs`` -> ``store``; None for top-level modules of ``service``."""
    parts = name.split(".")
    if len(parts) < 3 or parts[0] != "service":
        return None
    return parts[1] if (ROOT / "service" / parts[1]).is_dir() else None


def test_the_readers_see_every_package() -> None:
    assert {name for name, _ in modules("core")} >= {"core", "core.training", "core.network"}
    assert "service.store.jobs" in {name for name, _ in modules("service")}


@pytest.mark.parametrize(("module", "path"), list(modules("core")), ids=str)
def test_core_imports_nothing_of_the_service_or_the_web(module: str, path: Path) -> None:
    forbidden = {name for name in imported_names(path, module) if top(name) in CORE_MAY_NOT_IMPORT}
    assert not forbidden, f"{module} imports {sorted(forbidden)}"


def test_the_client_imports_nothing_of_the_server() -> None:
    if not (ROOT / "planenet").is_dir():
        return
    for module, path in modules("planenet"):
        forbidden = {
            name for name in imported_names(path, module) if top(name) in CLIENT_MAY_NOT_IMPORT
        }
        assert not forbidden, f"{module} imports {sorted(forbidden)}"


def subpackage_dependencies() -> dict[str, set[str]]:
    """For each subpackage of ``service``, the other subpackages its modules import."""
    edges: dict[str, set[str]] = {}
    for module, path in modules("service"):
        source = service_subpackage(module)
        if source is None:
            continue
        targets = {service_subpackage(name) for name in imported_names(path, module)}
        edges.setdefault(source, set()).update(
            target for target in targets if target is not None and target != source
        )
    return edges


def test_no_two_service_subpackages_import_each_other() -> None:
    edges = subpackage_dependencies()
    assert {"domain", "http", "routes", "runner", "schemas", "store"} <= set(edges)
    mutual = [
        (first, second)
        for first, second in itertools.combinations(sorted(edges), 2)
        if second in edges[first] and first in edges[second]
    ]
    assert mutual == []


def test_the_domain_depends_on_no_other_subpackage() -> None:
    assert subpackage_dependencies()["domain"] == set()


def test_the_import_reader_sees_both_directions() -> None:
    """The check above can fail: the store imports the domain, which the reader must see."""
    edges = subpackage_dependencies()
    assert "domain" in edges["store"]
    assert "store" in edges["runner"]
