"""``GET /``: the accessible web page (static HTML, script and styles; no internet needed)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory
from flask.typing import ResponseReturnValue

STATIC_DIR = Path(__file__).resolve().parent / "static"

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The route planner page; its script talks to ``/profiles``, ``/health`` and ``/route``."""
    response = send_from_directory(STATIC_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response
