"""The numpy look-ups that keep scipy.spatial and csgraph out of a route-only server."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
from scipy.spatial import cKDTree

from routing.pointgrid import PointGrid
from routing.snapping import component_roots


@pytest.mark.parametrize("cell_m", [3.0, 25.0, 400.0])
def test_query_answers_as_the_kd_tree_does(cell_m):
    rng = np.random.default_rng(11)
    points = np.round(rng.uniform(0, 1000, (400, 2)))  # rounded: exact ties occur
    points[:20] = points[20:40]  # duplicated points: the lowest index wins, as cKDTree's
    queries = np.concatenate([rng.uniform(-100, 1100, (500, 2)), points[:50] + 0.5])
    grid, tree = PointGrid(points, cell_m=cell_m), cKDTree(points)
    for bound in (5.0, 30.0, 150.0):
        dist, idx = grid.query(queries, distance_upper_bound=bound)
        want_dist, want_idx = tree.query(queries, distance_upper_bound=bound)
        assert np.array_equal(dist, want_dist)
        found = np.isfinite(want_dist)
        assert np.array_equal(idx[~found], want_idx[~found])  # n where none
        # Of equally near points, the lowest index (cKDTree may name another tied one).
        diff = points[None] - queries[found][:, None]
        brute = np.sqrt((diff * diff).sum(axis=2))
        lowest = np.argmax(brute == want_dist[found][:, None], axis=1)
        assert np.array_equal(idx[found], lowest)
    assert grid.query(queries, distance_upper_bound=0.0)[1].tolist() == [400] * len(queries)


def test_within_square_holds_every_point_within_the_half_side():
    rng = np.random.default_rng(5)
    points = rng.uniform(0, 500, (300, 2))
    values = rng.integers(0, 40, 300)  # e.g. the segment each point lies on
    grid = PointGrid(points, cell_m=30.0, values=values, keep_points=False)
    for p in rng.uniform(-50, 550, (200, 2)):
        for r in (10.0, 45.0, 200.0):
            near = np.abs(points - p).max(axis=1) <= r
            found = grid.within_square(p, r)
            assert set(values[near]) <= set(found.tolist())
    assert len(PointGrid(np.zeros((0, 2)), cell_m=10.0).within_square(np.zeros(2), 5.0)) == 0


def test_a_few_far_points_do_not_make_the_grid_huge():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [1e7, 1e7]])
    grid = PointGrid(points, cell_m=1.0)
    assert len(grid.starts) - 1 <= (np.sqrt(4 * len(points)) + 1) ** 2
    assert grid.query(np.array([[1e7, 1e7 + 1]]), distance_upper_bound=2.0)[1].tolist() == [2]


def test_component_roots_are_networkx_connected_components():
    rng = np.random.default_rng(2)
    for n, m in ((1, 0), (50, 30), (400, 350), (2000, 2500)):
        u, v = rng.integers(0, n, m), rng.integers(0, n, m)
        roots = component_roots(n, u, v)
        graph = nx.Graph()
        graph.add_nodes_from(range(n))
        graph.add_edges_from(zip(u.tolist(), v.tolist(), strict=True))
        for component in nx.connected_components(graph):
            members = sorted(component)
            assert set(roots[members].tolist()) == {members[0]}  # the lowest node
    path = np.arange(999)[::-1]  # a long chain listed backwards: still one component
    assert set(component_roots(1000, path, path + 1).tolist()) == {0}
