"""Customizable contraction hierarchies: a hierarchy for any costs in milliseconds.

A :class:`~routing.contraction.ContractionHierarchy` is built for one search graph's costs
(about a second on Almaty), so a new profile or override value would pay that again.
A customizable one (Dibbelt, Strasser, Wagner 2016, "Customizable contraction
hierarchies") splits the work in two:

- :class:`Topology`, once per street graph and shared by every profile and override
  value: a node order that does not depend on costs (*nested dissection*: the nodes of a
  small separator that splits the graph in two halves come last, each half ordered the
  same way) and the edges that eliminating the nodes in that order adds (each node's
  higher neighbours become a clique: a *chordal* graph, no witness searches);
- :meth:`Topology.customize`, per search graph: its arcs' costs (``inf`` where a profile
  blocks) on those edges, then one pass over the triangles
  (:func:`routing._customizable.customize`), tens of milliseconds.

The result is a :class:`~routing.contraction.ContractionHierarchy` (its upward graphs over
the same ranks), so queries are the bucket queries of :mod:`routing.contraction`; its
upward searches settle more nodes than those of a hierarchy contracted for the costs
(no witness pruning), so for a search graph with many matrices that one stays faster.

The separators come from the geometry and a max flow (*inertial flow*, Schild and Sommer
2015): along each of a few directions, the least set of nodes whose removal parts the
first quarter of the nodes from the last; the direction with the smallest separator wins.
Small parts are cut along a straight line instead. On Almaty's 24k nodes and 46k ways this
gives ~235k hierarchy edges and ~2M triangles (a median split along a line: 409k and
11.7M).
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing._customizable import chordal_fill, customize, load_metric
from routing.cache import arrays_key
from routing.contraction import ContractionHierarchy, UpwardGraph

#: Directions (angles in [0, pi)) tried for each split of the nested dissection: every
#: one for a cut along a line, every other one for a flow cut.
DIRECTIONS = 8
FLOW_DIRECTIONS = 4

#: Parts of at least this many nodes are split by a least node cut (max flow) between
#: their first and last FLOW_SHARE along a direction, smaller ones along a line.
FLOW_MIN_NODES = 100
FLOW_SHARE = 0.25
LINE_SHARE = 0.4

#: Parts of at most this many nodes are not split further.
LEAF_NODES = 2

#: Bumped whenever the order or the stored arrays change (old disk caches are not read).
FORMAT_VERSION = 1


@dataclass(frozen=True, eq=False)
class Topology:
    """A graph's metric-independent node order and chordal edges.

    Attributes
    ----------
    rank
        Per node, its place in the order (int32).
    indptr, head
        Per rank x, the ranks y > x it shares an edge with, increasing (CSR: int64, int32).
    arc_edge, arc_up
        Per arc of the graph it was built from: the hierarchy edge (position in ``head``)
        it lies on (-1 for a loop), and whether it runs up the order (int32, int8).
    build_seconds
        Wall time the build took.
    """

    rank: np.ndarray
    indptr: np.ndarray
    head: np.ndarray
    arc_edge: np.ndarray
    arc_up: np.ndarray
    build_seconds: float

    @classmethod
    def build(cls, lat: np.ndarray, lon: np.ndarray, tail: np.ndarray,
              head: np.ndarray) -> Topology:  # fmt: skip
        """From node coordinates (degrees) and the graph's arcs (``tail[i] -> head[i]``,
        either direction: the topology is undirected)."""
        started = time.perf_counter()
        n = len(lat)
        a, b = _undirected(n, tail, head)
        order = nested_dissection(lat, lon, a, b)
        rank = np.empty(n, dtype=np.int32)
        rank[order] = np.arange(n, dtype=np.int32)
        lo, hi = np.minimum(rank[a], rank[b]), np.maximum(rank[a], rank[b])
        by_lo = np.argsort(lo, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(lo, minlength=n), out=indptr[1:])
        indptr, up = chordal_fill(n, indptr, hi[by_lo].astype(np.int32))
        arc_edge, arc_up = _arcs_on(rank, indptr, up, tail, head)
        return cls(rank, indptr, up, arc_edge, arc_up, time.perf_counter() - started)

    @property
    def n_nodes(self) -> int:
        return len(self.rank)

    @property
    def n_edges(self) -> int:
        return len(self.head)

    @property
    def nbytes(self) -> int:
        return sum(x.nbytes for x in (self.rank, self.indptr, self.head, self.arc_edge,
                                      self.arc_up))  # fmt: skip

    def customize(self, arc: np.ndarray, cost: np.ndarray, seconds: np.ndarray,
                  metres: np.ndarray) -> ContractionHierarchy:  # fmt: skip
        """A hierarchy for one search graph: per entry, the arc of the graph it runs on
        (its position in the arcs the topology was built from), its cost (> 0, ``inf``:
        blocked), seconds and metres.

        The hierarchy shares this topology's ``indptr`` and ``head`` (only costs, seconds
        and metres are its own: 48 bytes per hierarchy edge); an edge with an ``inf`` cost
        stays and is never relaxed.
        """
        started = time.perf_counter()
        f = np.ascontiguousarray
        fwd, bwd = load_metric(self.n_edges, self.arc_edge, self.arc_up, f(arc, np.int64),
                               f(cost, np.float64), f(seconds, np.float64),
                               f(metres, np.float64))  # fmt: skip
        customize(self.indptr, self.head, *fwd, *bwd)
        # Queries never read ``middle`` (the node a contracted hierarchy's shortcut
        # bypasses): one shared -1, no memory per edge.
        middle = np.broadcast_to(np.int32(-1), (self.n_edges,))
        up, down = (UpwardGraph(self.indptr, self.head, middle, *values) for values in (fwd, bwd))
        return ContractionHierarchy(self.rank, up, down, time.perf_counter() - started)

    # -- disk ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        with open(path, "wb") as handle:
            np.savez(handle, rank=self.rank, indptr=self.indptr, head=self.head,
                     arc_edge=self.arc_edge, arc_up=self.arc_up,
                     version=np.array(FORMAT_VERSION),
                     build_seconds=np.array(self.build_seconds))  # fmt: skip

    @classmethod
    def load(cls, path: str | Path) -> Topology:
        """Read a topology written by :meth:`save`; ValueError when it is not one."""
        with np.load(path, allow_pickle=False) as data:
            if int(data["version"]) != FORMAT_VERSION:
                raise ValueError(f"topology format {int(data['version'])}")
            rank, indptr, head = data["rank"], data["indptr"], data["head"]
            arc_edge, arc_up = data["arc_edge"], data["arc_up"]
            build_seconds = float(data["build_seconds"])
        n = len(rank)
        ok = (rank.dtype == np.int32 and indptr.dtype == np.int64 and head.dtype == np.int32
              and len(indptr) == n + 1 and indptr[0] == 0 and indptr[-1] == len(head)
              and bool(np.all(np.diff(indptr) >= 0))
              and np.array_equal(np.sort(rank), np.arange(n))
              and arc_edge.dtype == np.int32 and arc_up.dtype == np.int8
              and len(arc_edge) == len(arc_up)
              and bool(np.all((arc_edge >= -1) & (arc_edge < len(head)))))  # fmt: skip
        if ok and len(head):
            owner = np.repeat(np.arange(n), np.diff(indptr))
            ok = bool(np.all(head > owner) and np.all(head < n))
        if not ok:
            raise ValueError("damaged topology")
        return cls(rank, indptr, head, arc_edge, arc_up, build_seconds)


def topology_key(lat: np.ndarray, lon: np.ndarray, tail: np.ndarray, head: np.ndarray) -> str:
    """Hash of what a topology is built from (coordinates, arcs, settings, format)."""
    return arrays_key([len(lat), FORMAT_VERSION, DIRECTIONS, FLOW_DIRECTIONS, FLOW_MIN_NODES,
                       LEAF_NODES], (lat, lon, tail, head),
                      float_settings=[FLOW_SHARE, LINE_SHARE])  # fmt: skip


def nested_dissection(lat: np.ndarray, lon: np.ndarray, a: np.ndarray,
                      b: np.ndarray) -> np.ndarray:  # fmt: skip
    """Node ids in a nested dissection order of the undirected graph ``a[i] -- b[i]``
    (each part's separator after the two halves it splits)."""
    n = len(lat)
    x = (np.asarray(lon, float) - np.mean(lon)) * np.cos(np.radians(np.mean(lat)))
    y = np.asarray(lat, float) - np.mean(lat)
    angles = np.linspace(0.0, np.pi, DIRECTIONS, endpoint=False)
    projections = [np.cos(t) * x + np.sin(t) * y for t in angles]
    out: list[np.ndarray] = []
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        _dissect(np.arange(n), np.asarray(a, np.int64), np.asarray(b, np.int64),
                 _Parts(n, projections), out)  # fmt: skip
    finally:
        sys.setrecursionlimit(limit)
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


class _Parts:
    """Work arrays of :func:`nested_dissection` (one per graph, reused by every part)."""

    def __init__(self, n: int, projections: list[np.ndarray]) -> None:
        self.projections = projections
        self.side = np.zeros(n, dtype=bool)
        self.in_separator = np.zeros(n, dtype=bool)
        self.local = np.zeros(n, dtype=np.int64)

    def flow_cut(self, nodes, a, b, projection) -> tuple[np.ndarray, np.ndarray]:
        """(separator, the nodes on the first side): a least node cut between the first
        and the last FLOW_SHARE of ``nodes`` along ``projection`` (inertial flow, Schild
        and Sommer 2015), by a max flow with each node split into in -> out of capacity 1."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import breadth_first_order, maximum_flow

        k = len(nodes)
        self.local[nodes] = np.arange(k)
        la, lb = self.local[a], self.local[b]
        order = np.argsort(projection[nodes], kind="stable")
        m = max(1, int(FLOW_SHARE * k))
        first, last = order[:m], order[-m:]
        source, sink, big = 2 * k, 2 * k + 1, 1 << 20
        # in-node i, out-node k + i: arcs in -> out (1), out -> neighbour's in (big),
        # source -> first nodes' in, last nodes' out -> sink (big; so a first or last
        # node may be in the separator, as it must when an arc joins the two sets).
        rows = np.concatenate([np.arange(k), k + la, k + lb, np.full(m, source), k + last])
        cols = np.concatenate([k + np.arange(k), lb, la, first, np.full(m, sink)])
        caps = np.full(len(rows), big, dtype=np.int32)
        caps[:k] = 1
        capacity = csr_matrix((caps, (rows, cols)), shape=(2 * k + 2, 2 * k + 2))
        flow = maximum_flow(capacity, source, sink, method="dinic").flow
        residual = (capacity - flow).tocsr()
        residual.data = (residual.data > 0).astype(np.int32)
        residual.eliminate_zeros()
        reached = np.zeros(2 * k + 2, dtype=bool)
        reached[breadth_first_order(residual, source, return_predecessors=False)] = True
        separator = nodes[reached[:k] & ~reached[k : 2 * k]]
        return separator, nodes[reached[k : 2 * k]]

    def line_cut(self, nodes, a, b, projection) -> tuple[np.ndarray, np.ndarray]:
        """(separator, the nodes on the first side): the split of ``nodes`` sorted along
        ``projection`` that cuts the fewest arcs (between LINE_SHARE and 1 - LINE_SHARE of
        them on each side); the cut arcs' ends on the side with fewer of them."""
        k = len(nodes)
        order = nodes[np.argsort(projection[nodes], kind="stable")]
        self.local[order] = np.arange(k)
        lo = np.minimum(self.local[a], self.local[b])
        hi = np.maximum(self.local[a], self.local[b])
        # Arcs cut by "the first s nodes": lo < s <= hi.
        change = np.bincount(lo + 1, minlength=k + 1) - np.bincount(hi + 1, minlength=k + 1)
        cut_count = np.cumsum(change)
        low, high = max(1, int(LINE_SHARE * k)), max(2, k - int(LINE_SHARE * k) + 1)
        split = low + int(np.argmin(cut_count[low:high]))
        side = self.side
        side[nodes] = False
        side[order[:split]] = True
        cut = side[a] != side[b]
        ends_a, ends_b = a[cut], b[cut]
        first = np.unique(np.where(side[ends_a], ends_a, ends_b))
        second = np.unique(np.where(side[ends_a], ends_b, ends_a))
        return (first if len(first) <= len(second) else second), order[:split]


def _dissect(nodes, a, b, parts: _Parts, out: list) -> None:
    if len(nodes) <= LEAF_NODES or not len(a):
        out.append(nodes)
        return
    if len(nodes) >= FLOW_MIN_NODES:
        cut = parts.flow_cut
        projections = parts.projections[:: max(1, len(parts.projections) // FLOW_DIRECTIONS)]
    else:
        cut, projections = parts.line_cut, parts.projections
    best = None
    for projection in projections:
        found = cut(nodes, a, b, projection)
        if best is None or len(found[0]) < len(best[0]):
            best = found
    separator, first = best
    side, in_separator = parts.side, parts.in_separator
    side[nodes] = False
    side[first] = True
    in_separator[separator] = True
    keep = ~in_separator[a] & ~in_separator[b]
    a, b = a[keep], b[keep]
    rest = nodes[~in_separator[nodes]]
    rest_side, arc_side = side[rest], side[a]
    halves = []
    for which in (True, False):  # (no arc joins the two sides once the separator is out)
        on = arc_side == which
        halves.append((rest[rest_side == which], a[on], b[on]))
    for part, part_a, part_b in halves:
        if len(part):
            _dissect(part, part_a, part_b, parts, out)
    out.append(separator)


def _arcs_on(rank, indptr, up, tail, head) -> tuple[np.ndarray, np.ndarray]:
    """Per arc, its hierarchy edge (-1 for a loop) and whether it runs up the order."""
    n = len(rank)
    rt, rh = rank[np.asarray(tail, np.int64)].astype(np.int64), rank[np.asarray(head, np.int64)]
    lo, hi = np.minimum(rt, rh), np.maximum(rt, rh)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    keys = owner * n + up  # increasing: rows in order, each row's heads increasing
    where = np.minimum(np.searchsorted(keys, lo * n + hi), max(len(keys) - 1, 0))
    loop = lo == hi
    where[loop] = -1
    if not np.all(keys[where[~loop]] == (lo * n + hi)[~loop]):
        raise AssertionError("an arc is missing from the chordal edges")
    return where.astype(np.int32), (rt < rh).astype(np.int8)


def _undirected(n: int, tail: np.ndarray, head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct node pairs {a < b} of the arcs (loops dropped)."""
    tail, head = np.asarray(tail, np.int64), np.asarray(head, np.int64)
    a, b = np.minimum(tail, head), np.maximum(tail, head)
    key = np.unique((a * n + b)[a != b])
    return key // n, key % n
