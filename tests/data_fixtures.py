"""Session fixtures on the real data, shared by the tests and the benchmarks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir() -> Path:
    # CI lays ../shared beside the clone; INCLUSIVE_ROUTING_SHARED_DATA lets a user point elsewhere.
    env = os.environ.get("INCLUSIVE_ROUTING_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data directory; a test that needs it fails loudly when it is absent."""
    path = _shared_data_dir()
    if not (path / "almaty").is_dir():
        pytest.fail(
            f"real data not found at {path}: lay ../shared/data beside the repository "
            "(CI always has it) or set INCLUSIVE_ROUTING_SHARED_DATA",
            pytrace=False,
        )
    return path


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def almaty_graph(shared_data, graph_cache):
    from routing.graph.pipeline import load_graph

    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    return load_graph(
        shared_data / "almaty/osm/almaty-2012.osm.pbf", dem=dem, cache_dir=graph_cache
    )


@pytest.fixture(scope="session")
def helsinki_graph(shared_data, graph_cache):
    from routing.graph.pipeline import load_graph

    return load_graph(shared_data / "helsinki/helsinki-center.osm.pbf", cache_dir=graph_cache)


@pytest.fixture(scope="session")
def almaty_router(almaty_graph):
    from routing.router import StreetRouter

    return StreetRouter(almaty_graph)


@pytest.fixture(scope="session")
def helsinki_router(helsinki_graph):
    from routing.router import StreetRouter

    return StreetRouter(helsinki_graph)


@pytest.fixture(scope="session")
def almaty_gtfs(shared_data, graph_cache) -> Path:
    from datasets.almaty.cache import ensure_almaty_gtfs

    return ensure_almaty_gtfs(shared_data / "almaty", graph_cache)


@pytest.fixture(scope="session")
def almaty_planner(almaty_router, almaty_gtfs):
    from routing.transit.planner import TransitPlanner

    return TransitPlanner.from_gtfs(almaty_router, almaty_gtfs)
