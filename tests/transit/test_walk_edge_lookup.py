"""The edge look-up that walk legs' instructions use (``ProfileGraph.edge_between``).

Checked against a scan of the graph's edge list: for an adjacent pair, the cheapest
allowed edge, the lowest id among equally cheap parallel edges.
"""

from __future__ import annotations

import numpy as np
import pytest

from routing.cost import get_profile
from routing.search import ProfileGraph


@pytest.mark.parametrize("name", ["walk", "wheelchair_manual"])
def test_edge_between_is_the_cheapest_allowed_edge_of_the_pair(almaty_graph, name):
    g = almaty_graph
    pg = ProfileGraph.build(g, get_profile(name))
    cost = pg.costs.cost
    allowed = np.flatnonzero(np.isfinite(cost))
    rng = np.random.default_rng(5)
    # Pairs with parallel edges first (where the choice matters), then random ones.
    pair = g.edge_u[allowed].astype(np.int64) * g.n_nodes + g.edge_v[allowed]
    _, inverse, counts = np.unique(pair, return_inverse=True, return_counts=True)
    parallel = allowed[counts[inverse] > 1]
    assert len(parallel) > 0
    sample = np.concatenate([parallel[:300], rng.choice(allowed, 700)])
    for e in sample.tolist():
        a, b = int(g.edge_u[e]), int(g.edge_v[e])
        same = allowed[(g.edge_u[allowed] == a) & (g.edge_v[allowed] == b)]
        expected = int(same[np.argmin(cost[same])])  # argmin: the first (lowest id) minimum
        assert pg.edge_between(a, b) == expected
    # The vectorised look-up agrees.
    a, b = g.edge_u[sample].astype(np.int64), g.edge_v[sample].astype(np.int64)
    lookups = [pg.edge_between(x, y) for x, y in zip(a.tolist(), b.tolist(), strict=True)]
    assert pg.edges_between(a, b).tolist() == lookups
