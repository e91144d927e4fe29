"""Contraction hierarchies: queries equal an exact oracle, the matrix equals Dijkstra's.

Small seeded random graphs (one-way arcs, parallel arcs, self-loops, unreachable parts,
several links per point) are checked against a plain Dijkstra over the same arcs with
*integer* costs, so that ties are many and exact: the hierarchy's cost must be the least,
and its seconds and metres those of one of the least-cost paths (every such path's sums
are enumerated). The street matrix on the hierarchy is checked against the Dijkstra
matrix on hand-made fixtures and on both cities, and against networkx in test_network.py.
"""

from __future__ import annotations

import heapq

import numpy as np
import pytest
from routing_helpers import router_for
from scipy.sparse import csr_matrix

import routing.network as network_module
from routing.contraction import ContractionHierarchy
from routing.cost import get_profile
from routing.cost.profiles import PROFILES
from routing.network import StreetNetwork
from routing.snapping import Snap


def _random_graph(rng, n: int, arcs: int):
    """CSR with parallel entries and self-loops kept; integer costs, half-unit sums."""
    tail = rng.integers(0, n - 3, arcs)  # the last three nodes have no way out
    head = rng.integers(0, n, arcs)
    cost = rng.integers(1, 6, arcs).astype(float)
    seconds = rng.integers(1, 40, arcs) / 2.0  # exact in binary: sums in any order agree
    metres = rng.integers(1, 80, arcs) / 2.0
    order = np.argsort(tail, kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail, minlength=n), out=indptr[1:])
    graph = csr_matrix((cost[order], head[order].astype(np.int32), indptr), shape=(n, n))
    return graph, seconds[order], metres[order]


def _links(rng, n: int, count: int):
    """Per point 0-2 links (node, integer cost, seconds, metres); some points have none."""
    out = []
    for _ in range(count):
        k = rng.choice([0, 1, 2, 2], 1)[0]
        out.append([(int(rng.integers(0, n)), float(rng.integers(0, 3)),
                     float(rng.integers(0, 9)) / 2, float(rng.integers(0, 9)) / 2)
                    for _ in range(k)])  # fmt: skip
    return out


def _optimal_sums(graph, seconds, metres, links):
    """Per node: least cost from the links, and the set of (seconds, metres) over all
    least-cost paths (a Dijkstra, then the sums along its shortest-path DAG)."""
    n = graph.shape[0]
    dist = np.full(n, np.inf)
    sums: list[set] = [set() for _ in range(n)]
    queue = []
    for node, c, _s, _m in links:
        if c < dist[node]:
            dist[node] = c
        heapq.heappush(queue, (c, node))
    settled = np.zeros(n, dtype=bool)
    order = []
    while queue:
        d, u = heapq.heappop(queue)
        if settled[u] or d > dist[u]:
            continue
        settled[u] = True
        order.append(u)
        for e in range(graph.indptr[u], graph.indptr[u + 1]):
            v = graph.indices[e]
            if d + graph.data[e] < dist[v]:
                dist[v] = d + graph.data[e]
                heapq.heappush(queue, (dist[v], v))
    for node, c, s, m in links:
        if c == dist[node]:
            sums[node].add((s, m))
    for u in order:  # increasing cost: every DAG predecessor comes first (costs >= 1)
        for e in range(graph.indptr[u], graph.indptr[u + 1]):
            v = graph.indices[e]
            if v != u and dist[u] + graph.data[e] == dist[v]:
                sums[v] |= {(s + seconds[e], m + metres[e]) for s, m in sums[u]}
    return dist, sums


def _check_against_oracle(ch, graph, seconds, metres, sources, targets) -> int:
    """Every (source, target) of ``ch.many_to_many`` against the exact oracle; returns how
    many pairs are reachable."""
    cost, sec, met = ch.many_to_many(sources, targets)
    reached = 0
    for i, links in enumerate(sources):
        dist, sums = _optimal_sums(graph, seconds, metres, links)
        for j, ends in enumerate(targets):
            # Arrive at target j through its links: least total, and every optimal sum.
            best, options = np.inf, set()
            for node, c, s, m in ends:
                total = dist[node] + c
                if total < best:
                    best, options = total, set()
                if total == best and np.isfinite(total):
                    options |= {(a + s, b + m) for a, b in sums[node]}
            assert cost[i, j] == best
            if np.isfinite(best):
                reached += 1
                assert (sec[i, j], met[i, j]) in options
            else:
                assert not np.isfinite(sec[i, j]) and not np.isfinite(met[i, j])
    return reached


@pytest.mark.parametrize("seed", range(6))
def test_many_to_many_equals_an_exact_oracle_with_ties(seed):
    rng = np.random.default_rng(seed)
    n = 60
    graph, seconds, metres = _random_graph(rng, n, 170)
    ch = ContractionHierarchy.build(graph, seconds, metres)
    sources, targets = _links(rng, n, 12), _links(rng, n, 15)
    targets[3] = [(x[0], x[1], x[2], x[3]) for x in sources[2]]  # a source's own node(s)
    reached = _check_against_oracle(ch, graph, seconds, metres, sources, targets)
    assert reached > 40  # the sample is not trivially disconnected
    assert ch.n_shortcuts > 0  # the hierarchy was exercised


def test_save_and_load_round_trip_and_reject_a_damaged_file(tmp_path):
    graph, seconds, metres = _random_graph(np.random.default_rng(7), 40, 120)
    ch = ContractionHierarchy.build(graph, seconds, metres)
    path = tmp_path / "h.npz"
    ch.save(path)
    back = ContractionHierarchy.load(path)
    assert np.array_equal(back.rank, ch.rank)
    for name in ("indptr", "head", "middle", "cost", "seconds", "metres"):
        assert np.array_equal(getattr(back.up, name), getattr(ch.up, name))
        assert np.array_equal(getattr(back.down, name), getattr(ch.down, name))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(Exception):  # noqa: B017 - any read error means: rebuild it
        ContractionHierarchy.load(path)


def _fixture_points(net, profile, rng, count):
    """Points along random usable edges (some at an end, some sharing an edge)."""
    usable = np.flatnonzero(net.usable_edges(profile))
    points = []
    for _ in range(count):
        e = int(rng.choice(usable))
        t = float(rng.choice([0.0, 1.0, rng.uniform(), rng.uniform()]))
        points.append(Snap(edge=e, t=t, lat=0.0, lon=0.0, distance_m=0.0))
    # Two more on the first point's edge, one of them given on its reverse edge.
    first, rev = points[0], int(net.reverse_edge[points[0].edge])
    points.append(Snap(edge=first.edge, t=0.5 * (1 + first.t), lat=0.0, lon=0.0, distance_m=0.0))
    if rev >= 0:
        points.append(Snap(edge=rev, t=0.5 * (1 - first.t), lat=0.0, lon=0.0, distance_m=0.0))
    return points


@pytest.mark.parametrize("fixture", ["crossings.osm.xml", "mapped_sidewalks.osm.xml",
                                     "steps.osm.xml", "island_footway.osm.xml"])  # fmt: skip
def test_matrix_on_the_hierarchy_equals_dijkstra_on_fixtures(fixture):
    net = router_for(fixture).network
    rng = np.random.default_rng(3)
    for name in PROFILES:
        profile = get_profile(name)
        points = _fixture_points(net, profile, rng, 14)
        sources = points[:9] + [None, points[0]] + points[14:]
        targets = points[5:] + [None, points[1], points[0]]
        slow = net.matrix(sources, targets, profile, hierarchy=False)
        fast = net.matrix(sources, targets, profile, hierarchy=True)
        _assert_same(slow, fast)


def _assert_same(slow, fast):
    """Costs to 1e-9 relative; seconds and metres equal (unique optimal paths here)."""
    assert np.array_equal(np.isfinite(slow.cost), np.isfinite(fast.cost))
    for name in ("cost", "seconds", "metres"):
        a, b = getattr(slow, name), getattr(fast, name)
        assert np.allclose(a, b, rtol=1e-9, atol=1e-6), name


def _city_points(net, profile, seed: int):
    """70 sources and 81 targets: points near random nodes, snapped (one target repeats a
    source)."""
    rng = np.random.default_rng(seed)
    points = []
    while len(points) < 150:
        node = int(rng.integers(net.graph.n_nodes))
        lat = net.graph.node_lat[node] + rng.normal(0, 2e-4)
        lon = net.graph.node_lon[node] + rng.normal(0, 2e-4)
        try:
            points.append(net.snap((lat, lon), profile))
        except Exception:  # noqa: BLE001 - outside the area or no usable way: skip it
            continue
    sources, targets = points[:70], points[70:] + [points[3]]
    return sources, targets


@pytest.mark.integration
@pytest.mark.parametrize(("city", "profile_name"),
                         [("almaty", "walk"), ("helsinki", "wheelchair_manual")])  # fmt: skip
def test_matrix_on_the_hierarchy_equals_dijkstra_on_the_cities(almaty_router, helsinki_router,
                                                               city, profile_name):  # fmt: skip
    net = (almaty_router if city == "almaty" else helsinki_router).network
    profile = get_profile(profile_name)
    sources, targets = _city_points(net, profile, 21)
    slow = net.matrix(sources, targets, profile, hierarchy=False)
    fast = net.matrix(sources, targets, profile, hierarchy=True)
    assert np.isfinite(fast.cost).mean() > 0.5
    _assert_same(slow, fast)
    as32 = net.matrix(sources, targets, profile, dtype=np.float32)
    assert as32.cost.dtype == np.float32
    assert np.allclose(as32.seconds, fast.seconds, rtol=1e-6)


def test_building_waits_until_it_pays_and_is_kept_on_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(network_module, "HIERARCHY_BUILD_SEARCHES", 20)
    monkeypatch.setattr(network_module, "HIERARCHY_LOAD_SEARCHES", 4)
    graph = router_for("mapped_sidewalks.osm.xml").graph
    net = StreetNetwork(graph, cache_dir=tmp_path)
    profile = get_profile("wheelchair_manual")
    points = _fixture_points(net, profile, np.random.default_rng(5), 8)[:8]
    expected = net.matrix(points, points, profile, hierarchy=False)
    net.matrix(points, points, profile)  # 8 Dijkstra searches: no build
    net.matrix(points, points, profile)  # 16
    monkeypatch.setattr(network_module, "HIERARCHY_SEARCH_RATIO", 4)
    for _ in range(30):  # one source, 8 targets: lopsided, never counted towards a build
        net.matrix(points[:1], points, profile)
    assert not list(tmp_path.glob("hierarchy-*.npz"))
    _assert_same(expected, net.matrix(points, points, profile))  # 24 >= 20: built, saved
    files = list(tmp_path.glob("hierarchy-*.npz"))
    assert len(files) == 1
    # Another process (a fresh network) loads it for a matrix of 4 searches...
    files[0].write_bytes(files[0].read_bytes()[:200])  # ... but it is damaged: rebuilt
    other = StreetNetwork(graph, cache_dir=tmp_path)
    _assert_same(expected, other.matrix(points, points, profile, hierarchy=True))
    assert ContractionHierarchy.load(files[0]).n_nodes == graph.n_nodes  # healed on disk
    # A fresh network finds the healed file for a matrix of 4 searches (no build).
    third = StreetNetwork(graph, cache_dir=tmp_path)
    small = points[:4]
    _assert_same(net.matrix(small, small, profile, hierarchy=False),
                 third.matrix(small, small, profile))  # fmt: skip
    assert [slot.hierarchy is not None for slot in third._hierarchies.values()] == [True]


def test_a_network_with_a_hierarchy_pickles_for_worker_processes():
    """Scenario jobs send the planner (and its network) pickled to worker processes."""
    import io
    import pickle

    from routing.scenario.transit import _SearchPickler

    net = router_for("mapped_sidewalks.osm.xml").network
    profile = get_profile("walk")
    points = _fixture_points(net, profile, np.random.default_rng(9), 6)
    expected = net.matrix(points, points, profile, hierarchy=True)
    buffer = io.BytesIO()
    _SearchPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(net)
    copy = pickle.loads(buffer.getvalue())
    _assert_same(expected, copy.matrix(points, points, profile, hierarchy=True))


def test_only_the_most_recent_hierarchies_stay_in_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(network_module, "HIERARCHIES_KEPT", 2)
    net = StreetNetwork(router_for("mapped_sidewalks.osm.xml").graph, cache_dir=tmp_path)
    names = ["walk", "wheelchair_manual", "blind"]
    answers = {}
    for name in names:
        profile = get_profile(name)
        points = _fixture_points(net, profile, np.random.default_rng(4), 6)
        answers[name] = (points, net.matrix(points, points, profile, hierarchy=True))
    held = [slot.hierarchy is not None for slot in net._hierarchies.values()]
    assert held == [False, True, True]  # the first one dropped from memory
    points, expected = answers["walk"]  # asked again: loaded from the cache folder
    _assert_same(expected, net.matrix(points, points, get_profile("walk"), hierarchy=True))
    assert len(list(tmp_path.glob("hierarchy-*.npz"))) == 3
