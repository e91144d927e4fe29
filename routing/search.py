"""Shortest paths over a profile's edge costs, on scipy's compiled Dijkstra.

A :class:`ProfileGraph` is a CSR adjacency of the *allowed* edges of one profile (the
cheapest of parallel edges kept), built once per (graph, profile) and reused by every
query. Queries run on arrays only; networkx is used in tests as the oracle.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from routing.cost.model import CostModel, EdgeCosts
from routing.cost.profiles import Profile
from routing.graph.compiled import CompiledGraph


@dataclass(frozen=True, eq=False)
class ProfileGraph:
    """Allowed edges of one profile as a CSR matrix plus the edge id of each entry."""

    profile: Profile
    costs: EdgeCosts
    matrix: csr_matrix  # n x n; entry (u, v) = cost of the cheapest allowed edge u->v
    entry_edge: np.ndarray  # edge id of each CSR entry (aligned with matrix.data)

    @classmethod
    def build(cls, graph: CompiledGraph, profile: Profile) -> ProfileGraph:
        costs = CostModel(profile).evaluate(graph)
        allowed = np.flatnonzero(np.isfinite(costs.cost))
        u, v, c = graph.edge_u[allowed], graph.edge_v[allowed], costs.cost[allowed]
        order = np.lexsort((c, v, u))  # by u, then v, cheapest first
        u, v, c, ids = u[order], v[order], c[order], allowed[order]
        first = np.ones(len(u), dtype=bool)
        first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        u, v, c, ids = u[first], v[first], c[first], ids[first]
        n = graph.n_nodes
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(u, minlength=n), out=indptr[1:])
        matrix = csr_matrix((c, v.astype(np.int32), indptr), shape=(n, n))
        return cls(profile=profile, costs=costs, matrix=matrix, entry_edge=ids)

    @cached_property
    def reversed_matrix(self) -> csr_matrix:
        """The transposed adjacency: searches towards a destination run on it."""
        return self.matrix.T.tocsr()

    @cached_property
    def entry_keys(self) -> np.ndarray:
        """``u * n + v`` of each CSR entry, sorted (rows by u, columns by v)."""
        m = self.matrix
        rows = np.repeat(np.arange(m.shape[0], dtype=np.int64), np.diff(m.indptr))
        return rows * m.shape[0] + m.indices.astype(np.int64)

    def edges_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`edge_between` for adjacent node arrays."""
        n = self.matrix.shape[0]
        pos = np.searchsorted(self.entry_keys, a.astype(np.int64) * n + b.astype(np.int64))
        return self.entry_edge[pos]

    def edge_between(self, a: int, b: int) -> int:
        """Id of the cheapest allowed edge a->b (both must be adjacent)."""
        lo, hi = self.matrix.indptr[a], self.matrix.indptr[a + 1]
        pos = lo + np.searchsorted(self.matrix.indices[lo:hi], b)
        return int(self.entry_edge[pos])

    def with_source(self, offsets: list[tuple[int, float]], *, reverse: bool = False) -> csr_matrix:
        """The matrix with one extra source node (index n) joined to nodes at given costs.

        With ``reverse`` the transposed matrix is used: costs are then *to* the source.
        """
        m = self.reversed_matrix if reverse else self.matrix
        n = m.shape[0]
        best: dict[int, float] = {}
        for node, cost in offsets:
            if cost < best.get(node, np.inf):
                best[node] = max(cost, 1e-9)
        targets = np.array(sorted(best), dtype=np.int32)
        data = np.concatenate([m.data, [best[t] for t in targets.tolist()]])
        indices = np.concatenate([m.indices, targets])
        indptr = np.concatenate([m.indptr, [m.indptr[-1] + len(targets)]])
        return csr_matrix((data, indices, indptr), shape=(n + 1, n + 1))

    def tree(self, offsets: list[tuple[int, float]], *, limit: float = np.inf,
             reverse: bool = False):  # fmt: skip
        """Costs and predecessors from a virtual source joined to nodes at given costs.

        Returns arrays over the n real nodes (predecessor -9999 = none, n = the source).
        With ``reverse``, costs run from each node to the source, and a node's predecessor
        is the next node on its way there.
        """
        matrix = self.with_source(offsets, reverse=reverse)
        n = self.matrix.shape[0]
        dist, pred = dijkstra(
            matrix, directed=True, indices=n, return_predecessors=True, limit=limit
        )
        return dist[:n], pred[:n]


def node_path(pred: np.ndarray, target: int, source_index: int) -> list[int]:
    """Nodes from the first real node after the virtual source to ``target``."""
    path = [target]
    while True:
        p = int(pred[path[-1]])
        if p == source_index or p < 0:
            break
        path.append(p)
    return path[::-1]
