"""Contraction hierarchies: many-to-many street costs in milliseconds.

A :class:`ContractionHierarchy` orders the nodes of one search graph (a profile's CSR
adjacency) and adds *shortcuts* so that every cheapest path runs up the order and then
down (Geisberger et al. 2008, "Contraction hierarchies: faster and simpler hierarchical
routing in road networks"). A many-to-many query (Knopp et al. 2007, "Computing
many-to-many shortest paths using highway hierarchies") then needs one small *upward*
search per source and per target instead of one whole-graph Dijkstra per source: the
targets' backward searches leave (target, cost) entries in buckets at the nodes they
settle, and each source's forward search scans the buckets of the nodes it settles.

Every arc carries cost, seconds and metres (a shortcut the sums of the path it stands
for), so a query reports the seconds and metres of the cost-optimal path it found, as the
Dijkstra searches do. Costs stay float64 throughout (they decide which path wins).

Built once per search graph (about a second or two on the 24k-node Almaty graph) in
compiled code (:mod:`routing._contraction`); :meth:`StreetNetwork.matrix
<routing.network.StreetNetwork.matrix>` decides when building pays and caches the result
in memory and on disk (:func:`hierarchy_key`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from routing._contraction import backward_spaces, contract, forward_scan
from routing._search_kernel import links_arrays, run_tasks
from routing.cache import arrays_key

if TYPE_CHECKING:  # scipy.sparse is imported where a search needs it (~14 MB per process)
    from scipy.sparse import csr_matrix

#: Settled nodes after which a witness search gives up: while ordering (simulating a
#: contraction) and while contracting. A missed witness only adds a needless shortcut.
#: On Almaty's walk graph, 20/100 against 60/500: 40 % less build time, ~3 % more
#: shortcuts, the same query time.
SIMULATE_SETTLE_LIMIT = 20
CONTRACT_SETTLE_LIMIT = 100

#: Searches per task handed to the thread pool by a query.
SEARCHES_PER_TASK = 16

#: Bumped whenever the build's output changes (old disk caches are then not read).
FORMAT_VERSION = 1

_ARC_FIELDS = ("head", "middle", "cost", "seconds", "metres")


@dataclass(frozen=True, eq=False)
class UpwardGraph:
    """Arcs from each node to higher-ranked nodes, as a CSR over node *ranks*.

    In the forward graph an arc of node ``x`` runs x -> head; in the backward graph it
    runs head -> x (so a backward search walks it from x up to head). ``middle`` is the
    rank of the node a shortcut bypasses (-1 for an arc of the original graph).
    """

    indptr: np.ndarray  # int64, ranks + 1
    head: np.ndarray  # int32 rank
    middle: np.ndarray  # int32 rank or -1
    cost: np.ndarray  # float64
    seconds: np.ndarray  # float64
    metres: np.ndarray  # float64

    @classmethod
    def from_arcs(cls, n: int, rank: np.ndarray, arcs: tuple[np.ndarray, ...]) -> UpwardGraph:
        owner, head, middle, cost, seconds, metres = arcs
        owner, head = rank[owner], rank[head]
        middle = np.where(middle >= 0, rank[np.maximum(middle, 0)], -1).astype(np.int32)
        order = np.argsort(owner, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(owner, minlength=n), out=indptr[1:])
        return cls(indptr, head[order].astype(np.int32), middle[order], cost[order],
                   seconds[order], metres[order])  # fmt: skip

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, f).nbytes for f in ("indptr", *_ARC_FIELDS))

    def _args(self) -> tuple[np.ndarray, ...]:
        return self.indptr, self.head, self.cost, self.seconds, self.metres


@dataclass(frozen=True, eq=False)
class Buckets:
    """The targets' backward search spaces, by node: what forward searches scan.

    Entries ``start[x]:start[x+1]`` belong to node (rank) ``x``: the target (column) that
    reached it and that search's cost, seconds and metres from it to the target.
    """

    count: int  # targets
    start: np.ndarray  # int64, ranks + 1
    column: np.ndarray  # int32
    cost: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray


@dataclass(frozen=True, eq=False)
class ContractionHierarchy:
    """A search graph's node order and upward graphs, ready for many-to-many queries.

    Attributes
    ----------
    rank
        Per node of the search graph, its place in the contraction order (int32).
    up
        Forward upward arcs (x -> higher), by rank.
    down
        Backward upward arcs (higher -> x), by rank.
    build_seconds
        Wall time the build took (0 for one loaded from disk is not stored: it keeps the
        build's figure).
    """

    rank: np.ndarray
    up: UpwardGraph
    down: UpwardGraph
    build_seconds: float

    @classmethod
    def build(cls, graph: csr_matrix, seconds: np.ndarray, metres: np.ndarray, *,
              simulate_limit: int = SIMULATE_SETTLE_LIMIT,
              contract_limit: int = CONTRACT_SETTLE_LIMIT,
              update_neighbours: bool = False) -> ContractionHierarchy:  # fmt: skip
        """Contract ``graph`` (CSR, data = costs > 0, one entry per node pair).

        Parameters
        ----------
        graph
            The search graph's adjacency; its data are the arc costs.
        seconds, metres
            Per entry of ``graph.data``: the arc's seconds and metres.
        simulate_limit, contract_limit
            Witness searches' settled-node limits (see :data:`SIMULATE_SETTLE_LIMIT`).
        update_neighbours
            Recompute the neighbours' priorities after each contraction (else only their
            deleted-neighbour count, the rest when they come up). On Almaty: 2.4x the build
            time for ~5 % fewer shortcuts and no faster queries.
        """
        started = time.perf_counter()
        n = graph.shape[0]
        rank, up, down = contract(
            n, np.asarray(graph.indptr, dtype=np.int64),
            np.asarray(graph.indices, dtype=np.int32),
            np.asarray(graph.data, dtype=np.float64), np.asarray(seconds, dtype=np.float64),
            np.asarray(metres, dtype=np.float64), int(simulate_limit), int(contract_limit),
            bool(update_neighbours),
        )  # fmt: skip
        return cls(rank, UpwardGraph.from_arcs(n, rank, up), UpwardGraph.from_arcs(n, rank, down),
                   time.perf_counter() - started)  # fmt: skip

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    @property
    def n_shortcuts(self) -> int:
        return int((self.up.middle >= 0).sum() + (self.down.middle >= 0).sum())

    @property
    def nbytes(self) -> int:
        """Memory held by the hierarchy's arrays."""
        return self.rank.nbytes + self.up.nbytes + self.down.nbytes

    # -- queries ------------------------------------------------------------------------
    def many_to_many(self, sources, targets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(cost, seconds, metres), each sources x targets, float64 (``inf``: no path).

        ``sources`` and ``targets`` are lists (one per point) of (node, cost, seconds,
        metres) links: a source leaves its point through each of its links' nodes at that
        cost; a target is reached from each of its links' nodes at that cost. A point with
        no link is unreachable. Searches run on a thread per core (they release the GIL).
        """
        return self.scan(sources, self.buckets(targets))

    def buckets(self, targets) -> Buckets:
        """One backward upward search per target (links as in :meth:`many_to_many`)."""
        n = self.n_nodes
        starts, node, *values = links_arrays(targets)
        node = self.rank[node] if len(node) else node
        stall = (self.up.indptr, self.up.head, self.up.cost)

        def backward(a: int, b: int):
            return backward_spaces(*self.down._args(), *stall, n, starts[a : b + 1], node,
                                   *values, a)  # fmt: skip

        parts = run_tasks(backward, len(targets), SEARCHES_PER_TASK)
        if not parts:
            parts = [(np.empty(0, np.int32), np.empty(0, np.int32), *[np.empty(0)] * 3)]
        node, column, cost, seconds, metres = (np.concatenate(x) for x in zip(*parts, strict=True))
        order = np.argsort(node, kind="stable")  # by node, columns in order within each
        start = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(node, minlength=n), out=start[1:])
        return Buckets(len(targets), start, column[order], cost[order], seconds[order],
                       metres[order])  # fmt: skip

    def scan(self, sources, buckets: Buckets) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One forward upward search per source, scanning ``buckets`` (of the targets)."""
        shape = (len(sources), buckets.count)
        out = [np.full(shape, np.inf) for _ in range(3)]
        starts, node, *values = links_arrays(sources)
        node = self.rank[node] if len(node) else node
        stall = (self.down.indptr, self.down.head, self.down.cost)
        arrays = (buckets.start, buckets.column, buckets.cost, buckets.seconds, buckets.metres)

        def forward(a: int, b: int) -> None:
            forward_scan(*self.up._args(), *stall, self.n_nodes, starts[a : b + 1], node,
                         *values, *arrays, *(x[a:b] for x in out))  # fmt: skip

        if buckets.count:
            run_tasks(forward, len(sources), SEARCHES_PER_TASK)
        return out[0], out[1], out[2]

    # -- disk ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the hierarchy to ``path`` (``.npz``)."""
        arrays = {"rank": self.rank, "version": np.array(FORMAT_VERSION),
                  "build_seconds": np.array(self.build_seconds)}  # fmt: skip
        for name, graph in (("up", self.up), ("down", self.down)):
            arrays[f"{name}_indptr"] = graph.indptr
            for field in _ARC_FIELDS:
                arrays[f"{name}_{field}"] = getattr(graph, field)
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> ContractionHierarchy:
        """Read a hierarchy written by :meth:`save`; ValueError when it is not one."""
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != FORMAT_VERSION:
                raise ValueError(f"hierarchy format {int(data['version'])}")
            rank = data["rank"]
            n = len(rank)
            graphs = []
            for name in ("up", "down"):
                graph = UpwardGraph(data[f"{name}_indptr"],
                                    *(data[f"{name}_{f}"] for f in _ARC_FIELDS))  # fmt: skip
                _check(graph, n)
                graphs.append(graph)
            build_seconds = float(data["build_seconds"])
        if rank.dtype != np.int32 or not np.array_equal(np.sort(rank), np.arange(n)):
            raise ValueError("rank is not a permutation")
        return cls(rank, graphs[0], graphs[1], build_seconds)


def _check(graph: UpwardGraph, n: int) -> None:
    """ValueError unless ``graph`` is a well-formed upward graph over ``n`` ranks."""
    m = len(graph.head)
    ok = (graph.indptr.dtype == np.int64 and len(graph.indptr) == n + 1
          and graph.indptr[0] == 0 and graph.indptr[-1] == m
          and bool(np.all(np.diff(graph.indptr) >= 0))
          and graph.head.dtype == np.int32 and graph.middle.dtype == np.int32
          and all(getattr(graph, f).dtype == np.float64 and len(getattr(graph, f)) == m
                  for f in ("cost", "seconds", "metres"))
          and len(graph.middle) == m)  # fmt: skip
    if ok and m:
        owner = np.repeat(np.arange(n), np.diff(graph.indptr))
        ok = bool(np.all(graph.head > owner) and np.all(graph.head < n))
    if not ok:
        raise ValueError("damaged upward graph")


def hierarchy_key(n: int, indptr: np.ndarray, indices: np.ndarray, cost: np.ndarray,
                  seconds: np.ndarray, metres: np.ndarray) -> str:  # fmt: skip
    """Hash of everything a hierarchy is built from (the CSR adjacency of ``n`` nodes, its
    entries' costs, seconds and metres, the build's limits and format): equal keys, equal
    hierarchies. Plain arrays, so a look-up needs no scipy."""
    return arrays_key([n, FORMAT_VERSION, SIMULATE_SETTLE_LIMIT, CONTRACT_SETTLE_LIMIT],
                      (indptr, indices, cost, seconds, metres))  # fmt: skip
