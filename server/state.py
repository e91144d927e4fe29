"""What the app holds for its endpoints: the street router and the transit planner.

``app.extensions[EXTENSION]`` is a dict with these keys:

``router``
    The :class:`~routing.router.StreetRouter` (always set).
``router_lock``
    A :class:`~server.overload.LoadShedder`: a lane's slot is held while calling the router
    or the planner (``route`` for ``/route``, ``heavy`` for the rest: the planner's caches
    are not safe to update from several threads at once, so they stay in one lane); when
    too many requests wait in a lane, :func:`locked_router` raises 503 ``overloaded``, and a
    computation past its lane's time limit stops with 503 ``deadline_exceeded``.
``planner``
    The :class:`~routing.transit.planner.TransitPlanner` for ``/plan``, or ``None`` when no
    GTFS feed is configured (``/plan`` then answers 503 ``transit_unavailable``).
``places``
    The :class:`~routing.places.PlaceIndex` behind ``/places`` (built on first use).
``sources``
    The input files the graph was built from (``osm``, ``dem``, ``overlays``, ``cache_dir``)
    and the transit inputs (``gtfs``, ``transit_overlays``), as given in the config.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import current_app

from routing.places import PlaceIndex, build_place_index
from routing.router import StreetRouter
from routing.transit.planner import TransitPlanner
from server.overload import HEAVY

EXTENSION = "inclusive_routing"


def services() -> dict[str, Any]:
    """The current app's services dict (see the module docstring)."""
    return current_app.extensions[EXTENSION]


def get_router() -> StreetRouter:
    """The current app's street router."""
    return services()["router"]


def get_planner() -> TransitPlanner | None:
    """The current app's transit planner, or None when transit is not configured."""
    return services().get("planner")


@contextmanager
def locked_router(lane: str = HEAVY) -> Iterator[StreetRouter]:
    """The router, with ``lane``'s computing slot held for the ``with`` block.

    The block runs under the lane's time limit (:mod:`routing.deadline`). ``/route`` uses
    the ``route`` lane; every other computing endpoint the ``heavy`` one (the default).

    Raises
    ------
    OverloadedError
        Too many requests wait in the lane (503 with ``Retry-After``).
    DeadlineExceededError
        The computation passed the lane's time limit (503 with ``Retry-After``).
    """
    state = services()
    with state["router_lock"].admit(lane):
        yield state["router"]


def get_places() -> PlaceIndex:
    """The place index, built on first use from ``OSM`` and ``PLACE_OVERPASS``/``PLACE_STATIONS``.

    Building takes about half a second on the Almaty data, so apps that never search (most
    tests) never pay for it.
    """
    state = services()
    with state.setdefault("places_lock", threading.Lock()):
        if state.get("places") is None:
            config = current_app.config
            osm = config.get("OSM")
            state["places"] = build_place_index(
                osm=Path(osm) if osm else None,
                overpass=[Path(p) for p in config.get("PLACE_OVERPASS") or ()],
                stations=[Path(p) for p in config.get("PLACE_STATIONS") or ()],
            )
        return state["places"]
