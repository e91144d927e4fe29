"""Routes on the real Almaty and Helsinki extracts, checked against networkx as the oracle."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routing.cost import PROFILE_NAMES, get_profile
from routing.errors import NoRouteError
from routing.graph import attributes as at
from routing.search import ProfileGraph
from routing.tristate import YES

ALMATY_PLACES = {
    "Republic Square": (43.2380, 76.9455),
    "Panfilov Park": (43.2587, 76.9537),
    "Green Bazaar": (43.2627, 76.9535),
    "Abai Opera": (43.2497, 76.9454),
    "KBTU (Tole Bi)": (43.2556, 76.9434),
}
HELSINKI_PLACES = {
    "Central railway station": (60.1710, 24.9414),
    "Senate Square": (60.1695, 24.9522),
    "Kamppi": (60.1688, 24.9320),
    "Esplanadi": (60.1676, 24.9474),
}


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_almaty_routes_exist_between_real_places(almaty_router, profile):
    names = list(ALMATY_PLACES)
    found = 0
    for a, b in zip(names, names[1:], strict=False):
        try:
            route = almaty_router.route(ALMATY_PLACES[a], ALMATY_PLACES[b], get_profile(profile))
        except NoRouteError as exc:
            assert exc.details.get("walking_route") or exc.details.get("barriers") is not None
            continue
        found += 1
        assert route.distance_m > 100
        assert route.steps and all(s.instruction for s in route.steps)
    assert found >= 3


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_helsinki_routes_exist_between_real_places(helsinki_router, profile):
    route = helsinki_router.route(
        HELSINKI_PLACES["Central railway station"],
        HELSINKI_PLACES["Senate Square"],
        get_profile(profile),
    )
    assert 500 < route.distance_m < 2500


def _random_usable_pairs(router, profile, count, seed):
    pg = router.network.costs(profile)
    usable = np.flatnonzero(pg.costs.node_usable)
    rng = np.random.default_rng(seed)
    return pg, rng.choice(usable, size=(count, 2))


@pytest.mark.parametrize("profile", ["wheelchair_manual", "wheelchair_electric"])
def test_no_wheelchair_route_uses_steps_without_ramp(helsinki_router, profile):
    r = helsinki_router
    g = r.graph
    pg, pairs = _random_usable_pairs(r, get_profile(profile), 40, seed=7)
    lat, lon = g.node_lat, g.node_lon
    routed = 0
    for a, b in pairs:
        try:
            route = r.route((lat[a], lon[a]), (lat[b], lon[b]), pg.profile)
        except NoRouteError:
            continue
        routed += 1
        for e in route.edges:
            assert not (g.edge["kind"][e] == at.WAY_KIND["steps"] and g.edge["ramp"][e] != YES)
    assert routed >= 20


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile", ["walk", "wheelchair_manual", "blind", "low_vision"])
def test_fast_path_matches_networkx_dijkstra(request, city, profile):
    router = request.getfixturevalue(f"{city}_router")
    pg, pairs = _random_usable_pairs(router, get_profile(profile), 15, seed=42)
    weights = pg.costs.cost

    def weight(u, v, data):
        # networkx hides an edge whose weight callable returns None.
        best = min(weights[k] for k in data)
        return None if not np.isfinite(best) else best

    oracle = nx.MultiDiGraph()
    g = router.graph
    for e in range(g.n_edges):
        oracle.add_edge(int(g.edge_u[e]), int(g.edge_v[e]), key=e)
    compared = 0
    for a, b in pairs:
        dist = router.network.tree([router.network.at_node(int(a))], pg.profile).cost
        try:
            expected = nx.dijkstra_path_length(oracle, int(a), int(b), weight=weight)
        except nx.NetworkXNoPath:
            assert not np.isfinite(dist[b])
            continue
        assert dist[b] == pytest.approx(expected, rel=1e-9, abs=1e-6)
        compared += 1
    assert compared >= 10


def test_route_cost_is_the_sum_of_its_edges(almaty_router):
    p = get_profile("wheelchair_manual")
    route = almaty_router.route((43.2380, 76.9455), (43.2497, 76.9454), p)
    xy = almaty_router.network.projection.forward(*route.geometry.T)
    geometry_len = float(np.hypot(*np.diff(xy, axis=0).T).sum())
    assert geometry_len == pytest.approx(route.distance_m, rel=0.02)
    assert route.cost >= route.duration_s * 0.99


def test_profile_graph_keeps_cheapest_parallel_edge(almaty_graph):
    pg = ProfileGraph.build(almaty_graph, get_profile("walk"))
    m = pg.matrix
    assert m.nnz == len(pg.entry_edge)
    assert np.allclose(m.data, pg.costs.cost[pg.entry_edge])
