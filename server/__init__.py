"""The HTTP service: a Flask app factory, one blueprint per resource, JSON errors.

Run it with ``inclusive-routing serve`` (gunicorn, see :mod:`server.serving`), or in tests with
``create_app(router=...)`` and Flask's test client.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from routing.errors import DataError
from routing.graph.pipeline import load_graph
from routing.router import StreetRouter
from routing.transit.accessibility import read_transit_overlays
from routing.transit.planner import TransitPlanner
from server.errors import register_error_handlers
from server.headers import register_headers
from server.jsonio import JSONProvider
from server.openapi import SPEC_EXTENSION, build_spec
from server.overload import LoadShedder, SheddingOptions
from server.state import EXTENSION

log = logging.getLogger(__name__)

#: Modules whose ``bp`` blueprint is registered, in order. A new resource adds its module here.
BLUEPRINTS: list[str] = [
    "server.web",
    "server.health",
    "server.profiles",
    "server.route",
    "server.plan",
    "server.places",
    "server.basemap",
    "server.matrix",
    "server.isochrone",
    "server.dispatch",
    "server.scenarios",
    "server.openapi",
]

#: Config keys and their defaults (``None`` for OSM means: a router must be passed in).
DEFAULT_CONFIG: dict[str, Any] = {
    "OSM": None,
    "DEM": [],
    "OVERLAYS": [],
    "GTFS": None,
    "TRANSIT_OVERLAYS": [],
    "CACHE_DIR": None,
    "PLACE_OVERPASS": [],  # Overpass JSON files of named nodes (bus stops) for /places
    "PLACE_STATIONS": [],  # metro station lists with names per language for /places
    "MAX_CONTENT_LENGTH": 1 << 20,  # request bodies are small JSON objects
    "CORS_ORIGINS": [],  # off: see server.headers
    "SHEDDING": SheddingOptions(),  # per-process queue limits: see server.overload
    "PROFILE_CACHE_SIZE": 8,  # (profile, overrides) preparations a router keeps
    # The planner's LRU bounds per worker: service days, (day, profile) views, profiles' stop
    # links, routed walks. Six base profiles on one day fit; random overrides cannot grow
    # memory further. Measured on Almaty: a day ~32 MB, a view ~2.4 MB beyond its day's
    # arrays, a walk ~22 KB (so 1,024 walks ~22 MB, where the planner's default 4,096 ~90 MB).
    "PLAN_CACHE": {"cache_days": 3, "cache_views": 8, "cache_profiles": 6, "cache_walks": 1024},
    "CONTENT_SECURITY_POLICY": None,  # None: server.headers.DEFAULT_CSP
}


def create_app(
    config: Mapping[str, Any] | None = None,
    *,
    router: StreetRouter | None = None,
    planner: TransitPlanner | None = None,
) -> Flask:
    """Create the Flask app.

    Parameters
    ----------
    config
        Flask config plus ``OSM`` (path of the OSM extract), ``DEM`` (list of SRTM
        tiles), ``OVERLAYS`` (list of overlay files), ``GTFS`` (GTFS zip or folder for the
        transit planner behind ``/plan``; None for no transit), ``TRANSIT_OVERLAYS`` (list
        of transit accessibility CSV files, see :mod:`routing.transit.accessibility`) and
        ``CACHE_DIR`` (compiled-graph cache, None for no cache).
    router
        A ready router (tests); when None, the graph is loaded from ``config`` now.
    planner
        A ready transit planner on ``router`` (tests); when None, one is built from
        ``GTFS`` (and ``TRANSIT_OVERLAYS``) if ``GTFS`` is set.

    Returns
    -------
    Flask
        The app; ``app.extensions["inclusive_routing"]`` holds the services
        (see :mod:`server.state`).

    Raises
    ------
    DataError
        No router and no ``OSM`` in the config, or an input file is missing or broken
        (a :class:`~routing.errors.GtfsError` or :class:`~routing.errors.OverlayError`
        names the file, line and field).
    """
    app = Flask(__name__, static_folder="static", static_url_path="/static")
    app.json = JSONProvider(app)
    app.config.update(DEFAULT_CONFIG)
    if config:
        app.config.update(config)

    sources: dict[str, Any] = {}
    if router is None:
        router, sources = _load_router(app.config)
    if planner is None and app.config.get("GTFS"):
        planner = _load_planner(app.config, router)
    if planner is not None:
        sources["gtfs"] = str(planner.feed.path)
        sources["transit_overlays"] = list(planner.accessibility.sources)

    app.extensions[EXTENSION] = {
        "router": router,
        "router_lock": LoadShedder(app.config["SHEDDING"]),
        "sources": sources,
        "planner": planner,
    }

    register_error_handlers(app)
    register_headers(app)
    for module_name in BLUEPRINTS:
        app.register_blueprint(importlib.import_module(module_name).bp)
    app.extensions[SPEC_EXTENSION] = build_spec(BLUEPRINTS)
    return app


def _load_router(config: Mapping[str, Any]) -> tuple[StreetRouter, dict[str, Any]]:
    """Load (or build) the graph named in ``config`` and wrap it in a router."""
    osm = config.get("OSM")
    if not osm:
        raise DataError("no OSM extract configured: set OSM in the config or pass a router",
                        field="OSM")  # fmt: skip
    dem = [Path(p) for p in config.get("DEM") or []]
    overlays = [Path(p) for p in config.get("OVERLAYS") or []]
    for key, paths in (("OSM", [Path(osm)]), ("DEM", dem), ("OVERLAYS", overlays)):
        for path in paths:
            if not path.is_file():
                raise DataError(f"{key} file not found: {path}", path=str(path), field=key)
    cache_dir = config.get("CACHE_DIR")
    log.info("loading the walking graph from %s (%d DEM tile(s), %d overlay(s))",
             osm, len(dem), len(overlays))  # fmt: skip
    graph = load_graph(Path(osm), dem=dem, overlays=overlays, cache_dir=cache_dir,
                       progress=lambda msg: log.info("graph: %s", msg))  # fmt: skip
    cache = graph.meta.get("cache") or {}
    log.info("graph ready: %d nodes, %d edges (%s)", graph.n_nodes, graph.n_edges,
             "from cache " + cache["path"] if cache.get("hit") else "built")  # fmt: skip
    log.info("preparing the router")
    sources = {"osm": str(osm), "dem": [str(p) for p in dem],
               "overlays": [str(p) for p in overlays], "gtfs": None, "transit_overlays": [],
               "cache_dir": str(cache_dir) if cache_dir else None}  # fmt: skip
    router = StreetRouter(graph, cache_size=config["PROFILE_CACHE_SIZE"])
    router.network.cache_dir = Path(cache_dir) if cache_dir else None  # matrix hierarchies
    release_freed_memory()
    return router, sources


def release_freed_memory() -> None:
    """Give memory freed after start-up back to the OS (glibc keeps it otherwise).

    Building the indexes leaves many freed temporaries inside the C heap; without this a
    fresh server's resident size stays ~10 MB above what it holds. No-op off glibc.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _load_planner(config: Mapping[str, Any], router: StreetRouter) -> TransitPlanner:
    """The transit planner on ``router`` for the ``GTFS`` feed and ``TRANSIT_OVERLAYS``."""
    gtfs = Path(config["GTFS"])
    if not gtfs.exists():
        raise DataError(f"GTFS feed not found: {gtfs}", path=str(gtfs), field="GTFS")
    overlays = [Path(p) for p in config.get("TRANSIT_OVERLAYS") or []]
    accessibility = read_transit_overlays(overlays) if overlays else None
    log.info("loading the transit feed %s (%d transit overlay(s))", gtfs, len(overlays))
    planner = TransitPlanner.from_gtfs(router, gtfs, accessibility=accessibility,
                                       **config.get("PLAN_CACHE", {}))  # fmt: skip
    log.info("transit planner ready: %d stops, %d routes",
             len(planner.feed.stops), len(planner.feed.routes))  # fmt: skip
    release_freed_memory()
    return planner
