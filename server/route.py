"""``GET|POST /route``: an accessible street route for one profile (DESIGN §5).

Parameters (query string, JSON object body or form): ``from`` and ``to`` (``lat,lon``;
in JSON also ``[lat, lon]`` or ``{"lat": .., "lon": ..}``), ``profile`` (a name from
``/profiles``), ``format`` (``json``, the default, or ``geojson``), and any parameter of the
profile as an override (e.g. ``max_uphill=0.06``).
"""

from __future__ import annotations

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from server.i18n import LANG_PARAM, language_asked, request_lang
from server.jsonio import encode
from server.messages import localize_route
from server.openapi import errors, json_body, profile_parameters, profile_query_parameters, ref
from server.overload import ROUTE
from server.params import parse_route_request, request_values
from server.state import locked_router

bp = Blueprint("route", __name__)


@bp.route("/route", methods=["GET", "POST"])
def route() -> ResponseReturnValue:
    """The route body (``Route.to_dict()``) or a GeoJSON FeatureCollection."""
    origin, destination, profile, fmt = parse_route_request(request_values(request))
    with locked_router(ROUTE) as router:
        found = router.route(origin, destination, profile)
    if fmt == "geojson":
        body = found.to_geojson()
    else:
        body = found.to_dict()
        if language_asked():
            body = localize_route(body, request_lang())
    # The body is plain JSON values already: encoded once, as jsonify would (compact).
    return current_app.response_class(encode(body, separators=(",", ":")) + "\n",
                                      mimetype="application/json")  # fmt: skip


_POINT_PARAMS = [
    {"name": "from", "in": "query", "required": True, "description": "Start, `lat,lon`",
     "schema": ref("LatLonText")},
    {"name": "to", "in": "query", "required": True, "description": "Destination, `lat,lon`",
     "schema": ref("LatLonText")},
]
_FORMAT = {"type": "string", "enum": ["json", "geojson"], "default": "json"}
_ROUTE_RESPONSES = {
    "200": json_body({"oneOf": [ref("Route"), ref("FeatureCollection")]},
                     "The route (`format=geojson`: a FeatureCollection)."),
    "422": json_body(ref("NoRoute"), "No route for this profile; says what blocks it."),
    **errors(400),
}

OPENAPI = {
    "paths": {
        "/route": {
            "get": {
                "summary": "An accessible street route for one profile",
                "operationId": "getRoute", "tags": ["routing"],
                "parameters": [*_POINT_PARAMS, LANG_PARAM,
                               {"name": "format", "in": "query", "schema": _FORMAT},
                               *profile_query_parameters()],
                "responses": _ROUTE_RESPONSES,
            },
            "post": {
                "summary": "An accessible street route for one profile (JSON body)",
                "operationId": "postRoute", "tags": ["routing"],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("RouteRequest")}}},
                "responses": {**_ROUTE_RESPONSES, **errors(400, 413)},
            },
        },
    },
    "components": {"schemas": {
        "RouteRequest": {
            "type": "object", "required": ["from", "to", "profile"],
            "additionalProperties": False,
            "properties": {
                "from": ref("LatLon"), "to": ref("LatLon"),
                "profile": {"$ref": "#/components/schemas/ProfileName"},
                "format": _FORMAT,
                "lang": LANG_PARAM["schema"],
                **profile_parameters(),
            },
        },
        "Step": {
            "type": "object", "required": ["instruction", "maneuver", "distance_m", "location"],
            "properties": {"instruction": {"type": "string"}, "maneuver": {"type": "string"},
                           "name": {"type": "string"}, "kind": {"type": "string"},
                           "distance_m": {"type": "number"}, "duration_s": {"type": "number"},
                           "location": ref("Location"),
                           "code": {"type": "string"}, "params": {"type": "object"}},
        },
        "Warning": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "location": ref("Location")},
        },
        "Route": {
            "type": "object",
            "required": ["profile", "distance_m", "duration_s", "geometry", "steps", "warnings",
                         "confidence", "snapped"],
            "properties": {
                "profile": {"type": "string"},
                "distance_m": {"type": "number", "minimum": 0},
                "duration_s": {"type": "number", "minimum": 0},
                "geometry": {"type": "object", "required": ["type", "coordinates"],
                             "properties": {"type": {"const": "LineString"},
                                            "coordinates": {"type": "array", "minItems": 2,
                                                            "items": ref("Location")}}},
                "steps": {"type": "array", "items": ref("Step")},
                "warnings": {"type": "array", "items": ref("Warning")},
                "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                "facts": {"type": "object"},
                "snapped": {"type": "object"},
                "barriers": {"type": "array", "items": {"type": "object"}},
            },
        },
        "FeatureCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {"type": {"const": "FeatureCollection"},
                           "features": {"type": "array", "items": {"type": "object"}}},
        },
        "NoRoute": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                               "profile": {"type": "string"},
                               "barriers": {"type": "array", "items": {"type": "object"}},
                               "walking_route": ref("Route")}}},
        },
    }},
}  # fmt: skip
