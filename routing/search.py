"""Shortest paths over a profile's edge costs.

A :class:`ProfileGraph` is a CSR adjacency of the *allowed* edges of one profile (the
cheapest of parallel edges kept), built once per (graph, profile) and reused by every
query. Queries run on arrays only; networkx is used in tests as the oracle.

The adjacency is plain numpy arrays; its ``scipy.sparse`` view (:attr:`ProfileGraph.matrix`)
is made on first use, so a process whose searches read the arrays (compiled kernels) never
imports scipy.sparse (~14 MB per process).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from routing.cost.model import CostModel, EdgeCosts
from routing.cost.profiles import Profile
from routing.deadline import checkpoint
from routing.graph.compiled import CompiledGraph

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix


@dataclass(frozen=True, eq=False)
class EdgePairs:
    """A graph's edges grouped by (tail, head) node pair, sorted by tail, head, edge id.

    Profile-independent: computed once per graph and shared by every profile's build.
    Most pairs have one edge; the few with parallel edges are listed apart so that a
    profile's build only compares costs there. Ids are int32 where they fit (every
    profile's build reads these, and each profile keeps its entries' edge ids).
    """

    counts: np.ndarray  # edges per pair
    u: np.ndarray  # per pair
    v: np.ndarray  # per pair (int32, CSR column indices)
    first_edge: np.ndarray  # per pair: its lowest edge id
    multi: np.ndarray  # pairs with parallel edges
    multi_order: np.ndarray  # their edge ids, pair by pair (in ``order``'s order)
    multi_starts: np.ndarray  # first position of each of them in ``multi_order``

    @classmethod
    def of(cls, graph: CompiledGraph) -> EdgePairs:
        order = np.lexsort((np.arange(graph.n_edges), graph.edge_v, graph.edge_u))
        u, v = graph.edge_u[order], graph.edge_v[order]
        new = np.ones(len(order), dtype=bool)
        new[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
        starts = np.flatnonzero(new)
        counts = np.diff(np.append(starts, len(order)))
        group = np.cumsum(new) - 1
        multi = np.flatnonzero(counts > 1)
        in_multi = np.flatnonzero(counts[group] > 1)
        multi_starts = np.zeros(len(multi), dtype=np.int64)
        np.cumsum(counts[multi][:-1], out=multi_starts[1:])
        ids = _id_dtype(graph.n_edges)
        return cls(counts=counts.astype(ids), u=u[starts].astype(_id_dtype(graph.n_nodes)),
                   v=v[starts].astype(np.int32), first_edge=order[starts].astype(ids),
                   multi=multi, multi_order=order[in_multi], multi_starts=multi_starts)  # fmt: skip


def _id_dtype(count: int) -> type:
    """The narrowest of int32 / int64 that holds ids below ``count``."""
    return np.int32 if count < 2**31 else np.int64


@dataclass(frozen=True, eq=False)
class ProfileGraph:
    """Allowed edges of one profile as CSR arrays plus the edge id of each entry.

    Row ``u`` holds entries ``indptr[u]:indptr[u + 1]``: head nodes ``indices`` (sorted,
    one per node pair) and ``data``, the cost of the cheapest allowed edge u->v.
    """

    profile: Profile
    costs: EdgeCosts
    indptr: np.ndarray  # n + 1 row starts (int32 while the entries fit)
    indices: np.ndarray  # int32 head node of each entry
    data: np.ndarray  # float64 cost of each entry
    entry_edge: np.ndarray  # edge id of each entry (int32 while the ids fit)

    @classmethod
    def build(cls, graph: CompiledGraph, profile: Profile, *,
              pairs: EdgePairs | None = None) -> ProfileGraph:  # fmt: skip
        """Evaluate the profile's costs and keep the cheapest allowed edge of each node pair.

        ``pairs`` (the graph's edges grouped by node pair, see :class:`EdgePairs`) does not
        depend on the profile: pass it to make a new profile cost only the cost model and
        a few array passes.
        """
        costs = CostModel(profile).evaluate(graph)
        checkpoint("the profile's edge costs")
        return cls.from_costs(graph, profile, costs, pairs=pairs)

    @classmethod
    def from_costs(cls, graph: CompiledGraph, profile: Profile, costs: EdgeCosts, *,
                   pairs: EdgePairs | None = None) -> ProfileGraph:  # fmt: skip
        """The search graph of already evaluated edge costs (e.g. a scenario's patched ones)."""
        pairs = pairs or EdgePairs.of(graph)
        cheapest = costs.cost[pairs.first_edge]
        entry = pairs.first_edge.copy()
        if len(pairs.multi):
            # Parallel edges: the first edge (lowest id) reaching its pair's minimum.
            cost = costs.cost[pairs.multi_order]
            low = np.minimum.reduceat(cost, pairs.multi_starts)
            counts = pairs.counts[pairs.multi]
            hits = np.flatnonzero(cost == np.repeat(low, counts))
            group = np.repeat(np.arange(len(low)), counts)[hits]
            first = np.ones(len(hits), dtype=bool)
            first[1:] = group[1:] != group[:-1]
            cheapest[pairs.multi] = low
            entry[pairs.multi[group[first]]] = pairs.multi_order[hits[first]].astype(entry.dtype)
        keep = np.isfinite(cheapest)
        n = graph.n_nodes
        indptr = np.zeros(n + 1, dtype=_id_dtype(int(np.count_nonzero(keep)) + 1))
        np.cumsum(np.bincount(pairs.u[keep], minlength=n), out=indptr[1:])
        return cls(profile=profile, costs=costs, indptr=indptr,
                   indices=pairs.v[keep].astype(np.int32, copy=False),
                   data=cheapest[keep].astype(np.float64, copy=False),
                   entry_edge=entry[keep])  # fmt: skip

    @property
    def n_nodes(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return len(self.indices)

    @cached_property
    def matrix(self) -> csr_matrix:
        """The adjacency as a ``scipy.sparse`` CSR matrix (n x n) sharing the arrays."""
        from scipy.sparse import csr_matrix

        n = self.n_nodes
        return csr_matrix((self.data, self.indices, self.indptr), shape=(n, n), copy=False)

    @cached_property
    def reversed_matrix(self) -> csr_matrix:
        """The transposed adjacency: searches towards a destination run on it."""
        return self.matrix.T.tocsr()

    @cached_property
    def _in_table(self) -> tuple[np.ndarray, np.ndarray]:
        """Per node, its in-neighbours and their edge ids, padded with -1 (n x max degree)."""
        m = self.matrix
        n = m.shape[0]
        tails = np.repeat(np.arange(n), np.diff(m.indptr))
        order = np.argsort(m.indices, kind="stable")
        heads = m.indices[order]
        degree = np.bincount(heads, minlength=n)
        width = max(int(degree.max(initial=0)), 1)
        starts = np.concatenate([[0], np.cumsum(degree)[:-1]])
        slot = np.arange(len(heads)) - starts[heads]
        nbr = np.full((n, width), -1, dtype=np.int32)
        edge = np.full((n, width), -1, dtype=np.int64)
        nbr[heads, slot] = tails[order]
        edge[heads, slot] = self.entry_edge[order]
        return nbr, edge

    def edges_between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Vectorised :meth:`edge_between` for adjacent node arrays (any equal shapes)."""
        nbr, edge = self._in_table
        slot = (nbr[b] == np.asarray(a)[..., None]).argmax(axis=-1)
        return edge[b, slot]

    def edge_between(self, a: int, b: int) -> int:
        """Id of the cheapest allowed edge a->b (both must be adjacent).

        One binary search in row ``a`` of the adjacency (its column indices are sorted,
        one entry per node pair): nothing is built per search graph, so a profile asked
        once (a new override value) pays nothing for it. Walk instructions call this once
        per node of a path.
        """
        start, end = int(self.indptr[a]), int(self.indptr[a + 1])
        pos = start + int(self.indices[start:end].searchsorted(b))
        return int(self.entry_edge[pos])
