"""``GET /profiles``: every travel profile with its parameters, defaults and ranges."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from routing.cost.profiles import PROFILES
from server.openapi import errors, json_body, profile_names, ref

bp = Blueprint("profiles", __name__)


@bp.get("/profiles")
def list_profiles() -> ResponseReturnValue:
    """A JSON list: ``Profile.describe()`` of each profile, in the documented order."""
    names = profile_names()
    return jsonify([PROFILES[name].describe() for name in names])


OPENAPI = {
    "paths": {
        "/profiles": {"get": {
            "summary": "Every travel profile with its parameters, defaults and ranges",
            "operationId": "listProfiles", "tags": ["routing"],
            "responses": {"200": json_body({"type": "array", "items": ref("Profile")},
                                           "The profiles, in the documented order."),
                          **errors()}}},
    },
    "components": {"schemas": {
        "Profile": {
            "type": "object", "required": ["name", "label", "wheelchair", "parameters"],
            "properties": {
                "name": {"type": "string"}, "label": {"type": "string"},
                "wheelchair": {"type": "boolean"},
                "parameters": {"type": "array", "items": {
                    "type": "object",
                    "required": ["name", "description", "unit", "default", "type", "minimum",
                                 "maximum", "source"],
                    "properties": {
                        "name": {"type": "string"}, "description": {"type": "string"},
                        "unit": {"type": "string"},
                        "default": {"type": ["number", "boolean"]},
                        "type": {"enum": ["number", "boolean"]},
                        "minimum": {"type": "number"}, "maximum": {"type": "number"},
                        "source": {"type": "string"}}}},
            },
        },
    }},
}  # fmt: skip
