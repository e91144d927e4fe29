"""The compiled point-to-point A* (routing/_path.pyx) on hand-made graphs, and its chunks.

Each hand-made graph is built so that a broken estimate or stopping rule gives a wrong
answer: the test first shows that the broken variant is wrong there, then that the real
search is right (and equals networkx).
"""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.sparse import csr_matrix

from routing import _path
from routing.cost import get_profile
from routing.deadline import Deadline, within
from routing.errors import DeadlineExceededError

PathSearch, min_cost_per_metre = _path.PathSearch, _path.min_cost_per_metre


def _csr(n, edges):
    """(indptr int64, indices int32, cost) of ``(u, v, cost)`` edges, one per pair."""
    u, v, c = (np.array(x) for x in zip(*edges, strict=True))
    m = csr_matrix((c.astype(float), (u, v)), shape=(n, n))
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float64)


def _search(graph, xy, starts, ends, *, k=None, bound=np.inf, chunk=10**9):
    indptr, indices, cost = graph
    x, y = (np.ascontiguousarray(xy[:, i], dtype=np.float64) for i in (0, 1))
    if k is None:
        k = min_cost_per_metre(indptr, indices, cost, x, y)
    search = PathSearch(len(x))
    search.start(indptr, indices, cost, x, y, k,
                 np.array([s[0] for s in starts], dtype=np.int32),
                 np.array([s[1] for s in starts], dtype=np.float64),
                 np.array([e[0] for e in ends], dtype=np.int32),
                 np.array([e[1] for e in ends], dtype=np.float64), bound)  # fmt: skip
    while not search.advance(chunk):
        pass
    return search


# Source S=0 at (0, 0), target node E=1 at (200, 0): the straight edge costs 400 (2 per
# metre, say a steep climb); the detour over B=2 at (100, 150) costs 185 + 185 = 370. A far
# downhill edge C=3 -> D=4 costs 0.5 per metre: the least cost per metre, so k = 0.5.
DETOUR_XY = np.array([[0, 0], [200, 0], [100, 150], [-300, 0], [-500, 0]], dtype=float)
DETOUR = _csr(5, [(0, 1, 400.0), (0, 2, 185.0), (2, 1, 185.0), (3, 4, 100.0)])


def test_the_estimate_never_overshoots_so_a_detour_is_found():
    indptr, indices, cost = DETOUR
    x, y = DETOUR_XY[:, 0].copy(), DETOUR_XY[:, 1].copy()
    k = min_cost_per_metre(indptr, indices, cost, x, y)
    assert k == pytest.approx(0.5) and k <= 0.5  # the downhill edge, a hair under
    # An estimate of 2 per metre (the straight edge's) overshoots at B: it stops at 400.
    wrong = _search(DETOUR, DETOUR_XY, [(0, 0.0)], [(1, 0.0)], k=2.0)
    assert wrong.best == 400.0
    right = _search(DETOUR, DETOUR_XY, [(0, 0.0)], [(1, 0.0)])
    assert right.best == 370.0
    nodes, entries = right.path()
    assert nodes.tolist() == [0, 2, 1]
    assert indices[entries].tolist() == [2, 1]  # each entry is the edge into the next node


# Two arrival links: node E1=1 at (100, 0) reached for 100 but its link costs 100 more;
# node E2=2 at (100, 100) reached for 155 with a link of 10. E1 is settled first (its
# estimate is low: E2's link is near), yet arriving over E2 (165) beats it (200).
TWO_ENDS_XY = np.array([[0, 0], [100, 0], [100, 100], [-300, 0], [-500, 0]], dtype=float)
TWO_ENDS = _csr(5, [(0, 1, 100.0), (0, 2, 155.0), (3, 4, 100.0)])


def test_the_search_stops_only_when_no_queued_node_can_arrive_more_cheaply():
    ends = [(1, 100.0), (2, 10.0)]
    found = _search(TWO_ENDS, TWO_ENDS_XY, [(0, 0.0)], ends)
    assert found.settled == 3 and found.best == 165.0 and found.best_end == 1
    # In chunks: after two settled nodes (S, then E1) the best so far is E1's 200 ...
    probe = PathSearch(5)
    indptr, indices, cost = TWO_ENDS
    x, y = TWO_ENDS_XY[:, 0].copy(), TWO_ENDS_XY[:, 1].copy()
    probe.start(indptr, indices, cost, x, y, 0.5, np.array([0], dtype=np.int32),
                np.array([0.0]), np.array([1, 2], dtype=np.int32), np.array([100.0, 10.0]),
                np.inf)  # fmt: skip
    assert not probe.advance(2)  # ... and the search knows it is not finished
    assert probe.best == 200.0 and probe.best_end == 0
    assert probe.advance(10) and probe.best == 165.0
    assert probe.path()[0].tolist() == [0, 2]


def test_a_bound_keeps_costlier_paths_out():
    assert _search(DETOUR, DETOUR_XY, [(0, 0.0)], [(1, 0.0)], bound=370.0).best_end == -1
    assert _search(DETOUR, DETOUR_XY, [(0, 0.0)], [(1, 0.0)], bound=371.0).best == 370.0


def test_random_graphs_equal_networkx_from_many_starts_to_many_ends():
    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 60
        xy = rng.uniform(0, 1000, (n, 2))
        pairs = {(int(a), int(b)) for a, b in rng.integers(0, n, (240, 2)) if a != b}
        # Costs from 0.3 to 3 per metre of straight line.
        edges = [(a, b, float(np.hypot(*(xy[a] - xy[b])) * rng.uniform(0.3, 3.0)))
                 for a, b in sorted(pairs)]  # fmt: skip
        graph = _csr(n, edges)
        oracle = nx.DiGraph()
        oracle.add_weighted_edges_from(edges)
        search = PathSearch(n)  # one search's arrays, reused: only touched nodes reset
        for _ in range(20):
            starts = [(int(s), float(rng.uniform(0, 50))) for s in rng.choice(n, 2, replace=False)]
            ends = [(int(e), float(rng.uniform(0, 50))) for e in rng.choice(n, 2)]
            oracle.add_edges_from([("s", s, {"weight": c}) for s, c in starts])
            oracle.add_edges_from([(e, "t", {"weight": c}) for e, c in ends])
            expected = nx.dijkstra_path_length(oracle, "s", "t") if nx.has_path(
                oracle, "s", "t") else np.inf  # fmt: skip
            oracle.remove_nodes_from(["s", "t"])
            indptr, indices, cost = graph
            x, y = xy[:, 0].copy(), xy[:, 1].copy()
            search.start(indptr, indices, cost, x, y,
                         min_cost_per_metre(indptr, indices, cost, x, y),
                         np.array([s for s, _ in starts], dtype=np.int32),
                         np.array([c for _, c in starts]),
                         np.array([e for e, _ in ends], dtype=np.int32),
                         np.array([c for _, c in ends]), np.inf)  # fmt: skip
            while not search.advance(7):
                pass
            assert search.best == pytest.approx(expected, rel=1e-12)
            if np.isfinite(expected):  # the path's edges add up to its cost
                nodes, entries = search.path()
                first = dict(starts)[int(nodes[0])]
                last = ends[search.best_end][1]
                assert first + cost[entries].sum() + last == pytest.approx(expected, rel=1e-12)
                assert (indices[entries] == nodes[1:]).all()


def test_a_street_search_stops_at_the_deadline_and_the_next_one_is_sound(
    helsinki_router, monkeypatch
):
    """The search checks the deadline between chunks of settled nodes; a stopped search
    leaves nothing behind that changes the next answer."""
    import routing.network as network_module

    net = helsinki_router.network
    profile = get_profile("walk")
    g = net.graph
    a = net.at_node(0)
    reached = np.isfinite(net.tree([a], profile).cost)  # the farthest node a path reaches
    far = np.where(reached, np.hypot(g.node_lat - g.node_lat[0], g.node_lon - g.node_lon[0]), -1)
    b = net.at_node(int(np.argmax(far)))
    expected = net.path(a, b, profile)
    assert expected is not None
    monkeypatch.setattr(network_module, "PATH_CHUNK", 50)

    class StepClock:
        now = 0.0

        def __call__(self):
            self.now += 1.0
            return self.now

    with within(Deadline(5, clock=StepClock())):
        with pytest.raises(DeadlineExceededError, match="street search"):
            net.path(a, b, profile)
    again = net.path(a, b, profile)
    assert again.cost == expected.cost and again.edges == expected.edges
