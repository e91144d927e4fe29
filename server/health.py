"""``GET /health``: the service is up, which graph it serves and which transit feed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from routing.transit.planner import TransitPlanner
from server.state import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Status, graph size and provenance (files, cache, import report), transit feed.

    ``planner`` is ``false`` when no GTFS feed is loaded, else ``{"gtfs": path, "stops": n,
    "routes": n, "transit_overlays": [paths]}``.
    """
    state = services()
    graph = state["router"].graph
    meta: dict[str, Any] = graph.meta
    sources = state.get("sources") or {}
    min_lat, min_lon, max_lat, max_lon = graph.bounds()
    cache = meta.get("cache")
    body = {
        "status": "ok",
        "graph": {
            "nodes": graph.n_nodes,
            "edges": graph.n_edges,
            "osm": str(sources.get("osm") or meta.get("osm", "")),
            "dem": [str(p) for p in (sources.get("dem") or meta.get("dem", []))],
            "overlays": [str(p) for p in (sources.get("overlays") or meta.get("overlays", []))],
            "has_elevation": bool(meta.get("has_elevation", False)),
            "bounds": {
                "min_lat": min_lat,
                "min_lon": min_lon,
                "max_lat": max_lat,
                "max_lon": max_lon,
            },
            "source": "cache" if cache and cache.get("hit") else "built",
            "cache": cache,
            "cache_key": meta.get("cache_key"),
            "build_seconds": meta.get("build_seconds"),
            "import_report": meta.get("import_report", {}),
            "overlay_report": meta.get("overlay_report", {}),
        },
        "planner": _planner_summary(state.get("planner")),
    }
    return jsonify(body)


def _planner_summary(planner: TransitPlanner | None) -> dict[str, Any] | bool:
    if planner is None:
        return False
    feed = planner.feed
    return {
        "gtfs": str(feed.path),
        "stops": len(feed.stops),
        "routes": len(feed.routes),
        "transit_overlays": list(planner.accessibility.sources),
    }
