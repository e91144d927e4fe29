"""``GET|POST /isochrone``: what a profile can reach within given minutes (DESIGN §5).

Parameters (query string, JSON object body or form):

``from``
    ``lat,lon`` (in JSON also ``[lat, lon]`` or ``{"lat": .., "lon": ..}``).
``profile``
    A profile name; every other key not listed here is one of its parameter overrides.
``minutes``
    One to :data:`MAX_CONTOURS` limits, each above 0 and at most :data:`MAX_MINUTES`:
    ``10,20,30`` or a JSON list.
``mode``
    ``walk`` (the default) or ``transit``: walking plus the buses and metro the profile can
    use, under the journey planner's rules (503 ``transit_unavailable`` without a feed).
``time``
    Departure for ``mode=transit`` (ISO 8601, as for ``/plan``; missing means now).

The answer is a GeoJSON FeatureCollection: one MultiPolygon feature per limit (largest
first) with ``minutes``, ``profile`` and ``mode`` properties, and ``origin`` (where the
point was snapped). Holes are places inside the area that are not reachable in time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from routing.errors import InvalidInputError
from routing.isochrone import isochrone
from routing.transit.isochrone import transit_isochrone
from server.errors import error_response
from server.i18n import LANG_PARAM
from server.openapi import errors, json_body, profile_parameters, profile_query_parameters, ref
from server.params import (
    parse_choice,
    parse_number,
    parse_point,
    parse_profile,
    parse_time,
    request_values,
)
from server.state import get_planner, locked_router

bp = Blueprint("isochrone", __name__)

#: Keys of an ``/isochrone`` request that are not profile parameters.
ISOCHRONE_KEYS = ("from", "profile", "minutes", "mode", "time", "lang")
MAX_MINUTES = 120.0
MAX_CONTOURS = 6


def parse_minutes(raw: Any) -> list[float]:
    """The limits: a list (or comma-separated text) of 1..MAX_CONTOURS numbers in (0, 120]."""
    if raw is None or raw == "" or raw == []:
        raise InvalidInputError("missing 'minutes': give e.g. 10,20,30", field="minutes")
    if isinstance(raw, str):
        raw = [p for p in raw.split(",") if p.strip()]
    elif isinstance(raw, int | float) and not isinstance(raw, bool):
        raw = [raw]
    if not isinstance(raw, list):
        raise InvalidInputError("'minutes' must be a number or a list of numbers",
                                field="minutes")  # fmt: skip
    if len(raw) > MAX_CONTOURS:
        raise InvalidInputError(f"'minutes' has {len(raw)} values; at most {MAX_CONTOURS}",
                                field="minutes")  # fmt: skip
    values = [parse_number(v, "minutes") for v in raw]
    for v in values:
        if not 0 < v <= MAX_MINUTES:
            raise InvalidInputError(f"'minutes' {v:g} is outside (0, {MAX_MINUTES:g}]",
                                    field="minutes")  # fmt: skip
    return sorted(set(values))


def parse_isochrone_request(values: Mapping[str, Any]):
    """``(origin, profile, minutes, mode, time)``; checked in that order (400 naming the field)."""
    origin = parse_point(values.get("from"), "from")
    profile = parse_profile(values, ISOCHRONE_KEYS)
    minutes = parse_minutes(values.get("minutes"))
    mode = parse_choice(values.get("mode"), "mode", ("walk", "transit"), "walk")
    when = parse_time(values.get("time")) if mode == "transit" else None
    return origin, profile, minutes, mode, when


@bp.route("/isochrone", methods=["GET", "POST"])
def isochrone_endpoint() -> ResponseReturnValue:
    """The isochrone FeatureCollection."""
    origin, profile, minutes, mode, when = parse_isochrone_request(request_values(request))
    if mode == "transit":
        planner = get_planner()
        if planner is None:
            return error_response(503, "transit_unavailable", "mode=transit needs a "
                                  "transit feed; this server runs without one (mode=walk "
                                  "works)")  # fmt: skip
        with locked_router():
            found = transit_isochrone(planner, origin, when, profile, minutes)
    else:
        with locked_router() as router:
            net = router.network
            found = isochrone(net, net.snap(origin, profile, "from"), profile, minutes)
    # The body as jsonify would give it, its coordinates written straight from the arrays.
    return current_app.response_class(found.to_json() + "\n", mimetype=current_app.json.mimetype)


_MINUTES_SCHEMA = {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_MINUTES}
_MODE_SCHEMA = {"type": "string", "enum": ["walk", "transit"], "default": "walk"}
_RESPONSES = {
    "200": json_body(ref("Isochrone"), "One MultiPolygon feature per limit, largest first."),
    "422": json_body(ref("NoRoute"), "No way usable with this profile near `from`."),
    **errors(400),
}
OPENAPI: dict[str, Any] = {
    "paths": {"/isochrone": {
        "get": {
            "summary": "The area a profile reaches within given minutes (GeoJSON)",
            "operationId": "getIsochrone", "tags": ["routing"],
            "parameters": [
                {"name": "from", "in": "query", "required": True, "schema": ref("LatLonText"),
                 "description": "Origin, `lat,lon`"},
                {"name": "minutes", "in": "query", "required": True,
                 "description": f"1 to {MAX_CONTOURS} limits, comma-separated, e.g. `10,20,30`",
                 "schema": {"type": "string", "examples": ["10,20,30"]}},
                {"name": "mode", "in": "query", "schema": _MODE_SCHEMA},
                {"name": "time", "in": "query", "schema": {"type": "string"},
                 "description": "Departure for `mode=transit` (ISO 8601)"},
                LANG_PARAM,
                *profile_query_parameters(),
            ],
            "responses": _RESPONSES,
        },
        "post": {
            "summary": "The area a profile reaches within given minutes (JSON body)",
            "operationId": "postIsochrone", "tags": ["routing"],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": ref("IsochroneRequest")}}},
            "responses": {**_RESPONSES, **errors(400, 413)},
        },
    }},
    "components": {"schemas": {
        "IsochroneRequest": {
            "type": "object", "required": ["from", "profile", "minutes"],
            "additionalProperties": False,
            "properties": {
                "from": ref("LatLon"), "profile": ref("ProfileName"),
                "minutes": {"oneOf": [_MINUTES_SCHEMA, {
                    "type": "array", "minItems": 1, "maxItems": MAX_CONTOURS,
                    "items": _MINUTES_SCHEMA}]},
                "mode": _MODE_SCHEMA, "time": {"type": "string"},
                **profile_parameters(),
            },
        },
        "Isochrone": {
            "type": "object", "required": ["type", "features", "origin"],
            "properties": {
                "type": {"const": "FeatureCollection"},
                "origin": {"type": "object"},
                "features": {"type": "array", "items": {
                    "type": "object", "required": ["type", "geometry", "properties"],
                    "properties": {
                        "type": {"const": "Feature"},
                        "geometry": {"type": "object", "required": ["type", "coordinates"],
                                     "properties": {"type": {"const": "MultiPolygon"},
                                                    "coordinates": {"type": "array"}}},
                        "properties": {"type": "object", "required": ["minutes", "profile",
                                                                      "mode"]},
                    }}},
            },
        },
    }},
}  # fmt: skip
