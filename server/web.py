"""``GET /``: the accessible web page (static HTML, script and styles; no internet needed)."""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, send_from_directory
from flask.typing import ResponseReturnValue

from server.openapi import errors

STATIC_DIR = Path(__file__).resolve().parent / "static"

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """The route planner page; its script talks to ``/profiles``, ``/health`` and ``/route``."""
    response = send_from_directory(STATIC_DIR, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    return response


OPENAPI = {
    "paths": {
        "/": {"get": {
            "summary": "The accessible route planner web page", "operationId": "getIndex",
            "tags": ["meta"],
            "responses": {"200": {"description": "HTML page",
                                  "content": {"text/html": {"schema": {"type": "string"}}}},
                          **errors()}}},
    }
}  # fmt: skip
