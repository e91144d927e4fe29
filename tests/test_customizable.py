"""Customizable contraction hierarchies: queries equal an exact oracle, matrices Dijkstra's.

As for the contracted hierarchy (test_contraction.py): seeded random graphs with integer
costs (many exact ties), one-way, parallel and blocked (``inf``) arcs, self-loops, several
links per point, against a plain Dijkstra: the cost must be the least, and the seconds and
metres those of one of the least-cost paths. One topology serves several metrics of the
same graph. The street matrix on a customized hierarchy is checked against the Dijkstra
matrix on hand-made fixtures x six profiles and on both cities with an override value,
and against networkx in test_network.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import router_for
from scipy.sparse import csr_matrix
from test_contraction import (
    _assert_same,
    _check_against_oracle,
    _city_points,
    _fixture_points,
    _links,
)

import routing.network as network_module
from routing.cost import get_profile
from routing.cost.profiles import PROFILES
from routing.customizable import Topology, nested_dissection
from routing.network import StreetNetwork


def _random_arcs(rng, n: int, arcs: int):
    """Arcs (tail, head) between nearby random points (a street-like graph), some one-way
    only, some parallel, a few loops; the last three nodes have no way out."""
    lat, lon = rng.uniform(43.0, 43.1, n), rng.uniform(76.0, 76.1, n)
    tail = np.concatenate([np.repeat(np.arange(n - 3), 2), rng.integers(0, n - 3, arcs)])
    arcs = len(tail)
    near = np.argsort((lat[:, None] - lat) ** 2 + (lon[:, None] - lon) ** 2, axis=1)
    # One of the 4 nearest, or (one in 40) itself: a loop.
    head = near[tail, rng.choice(5, arcs, p=[0.025] + [0.24375] * 4)]
    back = rng.uniform(size=arcs) < 0.7  # most ways both ways (with their own costs)
    back &= head < n - 3
    extra = rng.integers(0, n, arcs // 20)  # a few long arcs: cuts are not trivial
    tail = np.concatenate([tail, head[back], rng.integers(0, n - 3, len(extra))])
    head = np.concatenate([head, tail[: arcs][back], extra])
    return lat, lon, tail, head


def _metric(rng, arcs: int, blocked: float):
    cost = rng.integers(1, 6, arcs).astype(float)
    cost[rng.uniform(size=arcs) < blocked] = np.inf
    seconds = rng.integers(1, 40, arcs) / 2.0  # exact in binary: sums in any order agree
    metres = rng.integers(1, 80, arcs) / 2.0
    return cost, seconds, metres


def _csr(n, tail, head, cost, seconds, metres):
    """The oracle's graph: the arcs that are not blocked."""
    keep = np.isfinite(cost)
    order = np.argsort(tail[keep], kind="stable")
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(tail[keep], minlength=n), out=indptr[1:])
    graph = csr_matrix((cost[keep][order], head[keep][order].astype(np.int32), indptr),
                       shape=(n, n))  # fmt: skip
    return graph, seconds[keep][order], metres[keep][order]


@pytest.mark.parametrize("seed", range(5))
def test_customized_many_to_many_equals_an_exact_oracle_with_ties(seed):
    rng = np.random.default_rng(seed)
    n, arcs = 260, 100  # large enough for flow cuts (FLOW_MIN_NODES) and line cuts
    lat, lon, tail, head = _random_arcs(rng, n, arcs)
    topology = Topology.build(lat, lon, tail, head)
    assert topology.n_edges > len(np.unique(np.minimum(tail, head) * n + np.maximum(tail, head)))
    for blocked in (0.0, 0.15):  # one topology, two metrics
        cost, seconds, metres = _metric(rng, len(tail), blocked)
        # Entries in any order, each naming its arc; some arcs given no entry at all.
        entries = rng.permutation(len(tail))[: len(tail) - 10]
        ch = topology.customize(entries, cost[entries], seconds[entries], metres[entries])
        missing = np.setdiff1d(np.arange(len(tail)), entries)
        cost = cost.copy()
        cost[missing] = np.inf
        graph, sec, met = _csr(n, tail, head, cost, seconds, metres)
        sources, targets = _links(rng, n, 12), _links(rng, n, 15)
        targets[3] = list(sources[2])  # a source's own node(s)
        reached = _check_against_oracle(ch, graph, sec, met, sources, targets)
        assert reached > 30  # the sample is not trivially disconnected


def test_the_order_is_a_nested_dissection_of_the_graph():
    rng = np.random.default_rng(12)
    lat, lon, tail, head = _random_arcs(rng, 400, 300)
    order = nested_dissection(lat, lon, np.minimum(tail, head), np.maximum(tail, head))
    assert np.array_equal(np.sort(order), np.arange(400))
    # The last-ordered nodes (the top separator) split what comes before them: no arc
    # joins the nodes before and after ... is what the chordal edges show: far fewer
    # edges than a complete graph, and every arc is on one.
    topology = Topology.build(lat, lon, tail, head)
    assert topology.n_edges < 400 * 399 / 2 / 8
    on = topology.arc_edge[tail != head]
    assert np.all(on >= 0) and np.all(topology.arc_edge[tail == head] == -1)
    ranks = topology.rank
    owner = np.repeat(np.arange(400), np.diff(topology.indptr))
    lo = np.minimum(ranks[tail], ranks[head])[tail != head]
    hi = np.maximum(ranks[tail], ranks[head])[tail != head]
    assert np.array_equal(owner[on], lo) and np.array_equal(topology.head[on], hi)


def test_topology_save_and_load_round_trip_and_reject_a_damaged_file(tmp_path):
    lat, lon, tail, head = _random_arcs(np.random.default_rng(3), 120, 50)
    topology = Topology.build(lat, lon, tail, head)
    path = tmp_path / "t.npz"
    topology.save(path)
    back = Topology.load(path)
    for name in ("rank", "indptr", "head", "arc_edge", "arc_up"):
        assert np.array_equal(getattr(back, name), getattr(topology, name))
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(Exception):  # noqa: B017 - any read error means: rebuild it
        Topology.load(path)


@pytest.mark.parametrize("fixture", ["crossings.osm.xml", "mapped_sidewalks.osm.xml",
                                     "steps.osm.xml", "island_footway.osm.xml"])  # fmt: skip
def test_customized_matrix_equals_dijkstra_on_fixtures(fixture):
    net = router_for(fixture).network
    rng = np.random.default_rng(8)
    profiles = [get_profile(name) for name in PROFILES]
    profiles.append(get_profile("wheelchair_manual", {"max_uphill": 0.04}))
    for profile in profiles:
        points = _fixture_points(net, profile, rng, 14)
        sources = points[:9] + [None, points[0]] + points[14:]
        targets = points[5:] + [None, points[1], points[0]]
        slow = net.matrix(sources, targets, profile, hierarchy=False)
        fast = net.matrix(sources, targets, profile, hierarchy="customized")
        _assert_same(slow, fast)


@pytest.mark.integration
@pytest.mark.parametrize(("city", "profile_name", "overrides"),
                         [("almaty", "wheelchair_manual", {"max_uphill": 0.072}),
                          ("helsinki", "walk", {"speed_mps": 1.3})])  # fmt: skip
def test_customized_matrix_equals_dijkstra_on_the_cities(almaty_router, helsinki_router, city,
                                                         profile_name, overrides):  # fmt: skip
    net = (almaty_router if city == "almaty" else helsinki_router).network
    profile = get_profile(profile_name, overrides)
    sources, targets = _city_points(net, profile, 23)
    slow = net.matrix(sources, targets, profile, hierarchy=False)
    net.matrix_topology()  # once per graph (a server loads it from its cache folder)
    fast = net.matrix(sources, targets, profile)  # a never-seen value: customized
    slot = net._hierarchies[id(net.costs(profile))]
    assert slot.customized is not None and slot.hierarchy is None
    assert np.isfinite(fast.cost).mean() > 0.5
    _assert_same(slow, fast)


def test_a_new_override_value_runs_customized_when_it_pays(tmp_path, monkeypatch):
    monkeypatch.setattr(network_module, "CUSTOMIZE_SEARCHES", 6)
    monkeypatch.setattr(network_module, "HIERARCHY_LOAD_SEARCHES", 4)
    monkeypatch.setattr(network_module, "CUSTOMIZED_KEPT", 1)
    graph = router_for("mapped_sidewalks.osm.xml").graph
    net = StreetNetwork(graph, cache_dir=tmp_path)
    profile = get_profile("wheelchair_manual", {"max_uphill": 0.05})
    points = _fixture_points(net, profile, np.random.default_rng(5), 8)[:8]
    expected = net.matrix(points, points, profile, hierarchy=False)
    small = net.matrix(points[:5], points[:5], profile, hierarchy=False)
    _assert_same(small, net.matrix(points[:5], points[:5], profile))  # 5 < 6: Dijkstra
    slot = net._hierarchies[id(net.costs(profile))]
    assert slot.customized is None and not list(tmp_path.glob("topology-*.npz"))
    monkeypatch.setattr(network_module, "HIERARCHY_SEARCH_RATIO", 4)
    net.matrix(points[:1], points, profile)  # lopsided: Dijkstra
    assert slot.customized is None
    # 8 >= 6, but the graph's topology is not built yet: Dijkstra, and it is built on a
    # background thread (no request waits for it).
    _assert_same(expected, net.matrix(points, points, profile))
    building = net._topology.building
    if building is not None:
        building.join()
    files = list(tmp_path.glob("topology-*.npz"))
    assert len(files) == 1 and net._topology.topology is not None
    assert slot.customized is None
    _assert_same(expected, net.matrix(points, points, profile))  # now customized
    assert slot.customized is not None and slot.hierarchy is None
    assert slot.searched == 5 + 8 + 8 * network_module.CUSTOMIZED_SEARCH_SHARE
    assert not list(tmp_path.glob("hierarchy-*.npz"))
    # Another value: customized on the same topology; only the newest is kept.
    other = get_profile("wheelchair_manual", {"max_uphill": 0.06})
    _assert_same(net.matrix(points, points, other, hierarchy=False),
                 net.matrix(points, points, other))  # fmt: skip
    assert slot.customized is None
    assert net._hierarchies[id(net.costs(other))].customized is not None
    # The next process loads the topology from the folder (no build, no thread)...
    loaded = StreetNetwork(graph, cache_dir=tmp_path)
    _assert_same(expected, loaded.matrix(points, points, profile))
    assert loaded._topology.building is None
    assert loaded._hierarchies[id(loaded.costs(profile))].customized is not None
    # ... and rebuilds a damaged file; answers unchanged.
    files[0].write_bytes(files[0].read_bytes()[:200])
    fresh = StreetNetwork(graph, cache_dir=tmp_path)
    _assert_same(expected, fresh.matrix(points, points, profile, hierarchy="customized"))
    assert Topology.load(files[0]).n_nodes == graph.n_nodes


def test_a_network_with_a_topology_pickles_for_worker_processes():
    """Scenario jobs send the planner (and its network) pickled to worker processes."""
    import io
    import pickle

    from routing.scenario.transit import _SearchPickler

    net = router_for("steps.osm.xml").network
    profile = get_profile("walk", {"speed_mps": 1.25})
    points = _fixture_points(net, profile, np.random.default_rng(2), 6)
    expected = net.matrix(points, points, profile, hierarchy="customized")
    buffer = io.BytesIO()
    _SearchPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(net)
    copy = pickle.loads(buffer.getvalue())
    assert copy._topology.topology is not None and copy._topology.building is None
    _assert_same(expected, copy.matrix(points, points, profile, hierarchy="customized"))
