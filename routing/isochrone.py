"""Isochrones: the area reachable within given minutes, as GeoJSON polygons with holes.

Built from the reached edges, not from a hull. One search from the snapped origin gives
every node's seconds along the profile's cheapest path (Valhalla's ``secs`` beside its
``cost``), bounded by cost no further than the time limit needs (:func:`reach_tree`).
Every edge leaving a reached node is walked as far as time allows: each grid cell of
``cell_m`` it passes through is reached at the time the edge enters it (the cells of every
edge are found once per network, :class:`CellIndex`). The grid holds each cell's earliest
time, spread to its neighbours (so a street is a band about a cell wide on each side, and a
node reached in time sits inside its band), and each limit is a filled contour of that
grid (contourpy): blocks enclosed by reached streets but farther from them than the band
come out as holes.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing.arrays import concat_ranges
from routing.cost.profiles import Profile
from routing.deadline import accepts_deadline, checkpoint
from routing.network import SearchTree, StreetNetwork
from routing.search import ProfileGraph
from routing.snapping import Snap

#: Grid cell size (m): the width of a street's band is about one cell on each side.
CELL_M = 20.0
#: Edges per pass when a network's cells are first found (bounds the memory of the pass).
_INDEX_CHUNK = 8192


@dataclass(frozen=True, eq=False)
class Contour:
    """The area reachable within ``minutes``: polygons of (lon, lat) rings, outer first.

    Stored flat: ``points`` (lon, lat) of every ring, ring ``k`` being
    ``points[ring_offsets[k]:ring_offsets[k + 1]]`` (closed, outer rings counter-clockwise,
    holes clockwise), polygon ``p`` being rings ``polygon_offsets[p]`` to
    ``polygon_offsets[p + 1]`` (its outer ring first).
    """

    minutes: float
    points: np.ndarray
    ring_offsets: np.ndarray
    polygon_offsets: np.ndarray

    @property
    def polygons(self) -> list[list[np.ndarray]]:
        """Per polygon, its rings as (lon, lat) arrays, outer ring first."""
        rings = [self.points[a:b] for a, b in _pairs(self.ring_offsets)]
        return [rings[a:b] for a, b in _pairs(self.polygon_offsets)]

    def to_feature(self, properties: dict[str, Any], coordinates: Any = None) -> dict[str, Any]:
        """A GeoJSON Feature (coordinates rounded to 6 decimals, ~0.1 m), or with the
        given ``coordinates`` in their place."""
        if coordinates is None:  # rounded and made Python numbers in one pass
            flat = np.round(self.points, 6).tolist()
            rings = [flat[a:b] for a, b in _pairs(self.ring_offsets)]
            coordinates = [rings[a:b] for a, b in _pairs(self.polygon_offsets)]
        return {
            "type": "Feature",
            "geometry": {"type": "MultiPolygon", "coordinates": coordinates},
            "properties": {"minutes": self.minutes, **properties},
        }



@dataclass(frozen=True)
class Isochrone:
    """Contours from one origin for one profile, largest first (as Valhalla orders them)."""

    profile: Profile
    origin: Snap
    mode: str
    contours: list[Contour]

    def to_geojson(self, *, coordinates: Sequence[Any] | None = None) -> dict[str, Any]:
        """The FeatureCollection (``coordinates``: per contour, what to hold instead)."""
        props = {"profile": self.profile.name, "mode": self.mode}
        given = coordinates if coordinates is not None else [None] * len(self.contours)
        return {
            "type": "FeatureCollection",
            "features": [c.to_feature(props, xy) for c, xy in zip(self.contours, given,
                                                                    strict=True)],
            "origin": {"lat": round(self.origin.lat, 7), "lon": round(self.origin.lon, 7),
                       "distance_m": round(self.origin.distance_m, 1)},  # fmt: skip
        }

    def to_json(self) -> str:
        """:meth:`to_geojson` as JSON text, the coordinates written straight from the arrays
        (a Python float's shortest text costs ~0.3 us: 1.5 ms for a walk's 15 minutes)."""
        mark = "@coordinates@"  # one per feature, in order
        text = json.dumps(self.to_geojson(coordinates=[mark] * len(self.contours)),
                          ensure_ascii=False, allow_nan=False)  # fmt: skip
        pieces = text.split(f'"{mark}"')
        out = [pieces[0]]
        for coordinates, piece in zip(_coordinates_texts(self.contours), pieces[1:],
                                      strict=True):  # fmt: skip
            out += [coordinates, piece]
        return "".join(out)


@accepts_deadline
def isochrone(
    network: StreetNetwork,
    origin: Snap,
    profile: Profile,
    minutes: Sequence[float],
    *,
    cell_m: float = CELL_M,
) -> Isochrone:
    """Walking isochrones from ``origin`` for each of ``minutes``."""
    limit_s = max(minutes) * 60.0
    tree = reach_tree(network, [origin], profile, limit_s)
    checkpoint("the isochrone's street search")
    cells, t = reached_cells(network, tree, limit_s, cell_m=cell_m)
    return Isochrone(profile, origin, "walk", contours_from_cells(network, cells, t, minutes,
                                                                  cell_m=cell_m))  # fmt: skip


# -- the search -----------------------------------------------------------------------------
def reach_tree(
    network: StreetNetwork,
    sources: Sequence[Snap],
    profile: Profile,
    limit_s: float,
    *,
    start_s: Sequence[float] | None = None,
) -> SearchTree:
    """A search tree exact for every node reached within ``limit_s`` seconds.

    The tree is by cost, so a cost bound must cover every node whose cheapest path takes
    at most ``limit_s``. ``limit_s`` times the largest cost per second of any edge always
    does, but it is loose (a crossing's penalty on a 1 s edge makes it 20-1300x for the
    wheelchair profiles, where the nodes reached need 3-9x). So the bound starts near the
    one the last search of this search graph needed and doubles until the search is
    complete (:func:`_bound_needed`).
    """
    pg = network.costs(profile)
    state = _search_state(pg)
    starts = [float(s) for s in start_s] if start_s is not None else [0.0] * len(sources)
    links = [(o.node, o.seconds + start) for src, start in zip(sources, starts, strict=True)
             for o in network.offsets(profile, src)]  # fmt: skip
    most = max(1.0, state.most)
    factor = min(state.factor, most)
    while True:
        tree = network.tree(sources, profile, limit=limit_s * factor, start_s=start_s,
                            parents=False)  # fmt: skip
        needed = _bound_needed(pg, tree, links, limit_s)
        if factor >= most or np.isfinite(needed):
            break
        checkpoint("the isochrone's street search")
        factor = min(factor * 2.0, most)
    # Some room: the next origin may need a little more than this one.
    state.factor = max(1.0, _HINT_ROOM * needed / limit_s) if np.isfinite(needed) else factor
    return tree


#: The next search's bound: this much above the one the last search needed.
_HINT_ROOM = 1.125


class _SearchState:
    """Per search graph: the largest cost per second, the bound factor to start from, and
    each node's dearest out-edge."""

    def __init__(self, pg: ProfileGraph) -> None:
        c = pg.costs
        allowed = np.isfinite(c.cost)
        ok = allowed & (c.seconds > 0)
        if (allowed & (c.seconds <= 0) & (c.cost > 1e-3)).any():
            self.most = np.inf  # a cost without time: no bound
        else:
            self.most = float(np.max(c.cost[ok] / c.seconds[ok])) if ok.any() else 1.0
        self.factor = 1.0
        # Per node, the cost of its dearest allowed out-edge (0 for none).
        full = np.diff(pg.indptr) > 0
        self.dearest = np.zeros(pg.n_nodes)
        if pg.nnz:
            self.dearest[full] = np.maximum.reduceat(pg.data, pg.indptr[:-1][full])


_states: weakref.WeakKeyDictionary[ProfileGraph, _SearchState] = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def _search_state(pg: ProfileGraph) -> _SearchState:
    state = _states.get(pg)
    if state is None:
        with _states_lock:
            state = _states.setdefault(pg, _SearchState(pg))
    return state


def _bound_needed(pg: ProfileGraph, tree: SearchTree, links: list[tuple[int, float]],
                  limit_s: float) -> float:  # fmt: skip
    """The smallest cost bound under which this search would be complete within
    ``limit_s``; infinite when it is not complete under its own bound.

    Settled nodes are those whose cost is within the bound. A node beyond the bound can
    only be reached in time through an edge u -> x from a settled node u that arrives within
    ``limit_s`` (or through a source's link): when every such "in-time" edge leads to a
    settled x, every node beyond the bound takes longer (seconds never decrease along a
    path), and every settled node's cost, path and seconds are those of an unbounded
    search. So a bound B is complete when it covers every in-time link's node and falls in
    no interval [cost(u), cost(x)) of an in-time edge; the nodes within a smaller bound
    are a prefix of this search, so the smallest such B is read off this one search.
    """
    cost = tree.cost
    ends = [cost[node] for node, s in links if s <= limit_s]
    nodes = (tree.seconds <= limit_s).nonzero()[0]
    # Every node reached in time is settled under a complete bound (else the in-time edge
    # into the first unsettled node of its path straddles it): only intervals ending above
    # the dearest such node can hold the bound, and only edges from nodes whose dearest
    # edge leads above it can end there (or lead to an unsettled node): few, reached late.
    lowest = max(float(cost[nodes].max(initial=0.0)), max(ends, default=0.0))
    if not np.isfinite(lowest):
        return np.inf
    nodes = nodes[cost[nodes] + _search_state(pg).dearest[nodes] > lowest]
    lo = pg.indptr[nodes]
    counts = pg.indptr[nodes + 1] - lo
    entries = concat_ranges(lo, counts)
    arrive = tree.seconds[nodes].repeat(counts) + pg.costs.seconds[pg.entry_edge[entries]]
    in_time = arrive <= limit_s
    b = cost[pg.indices[entries][in_time]]
    if not np.isfinite(b).all():
        return np.inf
    late = b > lowest
    a, b = cost[nodes].repeat(counts)[in_time][late], b[late]
    # The smallest bound >= lowest outside every [a, b): sweep the intervals by start.
    order = a.argsort(kind="stable")
    a, b = a[order], b[order]
    covered = np.maximum.accumulate(np.concatenate([[lowest], b]))  # before interval i
    gap = (a > covered[:-1]).nonzero()[0]
    return float(covered[gap[0]] if len(gap) else covered[-1])


# -- the cells reached ----------------------------------------------------------------------
#: Fractions along an edge are kept as multiples of 1/65535 of its length (under 2 cm on a
#: 1 km edge), rounded up: a cell is never reached earlier than found.
_FRACTION_STEPS = 65535


@dataclass(frozen=True, eq=False)
class CellIndex:
    """Every edge of a network as the runs of grid cells it passes through.

    The grid covers the network with cells of ``cell_m`` metres, ``width`` to a row from
    ``(x0, y0)`` (projected metres); a cell's number is ``row * width + column``. Edge
    ``e``'s runs are ``run_start[e]`` and the ``run_count[e] - 1`` after it, in order
    along the sampled edge of its pair; each has a cell, and where the edge enters it, as
    a fraction of its length (:data:`_FRACTION_STEPS`): ``enter[2 * run]`` walking the
    sampled edge, ``enter[2 * run + 1]`` walking it backwards (``backward[e]``: the edge is
    the unsampled one of its pair). Found from the points every ``EdgeSampler.step_m``
    along the edges, so a run starts up to one step late, never early. Found once per
    network and cell size, on the first isochrone.
    """

    cell_m: float
    x0: float
    y0: float
    width: int
    run_start: np.ndarray
    run_count: np.ndarray
    backward: np.ndarray
    run_cell: np.ndarray
    enter: np.ndarray
    node_cell: np.ndarray
    out_ptr: np.ndarray  # per node, its out-edges (out_edge[...] when edges are not by tail)
    out_edge: np.ndarray | None

    @classmethod
    def build(cls, network: StreetNetwork, cell_m: float) -> CellIndex:
        g, sampler = network.graph, network.sampler
        node_xy = network.projection.forward(g.node_lat, g.node_lon)
        low = np.minimum(node_xy.min(axis=0), sampler.seg_a.min(axis=0, initial=np.inf))
        high = np.maximum(node_xy.max(axis=0), sampler.seg_b.max(axis=0, initial=-np.inf))
        x0, y0 = low - 4 * cell_m
        width = int(np.ceil((high[0] - x0) / cell_m)) + 8
        height = int(np.ceil((high[1] - y0) / cell_m)) + 8
        dtype = np.int32 if width * height < 2**31 else np.int64

        def cell_of(xy: np.ndarray) -> np.ndarray:
            return _cell_numbers(xy[:, 0], xy[:, 1], x0, y0, cell_m, width, dtype)

        sampled = np.flatnonzero(sampler.sampled)
        counts = np.zeros(g.n_edges, dtype=np.int64)
        cells, enters = [], []
        for at in range(0, len(sampled), _INDEX_CHUNK):
            edges = sampled[at : at + _INDEX_CHUNK]
            pts, seg, which = sampler.samples(edges)
            edge = edges[which]
            along = sampler.seg_along[seg] + np.hypot(*(pts - sampler.seg_a[seg]).T)
            frac = np.clip(along / sampler.edge_len[edge], 0.0, 1.0)
            cell = cell_of(pts)
            new = np.ones(len(cell), dtype=bool)
            new[1:] = (cell[1:] != cell[:-1]) | (edge[1:] != edge[:-1])
            first = np.flatnonzero(new)
            last = np.append(first[1:], len(cell)) - 1
            counts += np.bincount(edge[first], minlength=g.n_edges)
            cells.append(cell[first])
            pair = np.stack([frac[first], 1.0 - frac[last]], axis=1).ravel()
            enters.append(np.ceil(pair * _FRACTION_STEPS).astype(np.uint16))
        ends = np.cumsum(counts)
        # An edge without runs of its own (the unsampled one of a pair) walks its
        # opposite's backwards.
        backward = ~sampler.sampled
        own = np.where(backward, network.reverse_edge, np.arange(g.n_edges))
        own = np.where(own >= 0, own, np.arange(g.n_edges))
        order = np.argsort(g.edge_u, kind="stable")
        out_ptr = np.zeros(g.n_nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(g.edge_u, minlength=g.n_nodes), out=out_ptr[1:])
        by_tail = bool((order == np.arange(g.n_edges)).all())
        return cls(cell_m, float(x0), float(y0), width,
                   (ends - counts)[own].astype(np.int32), counts[own].astype(np.int32),
                   backward, np.concatenate([np.zeros(0, dtype=dtype), *cells]),
                   np.concatenate([np.zeros(0, dtype=np.uint16), *enters]),
                   cell_of(node_xy), out_ptr,
                   None if by_tail else order.astype(np.int32))  # fmt: skip

    def cell_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return _cell_numbers(np.asarray(x), np.asarray(y), self.x0, self.y0, self.cell_m,
                             self.width, np.int64)  # fmt: skip

    @property
    def nbytes(self) -> int:
        arrays = (self.run_start, self.run_count, self.backward, self.run_cell, self.enter,
                  self.node_cell, self.out_ptr, self.out_edge)  # fmt: skip
        return sum(a.nbytes for a in arrays if a is not None)

    def walk(self, edges: np.ndarray, t_zero: np.ndarray, seconds: np.ndarray,
             limit_s: float, t_from: np.ndarray | None = None):  # fmt: skip
        """Cells of ``edges`` entered within ``limit_s``, and when: an edge is at fraction
        ``f`` of its length at ``t_zero + f * seconds``, from fraction ``t_from`` on."""
        counts = self.run_count[edges]
        # Entry 2 * run (+ 1 backwards) of ``enter`` for each run of each edge.
        flat = concat_ranges(2 * self.run_start[edges] + self.backward[edges], counts, step=2)
        runs = flat >> 1
        scale = seconds * (1.0 / _FRACTION_STEPS)
        time = t_zero.repeat(counts) + self.enter[flat] * scale.repeat(counts)
        keep = time <= limit_s
        if t_from is not None:  # only from t_from on: runs left before it are dropped
            start = np.repeat(t_from, counts)
            frac = self.enter[flat] * (1.0 / _FRACTION_STEPS)
            leave = 1.0 - self.enter[flat ^ 1] * (1.0 / _FRACTION_STEPS)
            time = np.repeat(t_zero, counts) + np.maximum(frac, start) * np.repeat(seconds,
                                                                                   counts)
            keep = (time <= limit_s) & (leave >= start)
        return self.run_cell[runs[keep]], time[keep]


def _cell_numbers(x: np.ndarray, y: np.ndarray, x0: float, y0: float, cell_m: float,
                  width: int, dtype: type) -> np.ndarray:  # fmt: skip
    """Cell number (``row * width + column``) of each projected point."""
    col = np.floor((x - x0) / cell_m).astype(dtype)
    return np.floor((y - y0) / cell_m).astype(dtype) * width + col


_indexes: weakref.WeakKeyDictionary[StreetNetwork, dict[float, CellIndex]] = (
    weakref.WeakKeyDictionary()
)
_indexes_lock = threading.Lock()


def cell_index(network: StreetNetwork, cell_m: float = CELL_M) -> CellIndex:
    """The network's :class:`CellIndex` for ``cell_m`` (built on first use, then kept)."""
    found = _indexes.get(network, {}).get(cell_m)
    if found is None:
        with _indexes_lock:
            per = _indexes.setdefault(network, {})
            found = per.get(cell_m)
            if found is None:
                found = per[cell_m] = CellIndex.build(network, cell_m)
    return found


def reached_cells(network: StreetNetwork, tree: SearchTree, limit_s: float, *,
                  cell_m: float = CELL_M) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Grid cells (:class:`CellIndex` numbers) reached within ``limit_s``, and when (s).

    A cell appears once per edge run through it (the earliest wins later). Includes the
    cells of the nodes reached in time, of each source, and of the pieces of each source's
    own edge from the time its source starts (see ``SearchTree.start_s``).
    """
    index = cell_index(network, cell_m)
    pg = network.costs(tree.profile)
    cost, seconds = pg.costs.cost, pg.costs.seconds
    nodes = (tree.seconds <= limit_s).nonzero()[0]
    node_s = tree.seconds[nodes]
    lo = index.out_ptr[nodes]
    counts = index.out_ptr[nodes + 1] - lo
    edges = concat_ranges(lo, counts)
    if index.out_edge is not None:
        edges = index.out_edge[edges]
    t_zero = node_s.repeat(counts)
    ok = np.isfinite(cost[edges])
    edges, t_zero = edges[ok], t_zero[ok]
    parts = [index.walk(edges, t_zero, seconds[edges], limit_s)]
    # The origin's own edge (and its reverse): from the snapped point onwards; and the
    # snapped points themselves.
    starts = list(tree.start_s) if tree.start_s else [0.0] * len(tree.sources)
    inside = [(src, s) for src, s in zip(tree.sources, starts, strict=True) if s <= limit_s]
    own, own_from, own_zero = [], [], []
    for src, start in inside:
        rev = int(network.reverse_edge[src.edge])
        for edge, t0 in ((src.edge, src.t), (rev, 1.0 - src.t)):
            if edge >= 0 and np.isfinite(cost[edge]):
                # Time at fraction f is start + (f - t0) * seconds.
                own.append(edge)
                own_from.append(t0)
                own_zero.append(start - t0 * float(seconds[edge]))
    if own:
        own_edges = np.array(own, dtype=np.int64)
        parts.append(index.walk(own_edges, np.array(own_zero), seconds[own_edges], limit_s,
                                np.array(own_from)))  # fmt: skip
    if inside:
        xy = network.projection.forward([s.lat for s, _ in inside], [s.lon for s, _ in inside])
        parts.append((index.cell_of(xy[:, 0], xy[:, 1]), np.array([s for _, s in inside])))
    parts.append((index.node_cell[nodes], node_s))
    cells = np.concatenate([c for c, _ in parts]).astype(np.int64)
    return cells, np.concatenate([t for _, t in parts])


# -- the contours ---------------------------------------------------------------------------
def contours_from_cells(
    network: StreetNetwork,
    cells: np.ndarray,
    t: np.ndarray,
    minutes: Sequence[float],
    *,
    cell_m: float = CELL_M,
) -> list[Contour]:
    """Filled contours of the earliest time on the grid of reached cells, per limit."""
    import contourpy  # ~1 MB, only for isochrones

    index = cell_index(network, cell_m)
    limit_s = max(minutes) * 60.0
    order = sorted(minutes, reverse=True)
    if not len(cells):
        return [Contour(float(m), np.zeros((0, 2)), np.zeros(1, dtype=np.int64),
                        np.zeros(1, dtype=np.int64)) for m in order]  # fmt: skip
    # Only the reached cells' bounding box, with a margin of two empty cells: one the
    # spread reaches, one more so every contour closes inside the grid.
    rows, cols = np.divmod(cells, index.width)
    r0, c0 = int(rows.min()) - 2, int(cols.min()) - 2
    ny, nx = int(rows.max()) + 3 - r0, int(cols.max()) + 3 - c0
    empty = limit_s * 2.0 + 600.0  # "not reached": well above every limit
    flat = np.full(ny * nx, empty)
    np.minimum.at(flat, (rows - r0) * nx + (cols - c0), t)
    grid = _spread(flat.reshape(ny, nx))
    checkpoint("the isochrone's grid")
    gx = index.x0 + (c0 + np.arange(nx) + 0.5) * cell_m
    gy = index.y0 + (r0 + np.arange(ny) + 0.5) * cell_m
    x, y = np.empty((ny, nx)), np.empty((ny, nx))  # the grid's coordinates
    x[:], y[:] = gx, gy[:, None]
    # The generator itself, not contourpy.contour_generator: that wrapper's masked-array
    # checks cost more than the contours of a small grid.
    gen = contourpy.SerialContourGenerator(
        x, y, grid, None, corner_mask=True, line_type=contourpy.LineType.Separate,
        fill_type=contourpy.FillType.ChunkCombinedOffsetOffset, quad_as_tri=False,
        z_interp=contourpy.ZInterp.Linear,
    )  # fmt: skip
    found = []  # per limit: points, ring offsets, polygon offsets (into its rings)
    for m in order:
        checkpoint("a contour")
        (pts,), (offsets,), (outer,) = gen.filled(-1.0, m * 60.0)
        if pts is None:
            pts, offsets, outer = np.zeros((0, 2)), np.zeros(1), np.zeros(1)
        found.append((pts, offsets.astype(np.int64), outer.astype(np.int64)))
    # All limits' rings at once: RFC 7946 orientation (outer rings counter-clockwise,
    # holes clockwise) and back to (lon, lat).
    sizes = np.array([len(p) for p, _, _ in found])
    ring_counts = np.array([len(o) - 1 for _, o, _ in found])
    base, ring_base = np.cumsum(sizes) - sizes, np.cumsum(ring_counts) - ring_counts
    pts = np.concatenate([p for p, _, _ in found])
    shifted = list(zip(found, base, ring_base, strict=True))
    offsets = np.concatenate([[0]] + [o[1:] + at for (_, o, _), at, _ in shifted])
    is_outer = np.zeros(len(offsets) - 1, dtype=bool)
    is_outer[np.concatenate([q[:-1] + at for (_, _, q), _, at in shifted])] = True
    flip = (_ring_areas(pts, offsets) > 0) != is_outer
    if flip.any():
        ring = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        at = np.arange(len(pts))
        pts = pts[np.where(flip[ring], offsets[ring] + offsets[ring + 1] - 1 - at, at)]
    lat, lon = network.projection.inverse(pts)
    lonlat = np.stack([lon, lat], axis=1)
    return [Contour(float(m), lonlat[at : at + size], o - o[0], q)
            for m, (_, o, q), at, size in zip(order, found, base.tolist(), sizes.tolist(),
                                               strict=True)]  # fmt: skip


def _spread(grid: np.ndarray) -> np.ndarray:
    """Each cell lends its value to its eight neighbours: the minimum over 3 x 3 cells
    (rows, then columns; a few whole-array passes beat a generic filter on small grids)."""
    out = grid.copy()
    np.minimum(out[1:], grid[:-1], out=out[1:])
    np.minimum(out[:-1], grid[1:], out=out[:-1])
    rows = out.copy()
    np.minimum(out[:, 1:], rows[:, :-1], out=out[:, 1:])
    np.minimum(out[:, :-1], rows[:, 1:], out=out[:, :-1])
    return out


def _ring_areas(pts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Signed (shoelace) area of each closed ring ``pts[offsets[k]:offsets[k + 1]]``."""
    x, y = pts[:, 0], pts[:, 1]
    cross = np.zeros(len(pts))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross[offsets[1:] - 1] = 0.0  # no term from one ring's last point to the next's first
    return 0.5 * np.add.reduceat(cross, offsets[:-1])


def _words(texts: list[str]) -> np.ndarray:
    """Four-character ASCII texts as little-endian uint32 words (one per text)."""
    return np.frombuffer("".join(texts).encode("ascii"), dtype="<u4").copy()


# A coordinate is three 4-character words: sign and integer part (leading zeros as
# spaces), "." and three decimals, three more decimals and the character after it
# ("," after a longitude, "]" after a latitude).
_WHOLE = _words([f" {i:3d}" for i in range(1000)])
_MINUS = _words(["-   "])[0] - _words(["    "])[0]  # turns the leading space into "-"
_HIGH = _words([f".{i:03d}" for i in range(1000)])
_LOW = np.stack([_words([f"{i:03d}," for i in range(1000)]),
                 _words([f"{i:03d}]" for i in range(1000)])], axis=1).ravel()  # fmt: skip
# Before a point: "," then "[" (any point), ",[" then "[" (a ring's first), ",[[" then "["
# (a polygon's first), "[[" then "[" (a contour's first); after it: nothing, "]" (a ring's
# last), "]]" (a polygon's last).
_OPEN = _words(["  ,[", " ,[[", ",[[[", " [[["])
_CLOSE = _words(["    ", "]   ", "]]  "])


def _coordinates_texts(contours: Sequence[Contour]) -> list[str]:
    """Each contour's MultiPolygon coordinates as JSON text, all built as one array.

    A row of eight 4-character words per point: the brackets and comma before it,
    ``[lon,lat]`` (rounded to 6 decimals; digits come from tables, integer division being
    the slow part), the brackets after it; spaces padding them are dropped at the end.
    """
    sizes = [len(c.points) for c in contours]
    if not sum(sizes):
        return ["[]"] * len(contours)
    base = np.cumsum([0, *sizes])
    shifted = list(zip(contours, base[:-1].tolist(), strict=True))
    rings = [c.ring_offsets + at for c, at in shifted]
    polygons = [c.ring_offsets[c.polygon_offsets] + at for c, at in shifted]
    points = np.concatenate([c.points for c in contours])
    n = len(points)
    rows = np.empty((n, 8), dtype="<u4")
    opening = np.zeros(n, dtype=np.int64)
    opening[np.concatenate([r[:-1] for r in rings])] = 1
    opening[np.concatenate([p[:-1] for p in polygons])] = 2
    opening[base[:-1][np.array(sizes) > 0]] = 3
    closing = np.zeros(n, dtype=np.int64)
    closing[np.concatenate([r[1:] for r in rings]) - 1] = 1
    closing[np.concatenate([p[1:] for p in polygons]) - 1] = 2
    rows[:, 0] = _OPEN[opening]
    rows[:, 7] = _CLOSE[closing]
    k = np.rint(points * 1e6).astype(np.int64)  # (lon, lat) in millionths of a degree
    size = np.abs(k)
    whole = size // 1_000_000
    if whole.max() >= 1000:
        raise ValueError("a coordinate of 1000 or more")
    rest = size - whole * 1_000_000
    high = rest // 1000
    words = rows[:, 1:7].reshape(n, 2, 3)  # a view: (lon, lat) x 3 words
    words[:, :, 0] = _WHOLE[whole] + _MINUS * (k < 0)
    words[:, :, 1] = _HIGH[high]
    words[:, :, 2] = _LOW[2 * (rest - high * 1000) + np.arange(2)]
    text = rows.view(np.uint8).ravel()
    return ["[" + text[32 * a : 32 * b].tobytes().translate(None, b" ").decode("ascii") + "]"
            for a, b in zip(base[:-1].tolist(), base[1:].tolist(), strict=True)]  # fmt: skip


def _pairs(offsets: np.ndarray) -> list[tuple[int, int]]:
    bounds = offsets.tolist()
    return list(zip(bounds[:-1], bounds[1:], strict=True))
