"""``GET /health``: the service is up and which graph it serves."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from server.state import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Status, graph size and provenance (files, cache, import report)."""
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
        "planner": state.get("planner") is not None,
    }
    return jsonify(body)
