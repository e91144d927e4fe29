"""``GET /health``: the service is up, which graph it serves and which transit feed.

Files are named by their base name only: the server's directory layout is nobody's business.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from routing.transit.planner import TransitPlanner
from server.openapi import errors, json_body, ref
from server.state import services

bp = Blueprint("health", __name__)


@bp.get("/health")
def health() -> ResponseReturnValue:
    """Status, graph size and provenance (file names, cache, import report), transit feed.

    ``planner`` is ``false`` when no GTFS feed is loaded, else ``{"gtfs": name, "stops": n,
    "routes": n, "transit_overlays": [names]}``.
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
            "osm": _name(sources.get("osm") or meta.get("osm", "")),
            "dem": [_name(p) for p in (sources.get("dem") or meta.get("dem", []))],
            "overlays": [_name(p) for p in (sources.get("overlays") or meta.get("overlays", []))],
            "has_elevation": bool(meta.get("has_elevation", False)),
            "bounds": {
                "min_lat": min_lat,
                "min_lon": min_lon,
                "max_lat": max_lat,
                "max_lon": max_lon,
            },
            "source": "cache" if cache and cache.get("hit") else "built",
            "cache_key": meta.get("cache_key"),
            "build_seconds": meta.get("build_seconds"),
            "import_report": meta.get("import_report", {}),
            "overlay_report": meta.get("overlay_report", {}),
        },
        "planner": _planner_summary(state.get("planner")),
    }
    return jsonify(body)


def _name(path: Any) -> str:
    """The base name of a file (``""`` for none)."""
    return os.path.basename(str(path)) if path else ""


def _planner_summary(planner: TransitPlanner | None) -> dict[str, Any] | bool:
    if planner is None:
        return False
    feed = planner.feed
    return {
        "gtfs": _name(feed.path),
        "stops": len(feed.stops),
        "routes": len(feed.routes),
        "transit_overlays": [_name(p) for p in planner.accessibility.sources],
    }


_NAMES = {"type": "array", "items": {"type": "string"}}

OPENAPI = {
    "paths": {
        "/health": {"get": {
            "summary": "Status, graph size and provenance, transit feed",
            "operationId": "getHealth", "tags": ["meta"],
            "responses": {"200": json_body(ref("Health"), "The server is up."), **errors()}}},
    },
    "components": {"schemas": {
        "Health": {
            "type": "object", "required": ["status", "graph", "planner"],
            "properties": {
                "status": {"const": "ok"},
                "graph": {
                    "type": "object",
                    "required": ["nodes", "edges", "osm", "bounds", "source"],
                    "properties": {
                        "nodes": {"type": "integer"}, "edges": {"type": "integer"},
                        "osm": {"type": "string", "description": "File name (no directory)"},
                        "dem": _NAMES, "overlays": _NAMES,
                        "has_elevation": {"type": "boolean"},
                        "bounds": {"type": "object", "properties": {
                            k: {"type": "number"}
                            for k in ("min_lat", "min_lon", "max_lat", "max_lon")}},
                        "source": {"enum": ["cache", "built"]},
                        "cache_key": {"type": ["string", "null"]},
                        "build_seconds": {"type": ["number", "null"]},
                        "import_report": {"type": "object"},
                        "overlay_report": {"type": "object"},
                    },
                },
                "planner": {"oneOf": [
                    {"const": False},
                    {"type": "object", "required": ["gtfs", "stops", "routes"],
                     "properties": {"gtfs": {"type": "string"}, "stops": {"type": "integer"},
                                    "routes": {"type": "integer"},
                                    "transit_overlays": _NAMES}},
                ]},
            },
        },
    }},
}  # fmt: skip
