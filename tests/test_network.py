"""StreetNetwork: matrix, tree and path against a networkx Dijkstra on the same weights.

The oracle (tests/network_oracle.py) turns every snapped point into a real node by
splitting its edge, so it shares none of the service's virtual-node logic.
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from network_oracle import path_totals, split_graph
from scipy.sparse.csgraph import connected_components

from routing.cost import get_profile
from routing.errors import NoRouteError, OutsideAreaError
from routing.geo import haversine_m
from routing.network import StreetNetwork
from routing.snapping import Snap


@pytest.fixture(scope="module")
def networks(almaty_router, helsinki_router):
    return {"almaty": almaty_router.network, "helsinki": helsinki_router.network}


def _sample_points(net: StreetNetwork, profile, count: int, seed: int):
    """Seeded points a few tens of metres off random nodes, snapped for ``profile``."""
    g = net.graph
    rng = np.random.default_rng(seed)
    snaps = []
    for node in rng.permutation(g.n_nodes).tolist():
        lat = g.node_lat[node] + rng.normal(0, 1.5e-4)
        lon = g.node_lon[node] + rng.normal(0, 1.5e-4)
        try:
            snaps.append(net.snap((lat, lon), profile))
        except (NoRouteError, OutsideAreaError):
            continue
        if len(snaps) == count:
            return snaps
    raise AssertionError("too few snappable points")


def _assert_row(oracle, source_node, values, count, *, reverse=False):
    """One row (or column) of values equals the oracle's Dijkstra from ``source_node``."""
    graph = oracle.reverse(copy=False) if reverse else oracle
    dist, paths = nx.single_source_dijkstra(graph, source_node, weight="cost")
    cost, seconds, metres = values
    for j in range(count):
        expected = dist.get(("p", j), np.inf)
        assert cost[j] == pytest.approx(expected, rel=1e-9, abs=1e-6)
        if np.isfinite(expected):
            path = paths[("p", j)][::-1] if reverse else paths[("p", j)]
            totals = path_totals(oracle, path)
            assert (seconds[j], metres[j]) == pytest.approx(tuple(totals[1:]), rel=1e-6, abs=1e-6)
        else:
            assert not np.isfinite(seconds[j]) and not np.isfinite(metres[j])


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
@pytest.mark.parametrize(("limit", "hierarchy"),
                         [(np.inf, False), (1e9, None), (np.inf, True), (np.inf, "customized")],
                         ids=["compiled", "bounded-scipy", "hierarchy", "customized"])  # fmt: skip
def test_matrix_equals_networkx(networks, city, profile_name, limit, hierarchy):
    net = networks[city]
    profile = get_profile(profile_name)
    snaps = _sample_points(net, profile, 24, seed=11)
    # Several batches, one uneven (Dijkstra); or the contraction hierarchy (contracted for
    # these costs, or customized on the graph's shared order).
    m = net.matrix(snaps, snaps, profile, batch=7, limit=limit, hierarchy=hierarchy)
    oracle = split_graph(net, profile, snaps)
    for i in range(len(snaps)):
        _assert_row(oracle, ("p", i), (m.cost[i], m.seconds[i], m.metres[i]), len(snaps))
    assert np.all(np.diag(m.cost) == 0)
    assert m.reachable.mean() > 0.5  # the sample is not trivially disconnected
    # Fewer targets than sources: searched backward from the targets, same values; repeated
    # and unsnapped points are searched once / left unreachable.
    few = [snaps[3], None, snaps[5], snaps[3]]
    back = net.matrix(snaps, few, profile, batch=7, limit=limit, hierarchy=hierarchy)
    for name in ("cost", "seconds", "metres"):
        expected = getattr(m, name)[:, [3, 5]]
        found = getattr(back, name)
        assert np.allclose(found[:, [0, 2]], expected, rtol=1e-9, atol=1e-6)
        assert np.array_equal(found[:, 3], found[:, 0]) and not np.isfinite(found[:, 1]).any()


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_tree_forward_reverse_and_many_sources_equal_networkx(networks, city):
    net = networks[city]
    profile = get_profile("wheelchair_manual")
    snaps = _sample_points(net, profile, 20, seed=5)
    oracle = split_graph(net, profile, snaps)
    for reverse in (False, True):
        tree = net.tree([snaps[0]], profile, reverse=reverse)
        at = tree.at(snaps)
        _assert_row(oracle, ("p", 0), (at.cost[0], at.seconds[0], at.metres[0]), len(snaps),
                    reverse=reverse)  # fmt: skip
        # Node values too: the oracle's graph holds the real nodes under their own ids.
        graph = oracle.reverse(copy=False) if reverse else oracle
        dist = nx.single_source_dijkstra_path_length(graph, ("p", 0), weight="cost")
        nodes = np.arange(net.graph.n_nodes)
        expected = np.array([dist.get(int(v), np.inf) for v in nodes])
        assert np.allclose(tree.cost, expected, rtol=1e-9, atol=1e-6, equal_nan=False)
    # Many sources: the nearest of them, as a networkx multi-source search.
    sources = snaps[:3]
    tree = net.tree(sources, profile)
    dist = nx.multi_source_dijkstra_path_length(
        oracle, [("p", 0), ("p", 1), ("p", 2)], weight="cost"
    )
    at = tree.at(snaps)
    expected = np.array([dist.get(("p", j), np.inf) for j in range(len(snaps))])
    assert np.allclose(at.cost[0], expected, rtol=1e-9, atol=1e-6)


def test_limit_cuts_the_tree_and_the_matrix(networks):
    net = networks["almaty"]
    profile = get_profile("walk")
    snaps = _sample_points(net, profile, 12, seed=3)
    full = net.matrix(snaps, snaps, profile, hierarchy=False)  # the same Dijkstra, unbounded
    limit = float(np.median(full.cost[np.isfinite(full.cost)]))
    cut = net.matrix(snaps, snaps, profile, limit=limit)
    inside = full.cost <= limit
    assert np.array_equal(cut.cost[inside], full.cost[inside])
    assert np.allclose(cut.seconds[inside], full.seconds[inside], rtol=1e-9)
    assert not np.isfinite(cut.cost[~inside]).any()
    tree = net.tree([snaps[0]], profile, limit=limit)
    whole = net.tree([snaps[0]], profile)
    reached = np.isfinite(tree.cost)
    assert np.array_equal(reached, whole.cost <= limit)
    assert np.allclose(tree.seconds[reached], whole.seconds[reached])


def test_path_agrees_with_matrix_and_its_pieces(networks):
    net = networks["helsinki"]
    profile = get_profile("blind")
    snaps = _sample_points(net, profile, 8, seed=9)
    m = net.matrix(snaps, snaps, profile)
    for i, j in [(0, 1), (2, 3), (4, 5), (6, 7), (3, 3)]:
        path = net.path(snaps[i], snaps[j], profile)
        if not np.isfinite(m.cost[i, j]):
            assert path is None
            continue
        assert path.cost == pytest.approx(m.cost[i, j], rel=1e-9, abs=1e-6)
        assert path.seconds == pytest.approx(m.seconds[i, j], rel=1e-9, abs=1e-6)
        assert path.metres == pytest.approx(m.metres[i, j], rel=1e-9, abs=1e-6)


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_path_equals_networkx_for_short_and_long_pairs(networks, city, profile_name):
    """Every ordered pair of a seeded sample: random points far apart, plus points 30 to
    300 m from some of them (short routes, first search bound often enough)."""
    net = networks[city]
    profile = get_profile(profile_name)
    far = _sample_points(net, profile, 8, seed=23)
    rng = np.random.default_rng(23)
    near = []
    for snap in far[:4]:
        for _ in range(20):  # a point 30-300 m away that snaps for the profile
            bearing, metres = rng.uniform(0, 2 * np.pi), rng.uniform(30, 300)
            lat = snap.lat + metres * np.cos(bearing) / 111_320
            lon = snap.lon + metres * np.sin(bearing) / (111_320 * np.cos(np.radians(snap.lat)))
            try:
                near.append(net.snap((lat, lon), profile))
                break
            except (NoRouteError, OutsideAreaError):
                continue
    snaps = far + near
    oracle = split_graph(net, profile, snaps)
    found = {"short": 0, "long": 0, "none": 0}
    for i, a in enumerate(snaps):
        dist, paths = nx.single_source_dijkstra(oracle, ("p", i), weight="cost")
        for j, b in enumerate(snaps):
            path = net.path(a, b, profile)
            expected = dist.get(("p", j), np.inf)
            if not np.isfinite(expected):
                assert path is None
                found["none"] += 1
                continue
            totals = path_totals(oracle, paths[("p", j)])
            assert path.cost == pytest.approx(expected, rel=1e-9, abs=1e-6)
            assert (path.seconds, path.metres) == pytest.approx(tuple(totals[1:]), rel=1e-6,
                                                                abs=1e-6)  # fmt: skip
            crow = haversine_m(a.lat, a.lon, b.lat, b.lon)
            found["short" if crow < 500 else "long"] += 1
    assert found["short"] >= 4 and found["long"] >= 20, found


def test_path_to_a_separate_component_is_none_both_ways(networks):
    """The growing search stops once it has reached all it can (and finds no route)."""
    net = networks["almaty"]
    profile = get_profile("wheelchair_manual")
    pg = net.costs(profile)
    _, label = connected_components(pg.matrix, directed=True, connection="weak")
    sizes = np.bincount(label)
    g = net.graph
    inside = np.isfinite(pg.costs.cost) & (label[g.edge_u] == label[g.edge_v])
    # A point on an allowed edge of a small separate component, and one of the main one.
    small = np.flatnonzero(inside & (sizes[label[g.edge_u]] < 50))
    main = np.flatnonzero(inside & (label[g.edge_u] == np.argmax(sizes)))
    island, home = (Snap(edge=int(e[0]), t=0.5, lat=float(g.node_lat[g.edge_u[e[0]]]),
                         lon=float(g.node_lon[g.edge_u[e[0]]]), distance_m=0.0)
                    for e in (small, main))  # fmt: skip
    oracle = split_graph(net, profile, [home, island])
    for a, b, i, j in ((home, island, 0, 1), (island, home, 1, 0)):
        assert not nx.has_path(oracle, ("p", i), ("p", j))
        assert net.path(a, b, profile) is None
    assert net.path(home, home, profile).cost == 0


def test_points_on_one_edge_are_joined_directly(networks):
    net = networks["almaty"]
    profile = get_profile("walk")
    pg = net.costs(profile)
    edge = int(np.flatnonzero(np.isfinite(pg.costs.cost) & (net.graph.edge["length"] > 50))[0])
    a = Snap(edge=edge, t=0.2, lat=0.0, lon=0.0, distance_m=0.0)
    b = Snap(edge=edge, t=0.7, lat=0.0, lon=0.0, distance_m=0.0)
    m = net.matrix([a], [b], profile)
    assert m.cost[0, 0] == pytest.approx(0.5 * pg.costs.cost[edge])
    assert m.metres[0, 0] == pytest.approx(0.5 * net.graph.edge["length"][edge])


def test_unsnapped_points_give_unreachable_rows_and_columns(networks):
    net = networks["almaty"]
    profile = get_profile("walk")
    snaps = _sample_points(net, profile, 3, seed=1)
    m = net.matrix([snaps[0], None], [None, snaps[1]], profile)
    assert not np.isfinite(m.cost[1]).any() and not np.isfinite(m.cost[:, 0]).any()
    assert np.isfinite(m.cost[0, 1])


def test_snapping_index_is_shared_and_matches_a_brute_force_nearest(networks):
    """The compiled search finds the brute-force nearest segment exactly, ties to the
    lowest segment (points exactly at nodes tie), one point at a time or many at once."""
    net = networks["helsinki"]
    profile = get_profile("wheelchair_manual")
    usable = net.usable_edges(profile)
    sampler = net.sampler
    g = net.graph
    rng = np.random.default_rng(4)
    lat0, lon0, lat1, lon1 = g.bounds()
    nodes = rng.choice(g.n_nodes, 15)
    points = [(rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for _ in range(25)]
    points += list(zip(g.node_lat[nodes].tolist(), g.node_lon[nodes].tolist(), strict=True))
    lat, lon = np.array(points).T
    many = sampler.nearest_many(lat, lon, usable=usable)
    bounded = sampler.nearest_many(lat, lon, usable=usable, within_m=np.full(len(lat), 5.0))
    for (lat, lon), snap, near in zip(points, many, bounded, strict=True):
        assert sampler.nearest(lat, lon, usable=usable) == snap
        # Brute force over every usable segment.
        p = net.projection.forward(lat, lon)
        keep = np.flatnonzero(usable[sampler.seg_edge])
        a, b = sampler.seg_a[keep], sampler.seg_b[keep]
        d = b - a
        s = np.clip(((p - a) * d).sum(1) / np.maximum((d * d).sum(1), 1e-12), 0, 1)
        dist = np.hypot(*(a + d * s[:, None] - p).T)
        best = int(np.argmin(dist))  # the first of equally near segments
        assert snap.distance_m == dist[best]
        assert snap.edge == sampler.seg_edge[keep[best]]
        assert near == (snap if snap.distance_m <= 5.0 else None)


@pytest.mark.parametrize("name", ["walk", "wheelchair_manual", "blind"])
def test_snap_all_gives_what_snap_gives_point_by_point(networks, name):
    """The batch gives each point's snap, or in its place the error ``snap`` raises (same
    class and message), over points off the area, far from usable ways and at nodes."""
    net = networks["helsinki"]
    profile = get_profile(name)
    g = net.graph
    rng = np.random.default_rng(8)
    lat0, lon0, lat1, lon1 = g.bounds()
    pad = 0.01  # ~1 km beyond the extract's nodes
    points = [(rng.uniform(lat0 - pad, lat1 + pad), rng.uniform(lon0 - pad, lon1 + pad))
              for _ in range(150)]  # fmt: skip
    nodes = rng.choice(g.n_nodes, 150)
    points += list(zip(g.node_lat[nodes].tolist(), g.node_lon[nodes].tolist(), strict=True))
    usable = net.usable_edges(profile)
    seen = {"snap": 0, "second look": 0, "NoRouteError": 0, "OutsideAreaError": 0}
    for i, (point, answer) in enumerate(zip(points, net.snap_all(points, profile, "stops"),
                                            strict=True)):  # fmt: skip
        try:
            want = net.snap(point, profile, f"stops[{i}]")
        except (NoRouteError, OutsideAreaError) as err:
            assert type(answer) is type(err) and answer.to_dict() == err.to_dict()
            seen[type(err).__name__] += 1
        else:
            assert answer == want
            seen["snap"] += 1
            nearest = net.sampler.nearest(*point)
            seen["second look"] += not usable[nearest.edge]  # the nearest way was not usable
    assert seen["snap"] and seen["OutsideAreaError"], seen
    assert seen["second look"] or seen["NoRouteError"], seen


def test_partial_geometry_is_the_numpy_interpolation_along_the_edge(networks):
    """The compiled cut of an edge's line gives, bit for bit, numpy's interpolation of
    the running length (ends at the fractions, the points strictly between)."""
    net = networks["helsinki"]
    g, proj = net.graph, net.projection
    rng = np.random.default_rng(8)
    for edge in rng.choice(g.n_edges, 300, replace=False).tolist():
        geom = g.edge_geometry(edge)
        xy = proj.forward(geom[:, 0], geom[:, 1])
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        total = max(cum[-1], 1e-9)
        # Random fractions, the ends, and fractions exactly at the line's own points.
        t0, t1 = sorted(rng.choice([0.0, 1.0, *rng.random(2), *(cum / total)], 2))
        s0, s1 = t0 * total, t1 * total
        ends = [[np.interp(s, cum, xy[:, 0]), np.interp(s, cum, xy[:, 1])] for s in (s0, s1)]
        pts = np.vstack([ends[0], xy[(cum > s0) & (cum < s1)], ends[1]])
        want = np.stack(proj.inverse(pts), axis=1)
        assert net.sampler.partial_geometry(edge, t0, t1).tobytes() == want.tobytes()


def test_a_point_at_a_node_leaves_by_any_edge_of_the_node():
    from routing_helpers import router_for

    net = router_for("ramp_island.osm.xml").network
    profile = get_profile("wheelchair_manual")  # may not climb the ramp (way 500)
    g, cost = net.graph, net.costs(profile).costs.cost
    top = int(np.flatnonzero(g.node_osmid == 2)[0])
    east = int(np.flatnonzero(g.node_osmid == 20)[0])
    flat = int(np.flatnonzero((g.edge_u == top) & (g.edge_v == east))[0])
    target = net.at_node(east)
    # Down the ramp is allowed, its reverse (up) is not: the point at the top must still
    # leave eastwards on the flat path.
    for edge in np.flatnonzero(g.edge_u == top).tolist():
        at_top = Snap(edge=edge, t=0.0, lat=0.0, lon=0.0, distance_m=0.0)
        m = net.matrix([at_top], [target], profile)
        assert m.cost[0, 0] == pytest.approx(cost[flat])
        assert net.path(at_top, target, profile).cost == pytest.approx(cost[flat])
        assert net.tree([at_top], profile).at([target]).cost[0, 0] == pytest.approx(cost[flat])


def test_tree_with_start_times_equals_networkx_from_a_super_source(networks):
    net = networks["helsinki"]
    profile = get_profile("walk")
    snaps = _sample_points(net, profile, 10, seed=21)
    oracle = split_graph(net, profile, snaps)
    starts = [0.0, 120.0, 600.0]
    for i, s in enumerate(starts):
        oracle.add_edge("super", ("p", i), cost=s, seconds=s, metres=0.0)
    dist, paths = nx.single_source_dijkstra(oracle, "super", weight="cost")
    tree = net.tree(snaps[:3], profile, start_s=starts)
    at = tree.at(snaps)
    for j in range(len(snaps)):
        expected = dist.get(("p", j), np.inf)
        assert at.cost[0, j] == pytest.approx(expected, rel=1e-9, abs=1e-6)
        if np.isfinite(expected):
            seconds = path_totals(oracle, paths[("p", j)])[1]
            assert at.seconds[0, j] == pytest.approx(seconds, rel=1e-6, abs=1e-6)


def test_search_graph_keeps_the_lowest_id_cheapest_of_parallel_edges(networks):
    net = networks["helsinki"]
    pg = net.costs(get_profile("walk"))
    g, cost, m = net.graph, pg.costs.cost, pg.matrix
    by_pair: dict[tuple[int, int], list[int]] = {}
    for e in range(g.n_edges):
        by_pair.setdefault((int(g.edge_u[e]), int(g.edge_v[e])), []).append(e)
    parallel = [(pair, edges) for pair, edges in by_pair.items() if len(edges) > 1]
    assert len(parallel) > 50  # the check below is not idle
    tails = np.repeat(np.arange(g.n_nodes), np.diff(m.indptr))
    kept = {(int(a), int(b)): int(e) for a, b, e in zip(tails, m.indices, pg.entry_edge,
                                                          strict=True)}  # fmt: skip
    assert len(kept) == m.nnz
    for pair, edges in parallel:
        low = min(cost[e] for e in edges)
        if not np.isfinite(low):
            assert pair not in kept
            continue
        assert kept[pair] == min(e for e in edges if cost[e] == low)
        assert m[pair[0], pair[1]] == low
    # edge_between (one binary search in the tail's row) finds every kept entry.
    assert all(pg.edge_between(a, b) == e for (a, b), e in kept.items())


def test_a_new_override_value_answers_as_a_network_built_from_scratch(almaty_graph, networks):
    """A network that has answered with the base profile and other values first (sharing
    what does not depend on the value) gives what a fresh network gives for that value."""
    net = networks["almaty"]
    base = get_profile("wheelchair_manual")
    faster = get_profile("wheelchair_manual", {"speed_mps": 1.3})  # same ways allowed
    steeper = get_profile("wheelchair_manual", {"max_uphill": 0.09})  # more ways allowed
    a, b = _sample_points(net, base, 2, seed=11)
    for profile in (base, steeper, faster):
        net.leavable_edges(profile)  # the island search, cached per profile
        net.path(a, b, profile)
    # The speed override shares the base's structures; the grade one cannot.
    assert net.usable_edges(faster) is net.usable_edges(base)
    assert net.leavable_edges(faster) is net.leavable_edges(base)
    assert not np.array_equal(net.usable_edges(steeper), net.usable_edges(base))
    for profile in (faster, steeper):
        fresh = StreetNetwork(almaty_graph)
        pg, scratch = net.costs(profile), fresh.costs(profile)
        for name in ("seconds", "cost", "blocked", "unknown", "node_usable"):
            assert np.array_equal(getattr(pg.costs, name), getattr(scratch.costs, name))
        assert (pg.matrix != scratch.matrix).nnz == 0
        assert np.array_equal(pg.entry_edge, scratch.entry_edge)
        assert np.array_equal(net.usable_edges(profile), fresh.usable_edges(profile))
        for reverse in (False, True):
            assert np.array_equal(net.leavable_edges(profile, reverse=reverse),
                                  fresh.leavable_edges(profile, reverse=reverse))  # fmt: skip
        src, dst = net.snap((a.lat, a.lon), profile), net.snap((b.lat, b.lon), profile)
        assert src == fresh.snap((a.lat, a.lon), profile)
        for reverse in (False, True):
            assert net.snap((b.lat, b.lon), profile, leavable=True, reverse=reverse) == \
                fresh.snap((b.lat, b.lon), profile, leavable=True, reverse=reverse)
        got, want = net.path(src, dst, profile), fresh.path(src, dst, profile)
        assert got is not None and want is not None
        assert got.cost == want.cost and len(got.pieces) == len(want.pieces) > 0
        for x, y in zip(got.pieces, want.pieces, strict=True):
            assert (x.edge, x.fraction, x.seconds, x.length_m) == \
                (y.edge, y.fraction, y.seconds, y.length_m)
            assert np.array_equal(x.geometry, y.geometry)


def test_the_search_graph_arrays_are_its_sparse_matrix(networks):
    # Searches read the arrays; the scipy view made on first use shares them (no copy).
    pg = networks["helsinki"].costs(get_profile("walk"))
    m = pg.matrix
    for view, array in ((m.data, pg.data), (m.indices, pg.indices), (m.indptr, pg.indptr)):
        assert np.shares_memory(view, array)
    assert m.shape == (pg.n_nodes, pg.n_nodes) and m.nnz == pg.nnz == len(pg.entry_edge)
    assert m.has_sorted_indices and pg.indices.dtype == pg.entry_edge.dtype == np.int32
    assert np.array_equal(pg.data, pg.costs.cost[pg.entry_edge])
