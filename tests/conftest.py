"""Shared fixtures: the real data (see data_fixtures.py) and fixture folders on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from data_fixtures import (  # noqa: F401  (fixtures are found by name)
    almaty_graph,
    almaty_gtfs,
    almaty_planner,
    almaty_router,
    graph_cache,
    helsinki_graph,
    helsinki_router,
    shared_data,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES
