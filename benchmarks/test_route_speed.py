"""Route query time per profile beside osmnx.shortest_path on the same graph and weights.

Run: ``make bench`` (or ``pytest benchmarks --benchmark-only``), then
``python benchmarks/ratios.py .benchmarks/latest.json`` prints median ratios.
Each round routes the next of 200 seeded random pairs, so the median is a per-query median.
"""

from __future__ import annotations

import itertools

import numpy as np
import osmnx as ox
import pytest

from routing.cost import PROFILE_NAMES, get_profile
from routing.graph.pipeline import load_graph

PROFILES = list(PROFILE_NAMES)
PAIRS = 200


def _pairs(router, profile, seed=2026):
    pg = router.network.costs(profile)
    usable = np.flatnonzero(pg.costs.node_usable)
    rng = np.random.default_rng(seed)
    return pg, rng.choice(usable, size=(PAIRS, 2))


def _cycle_route(router, profile, pairs):
    g = router.graph
    points = [((g.node_lat[a], g.node_lon[a]), (g.node_lat[b], g.node_lon[b])) for a, b in pairs]
    it = itertools.cycle(points)

    def one():
        a, b = next(it)
        try:
            return router.route(a, b, profile)
        except Exception:  # no route is a valid answer here; it was still computed
            return None

    return one


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", PROFILES)
def test_route_query(benchmark, request, city, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    profile = get_profile(profile_name)
    _, pairs = _pairs(router, profile)
    benchmark.group = f"route {city}"
    benchmark.extra_info.update(city=city, profile=profile_name, kind="ours_route")
    benchmark.pedantic(
        _cycle_route(router, profile, pairs), rounds=PAIRS, iterations=1, warmup_rounds=3
    )


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_osmnx_shortest_path(benchmark, request, city, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    profile = get_profile(profile_name)
    pg, pairs = _pairs(router, profile)
    graph = router.graph.to_networkx(pg.costs.cost, weight="cost")
    it = itertools.cycle([(int(a), int(b)) for a, b in pairs])

    def one():
        a, b = next(it)
        return ox.shortest_path(graph, a, b, weight="cost")

    benchmark.group = f"route {city}"
    benchmark.extra_info.update(city=city, profile=profile_name, kind="osmnx")
    benchmark.pedantic(one, rounds=PAIRS, iterations=1, warmup_rounds=3)


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_node_to_node_search(benchmark, request, city):
    """Our search alone, node to node, the like-for-like of osmnx.shortest_path."""
    router = request.getfixturevalue(f"{city}_router")
    pg, pairs = _pairs(router, get_profile("walk"))
    it = itertools.cycle([(int(a), int(b)) for a, b in pairs])

    def one():
        a, _ = next(it)
        return router.network.tree([router.network.at_node(a)], pg.profile)

    benchmark.group = f"route {city}"
    benchmark.extra_info.update(city=city, profile="walk", kind="ours_search")
    benchmark.pedantic(one, rounds=PAIRS, iterations=1, warmup_rounds=3)


def test_almaty_build_without_cache(benchmark, shared_data):
    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    osm = shared_data / "almaty/osm/almaty-2012.osm.pbf"
    benchmark.group = "build"
    benchmark.pedantic(lambda: load_graph(osm, dem=dem), rounds=3, iterations=1)


def test_almaty_load_from_cache(benchmark, shared_data, tmp_path):
    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    osm = shared_data / "almaty/osm/almaty-2012.osm.pbf"
    load_graph(osm, dem=dem, cache_dir=tmp_path)
    benchmark.group = "build"
    graph = benchmark.pedantic(
        lambda: load_graph(osm, dem=dem, cache_dir=tmp_path), rounds=5, iterations=1
    )
    assert graph.meta["cache"]["hit"] is True


def test_router_start_up(benchmark, almaty_graph):
    """Cold start after the cache load: snapping index and reverse-edge table."""
    from routing.router import StreetRouter

    benchmark.group = "build"
    benchmark.pedantic(lambda: StreetRouter(almaty_graph), rounds=3, iterations=1)
