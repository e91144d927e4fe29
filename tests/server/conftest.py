"""Fixtures for the server tests: one real graph (central Helsinki) for the whole session."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

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
