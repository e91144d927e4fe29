"""``GET|POST /route``: an accessible street route for one profile (DESIGN §5).

Parameters (query string, JSON object body or form): ``from`` and ``to`` (``lat,lon``;
in JSON also ``[lat, lon]`` or ``{"lat": .., "lon": ..}``), ``profile`` (a name from
``/profiles``), ``format`` (``json``, the default, or ``geojson``), and any parameter of the
profile as an override (e.g. ``max_uphill=0.06``).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from server.i18n import language_asked, request_lang
from server.messages import localize_route
from server.params import parse_route_request, request_values
from server.state import locked_router

bp = Blueprint("route", __name__)


@bp.route("/route", methods=["GET", "POST"])
def route() -> ResponseReturnValue:
    """The route body (``Route.to_dict()``) or a GeoJSON FeatureCollection."""
    origin, destination, profile, fmt = parse_route_request(request_values(request))
    with locked_router() as router:
        found = router.route(origin, destination, profile)
    if fmt == "geojson":
        return jsonify(found.to_geojson())
    return jsonify(localize_route(found.to_dict(), request_lang()) if language_asked()
                   else found.to_dict())  # fmt: skip
