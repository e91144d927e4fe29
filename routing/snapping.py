"""Snap a coordinate to the nearest point of an edge a profile may use."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from routing._snapping import SegmentIndex, partial_line
from routing.geo import LocalProjection
from routing.graph.compiled import CompiledGraph
from routing.pointgrid import PointGrid


@dataclass(frozen=True)
class Snap:
    """A point on edge ``edge`` at fraction ``t`` of its length from its tail."""

    edge: int
    t: float
    lat: float
    lon: float
    distance_m: float  # from the requested point to the snapped point


class EdgeSampler:
    """Nearest-edge look-ups, and points every ``step_m`` along edges (isochrones).

    ``sampled`` (per edge) limits both to some edges: an edge running the other way along
    the same geometry needs none of its own (half the index for two-way ways).

    The look-up index is a grid (:class:`~routing.pointgrid.PointGrid`, cells of
    ``cell_m``) over the midpoints of *pieces*: each segment of a sampled edge cut into
    pieces of at most ``index_step_m``; a cell lists the segments of the pieces whose
    midpoint lies in it. A piece's midpoint lies within ``index_step_m / 2`` of every point
    of the piece, which is all the exact search in :meth:`nearest` needs. The ``step_m``
    points are made on demand (:meth:`samples`).
    """

    def __init__(self, graph: CompiledGraph, projection: LocalProjection, *,
                 step_m: float = 10.0, index_step_m: float = 40.0, cell_m: float = 100.0,
                 sampled: np.ndarray | None = None):  # fmt: skip
        self.graph = graph
        self.projection = projection
        self.step_m = step_m
        self.index_step_m = index_step_m
        self.sampled = np.ones(graph.n_edges, dtype=bool) if sampled is None else sampled
        xy = projection.forward(graph.geometry[:, 0], graph.geometry[:, 1])
        offsets = graph.geometry_offsets
        seg_edge = np.repeat(np.arange(graph.n_edges), np.diff(offsets))
        # Segments run from each geometry point to the next within the same edge.
        last = offsets[1:] - 1
        is_start = np.ones(len(xy), dtype=bool)
        is_start[last] = False
        starts = np.flatnonzero(is_start)
        a, b = xy[starts], xy[starts + 1]
        del xy
        seg_len = np.hypot(*(b - a).T)
        seg_edge = seg_edge[starts]
        # Fraction along the edge at each segment start (by length).
        edge_len = np.bincount(seg_edge, weights=seg_len, minlength=graph.n_edges)
        cum = np.cumsum(seg_len) - seg_len
        edge_first = np.zeros(graph.n_edges)
        first_pos = np.searchsorted(seg_edge, np.arange(graph.n_edges))
        valid = first_pos < len(seg_edge)
        edge_first[valid] = cum[np.minimum(first_pos[valid], len(cum) - 1)]
        along0 = cum - edge_first[seg_edge]
        # Only the sampled edges' segments are kept (in edge order): no other is looked at.
        keep = self.sampled[seg_edge]
        self.seg_a, self.seg_b = a[keep], b[keep]
        self.seg_edge = seg_edge[keep].astype(np.int32)
        self.seg_len, self.seg_along = seg_len[keep], along0[keep]
        self.edge_len = np.maximum(edge_len, 1e-9)
        points, piece_seg = self._points_on(np.arange(len(self.seg_len)), index_step_m)
        # One index shared by all profiles: a profile only filters it.
        self.index = PointGrid(points, cell_m=cell_m, values=piece_seg)
        self._kernel = self._make_kernel()

    def _make_kernel(self) -> SegmentIndex:
        # Views of the arrays above, no copies (compiled: rebuilt after unpickling).
        return SegmentIndex(self.index, self.seg_a, self.seg_b, self.seg_edge,
                            self.index_step_m / 2)  # fmt: skip

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        del state["_kernel"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._kernel = self._make_kernel()

    def _points_on(self, segs: np.ndarray, step_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Midpoints of the pieces of at most ``step_m`` that ``segs`` are cut into, and
        the segment of each."""
        counts = np.maximum(1, np.ceil(self.seg_len[segs] / step_m).astype(np.int64))
        seg = np.repeat(segs, counts)
        within = np.arange(len(seg)) - np.repeat(np.cumsum(counts) - counts, counts)
        frac = (within + 0.5) / np.repeat(counts, counts)
        a, b = self.seg_a[seg], self.seg_b[seg]
        return a + (b - a) * frac[:, None], seg.astype(np.int32)

    def samples(self, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Points every ``step_m`` (at most) along sampled ``edges``, in metres.

        Returns
        -------
        points, segment, which
            (x, y) of each point, its segment, and its edge's position in ``edges``.
        """
        first = np.searchsorted(self.seg_edge, edges)
        counts = np.searchsorted(self.seg_edge, edges, side="right") - first
        which = np.repeat(np.arange(len(edges)), counts)
        segs = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        segs += np.repeat(first, counts)
        per_seg = np.maximum(1, np.ceil(self.seg_len[segs] / self.step_m).astype(np.int64))
        points, seg = self._points_on(segs, self.step_m)
        return points, seg, np.repeat(which, per_seg)

    def nearest(
        self,
        lat: float,
        lon: float,
        *,
        usable: np.ndarray | None = None,
        within_m: float = np.inf,
        radius_m: float = 60.0,
    ) -> Snap | None:
        """The exact nearest point on an edge with ``usable[edge]`` (any edge when None).

        Pieces' midpoints lie at most ``index_step_m / 2`` (the slack) from any point of
        their segment, so once the best candidate found within a square of half-side
        ``r`` is nearer than ``r`` minus the slack, no segment left out can be nearer;
        otherwise the square grows (from ``radius_m``, up to ``within_m`` plus the slack):
        to the best distance found plus the slack, or threefold while none is found. Of
        equally near segments the first (in edge order) wins. The search is compiled
        (:class:`routing._snapping.SegmentIndex`).

        Returns
        -------
        Snap or None
            None when no such edge lies within ``within_m``.
        """
        x, y = self.projection.point_xy(lat, lon)
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ValueError(f"cannot snap a point at ({lat}, {lon})")
        found = self._kernel.nearest(x, y, within_m, radius_m, _mask(usable))
        return None if found is None else self._snap(*found)

    def nearest_many(
        self,
        lat: np.ndarray,
        lon: np.ndarray,
        *,
        usable: np.ndarray | None = None,
        within_m: float | np.ndarray = np.inf,
        radius_m: float = 60.0,
    ) -> list[Snap | None]:
        """:meth:`nearest` of each point (``within_m`` one bound, or one per point)."""
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        xy = np.ascontiguousarray(self.projection.forward(lat, lon).reshape(-1, 2))
        if not np.isfinite(xy).all():
            raise ValueError("cannot snap a point with a coordinate that is not a number")
        bound = np.ascontiguousarray(np.broadcast_to(np.asarray(within_m, dtype=np.float64),
                                                     len(xy)))  # fmt: skip
        seg, frac, point, dist = self._kernel.nearest_many(xy, bound, radius_m, _mask(usable))
        # As _snap does, over all points at once (the same operations, element by element).
        found = np.flatnonzero(seg >= 0)
        seg = seg[found]
        edge = self.seg_edge[seg]
        t = (self.seg_along[seg] + frac[found] * self.seg_len[seg]) / self.edge_len[edge]
        t = np.minimum(np.maximum(t, 0.0), 1.0)
        lat, lon = self.projection.inverse(point[found])
        out: list[Snap | None] = [None] * len(xy)
        for i, *fields in zip(found.tolist(), edge.tolist(), t.tolist(), lat.tolist(),
                              lon.tolist(), dist[found].tolist(), strict=True):  # fmt: skip
            out[i] = Snap(*fields)
        return out

    def _snap(self, seg: int, s: float, x: float, y: float, distance: float) -> Snap:
        """The point at fraction ``s`` of segment ``seg`` (at ``x``, ``y``)."""
        edge = int(self.seg_edge[seg])
        t = (float(self.seg_along[seg]) + s * float(self.seg_len[seg])) / float(self.edge_len[edge])
        lat, lon = self.projection.point_latlon(x, y)
        return Snap(edge=edge, t=min(max(t, 0.0), 1.0), lat=lat, lon=lon, distance_m=distance)

    def partial_geometry(self, edge: int, t0: float, t1: float) -> np.ndarray:
        """(lat, lon) points of ``edge`` between fractions t0 <= t1 (compiled:
        :func:`routing._snapping.partial_line`)."""
        proj = self.projection
        return partial_line(self.graph.edge_geometry(edge), proj.lat0, proj.lon0,
                            proj.x_per_degree, proj.y_per_degree, t0, t1)


def _mask(usable: np.ndarray | None) -> np.ndarray | None:
    """A per-edge boolean array as the compiled search reads it (bytes, no copy)."""
    return None if usable is None else np.ascontiguousarray(usable, dtype=bool).view(np.uint8)


#: A connected piece of the walking network with fewer nodes than this is a *fragment*
#: (a footway cut off by a missing node, a courtyard path): points are not snapped onto it
#: for any profile, since no route can leave it. (A place that walkers can leave but a
#: profile cannot is not a fragment: it gets a "no route" naming the barriers.) Only
#: applied when the main piece is at least ``FRAGMENT_MAIN_FACTOR`` times larger, so
#: that small hand-made graphs keep every piece.
MIN_FRAGMENT_NODES = 20
FRAGMENT_MAIN_FACTOR = 10


def fragment_edges(graph: CompiledGraph, usable: np.ndarray) -> np.ndarray:
    """Per edge: does it lie on a fragment of the network made of ``usable`` edges."""
    n = graph.n_nodes
    label = component_roots(n, graph.edge_u[usable], graph.edge_v[usable])
    size = np.bincount(label, minlength=n)
    # Nodes without usable edges are singleton components; they do not count as the main one.
    main = size.max() if len(size) else 0
    if main < MIN_FRAGMENT_NODES * FRAGMENT_MAIN_FACTOR:
        return np.zeros(graph.n_edges, dtype=bool)
    small = size[label] < MIN_FRAGMENT_NODES
    return small[graph.edge_u] & small[graph.edge_v]


def component_roots(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Per node of an undirected graph (edges ``u``-``v``), the lowest node of its connected
    component: numpy only (at start-up; ``scipy.sparse.csgraph`` costs ~14 MB per process).

    Roots hook onto the lowest root they share an edge with, and every pointer then jumps
    to its root, until no edge joins two roots: a few rounds on a street network.
    """
    root = np.arange(n, dtype=np.int64)
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    while True:
        ru, rv = root[u], root[v]
        differ = ru != rv
        if not differ.any():
            return root
        ru, rv = ru[differ], rv[differ]
        low = np.minimum(ru, rv)
        np.minimum.at(root, np.maximum(ru, rv), low)  # a root only ever points lower
        while True:  # pointer jumping: every node to its root
            up = root[root]
            if np.array_equal(up, root):
                break
            root = up


def unsnappable_edges(graph: CompiledGraph) -> np.ndarray:
    """Edges no point is snapped onto: fragments, and crossings built across a road (a point
    in the middle of a road belongs on the sidewalk beside it, not on the carriageway)."""
    from routing.graph import attributes as at

    built_crossing = (graph.edge["kind"] == at.WAY_KIND["crossing"]) & graph.edge["built"]
    return fragment_edges(graph, np.ones(graph.n_edges, dtype=bool)) | built_crossing


#: A strongly connected piece of a profile's search graph with at least this many nodes
#: (or the largest piece, in a smaller graph) is part of the *main* network: an end that
#: can reach one (an origin) or be reached from one (a destination) can be left. Smaller
#: pieces are *profile islands* (a footway a wheelchair can only leave over steps).
MAIN_PIECE_NODES = 200


def main_reach(matrix, *, min_nodes: int = MAIN_PIECE_NODES) -> tuple[np.ndarray, np.ndarray]:
    """Per node of a directed search graph: can it reach a main piece, is it reached from one.

    One strongly connected components pass and two breadth-first searches from every main
    node at once (a virtual node joined to them), all in ``scipy.sparse.csgraph``.

    Returns
    -------
    leaves, enters
        Boolean node arrays: a path leads from the node to a main piece / from a main
        piece to the node (main nodes are both).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n = matrix.shape[0]
    # Structure only: explicit zero costs must stay edges.
    structure = csr_matrix((np.ones(matrix.nnz), matrix.indices, matrix.indptr), shape=(n, n))
    _, label = connected_components(structure, directed=True, connection="strong")
    size = np.bincount(label)
    main = np.flatnonzero((size >= min(min_nodes, size.max()))[label])
    enters = _reached_from(structure, main)
    leaves = _reached_from(structure.T.tocsr(), main)
    return leaves, enters


def _reached_from(structure, sources: np.ndarray) -> np.ndarray:
    """Nodes a path reaches from any of ``sources`` (a virtual node joined to them)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import breadth_first_order

    n = structure.shape[0]
    indptr = np.append(structure.indptr, structure.indptr[-1] + len(sources))
    indices = np.concatenate([structure.indices, sources]).astype(np.int32)
    joined = csr_matrix((np.ones(len(indices)), indices, indptr), shape=(n + 1, n + 1))
    order = breadth_first_order(joined, n, directed=True, return_predecessors=False)
    out = np.zeros(n + 1, dtype=bool)
    out[order] = True
    return out[:n]


def leavable_edges(
    usable: np.ndarray, allowed: np.ndarray, reverse_edge: np.ndarray,
    edge_u: np.ndarray, edge_v: np.ndarray, node_ok: np.ndarray, *, reverse: bool,
) -> np.ndarray:  # fmt: skip
    """Per usable edge: can a point on it leave towards (or, ``reverse``, be reached from)
    a main piece, along the edge or its opposite (``node_ok`` from :func:`main_reach`)."""
    rev = np.maximum(reverse_edge, 0)
    back = np.where(reverse_edge >= 0, allowed[rev], False)
    if not reverse:  # leave along the edge to its head, or back along the opposite to its tail
        ok = (allowed & node_ok[edge_v]) | (back & node_ok[edge_u])
    else:  # arrive along the edge from its tail, or along the opposite from its head
        ok = (allowed & node_ok[edge_u]) | (back & node_ok[edge_v])
    return usable & ok
