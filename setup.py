"""Compiled parts of the engine: every ``.pyx`` under ``routing/`` is a module of that name.

Metadata and dependencies live in setup.cfg; this file only lists the Cython extensions
(built by ``pip install`` and ``make``; see pyproject.toml for the build requirements).
"""

from pathlib import Path

from Cython.Build import cythonize
from setuptools import Extension, setup

HERE = Path(__file__).parent
SOURCES = sorted(p.relative_to(HERE) for p in (HERE / "routing").rglob("*.pyx"))

setup(
    ext_modules=cythonize(
        # No fused multiply-add contraction (e.g. under -march=native): the kernels must
        # round as the numpy code they stand for (snapping answers are compared bit for bit).
        [Extension(".".join(p.with_suffix("").parts), [str(p)],
                   extra_compile_args=["-O3", "-ffp-contract=off"])
         for p in SOURCES],  # fmt: skip
        compiler_directives={"language_level": 3},
        quiet=True,
    )
)
