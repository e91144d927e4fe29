"""Isochrones: the area reachable within given minutes, as GeoJSON polygons with holes.

Built from the reached edges, not from a hull. One search from the snapped origin gives
every node's seconds along the profile's cheapest path (Valhalla's ``secs`` beside its
``cost``). Every edge leaving a reached node is walked as far as time allows: its sample
points (every 10 m, see ``EdgeSampler.samples``) carry the time at which they are reached. The
points are binned into a grid of ``cell_m`` cells holding the earliest time, spread to
neighbouring cells (so a street is a band about a cell wide on each side, and a node
reached in time sits inside its band), and each limit is a filled contour of that grid
(contourpy): blocks enclosed by reached streets but farther from them than the band come
out as holes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing.cost.profiles import Profile
from routing.deadline import accepts_deadline, checkpoint
from routing.network import SearchTree, StreetNetwork
from routing.snapping import Snap

#: Grid cell size (m): the width of a street's band is about one cell on each side.
CELL_M = 20.0


@dataclass(frozen=True)
class Contour:
    """The area reachable within ``minutes``: polygons of (lon, lat) rings, outer first."""

    minutes: float
    polygons: list[list[np.ndarray]]

    def to_feature(self, properties: dict[str, Any]) -> dict[str, Any]:
        coords = [[np.round(ring, 6).tolist() for ring in poly] for poly in self.polygons]
        return {
            "type": "Feature",
            "geometry": {"type": "MultiPolygon", "coordinates": coords},
            "properties": {"minutes": self.minutes, **properties},
        }


@dataclass(frozen=True)
class Isochrone:
    """Contours from one origin for one profile, largest first (as Valhalla orders them)."""

    profile: Profile
    origin: Snap
    mode: str
    contours: list[Contour]

    def to_geojson(self) -> dict[str, Any]:
        props = {"profile": self.profile.name, "mode": self.mode}
        return {
            "type": "FeatureCollection",
            "features": [c.to_feature(props) for c in self.contours],
            "origin": {"lat": round(self.origin.lat, 7), "lon": round(self.origin.lon, 7),
                       "distance_m": round(self.origin.distance_m, 1)},  # fmt: skip
        }


def reached_points(network: StreetNetwork, tree: SearchTree, limit_s: float):
    """Sample points of every edge walked within ``limit_s``: (x, y, seconds) arrays (m, s).

    Includes the nodes reached in time and the pieces of each source's own edge (from the
    time its source starts, see ``SearchTree.start_s``).
    """
    g, sampler = network.graph, network.sampler
    pg = network.costs(tree.profile)
    seconds = pg.costs.seconds
    start = tree.seconds[g.edge_u]
    edges = np.flatnonzero(np.isfinite(pg.costs.cost) & (start <= limit_s))
    t_from = np.zeros(len(edges))
    t_zero = start[edges].astype(np.float64)
    # The origin's own edge (and its reverse): from the snapped point onwards.
    extra_e, extra_from, extra_zero = [], [], []
    for i, src in enumerate(tree.sources):
        start = tree.start_s[i] if tree.start_s else 0.0
        if start > limit_s:
            continue
        rev = int(network.reverse_edge[src.edge])
        for edge, t0 in ((src.edge, src.t), (rev, 1.0 - src.t)):
            if edge >= 0 and np.isfinite(pg.costs.cost[edge]):
                # Time at fraction f is start + (f - t0) * seconds.
                extra_e.append(edge)
                extra_from.append(t0)
                extra_zero.append(start - t0 * float(seconds[edge]))
    edge_ids = np.concatenate([edges, np.array(extra_e, dtype=np.int64)])
    t_from = np.concatenate([t_from, extra_from])
    t_zero = np.concatenate([t_zero, extra_zero])
    if not len(edge_ids):
        return np.zeros(0), np.zeros(0), np.zeros(0)
    # The sample points of those edges; an edge without samples of its own uses those of
    # its opposite, fractions flipped.
    flipped = ~sampler.sampled[edge_ids]
    sampled_ids = np.where(flipped, network.reverse_edge[edge_ids], edge_ids)
    pts, seg, which = sampler.samples(sampled_ids)
    along = sampler.seg_along[seg] + np.hypot(*(pts - sampler.seg_a[seg]).T)
    frac = along / sampler.edge_len[edge_ids[which]]
    frac = np.where(flipped[which], 1.0 - frac, frac)
    time = t_zero[which] + frac * seconds[edge_ids[which]]
    keep = (frac >= t_from[which]) & (time <= limit_s)
    # Nodes reached in time, and the snapped origin itself.
    nodes = np.flatnonzero(tree.seconds <= limit_s)
    node_xy = network.projection.forward(g.node_lat[nodes], g.node_lon[nodes])
    start = np.array(tree.start_s if tree.start_s else [0.0] * len(tree.sources))
    origin_xy = np.array([network.projection.forward(s.lat, s.lon) for s in tree.sources])
    inside = start <= limit_s
    origin_xy, start = origin_xy[inside].reshape(-1, 2), start[inside]
    x = np.concatenate([pts[keep, 0], node_xy[:, 0], origin_xy[:, 0]])
    y = np.concatenate([pts[keep, 1], node_xy[:, 1], origin_xy[:, 1]])
    t = np.concatenate([time[keep], tree.seconds[nodes], start])
    return x, y, t


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
    tree = network.tree([origin], profile, limit=limit_s * max_cost_per_second(network, profile))
    checkpoint("the isochrone's street search")
    x, y, t = reached_points(network, tree, limit_s)
    return Isochrone(profile, origin, "walk", contours_from_points(network, x, y, t, minutes,
                                                                  cell_m=cell_m))  # fmt: skip


def contours_from_points(network, x, y, t, minutes: Sequence[float], *, cell_m: float = CELL_M):
    """Filled contours of the earliest time on a grid of ``cell_m`` cells, per limit."""
    import contourpy  # with scipy.ndimage ~1 MB, only for isochrones
    from scipy.ndimage import grey_erosion

    limit_s = max(minutes) * 60.0
    empty = limit_s * 2.0 + 600.0  # "not reached": well above every limit
    margin = 3
    x0, y0 = x.min() - margin * cell_m, y.min() - margin * cell_m
    nx_ = int(np.ceil((x.max() - x0) / cell_m)) + margin + 1
    ny_ = int(np.ceil((y.max() - y0) / cell_m)) + margin + 1
    grid = np.full((ny_, nx_), empty)
    ix = np.floor((x - x0) / cell_m).astype(np.int64)
    iy = np.floor((y - y0) / cell_m).astype(np.int64)
    np.minimum.at(grid, (iy, ix), t)
    grid = grey_erosion(grid, size=(3, 3))  # each reached cell lends its time to its neighbours
    checkpoint("the isochrone's grid")
    gx = x0 + (np.arange(nx_) + 0.5) * cell_m
    gy = y0 + (np.arange(ny_) + 0.5) * cell_m
    gen = contourpy.contour_generator(gx, gy, grid, fill_type=contourpy.FillType.OuterOffset)
    contours = []
    for m in sorted(minutes, reverse=True):
        checkpoint("a contour")
        polys, offsets = gen.filled(-1.0, m * 60.0)
        polygons = []
        for pts, offs in zip(polys, offsets, strict=True):
            lat, lon = network.projection.inverse(pts)
            lonlat = np.stack([lon, lat], axis=1)
            area = _ring_areas(pts, offs)
            rings = []
            for k, (a, b) in enumerate(zip(offs[:-1], offs[1:], strict=True)):
                # RFC 7946: outer rings counter-clockwise, holes clockwise.
                ccw = area[k] > 0
                rings.append(lonlat[a:b] if ccw == (k == 0) else lonlat[a:b][::-1])
            polygons.append(rings)
        contours.append(Contour(float(m), polygons))
    return contours


def _ring_areas(pts: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Signed (shoelace) area of each closed ring ``pts[offsets[k]:offsets[k + 1]]``."""
    x, y = pts[:, 0], pts[:, 1]
    cross = np.zeros(len(pts))
    cross[:-1] = x[:-1] * y[1:] - x[1:] * y[:-1]
    cross[offsets[1:] - 1] = 0.0  # no term from one ring's last point to the next's first
    return 0.5 * np.add.reduceat(cross, offsets[:-1])


def max_cost_per_second(network: StreetNetwork, profile: Profile) -> float:
    """The largest cost per real second of any allowed edge: bounds the search by cost."""
    c = network.costs(profile).costs
    allowed = np.isfinite(c.cost)
    if (allowed & (c.seconds <= 0) & (c.cost > 1e-3)).any():
        return np.inf  # a cost without time: no bound
    ok = allowed & (c.seconds > 0)
    return float(np.max(c.cost[ok] / c.seconds[ok])) if ok.any() else 1.0
