"""``GET /basemap?bbox=``: the base map as bounded GeoJSON, drawn from the server's own data.

``bbox`` is ``south,west,north,east`` in degrees (latitude first, as every point of this API).
The answer is a GeoJSON FeatureCollection of the walking graph's ways in the box (one feature
per way segment in both directions, with ``kind`` such as ``street``, ``footway``,
``crossing`` or ``steps``, ``road_class`` 0-5 and ``name``) and of the bus stops and metro
stations of ``/places`` (``kind`` ``bus_stop`` or ``metro_station``). A box wider than about
3 km keeps only the major roads (or the sidewalks along them) as one MultiLineString per
road class, each piece by its two ends, and the stations; wider than about 7 km only the
secondary roads and above. At most :data:`MAX_FEATURES` way pieces are sent, and
``truncated`` says when some were left out.
Nothing is fetched from the internet.
"""

from __future__ import annotations

import numpy as np
from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from routing.errors import InvalidInputError
from routing.graph.attributes import WAY_KIND_NAMES
from routing.graph.compiled import CompiledGraph
from server.i18n import LANG_PARAM, request_lang
from server.openapi import errors, json_body
from server.state import get_places, get_router, services

bp = Blueprint("basemap", __name__)

MAX_FEATURES = 6000
#: Boxes wider or taller than this many degrees show major roads only (~3 km).
DETAIL_SPAN = 0.03
#: Boxes wider than this (~7 km) keep only secondary roads and above.
WIDE_SPAN = 0.06
#: Boxes larger than this are refused (the whole city is about 0.4 x 0.5 degrees).
MAX_SPAN = 1.0


def parse_bbox(raw: str | None) -> tuple[float, float, float, float]:
    """``(south, west, north, east)`` from ``"s,w,n,e"``; a 400 naming ``bbox`` otherwise."""
    hint = "give 'bbox' as south,west,north,east in degrees, e.g. 43.23,76.93,43.25,76.96"
    if not raw:
        raise InvalidInputError(f"missing 'bbox': {hint}", field="bbox")
    try:
        south, west, north, east = (float(v) for v in raw.split(","))
    except ValueError:
        raise InvalidInputError(f"malformed 'bbox' {raw[:60]!r}: {hint}", field="bbox") from None
    if not all(np.isfinite([south, west, north, east])):
        raise InvalidInputError(f"'bbox' must be finite numbers: {hint}", field="bbox")
    if not (-90 <= south < north <= 90 and -180 <= west < east <= 180):
        raise InvalidInputError(f"'bbox' must have south < north and west < east: {hint}",
                                field="bbox")  # fmt: skip
    if north - south > MAX_SPAN or east - west > MAX_SPAN:
        raise InvalidInputError(f"'bbox' is larger than {MAX_SPAN} degrees; ask for a smaller "
                                "area", field="bbox")  # fmt: skip
    return south, west, north, east


def _edge_boxes(graph: CompiledGraph) -> tuple[np.ndarray, np.ndarray]:
    """Per-way bounding boxes ``(n, 4)`` and the edge indices they belong to (one direction)."""
    state = services()
    cached = state.get("basemap_boxes")
    if cached is not None and cached[0] is graph:
        return cached[1], cached[2]
    u, v = graph.edge_u, graph.edge_v
    pair = np.minimum(u, v).astype(np.int64) * (graph.n_nodes + 1) + np.maximum(u, v)
    _, first = np.unique(pair, return_index=True)  # one of the two directions of each way
    first = np.sort(first)
    # reduceat over every edge's own slice of the point array, then keep one direction
    starts = graph.geometry_offsets[:-1]
    lat, lon = graph.geometry[:, 0], graph.geometry[:, 1]
    boxes = np.column_stack([
        np.minimum.reduceat(lat, starts), np.minimum.reduceat(lon, starts),
        np.maximum.reduceat(lat, starts), np.maximum.reduceat(lon, starts),
    ])[first]  # fmt: skip
    state["basemap_boxes"] = (graph, boxes, first)
    return boxes, first


@bp.get("/basemap")
def basemap() -> ResponseReturnValue:
    """The ways, stops and stations in ``bbox`` as GeoJSON."""
    south, west, north, east = parse_bbox(request.args.get("bbox"))
    lang = request_lang()
    graph = get_router().graph
    boxes, edges = _edge_boxes(graph)
    inside = (boxes[:, 0] <= north) & (boxes[:, 2] >= south) & (boxes[:, 1] <= east) & (
        boxes[:, 3] >= west)  # fmt: skip
    span = max(north - south, east - west)
    detailed = span <= DETAIL_SPAN
    road_class = graph.edge["road_class"][edges]
    kind = graph.edge["kind"][edges]
    if not detailed:
        # major roads: their centrelines, or the sidewalks built along them
        along_road = (kind == WAY_KIND_NAMES.index("street")) | (
            kind == WAY_KIND_NAMES.index("sidewalk"))  # fmt: skip
        inside &= along_road & (road_class >= (3 if span <= WIDE_SPAN else 4))
    chosen = edges[inside]
    # major roads first, so a truncated answer still shows the main streets
    chosen = chosen[np.argsort(-graph.edge["road_class"][chosen], kind="stable")]
    truncated = len(chosen) > MAX_FEATURES
    chosen = chosen[:MAX_FEATURES]
    features = _detailed_ways(graph, chosen) if detailed else _major_roads(graph, chosen)
    kinds = ("metro_station", "bus_stop") if detailed else ("metro_station",)
    for place in get_places().places:
        if place.kind in kinds and south <= place.lat <= north and west <= place.lon <= east:
            features.append({
                "type": "Feature",
                "geometry": {"type": "Point",
                             "coordinates": [round(place.lon, 6), round(place.lat, 6)]},
                "properties": {"kind": place.kind, "name": place.name_in(lang)},
            })  # fmt: skip
    return jsonify({"type": "FeatureCollection", "features": features,
                    "truncated": truncated, "detailed": detailed})  # fmt: skip


OPENAPI = {
    "paths": {
        "/basemap": {"get": {
            "summary": "The base map of an area as GeoJSON, from the server's own OSM data",
            "operationId": "getBasemap", "tags": ["places"],
            "parameters": [
                {"name": "bbox", "in": "query", "required": True, "schema": {"type": "string"},
                 "description": "south,west,north,east in degrees, at most 1 degree a side",
                 "examples": {"block": {"value": "43.236,76.940,43.246,76.955"}}},
                LANG_PARAM,
            ],
            "responses": {
                "200": json_body({
                    "type": "object", "required": ["type", "features", "truncated", "detailed"],
                    "properties": {
                        "type": {"const": "FeatureCollection"},
                        "features": {"type": "array", "items": {"type": "object"}},
                        "truncated": {"type": "boolean"}, "detailed": {"type": "boolean"},
                    }}, "Ways, bus stops and metro stations in the box."),
                **errors(400),
            },
        }},
    },
}  # fmt: skip


def _detailed_ways(graph: CompiledGraph, edges: np.ndarray) -> list[dict]:
    """One LineString per way piece, with its kind, road class and name."""
    out = []
    for e in edges.tolist():
        points = graph.edge_geometry(e)
        out.append({
            "type": "Feature",
            "geometry": {"type": "LineString",
                         "coordinates": [[round(p[1], 6), round(p[0], 6)] for p in points]},
            "properties": {"kind": WAY_KIND_NAMES[int(graph.edge["kind"][e])],
                           "road_class": int(graph.edge["road_class"][e]),
                           "name": str(graph.names[graph.edge_name[e]])},
        })  # fmt: skip
    return out


def _major_roads(graph: CompiledGraph, edges: np.ndarray) -> list[dict]:
    """A wide box is seen from afar: one MultiLineString per road class, each way piece by
    its two ends at about 1 m precision, no names (nothing is labelled at that scale)."""
    out = []
    classes = graph.edge["road_class"][edges]
    for road_class in sorted(set(classes.tolist()), reverse=True):
        lines = []
        for e in edges[classes == road_class].tolist():
            points = graph.edge_geometry(e)[[0, -1]]
            lines.append([[round(p[1], 5), round(p[0], 5)] for p in points])
        out.append({"type": "Feature",
                    "geometry": {"type": "MultiLineString", "coordinates": lines},
                    "properties": {"kind": "street", "road_class": int(road_class),
                                   "name": ""}})  # fmt: skip
    return out
