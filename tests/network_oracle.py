"""A networkx oracle for street search: snapped points become real nodes on split edges.

Each snapped point splits its edge (and the edge running the other way) into two pieces,
with cost, seconds and metres in proportion, so a plain networkx Dijkstra over the result
answers point-to-point questions without any of the engine's virtual-node logic.
"""

from __future__ import annotations

import networkx as nx
import numpy as np


def split_graph(network, profile, points):
    """A DiGraph of the profile's allowed edges with ``("p", i)`` nodes for ``points[i]``."""
    g = network.graph
    costs = network.costs(profile).costs
    length = g.edge["length"]
    on_edge: dict[int, list[tuple[float, int]]] = {}
    for i, snap in enumerate(points):
        on_edge.setdefault(snap.edge, []).append((snap.t, i))
        rev = int(network.reverse_edge[snap.edge])
        if rev >= 0:
            on_edge.setdefault(rev, []).append((1.0 - snap.t, i))
    graph = nx.DiGraph()
    graph.add_nodes_from(range(g.n_nodes))

    def add(a, b, edge, frac):
        c = float(costs.cost[edge]) * frac
        if not graph.has_edge(a, b) or graph[a][b]["cost"] > c:
            graph.add_edge(a, b, cost=c, seconds=float(costs.seconds[edge]) * frac,
                           metres=float(length[edge]) * frac)  # fmt: skip

    for e in np.flatnonzero(np.isfinite(costs.cost)).tolist():
        stops = sorted(on_edge.get(e, []))
        chain = [(0.0, int(g.edge_u[e]))] + [(t, ("p", i)) for t, i in stops]
        chain.append((1.0, int(g.edge_v[e])))
        for (t0, a), (t1, b) in zip(chain[:-1], chain[1:], strict=True):
            if a != b:
                add(a, b, e, t1 - t0)
    for i in range(len(points)):
        graph.add_node(("p", i))
    return graph


def path_totals(graph, path):
    """(cost, seconds, metres) summed along a node path."""
    out = np.zeros(3)
    for a, b in zip(path[:-1], path[1:], strict=True):
        d = graph[a][b]
        out += (d["cost"], d["seconds"], d["metres"])
    return out
