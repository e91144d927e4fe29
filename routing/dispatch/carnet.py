"""The car network: drivable ways of the OSM file, compiled to arrays, and travel matrices.

Built from the same OSM file as the walking graph, with its own rules:

- **Drivable ways**: ``highway`` in :data:`CAR_SPEEDS_KMH`, unless ``access``/``motor_vehicle``/
  ``vehicle`` is ``no`` or ``private`` (a ``motor_vehicle=yes`` or ``destination`` opens it
  again) or ``area=yes``.
- **One-ways**: ``oneway=yes|true|1`` (forward), ``oneway=-1|reverse`` (backward);
  ``junction=roundabout`` and ``highway=motorway`` are one-way unless tagged ``oneway=no``.
- **Speeds**: ``maxspeed`` (km/h, or ``mph``) times :data:`MAXSPEED_SHARE` (0.7: urban
  driving with junctions rarely reaches the limit); without a usable ``maxspeed`` the class
  default of :data:`CAR_SPEEDS_KMH` (effective urban speeds, already below the limits).
- **Turn restrictions**: ``type=restriction`` relations with a way ``from``, a node ``via``
  and a way ``to``; ``no_*`` forbids that turn, ``only_*`` forbids every other turn from
  ``from`` at ``via``. Restrictions via ways are counted in the report and not applied.
  U-turns are allowed only at dead ends.
- **Time of day**: :func:`time_of_day_factor` multiplies free-flow times (documented
  assumptions below, not measured Almaty traffic data).
- **Kerbside snapping**: a door is reached from the nearest way the vehicle may stop on
  (not motorway, trunk or a link road), on the side where the door is: on a two-way street
  the direction that has the door on its right (traffic drives on the right in Kazakhstan),
  on a one-way street its only direction.

The search runs on the *edge-based* graph (a node per directed segment, an arc per allowed
turn, weighted by the time of the segment entered), so turn restrictions are exact; the
many-to-many matrices come from :func:`scipy.sparse.csgraph.dijkstra` on its compiled CSR
arrays. The compiled network is cached on disk under a hash of the OSM file's content and
the options; a damaged cache is rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import osmium
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from routing.errors import DataError, OutsideAreaError
from routing.geo import LocalProjection, haversine_m

log = logging.getLogger(__name__)

FORMAT_VERSION = 2

#: Effective urban speed (km/h) per highway class when ``maxspeed`` is absent.
CAR_SPEEDS_KMH: dict[str, float] = {
    "motorway": 80.0,
    "motorway_link": 45.0,
    "trunk": 55.0,
    "trunk_link": 40.0,
    "primary": 40.0,
    "primary_link": 30.0,
    "secondary": 35.0,
    "secondary_link": 28.0,
    "tertiary": 30.0,
    "tertiary_link": 25.0,
    "unclassified": 25.0,
    "road": 25.0,
    "residential": 20.0,
    "living_street": 10.0,
    "service": 12.0,
    "unsurfaced": 15.0,
    "track": 10.0,
}
MAXSPEED_SHARE = 0.7
#: Classes a vehicle may not stop on to pick up or drop off.
NO_STOPPING = frozenset(
    {
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary_link",
        "secondary_link",
        "tertiary_link",
    }
)
MAX_SNAP_M = 400.0
KERB_SAMPLE_M = 25.0
LENGTH_SPLIT = float(2**21)  # path lengths below 2**21 dm (209 km) split exactly from times

#: (first hour, last hour exclusive, factor): assumed congestion profile of a weekday in a
#: large post-Soviet city (morning and evening peaks); not measured Almaty data.
TIME_OF_DAY_FACTORS: tuple[tuple[int, int, float], ...] = (
    (0, 6, 0.9),
    (6, 7, 1.1),
    (7, 10, 1.4),
    (10, 16, 1.2),
    (16, 17, 1.3),
    (17, 20, 1.45),
    (20, 22, 1.1),
    (22, 24, 0.95),
)


def time_of_day_factor(seconds_of_day: float) -> float:
    """The travel-time multiplier at a time of day (seconds after midnight)."""
    hour = int(seconds_of_day // 3600) % 24
    for first, last, factor in TIME_OF_DAY_FACTORS:
        if first <= hour < last:
            return factor
    return 1.0


def period_factor(start_s: float, end_s: float) -> float:
    """The largest factor over ``[start_s, end_s]``: a plan made with it holds in every hour."""
    hours = range(int(start_s // 3600), int(end_s // 3600) + 1)
    return max(time_of_day_factor(h * 3600.0) for h in hours)


@dataclass(frozen=True)
class CarOptions:
    maxspeed_share: float = MAXSPEED_SHARE


@dataclass(frozen=True)
class CarNetwork:
    """Directed segments ``tail -> head`` with length (m), free-flow time (s), and turns.

    ``turns`` is the edge-based graph as CSR arrays: arcs from segment ``e`` to the segments
    ``turn_to[turn_ptr[e]:turn_ptr[e + 1]]`` that may follow it.
    """

    node_lat: np.ndarray
    node_lon: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    length_m: np.ndarray
    time_s: np.ndarray
    stoppable: np.ndarray
    way_id: np.ndarray
    turn_ptr: np.ndarray
    turn_to: np.ndarray
    report: dict

    @property
    def n_edges(self) -> int:
        return int(self.tail.size)

    # -- snapping --------------------------------------------------------------------------
    @cached_property
    def _projection(self) -> LocalProjection:
        return LocalProjection(float(np.mean(self.node_lat)), float(np.mean(self.node_lon)))

    def _xy(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return self._projection.forward(lat, lon)

    @cached_property
    def _kerb_index(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, cKDTree, np.ndarray]:
        """Stoppable segments' ends and a KD-tree of points every <= 2 x KERB_SAMPLE_M along
        them (so a radius query never misses a long segment)."""
        xy = self._xy(self.node_lat, self.node_lon)
        edges = np.flatnonzero(self.stoppable)
        a, b = xy[self.tail[edges]], xy[self.head[edges]]
        pieces = np.maximum(1, np.ceil(np.hypot(*(b - a).T) / (2 * KERB_SAMPLE_M))).astype(int)
        owner = np.repeat(np.arange(edges.size), pieces)
        first = np.repeat(np.cumsum(pieces) - pieces, pieces)
        t = (np.arange(owner.size) - first + 0.5) / pieces[owner]
        samples = a[owner] + (b[owner] - a[owner]) * t[:, None]
        return edges, a, b, cKDTree(samples), owner

    def snap(self, points: Sequence[tuple[float, float]]) -> list[Kerb]:
        """The kerbside place of each (lat, lon) door (see the module docstring).

        Raises :class:`OutsideAreaError` for a door farther than ``MAX_SNAP_M`` from any
        street a vehicle may stop on.
        """
        out = self.snap_or_none(points)
        for k, kerb in enumerate(out):
            if kerb is None:
                raise OutsideAreaError(
                    f"point {k} {tuple(points[k])} is more than {MAX_SNAP_M:g} m from a street "
                    "a vehicle may stop on",
                    field="location",
                )
        return out  # type: ignore[return-value]

    def snap_or_none(self, points: Sequence[tuple[float, float]]) -> list[Kerb | None]:
        """As :meth:`snap`, with ``None`` for a door too far from any street."""
        if not len(points):
            return []
        edges, a, b, tree, owner = self._kerb_index
        doors = self._xy(np.array([p[0] for p in points]), np.array([p[1] for p in points]))
        out: list[Kerb | None] = []
        for door in doors:
            candidates = tree.query_ball_point(door, MAX_SNAP_M + KERB_SAMPLE_M)
            if not candidates:
                out.append(None)
                continue
            c = np.unique(owner[np.asarray(candidates)])
            seg = b[c] - a[c]
            seg_len2 = np.maximum((seg**2).sum(axis=1), 1e-9)
            t = np.clip(((door - a[c]) * seg).sum(axis=1) / seg_len2, 0.0, 1.0)
            foot = a[c] + seg * t[:, None]
            gap = np.hypot(*(door - foot).T)
            side = seg[:, 0] * (door[1] - a[c][:, 1]) - seg[:, 1] * (door[0] - a[c][:, 0])
            # Among the nearest, the direction with the door on its right (side < 0) wins.
            best = int(np.argmin(gap + np.where(side <= 0, 0.0, 0.5)))
            if gap[best] > MAX_SNAP_M:
                out.append(None)
            else:
                out.append(Kerb(int(edges[c[best]]), float(t[best]), float(gap[best])))
        return out

    # -- matrices --------------------------------------------------------------------------
    def matrices(
        self, kerbs: Sequence[Kerb], *, factor: float = 1.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Travel time (s, times ``factor``) and driven distance (m) between kerbside places.

        One Dijkstra per place finds the fastest path and its length together: an arc weighs
        ``time_ms * 2**LENGTH_BITS + length_dm`` (segment times rounded to milliseconds,
        lengths to decimetres), so the sum splits exactly into time and length and ties in
        time go to the shorter path. Unreachable pairs are ``inf``.
        """
        n_e, n_k = self.n_edges, len(kerbs)
        src_edge = np.array([k.edge for k in kerbs], dtype=np.int64)
        frac = np.array([k.fraction for k in kerbs])
        # Augmented edge graph: one virtual node per kerb, with arcs to the segments that
        # may follow its segment (so a trip back along the same segment is a real loop).
        counts = np.diff(self.turn_ptr)
        rows = np.concatenate(
            [np.repeat(np.arange(n_e), counts), np.repeat(n_e + np.arange(n_k), counts[src_edge])]
        )
        cols = np.concatenate(
            [self.turn_to]
            + [self.turn_to[self.turn_ptr[e] : self.turn_ptr[e + 1]] for e in src_edge]
        )
        time_ms = np.rint(self.time_s * 1000.0)
        length_dm = np.rint(self.length_m * 10.0)
        weights = time_ms[cols] * LENGTH_SPLIT + length_dm[cols]
        graph = csr_matrix((weights, (rows, cols)), shape=(n_e + n_k, n_e + n_k))
        whole = np.empty((n_k, n_k))
        for lo in range(0, n_k, 128):
            hi = min(n_k, lo + 128)
            d = dijkstra(graph, directed=True, indices=np.arange(n_e + lo, n_e + hi))
            whole[lo:hi] = d[:, src_edge]
        reached = np.isfinite(whole)
        safe = np.where(reached, whole, 0.0)
        path_s = np.floor(safe / LENGTH_SPLIT) / 1000.0
        path_m = np.mod(safe, LENGTH_SPLIT) / 10.0
        seg_s, seg_m = time_ms[src_edge] / 1000.0, length_dm[src_edge] / 10.0
        time = (1.0 - frac)[:, None] * seg_s[:, None] + path_s - ((1.0 - frac) * seg_s)[None, :]
        dist = (1.0 - frac)[:, None] * seg_m[:, None] + path_m - ((1.0 - frac) * seg_m)[None, :]
        same = (src_edge[:, None] == src_edge[None, :]) & (frac[None, :] >= frac[:, None])
        ahead = frac[None, :] - frac[:, None]
        time = np.where(same, ahead * seg_s[:, None], np.where(reached, time, np.inf))
        dist = np.where(same, ahead * seg_m[:, None], np.where(reached, dist, np.inf))
        np.fill_diagonal(time, 0.0)
        np.fill_diagonal(dist, 0.0)
        return np.maximum(time, 0.0) * factor, np.maximum(dist, 0.0)


@dataclass(frozen=True)
class Kerb:
    """A kerbside place: segment ``edge`` at ``fraction`` of its length, ``gap_m`` from the door."""

    edge: int
    fraction: float
    gap_m: float


# -- building -------------------------------------------------------------------------------
def _speed_kmh(tags: dict[str, str], options: CarOptions) -> float:
    default = CAR_SPEEDS_KMH[tags["highway"]]
    raw = tags.get("maxspeed", "")
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(mph)?\s*", raw)
    if not match:
        return default
    value = float(match.group(1)) * (1.609344 if match.group(2) else 1.0)
    return max(5.0, value * options.maxspeed_share) if value > 0 else default


def _drivable(tags: dict[str, str]) -> bool:
    if tags.get("highway") not in CAR_SPEEDS_KMH or tags.get("area") == "yes":
        return False
    for key in ("motor_vehicle", "motorcar", "vehicle", "access"):
        value = tags.get(key)
        if value in ("yes", "destination", "permissive", "designated"):
            return True
        if value in ("no", "private"):
            return False
    return True


def _direction(tags: dict[str, str]) -> int:
    """+1 one-way forward, -1 one-way backward, 0 both ways."""
    oneway = tags.get("oneway", "")
    if oneway in ("yes", "true", "1"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or tags.get("highway") == "motorway":
        return 1
    return 0


def build_car_network(osm: str | os.PathLike, options: CarOptions = CarOptions()) -> CarNetwork:
    """Read ``osm`` and compile its car network (see the module docstring for the rules)."""
    ways: list[tuple[int, list[int], dict[str, str]]] = []
    coords: dict[int, tuple[float, float]] = {}
    restrictions: list[tuple[str, int, int, int]] = []
    report = {
        "ways": 0,
        "restrictions": 0,
        "restrictions_via_way": 0,
        "restrictions_unmatched": 0,
        "dangling_node_refs": 0,
    }
    try:
        for obj in osmium.FileProcessor(str(osm)).with_locations():
            if obj.is_way():
                tags = dict(obj.tags)
                if not _drivable(tags):
                    continue
                refs = []
                for n in obj.nodes:
                    if n.location.valid():
                        coords[n.ref] = (n.location.lat, n.location.lon)
                        refs.append(n.ref)
                    else:
                        report["dangling_node_refs"] += 1
                if len(refs) >= 2:
                    ways.append((obj.id, refs, tags))
            elif obj.is_relation() and obj.tags.get("type") == "restriction":
                kind = obj.tags.get("restriction", "")
                members = {(m.type, m.role): m.ref for m in obj.members}
                if ("w", "via") in members:
                    report["restrictions_via_way"] += 1
                elif {("w", "from"), ("n", "via"), ("w", "to")} <= set(members) and kind:
                    restrictions.append(
                        (kind, members[("w", "from")], members[("n", "via")], members[("w", "to")])
                    )
    except RuntimeError as exc:
        raise DataError(f"cannot read OSM file {osm}: {exc}") from exc
    if not ways:
        raise DataError(f"{osm} has no drivable ways")
    report["ways"] = len(ways)
    ids = np.array(sorted(coords), dtype=np.int64)
    lat = np.array([coords[i][0] for i in ids])
    lon = np.array([coords[i][1] for i in ids])
    tail, head, length, time_s, stop, way_of = [], [], [], [], [], []
    for way_id, refs, tags in ways:
        idx = np.searchsorted(ids, np.array(refs, dtype=np.int64))
        seg = haversine_m(lat[idx[:-1]], lon[idx[:-1]], lat[idx[1:]], lon[idx[1:]])
        speed = _speed_kmh(tags, options) / 3.6
        direction = _direction(tags)
        can_stop = tags["highway"] not in NO_STOPPING
        for a, b, m in zip(idx[:-1], idx[1:], seg, strict=True):
            pairs = (
                [(a, b)] if direction == 1 else [(b, a)] if direction == -1 else [(a, b), (b, a)]
            )
            for u, v in pairs:
                tail.append(u)
                head.append(v)
                length.append(m)
                time_s.append(m / speed)
                stop.append(can_stop)
                way_of.append(way_id)
    tail_a, head_a = np.array(tail, dtype=np.int64), np.array(head, dtype=np.int64)
    way_a = np.array(way_of, dtype=np.int64)
    turn_ptr, turn_to = _turns(tail_a, head_a, way_a, ids, restrictions, report)
    # Stop only where every other stop can be reached and left: the largest strongly
    # connected part of the turn graph (islands and one-way traps are left out).
    n = tail_a.size
    turns = csr_matrix((np.ones(turn_to.size), turn_to, turn_ptr), shape=(n, n))
    _count, labels = connected_components(turns, directed=True, connection="strong")
    main = labels == np.bincount(labels).argmax()
    stoppable = np.array(stop, dtype=bool) & main
    report["segments_outside_main_part"] = int((~main).sum())
    return CarNetwork(
        lat,
        lon,
        tail_a,
        head_a,
        np.array(length),
        np.array(time_s),
        stoppable,
        way_a,
        turn_ptr,
        turn_to,
        report,
    )


def _turns(tail, head, way, ids, restrictions, report) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(tail, kind="stable")
    out_ptr = np.searchsorted(tail[order], np.arange(ids.size + 1))
    banned: set[tuple[int, int, int]] = set()
    only: dict[tuple[int, int], int] = {}  # (from way, via node index) -> to way
    for kind, from_way, via, to_way in restrictions:
        pos = int(np.searchsorted(ids, via))
        if pos >= ids.size or ids[pos] != via:
            report["restrictions_unmatched"] += 1
            continue
        report["restrictions"] += 1
        if kind.startswith("only_"):
            only[(from_way, pos)] = to_way
        else:
            banned.add((from_way, pos, to_way))
    ptr, to = [0], []
    for e in range(tail.size):
        v = int(head[e])
        nexts = order[out_ptr[v] : out_ptr[v + 1]]
        allowed = [f for f in nexts if head[f] != tail[e]] or list(nexts)  # U-turn at dead ends
        key = (int(way[e]), v)
        if key in only:
            allowed = [f for f in allowed if way[f] == only[key]]
        allowed = [f for f in allowed if (int(way[e]), v, int(way[f])) not in banned]
        to.extend(allowed)
        ptr.append(len(to))
    return np.array(ptr, dtype=np.int64), np.array(to, dtype=np.int64)


# -- cache ----------------------------------------------------------------------------------
_FIELDS = (
    "node_lat",
    "node_lon",
    "tail",
    "head",
    "length_m",
    "time_s",
    "stoppable",
    "way_id",
    "turn_ptr",
    "turn_to",
)


def car_cache_key(osm: str | os.PathLike, options: CarOptions = CarOptions()) -> str:
    digest = hashlib.sha256(Path(osm).read_bytes()).hexdigest()
    parts = {
        "format": FORMAT_VERSION,
        "osm": digest,
        "options": asdict(options),
        "speeds": CAR_SPEEDS_KMH,
        "no_stopping": sorted(NO_STOPPING),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def load_car_network(
    osm: str | os.PathLike,
    *,
    cache_dir: str | os.PathLike | None = None,
    options: CarOptions = CarOptions(),
) -> CarNetwork:
    """The car network of ``osm``, from ``cache_dir`` when a cache for these inputs exists."""
    if cache_dir is None:
        return build_car_network(osm, options)
    path = Path(cache_dir) / f"car-{car_cache_key(osm, options)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {name: data[name] for name in _FIELDS}
                report = json.loads(str(data["report"]))
            return CarNetwork(**arrays, report=report)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("car network cache %s is damaged (%s); rebuilding", path, exc)
    network = build_car_network(osm, options)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(
        tmp, **{name: getattr(network, name) for name in _FIELDS}, report=json.dumps(network.report)
    )
    os.replace(tmp, path)
    return network


def kerbs_of(network: CarNetwork, points: Iterable[tuple[float, float]]) -> list[Kerb]:
    return network.snap(list(points))
