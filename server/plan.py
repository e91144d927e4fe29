"""``GET|POST /plan``: a journey by walking, bus and metro for one profile (DESIGN §5).

Parameters (query string, JSON object body or form), read by
:func:`server.params.parse_plan_request`:

``from``, ``to``
    ``lat,lon`` (in JSON also ``[lat, lon]`` or ``{"lat": .., "lon": ..}``).
``profile``
    A profile name from ``/profiles``; every other key that is not listed here is one of its
    parameter overrides, as for ``/route`` (e.g. ``max_uphill=0.06``).
``time``
    Departure, ISO 8601 (``2026-12-07T08:00``; without an offset it is Almaty local time,
    UTC+05:00); missing means now.
``max_transfers``
    Vehicle changes allowed, a whole number from 0 to 6 (default: the planner's, 3).

The answer is ``Plan.to_dict()``: ``profile``, ``time`` and ``itineraries``, each with its
times, durations, ``transfers``, ``legs`` (walk legs with geometry, steps and warnings; ride
legs with ``mode``, ``route``, ``headsign``, the ``from``/``to`` stops and their
accessibility) and ``warnings``. Without a transit feed the endpoint answers 503
``transit_unavailable``; when nothing connects the points, 422 ``no_route``.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from server.errors import error_response
from server.i18n import language_asked, request_lang
from server.messages import localize_plan
from server.params import parse_plan_request, request_values
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
                             max_transfers=req.max_transfers)  # fmt: skip
    return jsonify(localize_plan(found.to_dict(), request_lang()) if language_asked()
                   else found.to_dict())  # fmt: skip
