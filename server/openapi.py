"""The OpenAPI 3.1 contract, assembled from one fragment per blueprint module.

Each module listed in :data:`server.BLUEPRINTS` may define ``OPENAPI``, a dict with
``paths`` (and optionally ``components``) in OpenAPI 3.1 form, next to the code it
describes. :func:`build_spec` merges them onto :data:`BASE` (shared schemas, parameters and
responses); a path, method or component defined twice is an error at start-up, so two
fragments cannot silently overwrite each other. ``tests/server/test_openapi.py`` checks that
every Flask route is documented and schemathesis checks that the answers match.

The helpers here (:func:`json_body`, :func:`errors`, :func:`ref`, :func:`profile_parameters`)
keep fragments short. This module serves ``GET /openapi.json`` and ``GET /docs`` (a page of
our own that renders the document; no CDN).
"""

from __future__ import annotations

import copy
import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, send_from_directory
from flask.typing import ResponseReturnValue

from routing.cost.profiles import PARAMETERS, PROFILE_NAMES, PROFILES

bp = Blueprint("openapi", __name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"

#: Key of the assembled document in ``app.extensions``.
SPEC_EXTENSION = "inclusive_routing_openapi"

#: A ``lat,lon`` pair as text, as the query string carries it.
LATLON_PATTERN = r"^[+-]?\d{1,2}(\.\d{1,7})?,[+-]?\d{1,3}(\.\d{1,7})?$"

def profile_names() -> list[str]:
    """Every profile name, in the documented order."""
    return list(PROFILE_NAMES) + [n for n in PROFILES if n not in PROFILE_NAMES]


# HTTP statuses every endpoint of ours may answer, whatever it does.
_SHED = {"$ref": "#/components/responses/Overloaded"}
_ERROR = {"$ref": "#/components/schemas/Error"}

BASE: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Inclusive routing for Almaty",
        "version": "0.1.0",
        "summary": "Accessible street routes and public-transport journeys for wheelchair, "
        "blind, low-vision, reduced-mobility and walking profiles.",
        "description": (
            "Coordinates are `lat,lon` (WGS84). Every error is JSON: "
            '`{"error": {"code", "message", "field"}}`; 400 names the bad field, 422 means no '
            "route exists for the profile, 503 with `Retry-After` means the server is "
            "overloaded or the request passed its time limit (retry later), or a service "
            "(transit) is not configured."
        ),
        "license": {"name": "MIT", "identifier": "MIT"},
    },
    "servers": [{"url": "/"}],
    "paths": {},
    "components": {
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string", "examples": ["invalid_input"]},
                            "message": {"type": "string"},
                            "field": {"type": "string", "description": "The field at fault"},
                        },
                    }
                },
            },
            "LatLon": {
                "description": "A WGS84 point: `\"lat,lon\"`, `[lat, lon]` or `{lat, lon}`.",
                "oneOf": [
                    {"type": "string", "pattern": LATLON_PATTERN, "examples": ["43.2380,76.9455"]},
                    {"type": "array", "minItems": 2, "maxItems": 2,
                     "items": {"type": "number", "minimum": -180, "maximum": 180}},
                    {"type": "object", "required": ["lat", "lon"], "additionalProperties": False,
                     "properties": {"lat": {"type": "number", "minimum": -90, "maximum": 90},
                                    "lon": {"type": "number", "minimum": -180, "maximum": 180}}},
                ],
            },
            "LatLonText": {"type": "string", "pattern": LATLON_PATTERN,
                           "examples": ["43.2380,76.9455"]},
            "ProfileName": {"type": "string", "enum": profile_names()},
            "Location": {"type": "array", "items": {"type": "number"}, "minItems": 2,
                         "maxItems": 2, "description": "[lat, lon]"},
        },
        "responses": {
            "Overloaded": {
                "description": "The server is overloaded (`overloaded`), or the request "
                               "passed its time limit (`deadline_exceeded`); retry after "
                               "`Retry-After` seconds.",
                "headers": {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}},
                "content": {"application/json": {"schema": _ERROR}},
            },
            "Error": {"description": "An error in the JSON error shape.",
                      "content": {"application/json": {"schema": _ERROR}}},
        },
    },
}  # fmt: skip


# -- helpers for fragments --------------------------------------------------------------
def ref(name: str) -> dict[str, str]:
    """A reference to ``components/schemas/name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def json_body(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """A response (or request body) with one ``application/json`` schema."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def errors(*statuses: int) -> dict[str, Any]:
    """Error responses for these statuses, plus 503 (overload), all in the error shape."""
    out: dict[str, Any] = {str(s): {"$ref": "#/components/responses/Error"} for s in statuses}
    out["503"] = _SHED
    return out


def profile_parameters(names: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """JSON schemas of the profile parameter overrides (from the profile registry).

    Parameters
    ----------
    names
        Only these parameters; None for every parameter any profile has.
    """
    keys = list(names) if names is not None else list(PARAMETERS)
    out = {}
    for key in keys:
        spec = PARAMETERS[key]
        unit = f" ({spec.unit})" if spec.unit else ""
        schema: dict[str, Any] = {"description": spec.description + unit}
        if spec.kind is bool:
            schema["type"] = "boolean"
        else:
            schema.update(type="number", minimum=spec.minimum, maximum=spec.maximum)
        out[key] = schema
    return out


def profile_query_parameters() -> list[dict[str, Any]]:
    """``profile`` and every override, as query parameters of a GET request."""
    params = [{"name": "profile", "in": "query", "required": True,
               "schema": ref("ProfileName"),
               "description": "A profile from `/profiles`."}]  # fmt: skip
    for key, schema in profile_parameters().items():
        params.append({"name": key, "in": "query", "required": False, "schema": schema,
                       "description": schema["description"] + "; only for profiles that have "
                       "this parameter (see `/profiles`), else 400"})  # fmt: skip
    return params


# -- assembly ---------------------------------------------------------------------------
def build_spec(module_names: Iterable[str]) -> dict[str, Any]:
    """The OpenAPI document: :data:`BASE` plus each module's ``OPENAPI`` fragment.

    Raises
    ------
    ValueError
        Two fragments define the same path and method, or the same component.
    """
    spec = copy.deepcopy(BASE)
    for name in module_names:
        fragment = getattr(importlib.import_module(name), "OPENAPI", None)
        if not fragment:
            continue
        for path, operations in fragment.get("paths", {}).items():
            target = spec["paths"].setdefault(path, {})
            for method, operation in operations.items():
                if method in target:
                    raise ValueError(f"OpenAPI: {method.upper()} {path} is defined twice ({name})")
                target[method] = copy.deepcopy(operation)
        for kind, items in fragment.get("components", {}).items():
            target = spec["components"].setdefault(kind, {})
            for key, value in items.items():
                if key in target:
                    raise ValueError(f"OpenAPI: components/{kind}/{key} is defined twice ({name})")
                target[key] = copy.deepcopy(value)
    return spec


@bp.get("/openapi.json")
def openapi_document() -> ResponseReturnValue:
    """The OpenAPI 3.1 document of this server."""
    return jsonify(current_app.extensions[SPEC_EXTENSION])


@bp.get("/docs")
def docs_page() -> ResponseReturnValue:
    """A readable page rendered from ``/openapi.json`` by our own script."""
    response = send_from_directory(STATIC_DIR, "docs.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


_TEXT = {"text/html": {"schema": {"type": "string"}}}

OPENAPI: dict[str, Any] = {
    "paths": {
        "/openapi.json": {"get": {
            "summary": "This OpenAPI 3.1 document", "operationId": "getOpenapi", "tags": ["meta"],
            "responses": {"200": json_body({"type": "object", "required": ["openapi", "paths"]},
                                           "The document."), **errors()}}},
        "/docs": {"get": {
            "summary": "A readable page of this API", "operationId": "getDocs", "tags": ["meta"],
            "responses": {"200": {"description": "HTML page", "content": _TEXT}, **errors()}}},
    }
}  # fmt: skip
