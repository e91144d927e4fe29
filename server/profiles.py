"""``GET /profiles``: every travel profile with its parameters, defaults and ranges."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from routing.cost.profiles import PROFILE_NAMES, PROFILES

bp = Blueprint("profiles", __name__)


@bp.get("/profiles")
def list_profiles() -> ResponseReturnValue:
    """A JSON list: ``Profile.describe()`` of each profile, in the documented order."""
    names = list(PROFILE_NAMES) + [n for n in PROFILES if n not in PROFILE_NAMES]
    return jsonify([PROFILES[name].describe() for name in names])
