"""Builds PlaneNet's compiled training kernel; every other fact of the package is in pyproject.toml.

The kernel is optional: where it cannot be compiled, installing still succeeds and training
runs on the NumPy engine (see core/compiled.py).
"""

import sys

from setuptools import Extension, setup

# -ffp-contract=off: never fuse a multiply and an add that the NumPy engine rounds apart.
# -fno-math-errno and -fno-trapping-math: no errno, no floating-point traps looked at, so
# loops with selects vectorise; every value stays the IEEE result (no -ffast-math).
FLAGS = (
    []
    if sys.platform == "win32"
    else ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]
)

setup(
    ext_modules=[
        Extension("core._kernel", ["core/_kernel.c"], extra_compile_args=FLAGS, optional=True)
    ]
)
