"""The street-search service: the one way into street search for every caller.

:class:`StreetNetwork` holds one compiled graph, one snapping index shared by all
profiles, and a bounded cache of per-profile search graphs. It answers:

``snap``
    A coordinate placed on the nearest way a profile may use (a :class:`Snap`).
``path``
    The cheapest path between two snapped points, as traversed pieces of edges
    (:class:`StreetPath`); the router only describes it.
``tree``
    One-to-all costs, seconds and metres from one or many snapped points, forward (from
    them) or reverse (to them), optionally bounded (:class:`SearchTree`).
``matrix``
    Many-to-many costs, seconds and metres between snapped points (:class:`CostMatrix`),
    in bounded memory.
``isochrone``
    The area reachable within given minutes (see :mod:`routing.isochrone`).

Every search minimises the profile's *cost*; seconds and metres are those of the path the
search chose (what the traveller experiences), as in Valhalla's ``cost`` vs ``secs``.
Snapped points sit part-way along an edge: a search starts from a virtual node joined to
both ends of the point's edge (and of the edge running the other way), and ends at a point
by arriving over either end; two points on one edge are also joined directly.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from math import isfinite
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from routing._path import PathSearch, min_cost_per_metre
from routing.cache import load_or_build
from routing.contraction import ContractionHierarchy, hierarchy_key
from routing.cost.profiles import Profile
from routing.deadline import accepts_deadline, checkpoint
from routing.errors import NoRouteError, OutsideAreaError, RoutingError
from routing.geo import LocalProjection
from routing.graph.compiled import CompiledGraph
from routing.instructions import RouteEdge
from routing.search import EdgePairs, ProfileGraph
from routing.snapping import EdgeSampler, Snap, leavable_edges, main_reach, unsnappable_edges

if TYPE_CHECKING:  # scipy.sparse is imported where a search needs it (~14 MB per process)
    from scipy.sparse import csr_matrix

    from routing.customizable import Topology  # imported by the matrices that use it

LatLon = tuple[float, float]

#: Sources per Dijkstra batch in :meth:`StreetNetwork.matrix` (bounds memory: a batch holds
#: a few arrays of ``batch x nodes`` values).
MATRIX_BATCH = 64

#: Point lists at least this long have their offsets kept while the same list is passed
#: again (see :meth:`StreetNetwork._offset_arrays`).
POINT_CACHE_MIN = 256

#: Unbounded matrices use the search graph's contraction hierarchy (~1.0-1.2 s to build on
#: Almaty, then ~0.03 ms per upward search against ~1-4 ms per Dijkstra search): loaded
#: from disk for a matrix of at least HIERARCHY_LOAD_SEARCHES searches, built once the
#: search graph's matrices have run HIERARCHY_BUILD_SEARCHES Dijkstra searches in all
#: (counting the one asked; about what a build costs, so that the Dijkstra searches run
#: before it cost no more than the build itself: a one-off override value never pays a
#: build for a small matrix, and a 1,000 x 1,000 builds at once).
HIERARCHY_LOAD_SEARCHES = 16
HIERARCHY_BUILD_SEARCHES = 800

#: A hierarchy query runs one upward search per distinct source *and* target (~0.03 ms
#: each on Almaty), Dijkstra one whole-graph search (~2-4 ms) per point of the smaller side
#: only: so a matrix whose points outnumber its smaller side more than this many times
#: (e.g. one source, thousands of targets) stays on Dijkstra.
HIERARCHY_SEARCH_RATIO = 40

#: Hierarchies kept in memory per network (~8.5 MB each on Almaty; the least recently used
#: beyond this are dropped and loaded again from the cache folder, ~15 ms, when asked).
HIERARCHIES_KEPT = 6

#: A matrix of at least this many searches (its smaller side's distinct points) for a
#: search graph without a contracted hierarchy runs on a *customized* one
#: (:mod:`routing.customizable`): ~20-30 ms to customize on Almaty, once per search graph
#: (kept), then queries about as fast as on a contracted hierarchy, against ~1-1.5 ms per
#: Dijkstra search. So a never-seen override value's 100 x 100 answers in tens of milliseconds.
CUSTOMIZE_SEARCHES = 32

#: Searches run on a customized hierarchy count this much each towards
#: HIERARCHY_BUILD_SEARCHES (a Dijkstra search counts 1): its queries are about as fast as
#: a contracted hierarchy's (Almaty, 100 x 100 and 1,000 x 1,000), but a contracted one
#: takes less memory (~8.5 against ~11 MB), is kept on disk across restarts and is not
#: dropped with the customized ones (CUSTOMIZED_KEPT): built after ~8,000 such searches.
CUSTOMIZED_SEARCH_SHARE = 0.1

#: Customized hierarchies kept in memory per network (~11 MB each on Almaty; the least
#: recently used beyond this are dropped and customized again, ~25 ms, when asked).
CUSTOMIZED_KEPT = 2

#: Source rows per hierarchy query batch (bounds the float64 work arrays besides the answer).
HIERARCHY_BATCH = 256

#: Nodes :meth:`StreetNetwork.path`'s search settles between two deadline checks (a
#: whole-city search of ~24k nodes is a few chunks of well under a millisecond each).
PATH_CHUNK = 4096


@dataclass(frozen=True)
class Offset:
    """A virtual node's link to a real node: ``node`` at ``cost``, ``seconds``, ``metres``."""

    node: int
    cost: float
    seconds: float
    metres: float


@dataclass(frozen=True)
class StreetPath:
    """The cheapest path between two snapped points for one profile."""

    profile: Profile
    source: Snap
    target: Snap
    cost: float
    pieces: list[RouteEdge]

    @property
    def seconds(self) -> float:
        return float(sum(p.seconds for p in self.pieces))

    @property
    def metres(self) -> float:
        return float(sum(p.length_m for p in self.pieces))

    @property
    def edges(self) -> list[int]:
        return [p.edge for p in self.pieces]


@dataclass(frozen=True)
class CostMatrix:
    """Costs, seconds and metres from each source (row) to each target (column).

    ``inf`` (cost, seconds and metres alike) where no path exists for the profile, or a
    source or target is ``None`` (not snapped).
    """

    cost: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray

    @property
    def reachable(self) -> np.ndarray:
        return np.isfinite(self.cost)


@dataclass(frozen=True)
class SearchTree:
    """One search from one or many snapped points: per node cost, seconds, metres, parent.

    In a forward tree values run from the nearest source to the node; in a reverse tree
    from the node to the nearest source (then a node's ``parent`` is the next node on its
    way there). ``parent`` is -1 for unreached nodes and for nodes reached straight from a
    source's edge (None for a tree searched without parents). Nodes beyond ``limit``
    (cost) are unreached (``inf``).
    """

    network: StreetNetwork
    profile: Profile
    sources: tuple[Snap, ...]
    reverse: bool
    limit: float
    cost: np.ndarray
    seconds: np.ndarray
    metres: np.ndarray
    parent: np.ndarray | None
    start_s: tuple[float, ...] = ()  # per source: seconds already spent (0 when empty)

    def at(self, points: Sequence[Snap | None]) -> CostMatrix:
        """Values at snapped points (a 1 x len(points) matrix; direct same-edge walks too)."""
        net = self.network
        pg = net.costs(self.profile)
        row = CostMatrix(self.cost[None, :], self.seconds[None, :], self.metres[None, :])
        out = net._arrive(pg, row, points, reverse=self.reverse)
        near = {s.edge for s in self.sources} | {
            int(net.reverse_edge[s.edge]) for s in self.sources
        }
        for j, point in enumerate(points):
            if point is None or point.edge not in near:
                continue
            for i, src in enumerate(self.sources):
                a, b = (point, src) if self.reverse else (src, point)
                direct = net._direct(pg, a, b)
                start = self.start_s[i] if self.start_s else 0.0
                if direct is not None and direct[0] + start < out.cost[0, j]:
                    out.cost[0, j] = direct[0] + start
                    out.seconds[0, j], out.metres[0, j] = direct[1] + start, direct[2]
        over = out.cost > self.limit
        for values in (out.cost, out.seconds, out.metres):
            values[over] = np.inf
        return out


class StreetNetwork:
    """Street search on one compiled graph, for every profile.

    Parameters
    ----------
    graph
        The compiled walking graph.
    max_snap_m
        A point farther than this from any walkable way is outside the graph's area.
    snap_tolerance_m
        How much farther than the nearest walkable way the nearest usable way may be.
    cache_size
        How many (profile, overrides) search graphs to keep (least recently used dropped).
    cache_dir
        Where contraction hierarchies are kept on disk (keyed by a hash of the search graph
        and its costs); None keeps them in memory only.
    """

    def __init__(
        self,
        graph: CompiledGraph,
        *,
        max_snap_m: float = 500.0,
        snap_tolerance_m: float = 30.0,
        cache_size: int = 16,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.graph = graph
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.max_snap_m = max_snap_m
        self.snap_tolerance_m = snap_tolerance_m
        self.cache_size = cache_size
        self.projection = LocalProjection(
            float(np.mean(graph.node_lat)), float(np.mean(graph.node_lon))
        )
        self.reverse_edge = _reverse_edges(graph)
        # One of each pair of opposite edges is sampled: both share a geometry.
        edges = np.arange(graph.n_edges, dtype=self.reverse_edge.dtype)
        sampled = (self.reverse_edge < 0) | (edges < self.reverse_edge)
        self.sampler = EdgeSampler(graph, self.projection, sampled=sampled)
        self._pairs = EdgePairs.of(graph)
        self.unsnappable = unsnappable_edges(graph)
        # Per edge: its reverse, or itself where it has none (a profile's usable edges in
        # three passes), and whether a point may be snapped onto it at all.
        self._reverse_or_self = np.where(self.reverse_edge >= 0, self.reverse_edge, edges)
        self._snappable = ~self.unsnappable
        self._prepared: OrderedDict[Profile, tuple[ProfileGraph, np.ndarray]] = OrderedDict()
        # Per cached profile: edges a point can leave / be reached on (off profile islands).
        self._leavable: dict[Profile, tuple[np.ndarray, np.ndarray]] = {}
        # Per cached profile: (how many, which) edges it allows (see _same_allowed).
        self._allowed: dict[Profile, tuple[int, np.ndarray]] = {}
        # Per cached search graph and direction: its adjacency with spare virtual rows.
        self._virtual: dict[tuple, _VirtualRows | tuple] = {}
        # Offsets of long point lists passed again (the planner's stops): see _offset_arrays.
        self._point_offsets: OrderedDict[tuple, tuple] = OrderedDict()
        # Per search graph: the arrays and cost per metre of path()'s A* (dropped with it).
        self._astar: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._node_xy: tuple[np.ndarray, np.ndarray] | None = None
        self._path_searches: list[PathSearch] = []  # idle work arrays, one per thread at most
        # Per search graph (by id, while it lives): its contraction hierarchy, or how many
        # Dijkstra searches its matrices ran (see HIERARCHY_BUILD_SEARCHES).
        self._hierarchies: OrderedDict[int, _HierarchySlot] = OrderedDict()
        # The graph's metric-independent order and chordal edges (routing.customizable).
        self._topology = _TopologySlot()
        self._lock = threading.Lock()
        self._prepared_lock = threading.Lock()  # threads may share a network (server lanes)

    def __getstate__(self) -> dict:
        """Pickled without path()'s per-process caches (weak references and search work
        arrays): the copy (e.g. a scenario worker's) makes its own."""
        state = self.__dict__.copy()
        state["_astar"], state["_path_searches"] = None, []
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._astar = weakref.WeakKeyDictionary()

    # -- per profile --------------------------------------------------------------------
    def costs(self, profile: Profile) -> ProfileGraph:
        """The profile's search graph (costs, seconds, CSR adjacency), cached."""
        return self._prepare(profile)[0]

    def usable_edges(self, profile: Profile) -> np.ndarray:
        """Per edge: may a point be snapped onto it (allowed one way or the other)."""
        return self._prepare(profile)[1]

    def _prepare(self, profile: Profile) -> tuple[ProfileGraph, np.ndarray]:
        with self._prepared_lock:
            hit = self._prepared.get(profile)
            if hit is not None:
                self._prepared.move_to_end(profile)
                return hit
        pg = ProfileGraph.build(self.graph, profile, pairs=self._pairs)
        allowed = np.isfinite(pg.costs.cost)
        count = int(np.count_nonzero(allowed))
        same = self._same_allowed(profile, allowed, count)
        if same is not None:  # e.g. a speed override: other seconds, the same ways allowed
            usable, leavable = same
        else:
            # Allowed one way or the other; never fragments or crossings (see snapping.py).
            usable = allowed | allowed[self._reverse_or_self]
            usable &= self._snappable
            leavable = None
        evicted = []
        with self._prepared_lock:
            self._prepared[profile] = (pg, usable)
            self._allowed[profile] = (count, allowed)
            if leavable is not None:
                self._leavable[profile] = leavable
            while len(self._prepared) > self.cache_size:
                gone, (old_pg, _) = self._prepared.popitem(last=False)
                evicted.append(old_pg)
                self._leavable.pop(gone, None)
                self._allowed.pop(gone, None)
        with self._lock:
            for old in evicted:
                for reverse in (False, True):
                    self._virtual.pop((id(old), reverse), None)
                    self._virtual.pop(("weighted", id(old), reverse), None)
        return pg, usable

    def _same_allowed(self, profile: Profile, allowed: np.ndarray, count: int):
        """(usable, leavable or None) of a cached profile of the same name whose allowed
        edges are exactly ``allowed`` (``count`` of them), else None.

        Both depend only on which edges are allowed, so a new override value that changes
        costs but no edge's permission (a speed, a reluctance) shares them instead of
        recomputing them (the island search behind ``leavable`` takes milliseconds).
        """
        with self._prepared_lock:
            candidates = [(p, self._allowed[p], usable)
                          for p, (_, usable) in reversed(self._prepared.items())
                          if p.name == profile.name and self._allowed[p][0] == count]  # fmt: skip
        for other, (_, other_allowed), usable in candidates:  # the most recent first
            if np.array_equal(other_allowed, allowed):
                with self._prepared_lock:
                    return usable, self._leavable.get(other)
        return None

    def leavable_edges(self, profile: Profile, *, reverse: bool = False) -> np.ndarray:
        """Per edge: usable, and a point on it can reach the profile's main network
        (``reverse``: can be reached from it), i.e. it is not on a profile island.

        Computed once per cached profile (:func:`routing.snapping.main_reach`).
        """
        pg, usable = self._prepare(profile)
        with self._prepared_lock:
            hit = self._leavable.get(profile)
        if hit is None:
            leaves, enters = main_reach(pg.matrix)
            g, allowed = self.graph, np.isfinite(pg.costs.cost)
            hit = tuple(
                leavable_edges(usable, allowed, self.reverse_edge, g.edge_u, g.edge_v, ok,
                               reverse=rev)  # fmt: skip
                for ok, rev in ((leaves, False), (enters, True))
            )
            with self._prepared_lock:
                if profile in self._prepared:
                    self._leavable[profile] = hit
        return hit[1 if reverse else 0]

    # -- snapping -----------------------------------------------------------------------
    def nearest_way(self, point: LatLon, field: str = "point") -> Snap:
        """Nearest point on any walkable way; OutsideAreaError (400) when off the area."""
        lat, lon = point
        snap = self.sampler.nearest(lat, lon)
        if snap is None or snap.distance_m > self.max_snap_m:
            min_lat, min_lon, max_lat, max_lon = self.graph.bounds()
            far = "" if snap is None else f"nearest walkable way is {snap.distance_m:.0f} m away; "
            raise OutsideAreaError(
                f"'{field}' ({lat:.6f},{lon:.6f}) is outside the area this graph covers "
                f"({far}the graph spans lat {min_lat:.4f}..{max_lat:.4f}, "
                f"lon {min_lon:.4f}..{max_lon:.4f})",
                field=field,
            )
        return snap

    def snap(self, point: LatLon, profile: Profile, field: str = "point", *,
             leavable: bool = False, reverse: bool = False) -> Snap:  # fmt: skip
        """Nearest point on a way the profile may use.

        With ``leavable``, a way on a profile island (:meth:`leavable_edges`; ``reverse``
        for a destination) is skipped when a way off islands lies within the same snap
        radius; when none does, the island's point is returned (and the caller explains
        why nothing leaves it).

        Raises
        ------
        OutsideAreaError
            The point is farther than ``max_snap_m`` from any walkable way (400).
        NoRouteError
            The nearest usable way is more than ``snap_tolerance_m`` farther than the
            nearest walkable way: the place is only reachable through something the
            profile cannot use (422, explained), never a silent detour elsewhere.
        """
        nearest = self.nearest_way(point, field)
        usable = self.usable_edges(profile)
        if not usable.any():
            raise NoRouteError(f"no way in this graph is usable with profile '{profile.name}'")
        reach = min(nearest.distance_m + self.snap_tolerance_m, self.max_snap_m)
        if usable[nearest.edge]:  # the nearest way is usable: it is the nearest usable one
            snap = nearest
        else:
            snap = self.sampler.nearest(point[0], point[1], usable=usable, within_m=reach)
        if snap is None:
            farther = self.sampler.nearest(point[0], point[1], usable=usable,
                                           within_m=self.max_snap_m)  # fmt: skip
            where = (
                f"is {farther.distance_m:.0f} m away"
                if farther is not None
                else f"is more than {self.max_snap_m:.0f} m away"
            )
            raise NoRouteError(
                f"'{field}' ({point[0]:.6f},{point[1]:.6f}) lies {nearest.distance_m:.0f} m "
                f"from a walkable way, but the nearest way usable with profile "
                f"'{profile.name}' {where}",
                field=field,
            )
        if leavable:
            off_islands = self.leavable_edges(profile, reverse=reverse)
            if not off_islands[snap.edge]:
                snap = self.sampler.nearest(point[0], point[1], usable=off_islands,
                                            within_m=reach) or snap  # fmt: skip
        return snap

    def at_node(self, node: int) -> Snap:
        """The point exactly at graph node ``node`` (on an edge that starts or ends there)."""
        g = self.graph
        out = np.flatnonzero(g.edge_u == node)
        if len(out):
            edge, t = int(out[0]), 0.0
        else:
            into = np.flatnonzero(g.edge_v == node)
            if not len(into):
                raise ValueError(f"node {node} has no edge")
            edge, t = int(into[0]), 1.0
        lat, lon = float(g.node_lat[node]), float(g.node_lon[node])
        return Snap(edge=edge, t=t, lat=lat, lon=lon, distance_m=0.0)

    def snap_many(
        self, points: Sequence[LatLon], profile: Profile, *, max_distance_m: float
    ) -> list[Snap | None]:
        """Each point on the nearest usable way within ``max_distance_m`` (None: none)."""
        lat, lon = np.asarray(points, dtype=np.float64).reshape(-1, 2).T
        return self.sampler.nearest_many(lat, lon, usable=self.usable_edges(profile),
                                         within_m=max_distance_m)  # fmt: skip

    def snap_all(self, points: Sequence[LatLon], profile: Profile,
                 field: str = "points") -> list[Snap | RoutingError]:  # fmt: skip
        """:meth:`snap` of each point (named ``field[i]``), the error in place of the snap
        of a point that has none: the same snaps, from two compiled passes over all points
        (nearest way, then nearest usable way where the nearest is not usable)."""
        lat, lon = np.asarray(points, dtype=np.float64).reshape(-1, 2).T
        usable = self.usable_edges(profile)
        out: list = self.sampler.nearest_many(lat, lon)
        fine = [s is not None and s.distance_m <= self.max_snap_m for s in out]
        if not usable.any():
            fine = [False] * len(out)
        again = [i for i, s in enumerate(out) if fine[i] and not usable[s.edge]]
        if again:
            reach = [min(out[i].distance_m + self.snap_tolerance_m, self.max_snap_m)
                     for i in again]  # fmt: skip
            found = self.sampler.nearest_many(lat[again], lon[again], usable=usable,
                                              within_m=np.array(reach))  # fmt: skip
            for i, snap in zip(again, found, strict=True):
                out[i], fine[i] = snap, snap is not None
        for i, ok in enumerate(fine):
            if not ok:  # the error snap() raises, with its message (rare: one at a time)
                try:
                    out[i] = self.snap(points[i], profile, f"{field}[{i}]")
                except RoutingError as err:
                    out[i] = err
        return out

    # -- offsets of snapped points ------------------------------------------------------
    def offsets(self, profile: Profile, snap: Snap, *, reverse: bool = False) -> list[Offset]:
        """Links of a snapped point to the ends of its edge.

        Forward: from the point to each end (leaving it); reverse: from each end to the
        point (arriving at it). Forbidden directions are left out.
        """
        pg = self.costs(profile)
        return self._offsets(pg, snap, reverse=reverse)

    def _offsets(self, pg: ProfileGraph, snap: Snap, *, reverse: bool) -> list[Offset]:
        g, c = self.graph, pg.costs
        e, rev = snap.edge, int(self.reverse_edge[snap.edge])
        t = snap.t
        if not reverse:  # along e to its head, or along rev back to e's tail
            links = ((e, int(g.edge_v[e]), 1.0 - t), (rev, int(g.edge_u[e]), t))
        else:  # from e's tail along e, or from e's head along rev
            links = ((e, int(g.edge_u[e]), t), (rev, int(g.edge_v[e]), 1.0 - t))
        out = []
        for edge, node, frac in links:
            if frac == 0.0:  # the point is at this node, whatever its edge allows
                out.append(Offset(node, 0.0, 0.0, 0.0))
            elif edge >= 0 and isfinite(cost := float(c.cost[edge])):
                out.append(Offset(node, cost * frac, float(c.seconds[edge]) * frac,
                                  float(g.edge["length"][edge]) * frac))  # fmt: skip
        return out

    # -- searches -----------------------------------------------------------------------
    @accepts_deadline
    def path(self, source: Snap, target: Snap, profile: Profile) -> StreetPath | None:
        """The cheapest path from ``source`` to ``target``, or None when there is none.

        A compiled A* (:mod:`routing._path`) from the source's links to the target's,
        estimating the cost still to go from straight-line distance at the search graph's
        least cost per metre, which never overestimates: the answer is Dijkstra's. It
        settles :data:`PATH_CHUNK` nodes between deadline checks. A walk along the one edge
        both points lie on bounds it (and wins ties).
        """
        pg = self.costs(profile)
        start = self._offsets(pg, source, reverse=False)
        arrivals = self._offsets(pg, target, reverse=True)
        direct = self._direct(pg, source, target)
        bound = direct[0] if direct is not None else np.inf
        best, nodes, entries, arrive = np.inf, None, None, None
        if start and arrivals:
            indptr, indices, cost, k = self._astar_arrays(pg)
            x, y = self._node_positions()
            search = self._take_path_search()
            try:
                search.start(indptr, indices, cost, x, y, k,
                             np.array([o.node for o in start], dtype=np.int32),
                             np.array([o.cost for o in start], dtype=np.float64),
                             np.array([o.node for o in arrivals], dtype=np.int32),
                             np.array([o.cost for o in arrivals], dtype=np.float64),
                             bound)  # fmt: skip
                checkpoint("a street search")
                while not search.advance(PATH_CHUNK):
                    checkpoint("a street search")
                best = search.best
                if search.best_end >= 0 and best < bound:
                    arrive = arrivals[search.best_end]
                    nodes, entries = search.path()
            finally:
                self._give_back_path_search(search)
        if direct is not None and direct[0] <= best:
            edge, t0, t1 = direct[3]
            pieces = [self._piece(pg, edge, t0, t1)] if t1 > t0 else []
            return StreetPath(profile, source, target, direct[0], pieces)
        if arrive is None:
            return None
        return StreetPath(profile, source, target, float(best),
                          self._pieces(pg, source, target, nodes, pg.entry_edge[entries],
                                       arrive))  # fmt: skip

    def _astar_arrays(self, pg: ProfileGraph):
        """The search graph's CSR arrays as :class:`~routing._path.PathSearch` takes them,
        and its least cost per metre of straight line (cached per search graph)."""
        hit = self._astar.get(pg)
        if hit is None:
            indptr = np.ascontiguousarray(pg.indptr, dtype=np.int64)
            indices = np.ascontiguousarray(pg.indices, dtype=np.int32)
            cost = np.ascontiguousarray(pg.data, dtype=np.float64)
            x, y = self._node_positions()
            hit = (indptr, indices, cost, float(min_cost_per_metre(indptr, indices, cost, x, y)))
            with self._lock:
                self._astar[pg] = hit
        return hit

    def _node_positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Nodes' x and y in metres (the network's local projection)."""
        if self._node_xy is None:
            xy = self.projection.forward(self.graph.node_lat, self.graph.node_lon)
            self._node_xy = (np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1]))
        return self._node_xy

    def _take_path_search(self) -> PathSearch:
        n = self.graph.n_nodes
        with self._lock:
            while self._path_searches:
                search = self._path_searches.pop()
                if search.n == n:
                    return search
        return PathSearch(n)

    def _give_back_path_search(self, search: PathSearch) -> None:
        with self._lock:
            if len(self._path_searches) < 4:  # as many as threads search at once, bounded
                self._path_searches.append(search)

    @accepts_deadline
    def tree(
        self,
        sources: Sequence[Snap],
        profile: Profile,
        *,
        reverse: bool = False,
        limit: float = np.inf,
        start_s: Sequence[float] | None = None,
        parents: bool = True,
    ) -> SearchTree:
        """Costs, seconds and metres from the nearest of ``sources`` to every node.

        With ``reverse``, from every node to the nearest of ``sources``. ``limit`` bounds
        the cost searched (nodes beyond it are unreached). ``start_s`` gives each source
        seconds already spent (e.g. riding to a stop), counted as cost and time alike.
        Without ``parents`` the search is the compiled one of :meth:`matrix`, carrying
        seconds and metres as it goes (no sums along the tree afterwards; on equal costs
        it may keep another of the cheapest paths than scipy's search).
        """
        pg = self.costs(profile)
        starts = tuple(float(x) for x in start_s) if start_s is not None else ()
        links = [
            Offset(o.node, o.cost + (starts[i] if starts else 0.0),
                   o.seconds + (starts[i] if starts else 0.0), o.metres)
            for i, s in enumerate(sources) for o in self._offsets(pg, s, reverse=reverse)
        ]  # fmt: skip
        n = self.graph.n_nodes
        if not links:
            inf = np.full(n, np.inf)
            return SearchTree(self, profile, tuple(sources), reverse, limit, inf, inf.copy(),
                              inf.copy(), np.full(n, -1, dtype=np.int64), starts)  # fmt: skip
        if not parents:
            from routing._search_kernel import search_many

            graph, weights = self._weighted(pg, reverse=reverse)
            # Costs kept above zero on the links, as in _search.
            row = [(o.node, max(o.cost, 1e-9), o.seconds, o.metres) for o in links]
            cost, seconds, metres = search_many(graph, weights, [row], np.arange(n),
                                                limit=limit)  # fmt: skip
            return SearchTree(self, profile, tuple(sources), reverse, limit, cost[0],
                              seconds[0], metres[0], None, starts)  # fmt: skip
        dist, pred = self._search(pg, [links], limit=limit, reverse=reverse)
        seconds, metres = self._along(pg, dist, pred, [links], reverse=reverse)
        parent = np.where(pred[0] >= n, -1, pred[0]).astype(np.int64)
        return SearchTree(self, profile, tuple(sources), reverse, limit, dist[0], seconds[0],
                          metres[0], parent, starts)  # fmt: skip

    @accepts_deadline
    def matrix(
        self,
        sources: Sequence[Snap | None],
        targets: Sequence[Snap | None],
        profile: Profile,
        *,
        limit: float = np.inf,
        batch: int = MATRIX_BATCH,
        dtype: type = np.float64,
        hierarchy: bool | str | None = None,
    ) -> CostMatrix:
        """Cost, seconds and metres from every source to every target.

        Unbounded matrices run on the search graph's contraction hierarchy when it is at
        hand or pays (:data:`HIERARCHY_BUILD_SEARCHES`), else on a hierarchy customized for
        its costs (:data:`CUSTOMIZE_SEARCHES`): one small upward search per distinct source
        and target (:mod:`routing.contraction`, :mod:`routing.customizable`); ``hierarchy``
        True, ``"customized"`` or False forces the choice. Otherwise one Dijkstra search
        per distinct point of the smaller side: forward from the sources, or backward (on
        the reversed graph) from the targets when there are fewer of them, keeping only the
        values at the nodes the other side is reached through. Unbounded searches run
        compiled on all cores and stop once those nodes are settled
        (:mod:`routing._search_kernel`); bounded ones (``limit``, a cost) run on scipy and
        sum seconds and metres over the nodes they reached. ``batch`` searches at a time,
        so memory stays at a few ``batch x nodes`` arrays besides the answer. ``dtype``
        (e.g. ``np.float32``) is that of the answer's arrays (searches run in float64).
        """
        pg = self.costs(profile)
        if hierarchy not in (None, True, False, "customized"):
            raise ValueError(f"hierarchy must be None, True, False or 'customized', not "
                             f"{hierarchy!r}")  # fmt: skip
        if not np.isfinite(limit) and hierarchy is not False:
            ch = self._hierarchy(pg, sources, targets, force=hierarchy)
            if ch is not None:
                return self._matrix_on(ch, pg, sources, targets, dtype=dtype)
        reverse = _count(targets) < _count(sources)
        rows, cols = (targets, sources) if reverse else (sources, targets)
        firsts, inverse = _distinct(rows)
        shape = (len(firsts), len(cols))
        found = CostMatrix(*(np.full(shape, np.inf, dtype=dtype) for _ in range(3)))
        # The nodes the other side is reached through (arriving at a target, or leaving
        # a source in a backward search): only these columns of each search are kept.
        ends = self._offset_arrays(pg, cols, reverse=not reverse)[0]
        ends = np.unique(ends[ends >= 0])
        bounded = np.isfinite(limit)
        if not bounded:  # imported on first use: only matrices need the thread pool
            from routing._search_kernel import search_many

            graph, weights = self._weighted(pg, reverse=reverse)
        for start in range(0, len(firsts) if len(ends) else 0, batch):
            checkpoint("a matrix batch")
            chunk = firsts[start : start + batch]
            links = [self._offsets(pg, rows[i], reverse=reverse) for i in chunk]
            if bounded:  # scipy's search; sums over the few reached nodes only
                dist, pred = self._search(pg, links, limit=limit, reverse=reverse)
                seconds, metres = self._along(pg, dist, pred, links, reverse=reverse)
                values = CostMatrix(dist[:, ends], seconds[:, ends], metres[:, ends])
            else:  # costs kept above zero on the links, as in _search
                starts = [[(o.node, max(o.cost, 1e-9), o.seconds, o.metres) for o in offs]
                          for offs in links]  # fmt: skip
                values = CostMatrix(*search_many(graph, weights, starts, ends, limit=limit))
            part = self._arrive(pg, values, cols, reverse=reverse, columns=ends)
            at = slice(start, start + len(chunk))
            found.cost[at], found.seconds[at], found.metres[at] = (
                part.cost, part.seconds, part.metres
            )  # fmt: skip
        # Back to one row per requested point (unsnapped: inf), sources as rows.
        arrays = [found.cost, found.seconds, found.metres]
        if len(firsts) < len(rows):  # repeated or unsnapped points
            missing = inverse == len(firsts)
            arrays = [x[np.minimum(inverse, max(len(firsts) - 1, 0))] if len(firsts)
                      else np.full((len(rows), len(cols)), np.inf, dtype=dtype)
                      for x in arrays]  # fmt: skip
            for x in arrays:
                x[missing] = np.inf
        out = CostMatrix(*(np.ascontiguousarray(x.T) if reverse else x for x in arrays))
        self._add_direct(pg, sources, targets, out)
        over = out.cost > limit
        for values in (out.cost, out.seconds, out.metres):
            values[over] = np.inf
        return out

    def _hierarchy(self, pg: ProfileGraph, sources, targets, *,
                   force: bool | str | None) -> ContractionHierarchy | None:  # fmt: skip
        """The hierarchy this matrix runs on, else None (Dijkstra): the search graph's
        contracted hierarchy if it is at hand or pays (see :data:`HIERARCHY_BUILD_SEARCHES`),
        else its customized one if the matrix is large enough (:data:`CUSTOMIZE_SEARCHES`).
        The searches run without the contracted hierarchy are counted towards its build.
        ``force``: True the contracted one, ``"customized"`` the customized one."""
        searches = min(_count(sources), _count(targets))
        if not force and _count(sources) + _count(targets) > HIERARCHY_SEARCH_RATIO * searches:
            return None  # lopsided: a few Dijkstra searches beat many upward ones
        with self._lock:
            for key in [k for k, slot in self._hierarchies.items() if slot.graph() is None]:
                del self._hierarchies[key]  # its search graph is gone
            slot = self._hierarchies.get(id(pg))
            if slot is None or slot.graph() is not pg:
                slot = self._hierarchies[id(pg)] = _HierarchySlot(weakref.ref(pg))
                while len(self._hierarchies) > self.cache_size:
                    self._hierarchies.popitem(last=False)
            self._hierarchies.move_to_end(id(pg))
        customized = force == "customized" or (
            not force and searches >= CUSTOMIZE_SEARCHES
            and self.matrix_topology(wait=False) is not None)  # fmt: skip
        with slot.lock:
            if slot.hierarchy is None and force != "customized":
                counted = slot.searched + searches * (
                    CUSTOMIZED_SEARCH_SHARE if customized else 1.0)
                build = force is True or counted >= HIERARCHY_BUILD_SEARCHES
                if build or (searches >= HIERARCHY_LOAD_SEARCHES and not slot.looked):
                    slot.hierarchy = self._load_hierarchy(pg, build=build)
                    slot.looked = True
                if slot.hierarchy is None:
                    slot.searched = counted
            found = slot.hierarchy if force != "customized" else None
            if found is None and customized:
                if slot.customized is None:
                    slot.customized = self._customize(pg)
                found = slot.customized
        if found is not None:
            self._drop_hierarchies()
        return found

    def _drop_hierarchies(self) -> None:
        """Beyond HIERARCHIES_KEPT contracted and CUSTOMIZED_KEPT customized hierarchies in
        memory, the least recently used are dropped."""
        with self._lock:
            slots = list(self._hierarchies.values())
        for field, kept in (("hierarchy", HIERARCHIES_KEPT), ("customized", CUSTOMIZED_KEPT)):
            holding = [slot for slot in slots if getattr(slot, field) is not None]
            for old in holding[: max(len(holding) - kept, 0)]:
                with old.lock:
                    setattr(old, field, None)
                    if field == "hierarchy":
                        old.looked = False

    def _customize(self, pg: ProfileGraph) -> ContractionHierarchy:
        """A hierarchy for the search graph's costs on the graph's shared topology."""
        edges = pg.entry_edge
        return self.matrix_topology().customize(
            edges, pg.data, pg.costs.seconds[edges], self.graph.edge["length"][edges])

    def matrix_topology(self, *, wait: bool = True) -> Topology | None:
        """The graph's node order and chordal edges for customized hierarchies (shared by
        every profile and override value): in memory, else from the cache folder, else
        built (~4-6 s on Almaty, once per graph) and saved there. Without ``wait``, a build
        runs on a background thread and None is returned until it is done (a matrix asked
        meanwhile runs Dijkstra rather than wait)."""
        slot = self._topology
        with slot.lock:
            if slot.building is not None and not slot.building.is_alive():
                slot.building = None  # e.g. a forked copy's: its thread stayed behind
            if slot.topology is None and slot.building is None:
                g = self.graph
                inputs = (g.node_lat, g.node_lon, g.edge_u, g.edge_v)
                from routing.customizable import topology_key

                path = (self.cache_dir / f"topology-{topology_key(*inputs)}.npz"
                        if self.cache_dir is not None else None)  # fmt: skip
                if wait or (path is not None and path.is_file()):
                    slot.topology = _make_topology(inputs, path)
                else:
                    slot.building = threading.Thread(
                        target=_build_in_background, args=(slot, inputs, path), daemon=True,
                        name="matrix-topology")  # fmt: skip
                    slot.building.start()
            building = slot.building
        if slot.topology is None and wait and building is not None:
            building.join()
            return self.matrix_topology(wait=True)  # (built, or its build failed: again)
        return slot.topology

    def _load_hierarchy(self, pg: ProfileGraph, *, build: bool) -> ContractionHierarchy | None:
        """From the disk cache, else built (and saved there) when ``build``, else None."""
        if self.cache_dir is None and not build:
            return None

        def make() -> ContractionHierarchy:
            graph, weights = self._weighted(pg, reverse=False)  # (imports scipy)
            return ContractionHierarchy.build(graph, *weights)

        if self.cache_dir is None:
            return make()
        edges = pg.entry_edge  # the entries' seconds and metres, as _weighted has them
        key = hierarchy_key(pg.n_nodes, pg.indptr, pg.indices, pg.data,
                            pg.costs.seconds[edges].astype(np.float64),
                            self.graph.edge["length"][edges].astype(np.float64))  # fmt: skip
        path = self.cache_dir / f"hierarchy-{key}.npz"
        if not build and not path.is_file():
            return None
        found, _ = load_or_build(path, load=ContractionHierarchy.load, build=make,
                                 save=lambda ch, tmp: ch.save(tmp))  # fmt: skip
        return found

    def _matrix_on(self, ch: ContractionHierarchy, pg: ProfileGraph, sources, targets, *,
                   dtype: type) -> CostMatrix:  # fmt: skip
        """:meth:`matrix` on a contraction hierarchy: buckets of the distinct targets, then
        the distinct sources in batches of :data:`HIERARCHY_BATCH` rows."""
        s_first, s_inverse = _distinct(sources)
        t_first, t_inverse = _distinct(targets)

        def links(points, firsts, reverse):
            return [[(o.node, o.cost, o.seconds, o.metres)
                     for o in self._offsets(pg, points[i], reverse=reverse)]
                    for i in firsts]  # fmt: skip

        buckets = ch.buckets(links(targets, t_first, True))
        out = CostMatrix(*(np.full((len(sources), len(targets)), np.inf, dtype=dtype)
                           for _ in range(3)))  # fmt: skip
        rows_of = np.argsort(s_inverse, kind="stable")  # requested rows by distinct point
        row_start = np.searchsorted(s_inverse[rows_of], np.arange(len(s_first) + 1))
        cols = np.flatnonzero(t_inverse < len(t_first))
        for start in range(0, len(s_first), HIERARCHY_BATCH):
            checkpoint("a matrix batch")
            chunk = s_first[start : start + HIERARCHY_BATCH]
            values = ch.scan(links(sources, chunk, False), buckets)
            rows = rows_of[row_start[start] : row_start[start + len(chunk)]]
            at = s_inverse[rows] - start
            for whole, part in zip((out.cost, out.seconds, out.metres), values, strict=True):
                whole[np.ix_(rows, cols)] = part[np.ix_(at, t_inverse[cols])]
        self._add_direct(pg, sources, targets, out)
        return out

    # -- internals ----------------------------------------------------------------------
    def _search(self, pg: ProfileGraph, links: list[list[Offset]], *, limit: float = np.inf,
                reverse: bool = False):  # fmt: skip
        """Dijkstra from one virtual node per entry of ``links``: (dist, pred) over real nodes.

        ``pred`` holds real node ids, or ``n + row`` for a node reached from its virtual node.
        """
        rows = np.repeat(np.arange(len(links)), [len(offs) for offs in links])
        nodes = np.array([o.node for offs in links for o in offs], dtype=np.int64)
        costs = np.array([o.cost for offs in links for o in offs], dtype=np.float64)
        # One link per (row, node): the cheapest (scipy keeps no zero-cost entries).
        order = np.lexsort((costs, nodes, rows))
        rows, nodes, costs = rows[order], nodes[order], costs[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (nodes[1:] != nodes[:-1])
        rows, nodes, costs = rows[first], nodes[first], np.maximum(costs[first], 1e-9)
        counts = np.bincount(rows, minlength=len(links))
        key = (id(pg), reverse)
        virtual = self._virtual.get(key)
        if virtual is None or virtual.pg is not pg:
            with self._lock:
                virtual = self._virtual[key] = _VirtualRows(
                    pg, pg.reversed_matrix if reverse else pg.matrix
                )
        return virtual.search(nodes, costs, counts, limit=limit)

    def _weighted(self, pg: ProfileGraph, *, reverse: bool):
        """The profile's adjacency (or its transpose) and its entries' seconds and metres."""
        key = ("weighted", id(pg), reverse)
        hit = self._virtual.get(key)
        if hit is not None and hit[0] is pg:
            return hit[1], hit[2]
        from scipy.sparse import csr_matrix

        m = pg.matrix
        entry = np.arange(m.nnz)
        if reverse:  # carry each entry's position through the transpose
            moved = csr_matrix((entry + 1.0, m.indices, m.indptr), shape=m.shape).T.tocsr()
            entry = moved.data.astype(np.int64) - 1
            m = csr_matrix((pg.matrix.data[entry], moved.indices, moved.indptr), shape=m.shape)
        edges = pg.entry_edge[entry]
        weights = (pg.costs.seconds[edges].astype(np.float64),
                   self.graph.edge["length"][edges].astype(np.float64))  # fmt: skip
        with self._lock:
            self._virtual[key] = (pg, m, weights)
        return m, weights

    def _along(self, pg: ProfileGraph, dist: np.ndarray, pred: np.ndarray,
               links: list[list[Offset]], *, reverse: bool = False):  # fmt: skip
        """Seconds and metres along each row's search tree (summed by pointer jumping).

        Only reached nodes are visited, so a bounded search costs in proportion to its reach.
        """
        k, n = pred.shape
        live = np.flatnonzero(np.isfinite(dist.ravel()))
        col = live % n
        p = pred.ravel()[live].astype(np.int64)
        inner = (p >= 0) & (p < n)
        a, b = (col[inner], p[inner]) if reverse else (p[inner], col[inner])
        edges = pg.edges_between(a, b)
        seconds, metres = np.zeros(len(live)), np.zeros(len(live))
        seconds[inner] = pg.costs.seconds[edges]
        metres[inner] = self.graph.edge["length"][edges]
        position = np.full(k * n, -1, dtype=np.int64)
        position[live] = np.arange(len(live))
        for r, offs in enumerate(links):  # reached straight from the row's virtual node
            for o in sorted(offs, key=lambda o: -o.cost):  # the cheapest link wins
                at = position[r * n + o.node]
                if at >= 0 and p[at] == n + r:
                    seconds[at], metres[at] = o.seconds, o.metres
        parent = np.full(len(live), -1, dtype=np.int64)
        parent[inner] = position[(live[inner] // n) * n + p[inner]]
        sums = _path_sums(parent, seconds + 1j * metres)  # both in one pass
        out = []
        for part in (sums.real, sums.imag):
            full = np.full(k * n, np.inf)
            full[live] = part
            out.append(full.reshape(k, n))
        return out[0], out[1]

    def _arrive(self, pg: ProfileGraph, values: CostMatrix, points: Sequence[Snap | None], *,
                reverse: bool, columns: np.ndarray | None = None) -> CostMatrix:  # fmt: skip
        """Per row, the values at snapped points: best over arriving by either end.

        ``values`` has a column per node, or per node of the sorted ``columns`` (which must
        hold every node the points are reached through).
        """
        node, cost, seconds, metres = self._offset_arrays(pg, points, reverse=not reverse)
        safe = np.maximum(node, 0)
        if columns is not None:
            safe = np.minimum(np.searchsorted(columns, safe), max(len(columns) - 1, 0))
        total = values.cost[:, safe] + cost  # rows x points x 2 ends
        pick = np.argmin(total, axis=2)[..., None]
        out_cost = np.take_along_axis(total, pick, axis=2)[..., 0]
        out_sec = np.take_along_axis(values.seconds[:, safe] + seconds, pick, axis=2)[..., 0]
        out_met = np.take_along_axis(values.metres[:, safe] + metres, pick, axis=2)[..., 0]
        none = ~np.isfinite(out_cost)
        out_sec[none], out_met[none] = np.inf, np.inf
        return CostMatrix(out_cost, out_sec, out_met)

    def _offset_arrays(self, pg: ProfileGraph, points: Sequence[Snap | None], *,
                       reverse: bool):  # fmt: skip
        """:meth:`_offsets` of many points as (points x 2) arrays (node -1, cost inf: none).

        A long point list passed again (the same object, same length and ends, as the
        planner's stops for every access and egress tree) reuses its arrays.
        """
        if len(points) < POINT_CACHE_MIN:
            return self._offset_arrays_of(pg, points, reverse=reverse)
        key = (id(pg), id(points), reverse)
        hit = self._point_offsets.get(key)
        if (hit is not None and hit[0] is pg and hit[1] is points and hit[2] == len(points)
                and hit[3] is points[0] and hit[4] is points[-1]):  # fmt: skip
            return hit[5]
        found = self._offset_arrays_of(pg, points, reverse=reverse)
        with self._lock:
            self._point_offsets[key] = (pg, points, len(points), points[0], points[-1], found)
            while len(self._point_offsets) > 2 * self.cache_size:
                self._point_offsets.popitem(last=False)
        return found

    def _offset_arrays_of(self, pg: ProfileGraph, points: Sequence[Snap | None], *,
                          reverse: bool):  # fmt: skip
        g, c = self.graph, pg.costs
        known = np.array([p is not None for p in points], dtype=bool)
        edge = np.array([p.edge if p is not None else 0 for p in points], dtype=np.int64)
        t = np.array([p.t if p is not None else 0.0 for p in points], dtype=np.float64)
        rev = self.reverse_edge[edge]
        if not reverse:
            edges = np.stack([edge, rev], axis=1)
            nodes = np.stack([g.edge_v[edge], g.edge_u[edge]], axis=1).astype(np.int64)
            frac = np.stack([1.0 - t, t], axis=1)
        else:
            edges = np.stack([edge, rev], axis=1)
            nodes = np.stack([g.edge_u[edge], g.edge_v[edge]], axis=1).astype(np.int64)
            frac = np.stack([t, 1.0 - t], axis=1)
        safe = np.maximum(edges, 0)
        at_node = known[:, None] & (frac == 0.0)  # as in _offsets: the point is at the node
        ok = ((edges >= 0) & known[:, None] & np.isfinite(c.cost[safe])) | at_node
        share = np.where(at_node, 0.0, frac)
        cost = np.where(ok & ~at_node, c.cost[safe], 0.0) * share
        seconds = np.where(ok & ~at_node, c.seconds[safe], 0.0) * share
        metres = np.where(ok & ~at_node, g.edge["length"][safe], 0.0) * share
        cost, seconds, metres = (np.where(ok, x, np.inf) for x in (cost, seconds, metres))
        return np.where(ok, nodes, -1), cost, seconds, metres

    def _add_direct(self, pg: ProfileGraph, sources, targets, out: CostMatrix) -> None:
        """Pairs on one edge (or its reverse): the walk along it, which no node search sees."""
        edge_of_target: dict[int, list[int]] = {}
        for j, t in enumerate(targets):
            if t is not None:
                edge_of_target.setdefault(t.edge, []).append(j)
                rev = int(self.reverse_edge[t.edge])
                if rev >= 0:
                    edge_of_target.setdefault(rev, []).append(j)
        for i, s in enumerate(sources):
            if s is None:
                continue
            for j in set(edge_of_target.get(s.edge, [])):
                direct = self._direct(pg, s, targets[j])
                if direct is not None and direct[0] < out.cost[i, j]:
                    out.cost[i, j], out.seconds[i, j], out.metres[i, j] = direct[:3]

    def _direct(self, pg: ProfileGraph, a: Snap, b: Snap):
        """(cost, seconds, metres, (edge, t0, t1)) along one edge from a to b, or None."""
        rev = int(self.reverse_edge[a.edge])
        if b.edge == a.edge:
            tb = b.t
        elif rev >= 0 and b.edge == rev:
            tb = 1.0 - b.t
        else:
            return None
        if tb >= a.t:
            edge, t0, t1 = a.edge, a.t, tb
        else:
            edge, t0, t1 = rev, 1.0 - a.t, 1.0 - tb
        if edge < 0 or not np.isfinite(pg.costs.cost[edge]):
            return None
        frac = t1 - t0
        return (
            float(pg.costs.cost[edge]) * frac,
            float(pg.costs.seconds[edge]) * frac,
            float(self.graph.edge["length"][edge]) * frac,
            (edge, t0, t1),
        )

    def _piece(self, pg: ProfileGraph, edge: int, t0: float, t1: float) -> RouteEdge:
        g = self.graph
        frac = max(t1 - t0, 0.0)
        whole = t0 <= 0.0 and t1 >= 1.0
        geom = g.edge_geometry(edge) if whole else self.sampler.partial_geometry(edge, t0, t1)
        return RouteEdge(
            edge=edge,
            fraction=frac,
            geometry=geom,
            seconds=float(pg.costs.seconds[edge]) * frac,
            length_m=float(g.edge["length"][edge]) * frac,
        )

    def _pieces(self, pg: ProfileGraph, source: Snap, target: Snap, nodes: np.ndarray,
                edges: np.ndarray, arrive: Offset) -> list[RouteEdge]:  # fmt: skip
        """The traversed pieces: off the source's edge, whole ``edges`` (joining ``nodes``),
        onto the target's."""
        g = self.graph
        pieces: list[RouteEdge] = []

        def add(edge: int, t0: float, t1: float) -> None:
            if t1 - t0 > 0:
                pieces.append(self._piece(pg, edge, t0, t1))

        e = source.edge
        if int(g.edge_v[e]) == int(nodes[0]) and isfinite(pg.costs.cost[e]):
            add(e, source.t, 1.0)
        else:
            add(int(self.reverse_edge[e]), 1.0 - source.t, 1.0)
        if len(edges):  # whole edges: one look-up per array, not per edge
            offsets = g.geometry_offsets
            starts, ends = offsets[edges].tolist(), offsets[edges + 1].tolist()
            seconds = pg.costs.seconds[edges].tolist()
            metres = g.edge["length"][edges].tolist()
            geometry = g.geometry
            for edge, a, b, sec, met in zip(edges.tolist(), starts, ends, seconds, metres,
                                            strict=True):  # fmt: skip
                pieces.append(RouteEdge(edge=edge, fraction=1.0, geometry=geometry[a:b],
                                        seconds=sec, length_m=met))  # fmt: skip
        e, rev = target.edge, int(self.reverse_edge[target.edge])
        if int(g.edge_u[e]) == arrive.node and isfinite(pg.costs.cost[e]):
            add(e, 0.0, target.t)
        else:
            add(rev, 0.0, 1.0 - target.t)
        return pieces


class _VirtualRows:
    """One search graph's adjacency with spare rows for the virtual sources of a search.

    Built once per (search graph, direction). A search writes its sources' links into the
    spare rows instead of copying the whole adjacency; the last spare row holds the unused
    room, so the matrix keeps one shape and size. Searches take turns (scipy's Dijkstra
    holds the GIL, so nothing runs in parallel anyway); searches with more rows or links
    than there is room for build their own copy, as before.
    """

    rows = MATRIX_BATCH + 1  # the last one only holds unused room
    room = 2048

    def __init__(self, pg: ProfileGraph, base: csr_matrix) -> None:
        from scipy.sparse import csr_matrix

        n, nnz = base.shape[0], base.nnz
        self.pg, self.base, self.n, self.nnz = pg, base, n, nnz
        size = n + self.rows
        self.indptr = np.full(size + 1, nnz + self.room, dtype=np.int32)
        self.indptr[: n + 1] = base.indptr
        self.indices = np.zeros(nnz + self.room, dtype=np.int32)
        self.indices[:nnz] = base.indices
        self.data = np.ones(nnz + self.room, dtype=np.float64)
        self.data[:nnz] = base.data
        self.graph = csr_matrix((self.data, self.indices, self.indptr), shape=(size, size),
                                copy=False)  # fmt: skip
        assert np.shares_memory(self.graph.data, self.data)
        self.lock = threading.Lock()

    def search(self, nodes: np.ndarray, costs: np.ndarray, counts: np.ndarray, *,
               limit: float):  # fmt: skip
        """(dist, pred) over real nodes from one virtual row per entry of ``counts``."""
        # Imported on first use: csgraph brings scipy.linalg and OpenBLAS (~14 MB).
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

        n, nnz, k, total = self.n, self.nnz, len(counts), len(nodes)
        ends = nnz + np.cumsum(counts)
        if k >= self.rows or total > self.room:
            indptr = np.concatenate([self.base.indptr, ends]).astype(np.int64)
            indices = np.concatenate([self.base.indices, nodes]).astype(np.int32)
            graph = csr_matrix((np.concatenate([self.base.data, costs]), indices, indptr),
                               shape=(n + k, n + k))  # fmt: skip
            dist, pred = dijkstra(graph, directed=True, indices=np.arange(n, n + k),
                                  return_predecessors=True, limit=limit)  # fmt: skip
            return dist[:, :n], pred[:, :n]
        with self.lock:
            self.indices[nnz : nnz + total] = nodes
            self.data[nnz : nnz + total] = costs
            self.indptr[n + 1 : n + k + 1] = ends
            self.indptr[n + k + 1 : -1] = nnz + total
            dist, pred = dijkstra(self.graph, directed=True, indices=np.arange(n, n + k),
                                  return_predecessors=True, limit=limit)  # fmt: skip
        return dist[:, :n], pred[:, :n]


def _reverse_edges(graph: CompiledGraph) -> np.ndarray:
    """For each edge, the edge running the other way along the same geometry (-1: none).

    Edges match on (tail, head, OSM way, length to the cm) swapped; where several edges
    share a key, the last one is paired (as a dict keyed by it would keep). Int32 where the
    ids fit (kept for the network's life).
    """
    g, n = graph, graph.n_edges
    ids = np.int32 if n < 2**31 else np.int64
    if n == 0:
        return np.zeros(0, dtype=ids)
    length = np.round(g.edge["length"].astype(np.float64), 2)
    fields = [("u", np.int64), ("v", np.int64), ("osmid", np.int64), ("length", np.float64)]
    forward, backward = np.empty(n, dtype=fields), np.empty(n, dtype=fields)
    forward["u"], forward["v"] = g.edge_u, g.edge_v
    backward["u"], backward["v"] = g.edge_v, g.edge_u
    for keys in (forward, backward):
        keys["osmid"], keys["length"] = g.edge["osmid"], length
    order = np.argsort(forward, kind="stable")
    keys = forward[order]
    last = np.ones(n, dtype=bool)
    last[:-1] = keys[1:] != keys[:-1]
    keys, edges = keys[last], order[last]
    pos = np.minimum(np.searchsorted(keys, backward[edges]), len(keys) - 1)
    hit = keys[pos] == backward[edges]
    rev = np.full(n, -1, dtype=ids)
    rev[edges[hit]] = edges[pos[hit]]
    return rev


@dataclass(eq=False)
class _HierarchySlot:
    """A search graph's contraction hierarchy, or the Dijkstra searches run without it."""

    graph: weakref.ref
    hierarchy: ContractionHierarchy | None = None
    customized: ContractionHierarchy | None = None  # see routing.customizable
    searched: float = 0.0  # Dijkstra searches (customized ones count a share)
    looked: bool = False  # the disk cache was looked at
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __reduce__(self):
        # A copy in another process (a pickled planner) has other search graphs: a dead
        # slot, dropped on first use there (weak references do not pickle).
        return _HierarchySlot, (_no_graph,)


@dataclass(eq=False)
class _TopologySlot:
    """A graph's :class:`~routing.customizable.Topology`, made on first use."""

    topology: Topology | None = None
    building: threading.Thread | None = None  # its build in the background
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def __reduce__(self):
        return _TopologySlot, (self.topology,)  # (threads and locks do not pickle)


def _make_topology(inputs: tuple, path: Path | None) -> Topology:
    """Built from ``inputs``, or loaded from ``path`` (built and saved there if need be)."""
    from routing.customizable import Topology

    if path is None:
        return Topology.build(*inputs)
    found, _ = load_or_build(path, load=Topology.load, build=lambda: Topology.build(*inputs),
                             save=lambda t, tmp: t.save(tmp))  # fmt: skip
    return found


def _build_in_background(slot: _TopologySlot, inputs: tuple, path: Path | None) -> None:
    try:
        topology = _make_topology(inputs, path)
    except Exception:  # logged; the next matrix that wants it tries again
        logging.getLogger(__name__).exception("building the matrix topology failed")
        topology = None
    with slot.lock:
        slot.topology, slot.building = topology, None


def _no_graph() -> None:
    """A weak reference whose object is gone."""
    return None


def _count(points: Sequence[Snap | None]) -> int:
    return sum(p is not None for p in points)


def _distinct(points: Sequence[Snap | None]) -> tuple[list[int], np.ndarray]:
    """Indices of the first of each distinct snapped point, and each point's distinct number.

    Unsnapped points get the number ``len(firsts)`` (one past the last).
    """
    number: dict[tuple[int, float], int] = {}
    firsts: list[int] = []
    inverse = np.empty(len(points), dtype=np.int64)
    for i, p in enumerate(points):
        if p is None:
            inverse[i] = -1
            continue
        j = number.setdefault((p.edge, p.t), len(firsts))
        if j == len(firsts):
            firsts.append(i)
        inverse[i] = j
    inverse[inverse < 0] = len(firsts)
    return firsts, inverse


def _path_sums(parent: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Sum of ``step`` along each entry's parent chain (pointer jumping; -1 = root).

    Each pass doubles how far every entry has summed; a sentinel root (index ``len``) with
    nothing to add lets every pass run over whole arrays. ``step`` may be complex, to sum
    two quantities in one pass.
    """
    size = len(parent)
    total = np.append(step, 0)
    up = np.append(np.where(parent >= 0, parent, size), size)
    while (up != size).any():
        total += total[up]
        up = up[up]
    return total[:size]
