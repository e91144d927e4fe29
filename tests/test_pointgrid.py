"""The numpy structures that keep scipy.spatial and csgraph out of a route-only server."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from routing.pointgrid import PointGrid
from routing.snapping import component_roots


def _cells(grid, points):
    """Each point's cell number, as the compiled nearest-way search reads the grid."""
    cell = np.floor((points - grid.mins) / grid.cell_m).astype(np.int64)
    return cell[:, 1] * int(grid.shape[0]) + cell[:, 0]


@pytest.mark.parametrize("cell_m", [3.0, 30.0, 400.0])
def test_each_cell_holds_its_points_values_once_in_order(cell_m):
    rng = np.random.default_rng(5)
    points = np.round(rng.uniform(0, 500, (300, 2)))  # rounded: points on cell borders
    segments = rng.integers(0, 40, 300)  # e.g. the segment each point lies on
    for values in (segments, None):
        grid = PointGrid(points, cell_m=cell_m, values=values)
        want = np.arange(len(points)) if values is None else segments
        ids, n_cells = _cells(grid, points), int(np.prod(grid.shape))
        assert len(grid.starts) == n_cells + 1 and grid.starts[-1] == len(grid.values)
        for c in range(n_cells):
            held = grid.values[grid.starts[c] : grid.starts[c + 1]].tolist()
            assert held == sorted(set(want[ids == c].tolist()))
    empty = PointGrid(np.zeros((0, 2)), cell_m=10.0)
    assert empty.starts.tolist() == [0, 0] and len(empty.values) == 0


def test_a_few_far_points_do_not_make_the_grid_huge():
    points = np.array([[0.0, 0.0], [1.0, 1.0], [1e7, 1e7]])
    grid = PointGrid(points, cell_m=1.0)
    assert len(grid.starts) - 1 <= (np.sqrt(4 * len(points)) + 1) ** 2
    far = int(_cells(grid, points)[2])
    assert grid.values[grid.starts[far] : grid.starts[far + 1]].tolist() == [2]


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
