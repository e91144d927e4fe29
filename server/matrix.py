"""``POST /matrix``: travel seconds and metres between many points for one profile.

Body (JSON object; the query string may carry the profile and its overrides too):

``sources``
    A list of points (``[lat, lon]``, ``"lat,lon"`` or ``{"lat": .., "lon": ..}``), or one
    string ``"lat,lon;lat,lon;..."``.
``targets``
    The same; missing means the sources.
``profile``
    A name from ``/profiles``; every other key is one of its parameter overrides.

The answer is :meth:`routing.matrix.TravelMatrix.to_dict`: ``seconds`` and ``metres`` (rows
are sources, columns targets; ``null`` where blocked), ``usable`` and ``reason`` per pair,
and where each point was snapped (or why it could not be). A request larger than
``MATRIX_MAX_POINTS`` per side or ``MATRIX_MAX_PAIRS`` pairs (app config) is a 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from flask.typing import ResponseReturnValue

from routing.cost.profiles import Profile
from routing.errors import InvalidInputError
from routing.matrix import REASONS, travel_matrix
from server.openapi import errors, json_body, profile_parameters, ref
from server.params import parse_point, parse_profile, request_values
from server.state import locked_router

bp = Blueprint("matrix", __name__)

#: Keys of a ``/matrix`` request that are not profile parameters.
MATRIX_KEYS = ("sources", "targets", "profile")

#: Default bounds (overridable by the app config keys of the same names).
MATRIX_MAX_POINTS = 2500
MATRIX_MAX_PAIRS = 1_000_000

LatLon = tuple[float, float]


def parse_points(raw: Any, field: str, max_points: int) -> list[LatLon]:
    """A non-empty list of points; every point is checked like ``from`` of ``/route``."""
    if isinstance(raw, str):
        raw = [part for part in raw.split(";") if part.strip()]
    if raw is None or raw == []:
        raise InvalidInputError(f"missing '{field}': give a list of [lat, lon] points",
                                field=field)  # fmt: skip
    if not isinstance(raw, list):
        raise InvalidInputError(f"'{field}' must be a list of [lat, lon] points", field=field)
    if len(raw) > max_points:
        raise InvalidInputError(f"'{field}' has {len(raw)} points; at most {max_points} are "
                                "allowed per request", field=field)  # fmt: skip
    return [parse_point(p, f"{field}[{i}]") for i, p in enumerate(raw)]


def parse_matrix_request(
    values: Mapping[str, Any], *, max_points: int = MATRIX_MAX_POINTS,
    max_pairs: int = MATRIX_MAX_PAIRS,
) -> tuple[list[LatLon], list[LatLon], Profile]:  # fmt: skip
    """``(sources, targets, profile)`` of a ``/matrix`` request (400 naming the field)."""
    sources = parse_points(values.get("sources"), "sources", max_points)
    raw_targets = values.get("targets")
    targets = sources if raw_targets is None else parse_points(raw_targets, "targets",
                                                               max_points)  # fmt: skip
    if len(sources) * len(targets) > max_pairs:
        raise InvalidInputError(
            f"{len(sources)} sources x {len(targets)} targets = "
            f"{len(sources) * len(targets)} pairs; at most {max_pairs} are allowed per "
            "request (split it, or use the `inclusive-routing matrix` command)",
            field="targets" if raw_targets is not None else "sources",
        )
    return sources, targets, parse_profile(values, MATRIX_KEYS)


@bp.post("/matrix")
def matrix() -> ResponseReturnValue:
    """The matrix body (``TravelMatrix.to_dict()``)."""
    config = current_app.config
    sources, targets, profile = parse_matrix_request(
        request_values(request),
        max_points=config.get("MATRIX_MAX_POINTS", MATRIX_MAX_POINTS),
        max_pairs=config.get("MATRIX_MAX_PAIRS", MATRIX_MAX_PAIRS),
    )
    with locked_router() as router:
        found = travel_matrix(router.network, sources, targets, profile)
    return jsonify(found.to_dict())


_POINTS = {"type": "array", "minItems": 1, "maxItems": MATRIX_MAX_POINTS,
           "items": ref("LatLon")}
_NUMBERS = {"type": "array", "items": {"type": "array",
                                        "items": {"type": ["number", "null"], "minimum": 0}}}
OPENAPI: dict[str, Any] = {
    "paths": {"/matrix": {"post": {
        "summary": "Travel seconds and metres between many points for one profile",
        "description": "Rows are sources, columns targets. A pair without a usable path has "
                       "`null` values and a `reason`: `outside_area`, `no_usable_way`, "
                       "`blocked_for_profile` (walkable, but not with this profile) or "
                       "`not_connected`.",
        "operationId": "postMatrix", "tags": ["routing"],
        "requestBody": {"required": True, "content": {
            "application/json": {"schema": ref("MatrixRequest")}}},
        "responses": {"200": json_body(ref("Matrix"), "The matrix."), **errors(400, 413)},
    }}},
    "components": {"schemas": {
        "MatrixRequest": {
            "type": "object", "required": ["sources", "profile"],
            "additionalProperties": False,
            "properties": {"sources": _POINTS, "targets": _POINTS,
                           "profile": ref("ProfileName"), **profile_parameters()},
        },
        "MatrixPoint": {
            "type": "object", "required": ["lat", "lon"],
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"},
                           "snapped": {"type": "object"}, "error": {"type": "object"}},
        },
        "Matrix": {
            "type": "object",
            "required": ["profile", "sources", "targets", "seconds", "metres", "usable", "reason"],
            "properties": {
                "profile": {"type": "string"},
                "sources": {"type": "array", "items": ref("MatrixPoint")},
                "targets": {"type": "array", "items": ref("MatrixPoint")},
                "seconds": _NUMBERS, "metres": _NUMBERS,
                "usable": {"type": "array", "items": {"type": "array",
                                                     "items": {"type": "boolean"}}},
                "reason": {"type": "array", "items": {"type": "array", "items": {
                    "enum": [*REASONS, None]}}},
            },
        },
    }},
}  # fmt: skip
