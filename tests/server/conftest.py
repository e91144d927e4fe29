"""Fixtures for the server tests: real graphs (central Helsinki; Almaty with its transit feed).

Each is built once per session; the Almaty graph is ``almaty_router`` from
``tests/data_fixtures.py`` (cached in the session's ``graph_cache``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from datasets.almaty.cache import ensure_almaty_gtfs
from routing.graph.compiled import CompiledGraph
from routing.graph.pipeline import load_graph
from routing.router import StreetRouter
from server import create_app


@pytest.fixture(scope="session")
def helsinki_osm(shared_data: Path) -> Path:
    path = shared_data / "helsinki" / "helsinki-center.osm.pbf"
    assert path.is_file(), f"missing {path}"
    return path


@pytest.fixture(scope="session")
def graph_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("graph-cache")


@pytest.fixture(scope="session")
def helsinki_graph(helsinki_osm: Path, graph_cache: Path) -> CompiledGraph:
    return load_graph(helsinki_osm, cache_dir=graph_cache)


@pytest.fixture(scope="session")
def router(helsinki_graph: CompiledGraph) -> StreetRouter:
    return StreetRouter(helsinki_graph)


@pytest.fixture(scope="session")
def app(router: StreetRouter) -> Flask:
    return create_app({"TESTING": True}, router=router)


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


# -- Almaty with its transit feed (for /plan and the transit commands) --------------------
@pytest.fixture(scope="session")
def almaty_osm(shared_data: Path) -> Path:
    path = shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"
    assert path.is_file(), f"missing {path}"
    return path


@pytest.fixture(scope="session")
def almaty_dem(shared_data: Path) -> list[Path]:
    tiles = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    assert len(tiles) == 2, f"expected the two SRTM tiles under {shared_data / 'almaty/dem'}"
    return tiles


@pytest.fixture(scope="session")
def transit_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("transit-cache")


@pytest.fixture(scope="session")
def almaty_gtfs(shared_data: Path, transit_cache: Path) -> Path:
    """The Almaty metro + bus GTFS zip, built once per session from the real data."""
    return ensure_almaty_gtfs(shared_data / "almaty", transit_cache)


@pytest.fixture(scope="session")
def plan_app(almaty_router: StreetRouter, almaty_gtfs: Path, almaty_osm: Path) -> Flask:
    """An app on the real Almaty graph whose planner is built from the ``GTFS`` config key
    (and whose dispatch planning uses the Almaty car network)."""
    return create_app({"TESTING": True, "GTFS": str(almaty_gtfs),
                       "DISPATCH_OSM": str(almaty_osm)}, router=almaty_router)  # fmt: skip


@pytest.fixture()
def plan_client(plan_app: Flask) -> FlaskClient:
    return plan_app.test_client()
