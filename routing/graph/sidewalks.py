"""A sidewalk-and-crossing network from road centrelines (after PPR, motis-project/ppr).

Rules (each has a fixture in ``tests/graph/test_sidewalks.py``):

* **Roads that are expanded** are walkable ways with ``highway`` in
  :data:`EXPANDED_HIGHWAYS` (residential and bigger). Their centreline is not walked on.
  Each side gets its own edge, offset from the centreline by :func:`side_offset_m` (a
  documented half-width), whose kind says what the pedestrian walks on:

  - ``sidewalk`` where the tags say so (``sidewalk=both|left|right|yes``,
    ``sidewalk:left/right/both``), or where nothing is tagged and no walkway is mapped
    beside the road (then ``sidewalk`` = unknown: a sidewalk is *assumed*);
  - ``street`` (the carriageway's edge) where the tags say ``no`` or ``separate``, or where
    a walkway runs beside the road (``separate``, detected: at least
    :data:`SEPARATE_SHARE` of the samples every 10 m have a footway, sidewalk, path or
    foot-designated cycleway within :data:`SEPARATE_REACH_M` beyond the offset on that
    side, running within 30 degrees of the road's direction). Cost models forbid a
    ``separate`` carriageway to the wheelchair, blind and low-vision profiles and price
    it for walking.

* **Road arms** at a node are the expanded road pieces ending there plus the ways that are
  only crossed (roads closed to pedestrians, busways, tram and railway lines; see
  ``osm_import.CROSSED_HIGHWAYS``). Sorted by bearing they cut the space around the node
  into sectors; each sector gets one *corner* node. A side edge ends at the corner on its
  side; any other walkway (footway, service road, crossing way) ending at the node is
  joined to the corner of the sector its first segment points into.

* **Crossing edges** join the two corners on either side of each road arm (one edge when
  both arms of a through road join the same two corners) where the node is a junction
  (three or more arms in all) or a crossing node; ``crossing=no`` builds none. The control
  is, first, what the node and the crossing ways through it say; else traffic signals when
  the node or the next node along that arm within :data:`SIGNAL_RADIUS_M` is
  ``highway=traffic_signals``; else unknown (``crossing_built``: made at a junction, not
  mapped). A crossing edge carries the arm's road class, name, lanes, maxspeed, oneway,
  rails (tram/rail line, or rails set in the road) and island.

* Pieces of a crossing way (``footway=crossing``) that meet a crossed road at a shared node
  become plain footway approaches: their facts are charged once, on the crossing edge.

* **Corners stay on their side**: a corner whose line from its node would cross the
  centreline of a road that does not meet the node (two roads side by side) is pulled back
  to :data:`CORNER_PULLBACK` of the way to that centreline.

* **Rails.** Every edge counts the level tram/railway lines its line crosses
  (``rail_crossings``; by geometry, so a footway or crossing over tracks mapped as their
  own ways counts even without a shared node; a crossing edge of a road with rails set in
  it counts at least one). Cost models price an edge that crosses rails once
  (``Profile.rail_crossing_s``) and announce it. A built sidewalk beside tracks mapped
  off-centre (on at least :data:`RAIL_SIDE_SHARE` of the road) is moved
  :data:`RAIL_CLEARANCE_M` beyond the outermost track, so that it does not run on them.
  Running *along* rails is the ``rails`` flag of carriageways and pedestrian streets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree

from routing.geo import EARTH_RADIUS_M, LocalProjection
from routing.graph import attributes as at
from routing.graph.osm_import import STREET_HIGHWAYS
from routing.tristate import UNKNOWN

#: Roads whose centreline becomes two side edges plus crossings (PPR expands "streets").
EXPANDED_HIGHWAYS = STREET_HIGHWAYS
#: Traffic signals this far along an arm (m) control the junction's crossing of that arm
#: (signals are often mapped at the stop line rather than on the junction node).
SIGNAL_RADIUS_M = 30.0
#: A mapped walkway within this distance (m) beyond a side's offset counts as its sidewalk.
SEPARATE_REACH_M = 12.0
#: Share of a road's samples that must see such a walkway for the side to be "separate".
SEPARATE_SHARE = 0.5
#: Offset (m) from centreline to sidewalk by road class when ``lanes`` is not tagged.
_OFFSET_BY_CLASS = {2: 5.0, 3: 6.5, 4: 8.0, 5: 10.0}
_LANE_WIDTH_M = 3.0
_SIDEWALK_INSET_M = 1.5  # sidewalk centre beyond the carriageway's edge
RAIL_OFFSET_M = 2.0
#: A corner that would lie across another road's centreline moves this share of the way
#: from its node to that centreline.
CORNER_PULLBACK = 0.5
#: A built sidewalk lies this far (m) beyond a tram track running beside its road ...
RAIL_CLEARANCE_M = 2.5
#: ... when the track is beside at least this share of the road's samples.
RAIL_SIDE_SHARE = 0.3

CROSSING_FIELDS = (
    "crossing_kind",
    "crossing_sound",
    "crossing_vibration",
    "crossing_tactile",
    "crossing_kerb",
    "crossing_kerb_height",
    "crossing_road_class",
)


@dataclass
class Piece:
    """A piece of a walkable way between two graph nodes, before expansion."""

    way_id: int
    tags: dict[str, str]
    attrs: dict  # per-edge attributes (both directions), grade excluded
    u: int
    v: int
    geometry: list[tuple[float, float]]  # (lat, lon) from u to v
    grade: float  # u -> v
    grade_max_up: float  # steepest sustained uphill u -> v (>= 0, NaN unknown)
    grade_max_down: float  # steepest sustained downhill u -> v (>= 0, NaN unknown)
    oneway: bool = False
    reverse_only: bool = False


@dataclass
class Arm:
    bearing: float
    road_class: int
    name: str
    tags: dict[str, str]
    offset_m: float
    rails: bool
    next_signals_m: float = math.inf  # distance to a traffic-signals node along the arm


@dataclass
class Expanded:
    """Edges and corner nodes that replace the expanded roads."""

    pieces: list[Piece]  # walkway pieces (ends remapped to corners) + side edges
    crossings: list[Piece]  # crossing edges (both directions are added by the builder)
    corners: dict[int, tuple[int, float, float]] = field(
        default_factory=dict
    )  # id -> (J, lat, lon)
    report: dict[str, int] = field(default_factory=dict)


def is_level(tags: dict[str, str]) -> bool:
    """Not in a tunnel, on a bridge or on another layer (meets what is on the ground)."""
    return (
        tags.get("tunnel", "no") in ("no", "")
        and tags.get("bridge", "no") in ("no", "")
        and tags.get("layer", "0") in ("0", "")
    )


def is_expanded(tags: dict[str, str]) -> bool:
    return tags.get("highway") in EXPANDED_HIGHWAYS


def side_offset_m(tags: dict[str, str]) -> float:
    """Distance from a road's centreline to the middle of its sidewalk.

    Half the carriageway (``lanes`` x 3 m, or a width by road class when ``lanes`` is not
    tagged) plus 1.5 m.
    """
    lanes = at.parse_int(tags.get("lanes"))
    if lanes > 0:
        return lanes * _LANE_WIDTH_M / 2 + _SIDEWALK_INSET_M
    return _OFFSET_BY_CLASS.get(at.road_class(tags), 5.0)


def _xy(lat, lon, lat0: float, lon0: float) -> np.ndarray:
    return LocalProjection(lat0, lon0).forward(lat, lon)


def _latlon(xy: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    return np.stack(LocalProjection(lat0, lon0).inverse(xy), -1)


def bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Compass bearing (degrees) from a to b, on a local plane (fine for metres apart)."""
    dx = (b[1] - a[1]) * math.cos(math.radians(a[0]))
    return math.degrees(math.atan2(dx, b[0] - a[0])) % 360.0


def _corner_position(lat0: float, lon0: float, bearing_rad: float, d: float) -> tuple[float, float]:
    k = math.pi / 180 * EARTH_RADIUS_M
    return (
        lat0 + math.cos(bearing_rad) * d / k,
        lon0 + math.sin(bearing_rad) * d / (k * math.cos(math.radians(lat0))),
    )


def _offset_polyline(
    geometry: list[tuple[float, float]], offset: float
) -> list[tuple[float, float]]:
    """The polyline moved ``offset`` m to its left (negative: right), as (lat, lon) points.

    Plain floats: these polylines have a handful of points, where numpy costs more than it
    saves (one call per side of every road).
    """
    lat0, lon0 = geometry[0]
    ky = math.pi / 180 * EARTH_RADIUS_M
    kx = ky * math.cos(math.radians(lat0))
    xy = [((lon - lon0) * kx, (lat - lat0) * ky) for lat, lon in geometry]
    left = []
    for (x0, y0), (x1, y1) in zip(xy[:-1], xy[1:], strict=True):
        n = max(math.hypot(x1 - x0, y1 - y0), 1e-9)
        left.append((-(y1 - y0) / n, (x1 - x0) / n))
    normals = [left[0]]
    pairs = zip(left[:-1], left[1:], strict=True)
    normals += [((a[0] + b[0]) / 2, (a[1] + b[1]) / 2) for a, b in pairs]
    normals.append(left[-1])
    out = []
    for (x, y), (nx_, ny_) in zip(xy, normals, strict=True):
        nn = max(math.hypot(nx_, ny_), 0.3)
        f = offset / (nn * nn)  # keep the offset near corners
        out.append((lat0 + (y + ny_ * f) / ky, lon0 + (x + nx_ * f) / kx))
    return out


def _length_m(points) -> float:
    total = 0.0
    for (la0, lo0), (la1, lo1) in zip(points[:-1], points[1:], strict=True):
        dx = (lo1 - lo0) * math.cos(math.radians(la0))
        total += math.hypot(dx, la1 - la0)
    return total * math.pi / 180 * EARTH_RADIUS_M


def _compass(bearing: float) -> int:
    """1 north, 2 east, 3 south, 4 west."""
    return int(((bearing + 45.0) % 360.0) // 90.0) + 1


def _segments(
    geometries: list, lat0: float, lon0: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every segment of the polylines in local metres: start, vector, polyline index."""
    counts = np.array([len(g) for g in geometries])
    flat = _xy(*np.vstack([np.asarray(g) for g in geometries]).T, lat0, lon0)
    first = np.setdiff1d(np.arange(len(flat)), np.cumsum(counts) - 1)
    owner = np.repeat(np.arange(len(geometries)), counts)[first]
    return flat[first], flat[first + 1] - flat[first], owner


def _samples(
    geometries: list, lat0: float, lon0: float, *, step_m: float, min_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points about every ``step_m`` along polylines (segments under ``min_m`` skipped):
    their (x, y) in metres, unit direction, and the index of the polyline each comes from."""
    a, d, owner = _segments(geometries, lat0, lon0)
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= min_m
    a, d, length, owner = a[keep], d[keep], length[keep], owner[keep]
    n = np.maximum(1, (length // step_m).astype(int))
    seg = np.repeat(np.arange(len(n)), n)
    t = (np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n) + 0.5) / n[seg]
    unit = d / length[:, None]
    return a[seg] + t[:, None] * d[seg], unit[seg], owner[seg]


def detect_separate_sidewalks(
    road_pieces: list[Piece], walkway_pieces: list[Piece]
) -> dict[int, tuple[bool, bool]]:
    """Per road piece index: whether a walkway is mapped beside its (left, right) side."""
    candidates = [
        p
        for p in walkway_pieces
        if p.attrs["kind"] in (at.WAY_KIND["sidewalk"], at.WAY_KIND["footway"], at.WAY_KIND["path"])
    ]
    if not candidates or not road_pieces:
        return {}
    lat0, lon0 = road_pieces[0].geometry[0]
    pts, dirs, _ = _samples([p.geometry for p in candidates], lat0, lon0, step_m=5.0, min_m=0.5)
    if not len(pts):
        return {}
    tree, unit = cKDTree(pts), dirs
    todo = [
        i for i, p in enumerate(road_pieces) if at.SIDEWALK_UNKNOWN in at.sidewalk_sides(p.tags)
    ]
    if not todo:
        return {}
    s, tan, which = _samples(
        [road_pieces[i].geometry for i in todo], lat0, lon0, step_m=10.0, min_m=1.0
    )
    if not len(s):
        return {}
    owner = np.asarray(todo)[which]
    nrm = np.stack([-tan[:, 1], tan[:, 0]], axis=1)
    offsets = np.array([side_offset_m(p.tags) for p in road_pieces])
    reach = offsets[owner] + SEPARATE_REACH_M
    dist, idx = tree.query(s, k=12, distance_upper_bound=float(reach.max()))
    found = np.isfinite(dist) & (dist <= reach[:, None])
    idx = np.where(found, idx, 0)
    rel = tree.data[idx] - s[:, None, :]
    lateral = (rel * nrm[:, None, :]).sum(-1)
    parallel = np.abs((unit[idx] * tan[:, None, :]).sum(-1)) > math.cos(math.radians(30))
    ok = found & parallel & (np.abs(lateral) >= 2.0)
    count = np.bincount(owner, minlength=len(road_pieces))
    left = np.bincount(owner, (ok & (lateral > 0)).any(axis=1), minlength=len(road_pieces))
    right = np.bincount(owner, (ok & (lateral < 0)).any(axis=1), minlength=len(road_pieces))
    share = np.maximum(count, 1)
    return {
        i: (bool(left[i] / share[i] >= SEPARATE_SHARE), bool(right[i] / share[i] >= SEPARATE_SHARE))
        for i in todo
        if count[i]
    }


def _cut_lines(
    lines: list[list[tuple[float, float]]], lat0: float, lon0: float, step_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lines cut into segments of at most ``step_m``: start, end, unit direction and the
    index of the line each segment comes from (local metres)."""
    p, d, line_of = _segments(lines, lat0, lon0)
    length = np.hypot(d[:, 0], d[:, 1])
    n = np.maximum(1, np.ceil(length / step_m).astype(np.int64))
    seg = np.repeat(np.arange(len(n)), n)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(n) - n, n)
    a = p[seg] + (k / n[seg])[:, None] * d[seg]
    b = p[seg] + ((k + 1) / n[seg])[:, None] * d[seg]
    unit = d[seg] / np.maximum(length[seg], 1e-9)[:, None]
    return a, b, unit, line_of[seg]


def detect_rails_along(
    walkways: list[Piece], tram_lines: list[list[tuple[float, float]]], *, reach_m: float = 2.5
) -> set[int]:
    """Indices of street-like walkways (pedestrian streets, service roads) along which a
    separately mapped tram line runs: at least half of their samples every 10 m lie within
    ``reach_m`` of the line. A wheelchair rolling there rolls over the rails."""
    kinds = (at.WAY_KIND["pedestrian street"], at.WAY_KIND["street"])
    todo = [i for i, p in enumerate(walkways) if p.attrs["kind"] in kinds]
    if not todo or not tram_lines:
        return set()
    lat0, lon0 = tram_lines[0][0]
    a, b, _, _ = _cut_lines(tram_lines, lat0, lon0, 1.0)
    tree = cKDTree((a + b) / 2)
    s, _, which = _samples([walkways[i].geometry for i in todo], lat0, lon0, step_m=10.0,
                           min_m=0.0)  # fmt: skip
    dist, _ = tree.query(s, distance_upper_bound=reach_m + 0.5)
    near = np.bincount(which, dist <= reach_m, minlength=len(todo))
    count = np.bincount(which, minlength=len(todo))
    return {todo[j] for j in range(len(todo)) if count[j] and near[j] / count[j] >= 0.5}


def rail_side_offsets(
    roads: list[Piece], tram_lines: list[list[tuple[float, float]]]
) -> dict[int, tuple[float, float]]:
    """Per road piece index: (left, right) sidewalk offsets moved beyond tram tracks.

    Where a tram line runs beside a road's centreline on one side (off-centre tracks, or
    tracks on their own bed next to the road) for at least :data:`RAIL_SIDE_SHARE` of the
    road's samples every 10 m, the built sidewalk on that side lies
    :data:`RAIL_CLEARANCE_M` beyond the outermost track instead of on top of it.
    """
    if not roads or not tram_lines:
        return {}
    lat0, lon0 = tram_lines[0][0]
    a, b, unit, _ = _cut_lines(tram_lines, lat0, lon0, 1.0)
    tree = cKDTree((a + b) / 2)
    s, tan, owner = _samples([p.geometry for p in roads], lat0, lon0, step_m=10.0, min_m=1.0)
    if not len(s):
        return {}
    offsets = np.array([side_offset_m(p.tags) for p in roads])
    reach = offsets[owner] + RAIL_CLEARANCE_M
    dist, idx = tree.query(s, k=8, distance_upper_bound=float(reach.max()))
    found = np.isfinite(dist) & (dist <= reach[:, None])
    idx = np.where(found, idx, 0)
    nrm = np.stack([-tan[:, 1], tan[:, 0]], axis=1)
    lateral = ((tree.data[idx] - s[:, None, :]) * nrm[:, None, :]).sum(-1)
    parallel = np.abs((unit[idx] * tan[:, None, :]).sum(-1)) > math.cos(math.radians(30))
    ok = found & parallel & (np.abs(lateral) >= 1.0)
    out: dict[int, tuple[float, float]] = {}
    count = np.bincount(owner, minlength=len(roads))
    for sign, side in ((1.0, 0), (-1.0, 1)):
        beside = ok & (lateral * sign > 0)
        far = np.where(beside, np.abs(lateral), 0.0).max(axis=1)
        hit = beside.any(axis=1)
        n_hit = np.bincount(owner, hit, minlength=len(roads))
        for i in np.flatnonzero(n_hit >= RAIL_SIDE_SHARE * np.maximum(count, 1)):
            if not count[i]:
                continue
            want = float(far[(owner == i) & hit].max()) + RAIL_CLEARANCE_M
            cur = out.get(int(i), (offsets[i], offsets[i]))
            new = list(cur)
            new[side] = max(offsets[i], want)
            out[int(i)] = (new[0], new[1])
    return out


def count_rail_crossings(
    pieces: list[Piece], tram_lines: list[list[tuple[float, float]]]
) -> np.ndarray:
    """Per piece, how many level rail lines its line crosses (0 for pieces off the ground)."""
    out = np.zeros(len(pieces), dtype=np.int64)
    todo = [i for i, p in enumerate(pieces) if is_level(p.tags)]
    if not todo or not tram_lines:
        return out
    lat0, lon0 = tram_lines[0][0]
    ra, rb, _, rline = _cut_lines(tram_lines, lat0, lon0, 10.0)
    tree = cKDTree((ra + rb) / 2)
    pa, step, owner = _segments([pieces[i].geometry for i in todo], lat0, lon0)
    pb = pa + step
    half = np.hypot(*(pb - pa).T) / 2 + 5.0 + 1e-6
    near = tree.query_ball_point((pa + pb) / 2, r=half)
    seg = np.repeat(np.arange(len(pa)), [len(n) for n in near])
    if not len(seg):
        return out
    rail = np.concatenate([np.asarray(n, dtype=np.int64) for n in near])
    p, r = pa[seg], pb[seg] - pa[seg]
    q, d = ra[rail], rb[rail] - ra[rail]
    denom = r[:, 0] * d[:, 1] - r[:, 1] * d[:, 0]
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[:, 0] * d[:, 1] - qp[:, 1] * d[:, 0]) / denom
        u = (qp[:, 0] * r[:, 1] - qp[:, 1] * r[:, 0]) / denom
    hit = (np.abs(denom) > 1e-9) & (t >= 0) & (t <= 1) & (u >= 0) & (u < 1)
    pairs = np.unique(np.stack([owner[seg[hit]], rline[rail[hit]]], axis=1), axis=0)
    if len(pairs):
        out[np.asarray(todo)] = np.bincount(pairs[:, 0], minlength=len(todo))
    return out


def expand(
    pieces: list[Piece],
    *,
    crossed_arms: dict[int, list[Arm]],
    node_tags: dict[int, dict[str, str]],
    node_latlon: dict[int, tuple[float, float]],
    crossing_way_facts: dict[int, dict],
    tram_lines: list[list[tuple[float, float]]] = (),
    next_id: int = -1,
) -> Expanded:
    """Replace expanded roads by side edges, corners and crossing edges.

    Parameters
    ----------
    pieces
        Every walkable piece of the graph.
    crossed_arms
        Per node, arms of ways that are only crossed there (tram lines, busways, ...).
    node_tags, node_latlon
        Tags and coordinates of OSM nodes.
    crossing_way_facts
        Per crossing way id, its merged crossing facts (control, sound, tactile, kerb).
    next_id
        First (negative) id for corner nodes; ids count down from it.
    """
    roads = [p for p in pieces if is_expanded(p.tags)]
    walkways = [p for p in pieces if not is_expanded(p.tags)]
    separate = detect_separate_sidewalks(roads, walkways)
    on_rails = detect_rails_along(walkways, list(tram_lines))
    rail_offsets = rail_side_offsets(roads, list(tram_lines))

    # Arms per node: (arm, ("road", piece index, end) | ("walk", piece index, end) | ("x",)).
    arms: dict[int, list[tuple[Arm, tuple]]] = {}
    for i, p in enumerate(roads):
        rails = at.has_embedded_rails(p.tags)
        name = p.tags.get("name") or p.tags.get("ref", "")
        rc = at.road_class(p.tags)
        off = side_offset_m(p.tags)
        for end, (node, a, b) in enumerate(
            ((p.u, p.geometry[0], p.geometry[1]), (p.v, p.geometry[-1], p.geometry[-2]))
        ):
            arm = Arm(bearing(a, b), rc, name, p.tags, off, rails)
            other = p.v if end == 0 else p.u
            if at.crossing_kind(node_tags.get(other, {})) == at.CROSSING_SIGNALS and (
                node_tags.get(other, {}).get("highway") == "traffic_signals"
            ):
                arm.next_signals_m = p.attrs["length"]
            arms.setdefault(node, []).append((arm, ("road", i, end)))
    for node, extra in crossed_arms.items():
        for arm in extra:
            arms.setdefault(node, []).append((arm, ("x",)))
    walk_ends: dict[int, list[tuple[int, int]]] = {}
    for i, p in enumerate(walkways):
        walk_ends.setdefault(p.u, []).append((i, 0))
        walk_ends.setdefault(p.v, []).append((i, 1))

    corner_of: dict[tuple[int, int], int] = {}  # (node, sector) -> corner id
    corners: dict[int, tuple[int, float, float]] = {}
    # road piece end -> (left corner, right corner) seen from travelling u -> v
    road_corner: dict[tuple[int, int], tuple[int, int]] = {}
    walk_corner: dict[tuple[int, int], int] = {}
    crossings: list[Piece] = []
    report = {"junction_crossings": 0, "node_crossings": 0, "no_crossing_nodes": 0}
    approach_ways: set[int] = set()
    cid = next_id
    sector_ids: dict[int, list[int]] = {}
    for node, node_arms in arms.items():
        node_arms.sort(key=lambda t: t[0].bearing)
        bearings = np.array([a.bearing for a, _ in node_arms])
        k = len(node_arms)
        lat0, lon0 = node_latlon[node]
        ids = sector_ids[node] = []
        for s in range(k):
            b0 = bearings[s]
            b1 = bearings[(s + 1) % k] + (360.0 if s + 1 >= k else 0.0)
            span = max(b1 - b0, 1e-6) if k > 1 else 360.0
            mid = math.radians(b0 + span / 2)
            hw = max(node_arms[s][0].offset_m, node_arms[(s + 1) % k][0].offset_m)
            d = hw / max(math.sin(math.radians(min(span, 180.0)) / 2), 0.35)
            lat, lon = _corner_position(lat0, lon0, mid, d)
            corners[cid] = (node, lat, lon)
            corner_of[(node, s)] = cid
            ids.append(cid)
            cid -= 1
    _keep_corners_on_their_side(corners, roads, node_latlon)
    for node, node_arms in arms.items():
        ids = sector_ids[node]
        bearings = np.array([a.bearing for a, _ in node_arms])
        k = len(node_arms)
        for s, (_, ref) in enumerate(node_arms):
            if ref[0] == "road":
                # Outward along the arm, its right side is sector s, its left sector s-1.
                right, left = ids[s], ids[(s - 1) % k]
                _, i, end = ref
                # Seen from u -> v: at u (end 0) left/right as outward; at v they swap.
                road_corner[(i, end)] = (left, right) if end == 0 else (right, left)
        for i, end in walk_ends.get(node, []):
            p = walkways[i]
            a, b = (p.geometry[0], p.geometry[1]) if end == 0 else (p.geometry[-1], p.geometry[-2])
            w = bearing(a, b)
            s = (int(np.searchsorted(bearings, w, side="left")) - 1) % k
            walk_corner[(i, end)] = ids[s]

        # Crossings of each arm.
        tags = node_tags.get(node, {})
        through_ways = {walkways[i].way_id for i, _ in walk_ends.get(node, [])}
        crossing_ways = sorted(w for w in through_ways if w in crossing_way_facts)
        way_facts = [crossing_way_facts[w] for w in crossing_ways]
        n_arms = k + len(walk_ends.get(node, []))
        node_kind = at.crossing_kind(tags)
        if k >= 2:  # a crossing way meeting a crossed road: its facts go on the crossing edge
            approach_ways.update(crossing_ways)
        if at.is_no_crossing(tags):
            report["no_crossing_nodes"] += 1
            continue
        explicit = (
            node_kind > at.CROSSING_NONE and tags.get("highway") != "traffic_signals"
        ) or tags.get("railway") in ("crossing", "tram_crossing", "tram_level_crossing")
        if k < 2 or not (explicit or way_facts or n_arms >= 3):
            continue
        made: dict[tuple[int, int], Piece] = {}
        for s, (arm, _) in enumerate(node_arms):
            a, b = ids[(s - 1) % k], ids[s]
            key = (min(a, b), max(a, b))
            piece = _crossing_piece(node, arm, a, b, corners, tags, way_facts, explicit=explicit)
            if len(crossing_ways) == 1:  # named after the crossing way mapped here
                piece.attrs["osmid"] = piece.way_id = crossing_ways[0]
            old = made.get(key)
            if old is None or (
                piece.attrs["crossing_road_class"],
                piece.attrs["rails"],
            ) > (old.attrs["crossing_road_class"], old.attrs["rails"]):
                made[key] = piece
        crossings.extend(made.values())
        report["node_crossings" if explicit or way_facts else "junction_crossings"] += len(made)

    crossed_by = crossings_without_node(walkways, roads)
    out: list[Piece] = []
    for i, p in enumerate(walkways):
        u = walk_corner.get((i, 0), p.u)
        v = walk_corner.get((i, 1), p.v)
        geom = list(p.geometry)
        if u != p.u:
            geom[0] = corners[u][1:]
        if v != p.v:
            geom[-1] = corners[v][1:]
        attrs = p.attrs
        if i in on_rails:
            attrs = {**attrs, "rails": True}
        road = crossed_by.get(i)
        if p.way_id in approach_ways and attrs["kind"] == at.WAY_KIND["crossing"]:
            if road is None:
                attrs = {**attrs, "kind": at.WAY_KIND["footway"], **at.no_crossing_facts()}
            else:  # this piece crosses another road where the map has no shared node
                attrs = {**attrs, **crossing_way_facts[p.way_id], "crossing_share": 1.0}
        if road is not None and attrs["kind"] == at.WAY_KIND["crossing"]:
            attrs = {
                **attrs,
                "crossing_road_class": max(attrs["crossing_road_class"], at.road_class(road.tags)),
                "name": attrs["name"] or road.tags.get("name") or road.tags.get("ref", ""),
                "rails": attrs["rails"] or at.has_embedded_rails(road.tags),
            }
        out.append(_replace(p, u=u, v=v, geometry=geom, attrs=attrs))
    sides = {"sidewalks_built": 0, "carriageway_sides": 0, "separate_detected": 0}
    for i, p in enumerate(roads):
        tag_left, tag_right = at.sidewalk_sides(p.tags)
        seen = separate.get(i, (False, False))
        off_left, off_right = rail_offsets.get(i, (side_offset_m(p.tags),) * 2)
        for side, tag, detected, sign in (
            ("left", tag_left, seen[0], 1.0),
            ("right", tag_right, seen[1], -1.0),
        ):
            state = tag
            if tag == at.SIDEWALK_UNKNOWN and detected:
                state = at.SIDEWALK_SEPARATE
                sides["separate_detected"] += 1
            start = road_corner[(i, 0)][0 if side == "left" else 1]
            end = road_corner[(i, 1)][0 if side == "left" else 1]
            line = _offset_polyline(p.geometry, off_left if sign > 0 else -off_right)
            line[0] = corners[start][1:]
            line[-1] = corners[end][1:]
            walk_on = state in (at.SIDEWALK_YES, at.SIDEWALK_UNKNOWN)
            sides["sidewalks_built" if walk_on else "carriageway_sides"] += 1
            mid = len(p.geometry) // 2
            a, b = p.geometry[max(mid - 1, 0)], p.geometry[min(mid, len(p.geometry) - 1)]
            if a == b:
                a, b = p.geometry[0], p.geometry[-1]
            compass = _compass(bearing(a, b) - 90.0 * sign)
            attrs = {
                **p.attrs,
                "kind": at.WAY_KIND["sidewalk" if walk_on else "street"],
                "sidewalk": state,
                "street_side": compass,
                "built": True,
                "rails": at.has_embedded_rails(p.tags) and not walk_on,
                "length": max(_length_m(line), 0.1),
            }
            out.append(_replace(p, u=start, v=end, geometry=line, attrs=attrs))
    report.update(sides)
    report["corners"] = len(corners)
    report["sidewalks_moved_off_rails"] = sum(
        (left > side_offset_m(roads[i].tags)) + (right > side_offset_m(roads[i].tags))
        for i, (left, right) in rail_offsets.items()
    )
    everything = out + crossings
    crossed = count_rail_crossings(everything, list(tram_lines))
    for p, n in zip(everything, crossed.tolist(), strict=True):
        # A crossing edge of a road with rails set in it crosses them too.
        if p.attrs["kind"] == at.WAY_KIND["crossing"] and p.attrs["rails"]:
            n = max(n, 1)
        p.attrs = {**p.attrs, "rail_crossings": n}
    report["rail_crossing_edges"] = int(sum(p.attrs["rail_crossings"] > 0 for p in everything))
    return Expanded(pieces=out, crossings=crossings, corners=corners, report=report)


def _keep_corners_on_their_side(
    corners: dict[int, tuple[int, float, float]],
    roads: list[Piece],
    node_latlon: dict[int, tuple[float, float]],
) -> None:
    """Pull back a corner placed across a road that does not meet its node.

    A corner sits up to three half-widths from its node; where another road passes closer
    (two roads side by side, a slip road), the line from the node to the corner would
    cross that road's centreline and every walkway through the corner would cross the
    road without a crossing edge. Such a corner moves to :data:`CORNER_PULLBACK` of the way
    from its node to that centreline.
    """
    if not corners or not roads:
        return
    lat0, lon0 = roads[0].geometry[0]
    a, b, _, owner = _cut_lines([p.geometry for p in roads], lat0, lon0, 10.0)
    seg_u = np.array([p.u for p in roads], dtype=np.int64)[owner]
    seg_v = np.array([p.v for p in roads], dtype=np.int64)[owner]
    tree = cKDTree((a + b) / 2)
    ids = np.fromiter(corners, dtype=np.int64, count=len(corners))
    info = np.array([corners[c] for c in ids.tolist()])
    nodes = info[:, 0].astype(np.int64)
    start = _xy(*np.array([node_latlon[n] for n in nodes.tolist()]).T, lat0, lon0)
    end = _xy(info[:, 1], info[:, 2], lat0, lon0)
    reach = np.hypot(*(end - start).T) + 5.0
    for j, near in enumerate(tree.query_ball_point(end, r=reach)):
        if not near:
            continue
        near = np.asarray(near)
        near = near[(seg_u[near] != nodes[j]) & (seg_v[near] != nodes[j])]
        if not len(near):
            continue
        t = _first_hit(start[j], end[j], a[near], b[near])
        if t < 1.0:
            xy = start[j] + CORNER_PULLBACK * t * (end[j] - start[j])
            lat, lon = _latlon(xy, lat0, lon0)
            corners[int(ids[j])] = (int(nodes[j]), float(lat), float(lon))


def _first_hit(p: np.ndarray, q: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """Fraction along segment p-q of its first crossing with segments a-b (inf if none)."""
    r, s = q - p, b - a
    denom = r[0] * s[:, 1] - r[1] * s[:, 0]
    ap = a - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (ap[:, 0] * s[:, 1] - ap[:, 1] * s[:, 0]) / denom
        u = (ap[:, 0] * r[1] - ap[:, 1] * r[0]) / denom
    hit = (np.abs(denom) > 1e-9) & (t >= 0) & (t <= 1) & (u >= 0) & (u <= 1)
    return float(t[hit].min()) if hit.any() else math.inf


def crossings_without_node(walkways: list[Piece], roads: list[Piece]) -> dict[int, Piece]:
    """Pieces of crossing ways whose line crosses an expanded road's centreline at a point
    that is not one of their nodes (mapped without a shared node), with the road crossed.

    Ways in a tunnel, on a bridge or on another layer pass over or under and do not count.
    """

    todo = [
        i
        for i, p in enumerate(walkways)
        if p.attrs["kind"] == at.WAY_KIND["crossing"] and is_level(p.tags)
    ]
    flat_roads = [p for p in roads if is_level(p.tags)]
    if not todo or not flat_roads:
        return {}
    lat0, lon0 = flat_roads[0].geometry[0]
    pts, _, owner = _samples([p.geometry for p in flat_roads], lat0, lon0, step_m=5.0,
                             min_m=0.01)  # fmt: skip
    tree = cKDTree(pts)
    out: dict[int, Piece] = {}
    for i in todo:
        p = walkways[i]
        xy = _xy(*np.asarray(p.geometry).T, lat0, lon0)
        near = tree.query_ball_point(xy, r=max(5.0, _length_m(p.geometry)))
        for j in sorted({int(owner[k]) for ks in near for k in ks}):
            road = flat_roads[j]
            if {road.u, road.v} & {p.u, p.v}:
                continue  # they meet at a node: a crossing edge is built there
            rxy = _xy(*np.asarray(road.geometry).T, lat0, lon0)
            if _polylines_cross(xy, rxy):
                if i not in out or at.road_class(road.tags) > at.road_class(out[i].tags):
                    out[i] = road
    return out


def _polylines_cross(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether any segment of polyline a properly crosses any segment of polyline b."""
    p, r = a[:-1][:, None, :], (a[1:] - a[:-1])[:, None, :]
    q, s = b[:-1][None, :, :], (b[1:] - b[:-1])[None, :, :]
    denom = r[..., 0] * s[..., 1] - r[..., 1] * s[..., 0]
    qp = q - p
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (qp[..., 0] * s[..., 1] - qp[..., 1] * s[..., 0]) / denom
        u = (qp[..., 0] * r[..., 1] - qp[..., 1] * r[..., 0]) / denom
    inside = (t > 1e-6) & (t < 1 - 1e-6) & (u > 1e-6) & (u < 1 - 1e-6)
    return bool(((np.abs(denom) > 1e-9) & inside).any())


def _replace(p: Piece, **changes) -> Piece:
    return Piece(**{**p.__dict__, **changes})


def _crossing_piece(
    node: int,
    arm: Arm,
    a: int,
    b: int,
    corners: dict[int, tuple[int, float, float]],
    tags: dict[str, str],
    way_facts: list[dict],
    *,
    explicit: bool,
) -> Piece:
    """The crossing of one road arm at a node, from corner a to corner b."""
    sources = [tags]
    kind = at.crossing_kind(tags) if explicit else at.CROSSING_NONE
    if explicit and kind == at.CROSSING_NONE:  # a railway crossing node without details
        kind = at.CROSSING_UNKNOWN
    kind = max([kind, *(f["crossing_kind"] for f in way_facts)])
    signals_near = tags.get("highway") == "traffic_signals" or arm.next_signals_m <= SIGNAL_RADIUS_M
    if kind <= at.CROSSING_UNKNOWN and signals_near:
        kind = at.CROSSING_SIGNALS
    built = kind == at.CROSSING_NONE
    kind = max(kind, at.CROSSING_UNKNOWN)
    sound = at.merge_tri(
        [at.tri(t.get("traffic_signals:sound"), yes=("yes", "locate", "walk")) for t in sources]
        + [f["crossing_sound"] for f in way_facts]
    )
    vibration = at.merge_tri(
        [at.tri(t.get("traffic_signals:vibration")) for t in sources]
        + [f["crossing_vibration"] for f in way_facts]
    )
    tactile = at.merge_tri(
        [at.tri(tags.get("tactile_paving"), yes=("yes", "contrasted"), no=("no", "incorrect"))]
        + [f["crossing_tactile"] for f in way_facts]
    )
    kerbs = [f["crossing_kerb"] for f in way_facts if f["crossing_kerb"] != at.KERB_UNKNOWN]
    heights = [f["crossing_kerb_height"] for f in way_facts]
    if at.has_kerb_info(tags):
        k, h = at.kerb_code(tags)
        if k != at.KERB_UNKNOWN:
            kerbs.append(k)
        heights.append(h)
    heights = [h for h in heights if not math.isnan(h)]
    lat_a, lon_a = corners[a][1:]
    lat_b, lon_b = corners[b][1:]
    geometry = [(lat_a, lon_a), (lat_b, lon_b)]
    length = max(_length_m(geometry), 2.0)
    lanes = at.parse_int(arm.tags.get("lanes"))
    attrs = {
        "osmid": node,
        "highway": "crossing",
        "name": arm.name,
        "kind": at.WAY_KIND["crossing"],
        "road_class": 0,
        "sidewalk": at.SIDEWALK_UNKNOWN,
        "surface": at.SURFACE_UNKNOWN,
        "smoothness": 0,
        "width": math.nan,
        "lit": at.tri(tags.get("lit"), yes=("yes",)),
        "wheelchair": UNKNOWN,
        "wheelchair_limited": False,
        "step_count": -1,
        "ramp": UNKNOWN,
        "handrail": UNKNOWN,
        "tactile_guide": UNKNOWN,
        "closed": False,
        "conveying": False,
        "tunnel": False,
        "bridge": False,
        "crossing_kind": kind,
        "crossing_sound": sound,
        "crossing_vibration": vibration,
        "crossing_tactile": tactile,
        "crossing_kerb": max(kerbs) if kerbs else at.KERB_UNKNOWN,
        "crossing_kerb_height": max(heights) if heights else math.nan,
        "crossing_road_class": arm.road_class,
        "crossing_built": built,
        "crossing_island": at.has_island(tags) or any(f.get("crossing_island") for f in way_facts),
        "lanes": lanes,
        "maxspeed": at.parse_int(arm.tags.get("maxspeed")),
        "oneway": arm.tags.get("oneway") in ("yes", "1", "-1"),
        "rails": arm.rails,
        "street_side": 0,
        "built": True,
        "length": length,
        "crossing_share": 1.0,
        "grade_source": 3,
    }
    return Piece(
        way_id=node,
        tags={},
        attrs=attrs,
        u=a,
        v=b,
        geometry=geometry,
        grade=0.0,
        grade_max_up=0.0,
        grade_max_down=0.0,
    )
