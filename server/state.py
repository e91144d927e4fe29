"""What the app holds for its endpoints: the router, and room for the transit planner.

``app.extensions[EXTENSION]`` is a dict with these keys:

``router``
    The :class:`~routing.router.StreetRouter` (always set).
``router_lock``
    A lock to hold while calling the router: its per-profile preparation cache is not
    safe to update from several server threads at once.
``planner``
    The transit planner for ``/plan``; ``None`` until the planner is wired in
    (see the hook in :func:`server.create_app`).
``sources``
    The input files the graph was built from (``osm``, ``dem``, ``overlays``, ``gtfs``,
    ``cache_dir``), as given in the config; empty when a router was passed in.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app

from routing.router import StreetRouter

EXTENSION = "inclusive_routing"


def services() -> dict[str, Any]:
    """The current app's services dict (see the module docstring)."""
    return current_app.extensions[EXTENSION]


def get_router() -> StreetRouter:
    """The current app's street router."""
    return services()["router"]


@contextmanager
def locked_router() -> Iterator[StreetRouter]:
    """The router, held under its lock for the duration of the ``with`` block."""
    state = services()
    with state["router_lock"]:
        yield state["router"]
