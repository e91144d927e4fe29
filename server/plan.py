"""``GET|POST /plan``: a journey by walking, bus and metro for one profile (DESIGN §5).

Parameters (query string, JSON object body or form), read by
:func:`server.params.parse_plan_request`:

``from``, ``to``
    ``lat,lon`` (in JSON also ``[lat, lon]`` or ``{"lat": .., "lon": ..}``).
``profile``
    A profile name from ``/profiles``; every other key that is not listed here is one of its
    parameter overrides, as for ``/route`` (e.g. ``max_uphill=0.06``).
``time``
    Departure, ISO 8601 (``2026-12-07T08:00``; without an offset it is the feed's local
    time, its ``agency_timezone``: UTC+05:00 for Almaty); missing means now. With
    ``arrive_by`` it is the latest arrival.
``arrive_by``
    ``true``: the latest departures that arrive by ``time`` (default ``false``).
``window``
    Minutes (0 to 180, default 0): search every departure moment in that span after
    ``time`` (before the latest departure, with ``arrive_by``) and return every Pareto
    journey (range RAPTOR), earliest departure first.
``num_itineraries``
    How many itineraries to return, 1 to 12 (default 4).
``max_transfers``
    Vehicle changes allowed, a whole number from 0 to 6 (default: the planner's, 3).

Any other key is a profile parameter; a key that is neither is a 400 ``unknown_option``.
The search covers the requested service day and the next one, so a late request finds the
first morning journeys (a ``long_wait`` warning names any wait over 30 minutes).

The answer is ``Plan.to_dict()``: ``profile``, ``time``, ``arrive_by``, ``window_s``,
``itineraries`` (each with its times, durations, ``transfers``, ``legs`` — walk legs with
geometry, steps and warnings; ride legs with ``mode``, ``route``, ``headsign``, the
``from``/``to`` stops and their accessibility — and ``warnings``) and the ``earlier`` and
``later`` cursors (``time`` and ``arrive_by`` of the request for the previous or next
journeys). Without a transit feed the endpoint answers 503 ``transit_unavailable``; a
date outside the feed's calendar is 422 ``outside_feed_calendar`` naming the dates it
covers; when nothing connects the points, 422 ``no_route``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from server.errors import error_response
from server.i18n import LANG_PARAM, language_asked, request_lang
from server.messages import localize_plan
from server.openapi import errors, json_body, profile_parameters, profile_query_parameters, ref
from server.params import parse_distribution_request, parse_plan_request, request_values
from server.state import get_planner, locked_router

bp = Blueprint("plan", __name__)

UNAVAILABLE_MESSAGE = (
    "public transport planning is not available: this server runs without a GTFS feed "
    "(start it with --gtfs PATH, or with the default Almaty data); /route still works"
)


@bp.route("/plan", methods=["GET", "POST"])
def plan() -> ResponseReturnValue:
    """The plan body (``Plan.to_dict()``), or 503 JSON when no planner is loaded."""
    planner = get_planner()
    if planner is None:
        return error_response(503, "transit_unavailable", UNAVAILABLE_MESSAGE)
    req = parse_plan_request(request_values(request))
    # The planner shares the router's caches: one request at a time, as for /route.
    with locked_router():
        found = planner.plan(req.origin, req.destination, req.when, req.profile,
                             max_transfers=req.max_transfers, arrive_by=req.arrive_by,
                             window_s=req.window_s,
                             num_itineraries=req.num_itineraries)  # fmt: skip
    return jsonify(localize_plan(found.to_dict(), request_lang()) if language_asked()
                   else found.to_dict())  # fmt: skip


@bp.route("/plan/distribution", methods=["POST"])
def distribution() -> ResponseReturnValue:
    """Travel times from one origin to up to 50 targets across a departure window.

    JSON body: ``from``, ``targets`` (list of points), ``profile`` (and its parameters),
    ``time`` (window start), ``window`` (minutes, 0 to 180, default 120), ``step`` (minutes,
    1 to 60, default 5), ``percentiles`` (default ``[10, 50, 90]``), ``max_transfers``. The
    answer is :meth:`~routing.transit.planner.TransitPlanner.travel_time_distribution`.
    """
    planner = get_planner()
    if planner is None:
        return error_response(503, "transit_unavailable", UNAVAILABLE_MESSAGE)
    req = parse_distribution_request(request_values(request))
    with locked_router():
        body = planner.travel_time_distribution(
            req.origin, req.targets, req.when, req.profile, window_s=req.window_s,
            step_s=req.step_s, percentiles=req.percentiles, max_transfers=req.max_transfers,
        )  # fmt: skip
    return jsonify(body)


_TIME = {"type": "string", "description": "Departure, ISO 8601; without an offset Almaty time; "
         "missing means now", "examples": ["2026-12-07T08:00"]}
_TRANSFERS = {"type": "integer", "minimum": 0, "maximum": 6, "default": 3}
_ARRIVE_BY = {"type": "boolean", "default": False,
              "description": "time is the latest arrival: the latest departures arriving by it"}
_WINDOW = {"type": "integer", "minimum": 0, "maximum": 180, "default": 0,
           "description": "minutes of departure moments searched; every Pareto journey"}
_COUNT = {"type": "integer", "minimum": 1, "maximum": 12, "default": 4}
_CURSOR = {"type": ["object", "null"], "properties": {
    "time": {"type": "string"}, "arrive_by": {"type": "boolean"}}}
_PLAN_RESPONSES = {
    "200": json_body(ref("Plan"), "Itineraries, best first."),
    "422": json_body(ref("Error"), "No itinerary connects the points for this profile."),
    **errors(400),
}
_PLAN_PARAMS = [
    {"name": "from", "in": "query", "required": True, "schema": ref("LatLonText")},
    {"name": "to", "in": "query", "required": True, "schema": ref("LatLonText")},
    {"name": "time", "in": "query", "schema": _TIME},
    {"name": "max_transfers", "in": "query", "schema": _TRANSFERS},
    {"name": "arrive_by", "in": "query", "schema": _ARRIVE_BY},
    {"name": "window", "in": "query", "schema": _WINDOW},
    {"name": "num_itineraries", "in": "query", "schema": _COUNT},
]

_DISTRIBUTION_TARGET = {
    "type": "object",
    "required": ["lat", "lon", "travel_time_s", "reachable_share", "percentile_s"],
    "properties": {
        "lat": {"type": "number"}, "lon": {"type": "number"},
        "travel_time_s": {"type": "array", "items": {"type": ["integer", "null"]}},
        "reachable_share": {"type": "number"},
        "percentile_s": {"type": "object",
                         "additionalProperties": {"type": ["integer", "null"]}},
    },
}  # fmt: skip

OPENAPI = {
    "paths": {
        "/plan/distribution": {
            "post": {
                "summary": "Travel-time distribution from one origin over a departure window",
                "description": "Travel time to each target for every departure moment of the "
                "window (one-to-all range RAPTOR) and its percentiles, as Conveyal reports "
                "accessibility. At most 50 targets, 180 minutes, steps of 1 to 60 minutes.",
                "operationId": "postPlanDistribution", "tags": ["transit"],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("DistributionRequest")}}},
                "responses": {
                    "200": json_body(ref("Distribution"), "Travel times per target."),
                    "422": json_body(ref("Error"), "The date is outside the feed's calendar."),
                    **errors(400, 413),
                },
            },
        },
        "/plan": {
            "get": {
                "summary": "A journey by walking, bus and metro for one profile",
                "operationId": "getPlan", "tags": ["transit"],
                "parameters": [*_PLAN_PARAMS, LANG_PARAM, *profile_query_parameters()],
                "responses": _PLAN_RESPONSES,
            },
            "post": {
                "summary": "A journey by walking, bus and metro (JSON body)",
                "operationId": "postPlan", "tags": ["transit"],
                "requestBody": {"required": True, "content": {
                    "application/json": {"schema": ref("PlanRequest")}}},
                "responses": {**_PLAN_RESPONSES, **errors(400, 413)},
            },
        },
    },
    "components": {"schemas": {
        "DistributionRequest": {
            "type": "object", "required": ["from", "targets", "profile"],
            "additionalProperties": False,
            "properties": {
                "from": ref("LatLon"),
                "targets": {"type": "array", "items": ref("LatLon"), "minItems": 1,
                            "maxItems": 50},
                "profile": ref("ProfileName"), "time": _TIME,
                "window": {"type": "integer", "minimum": 0, "maximum": 180, "default": 120},
                "step": {"type": "integer", "minimum": 1, "maximum": 60, "default": 5},
                "percentiles": {"type": "array", "minItems": 1, "maxItems": 9, "items": {
                    "type": "integer", "minimum": 1, "maximum": 99}},
                "max_transfers": _TRANSFERS, **profile_parameters(),
            },
        },
        "Distribution": {
            "type": "object",
            "required": ["profile", "time", "window_s", "step_s", "departures", "targets"],
            "properties": {
                "profile": {"type": "string"}, "time": {"type": "string"},
                "window_s": {"type": "integer"}, "step_s": {"type": "integer"},
                "departures": {"type": "array", "items": {"type": "string"}},
                "percentiles": {"type": "array", "items": {"type": "integer"}},
                "targets": {"type": "array", "items": _DISTRIBUTION_TARGET},
            },
        },
        "PlanRequest": {
            "type": "object", "required": ["from", "to", "profile"],
            "additionalProperties": False,
            "properties": {"from": ref("LatLon"), "to": ref("LatLon"),
                           "profile": ref("ProfileName"), "time": _TIME,
                           "max_transfers": _TRANSFERS, "arrive_by": _ARRIVE_BY,
                           "window": _WINDOW, "num_itineraries": _COUNT,
                           "lang": LANG_PARAM["schema"],
                           **profile_parameters()},
        },
        "Plan": {
            "type": "object", "required": ["profile", "time", "itineraries"],
            "properties": {
                "profile": {"type": "string"}, "time": {"type": "string"},
                "arrive_by": {"type": "boolean"}, "window_s": {"type": "integer"},
                "itineraries": {"type": "array", "items": ref("Itinerary")},
                "earlier": _CURSOR, "later": _CURSOR,
            },
        },
        "Itinerary": {
            "type": "object",
            "required": ["departure", "arrival", "duration_s", "walk_s", "wait_s", "ride_s",
                         "walk_distance_m", "transfers", "legs", "warnings"],
            "properties": {
                "departure": {"type": "string"}, "arrival": {"type": "string"},
                "duration_s": {"type": "integer"}, "walk_s": {"type": "integer"},
                "wait_s": {"type": "integer"}, "ride_s": {"type": "integer"},
                "walk_distance_m": {"type": "number"}, "transfers": {"type": "integer"},
                "generalized_cost": {"type": "integer"},
                "legs": {"type": "array", "items": {
                    "type": "object", "required": ["mode"],
                    "properties": {"mode": {"type": "string"}}}},
                "warnings": {"type": "array", "items": ref("Warning")},
            },
        },
    }},
}  # fmt: skip
