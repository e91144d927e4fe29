"""Benchmarks run on the real data; pytest-benchmark does the timing (no timed asserts)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from data_fixtures import (  # noqa: E402,F401  (the test suite's data fixtures)
    almaty_graph,
    almaty_router,
    graph_cache,
    helsinki_graph,
    helsinki_router,
    shared_data,
)
