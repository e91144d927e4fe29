"""Helpers shared by the routing tests (not fixtures of their own)."""

from __future__ import annotations

from pathlib import Path

from routing.cost import get_profile
from routing.graph.pipeline import load_graph
from routing.router import StreetRouter

OSM_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "osm"
OVERLAY_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "overlays_rules"


def router_for(name: str, *, overlays=(), dem=()) -> StreetRouter:
    """A router on a hand-written fixture (no cache: fixtures build in milliseconds)."""
    return StreetRouter(load_graph(OSM_FIXTURES / name, overlays=overlays, dem=dem))


def way_ids(router: StreetRouter, route) -> list[int]:
    """OSM way ids along a route, without repeats in a row."""
    out: list[int] = []
    for e in route.edges:
        w = int(router.graph.edge["osmid"][e])
        if not out or out[-1] != w:
            out.append(w)
    return out


def route_ways(router, a, b, profile, **overrides):
    return way_ids(router, router.route(a, b, get_profile(profile, overrides)))
