"""``GET /places?q=``: place search over OSM names, bus stops and metro stations (DESIGN §5).

Parameters: ``q`` (1 to 100 characters, any script), ``limit`` (1 to 20, default 8),
``kind`` (optional, comma-separated kinds from :data:`routing.places.KINDS`) and ``lang``
(``ru``, ``kk`` or ``en``; also from ``Accept-Language``), which picks the name shown when a
place has names per language. The answer is ``{"query", "lang", "places": [...]}``, each
place with ``name``, ``name_lang`` (the language of ``name``, for ``lang`` attributes),
``names``, ``kind``, ``detail``, ``lat``, ``lon`` and ``score`` (0 to 100). When no place
matches because a house number is not mapped, the streets (else the places) matching the other
words are given
and ``unmatched`` lists the words left out (e.g. ``["150"]``); otherwise it is empty.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from routing.errors import InvalidInputError
from routing.places import KINDS
from server.i18n import LANG_PARAM, request_lang
from server.openapi import errors, json_body, ref
from server.params import parse_integer
from server.state import get_places

bp = Blueprint("places", __name__)

MAX_QUERY = 100


@bp.get("/places")
def places() -> ResponseReturnValue:
    """The best matching places, best first."""
    query = (request.args.get("q") or "").strip()
    if not query:
        raise InvalidInputError("missing 'q': type a few letters of a place, street or stop",
                                field="q")  # fmt: skip
    if len(query) > MAX_QUERY:
        raise InvalidInputError(f"'q' is longer than {MAX_QUERY} characters", field="q")
    limit = request.args.get("limit")
    limit = 8 if limit in (None, "") else parse_integer(limit, "limit", 1, 20)
    kinds = [k.strip() for k in (request.args.get("kind") or "").split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInputError(f"'kind' must be among {', '.join(KINDS)}, got {unknown[0]!r}",
                                field="kind")  # fmt: skip
    lang = request_lang()
    index = get_places()
    found = index.search(query, limit=limit, kinds=kinds or None)
    unmatched: list[str] = []
    if not found:
        # "Абая 150" where house 150 is not mapped: offer the street, and say so.
        numbers = [w for w in query.split() if any(c.isdigit() for c in w)]
        rest = " ".join(w for w in query.split() if w not in numbers)
        if numbers and rest:
            streets = [k for k in kinds or ("street",) if k == "street"]
            found = (index.search(rest, limit=limit, kinds=streets) if streets else []) or (
                index.search(rest, limit=limit, kinds=kinds or None))  # fmt: skip
            unmatched = numbers if found else []
    body = [dict(place.to_dict(lang), score=score) for place, score in found]
    return jsonify({"query": query, "lang": lang, "places": body, "unmatched": unmatched})


OPENAPI = {
    "paths": {
        "/places": {"get": {
            "summary": "Place search over OSM names, bus stops and metro stations",
            "operationId": "getPlaces", "tags": ["places"],
            "parameters": [
                {"name": "q", "in": "query", "required": True,
                 "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUERY},
                 "description": "A few letters or words in Cyrillic or Latin (typos allowed)"},
                {"name": "limit", "in": "query",
                 "schema": {"type": "integer", "minimum": 1, "maximum": 20, "default": 8}},
                {"name": "kind", "in": "query", "schema": {"type": "string"},
                 "description": "Comma-separated kinds: " + ", ".join(KINDS)},
                LANG_PARAM,
            ],
            "responses": {
                "200": json_body(ref("Places"), "The best matching places, best first."),
                **errors(400),
            },
        }},
    },
    "components": {"schemas": {
        "Places": {
            "type": "object", "required": ["query", "lang", "places", "unmatched"],
            "properties": {
                "query": {"type": "string"},
                "lang": {"type": "string", "enum": ["ru", "kk", "en"]},
                "unmatched": {"type": "array", "items": {"type": "string"}},
                "places": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "name_lang", "names", "kind", "lat", "lon", "score"],
                    "properties": {
                        "name": {"type": "string"}, "name_lang": {"type": "string"},
                        "names": {"type": "object",
                                  "additionalProperties": {"type": "string"}},
                        "kind": {"type": "string", "enum": list(KINDS)},
                        "detail": {"type": "string"},
                        "lat": {"type": "number"}, "lon": {"type": "number"},
                        "score": {"type": "number", "minimum": 0, "maximum": 100},
                    }}},
            },
        },
    }},
}  # fmt: skip
