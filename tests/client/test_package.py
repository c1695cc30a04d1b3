"""The client package stands alone: it speaks HTTP and loads no server code, NumPy or plotly."""

import subprocess
import sys

import planenet

LOADED_MODULES = """
import sys
import planenet, planenet._cli
print(" ".join(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_the_client_loads_no_server_code_numpy_or_plotly() -> None:
    completed = subprocess.run(
        [sys.executable, "-c", LOADED_MODULES], capture_output=True, text=True, check=True
    )
    loaded = set(completed.stdout.split())
    assert "planenet" in loaded
    assert loaded.isdisjoint({"service", "core", "numpy", "plotly", "fastapi", "sqlalchemy"})


def test_the_public_names_are_explicit() -> None:
    assert set(planenet.__all__) == {name for name in dir(planenet) if not name.startswith("_")} | {
        "__version__"
    }
    for name in planenet.__all__:
        assert getattr(planenet, name) is not None
