"""Bus stops matched to route lines, and the modelled bus service.

Stop sequences
--------------
Stops are matched to each direction's line in a local equirectangular projection (metres;
error < 0.5 % over the city). Each stop is projected onto every line segment near it
(a KD-tree over the stops finds the candidates). Projections of one stop more than
``revisit_gap_m`` (120 m) apart along the line are separate visits (a loop may pass a stop
twice); each visit keeps its nearest projection. Traffic keeps right, so a visit counts
when the stop lies on the right of the direction of travel (sign of the cross product of
segment and stop vector) within ``match_distance_m`` (30 m), or within
``centerline_tolerance_m`` (3 m) of the line on either side (stops mapped on the road).
Stops on the left belong to the opposite direction. Visits are ordered by distance along
the line; of two visits closer than ``min_stop_spacing_m`` (30 m, duplicates such as a
platform plus a stop position) the named one, then the platform, then the nearer one is
kept.

Every route file with a line yields a route, and every direction a trip pattern and a
shape. A direction with fewer than two matched stops (suburban lines running beyond the
stops' bounding box) gets synthetic stops ``bus:synthetic:<route>:<dir>:start|end`` at the
line's ends (unless a matched stop lies within ``min_stop_spacing_m`` of that end); they
are reported and marked ``source=synthetic`` in stop_accessibility.txt, and their
wheelchair_boarding is 0 (unknown). ``route_type`` is 3 (bus), or 11 (trolleybus) when
three or more of the route's tagged stops say trolleybus=yes and none says bus=yes.

Bus service
-----------
For each route (config default merged with ``bus.routes.<N>``) and direction, one
template trip per time band runs along the matched stops at the band's average speed
(distance along the line / speed, dwell included) and is repeated by ``frequencies.txt``
(``exact_times=0``, headway of the band, start/end of the band). Distances
(``shape_dist_traveled``) are in kilometres, along the line (haversine per segment). The
low-floor share is carried as ``wheelchair_accessible`` only when it is certain (share 1
-> 1, share 0 -> 2, otherwise 0 = unknown); modelling the share belongs elsewhere.
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from datasets.almaty._common import (
    ACCESS_TAGS,
    UNNAMED_STOP,
    WEEKDAYS,
    load_json,
)
from datasets.almaty.bus_stops import BusStop, load_bus_stops, wheelchair_boarding_code
from datasets.almaty.cleanup import CleanupReport, clean_visits
from datasets.almaty.service import ServiceConfig, StopMatching
from routing.clock import format_time
from routing.errors import DataError
from routing.geo import LocalProjection, haversine_m
from routing.transit.gtfs import ACCESSIBILITY_TO_GTFS
from routing.tristate import NO, UNKNOWN, YES

if TYPE_CHECKING:
    from scipy.spatial import cKDTree

logger = logging.getLogger(__name__)


@dataclass
class _Direction:
    route: str
    direction: int
    lat: np.ndarray
    lon: np.ndarray
    cum_m: np.ndarray  # distance along the line at each vertex (haversine)


def route_sort_key(name: str) -> tuple[int, str]:
    digits = re.match(r"\d+", name)
    return (int(digits.group()) if digits else 10**9, name)


def _load_route_file(path: Path) -> list[_Direction]:
    """The directions of one route file, validated; DataError names the file."""
    p = str(path)
    raw = load_json(path)
    if not isinstance(raw, list) or not raw:
        raise DataError(f"{p}: expected a non-empty list of directions", path=p)
    route = path.stem
    seen: set[int] = set()
    out = []
    for k, d in enumerate(raw):
        f = f"[{k}]"
        if not isinstance(d, dict):
            raise DataError(f"{p}: direction {f} must be an object", path=p, field=f)
        di = d.get("directionIndex")
        if di not in (0, 1) or isinstance(di, bool):
            raise DataError(
                f"{p}: {f}.directionIndex must be 0 or 1, got {di!r}",
                path=p,
                field=f"{f}.directionIndex",
            )
        if di in seen:
            raise DataError(
                f"{p}: directionIndex {di} appears twice", path=p, field=f"{f}.directionIndex"
            )
        seen.add(di)
        line = d.get("line")
        if not isinstance(line, list) or len(line) < 2:
            raise DataError(
                f"{p}: {f}.line must be a list of at least 2 [lat, lon] points",
                path=p,
                field=f"{f}.line",
            )
        for i, pt in enumerate(line):
            ok = (
                isinstance(pt, list | tuple)
                and len(pt) == 2
                and all(
                    isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                    for v in pt
                )
                and abs(pt[0]) <= 90
                and abs(pt[1]) <= 180
            )
            if not ok:
                raise DataError(
                    f"{p}: {f}.line[{i}] is not a [lat, lon] point: {pt!r}",
                    path=p,
                    field=f"{f}.line[{i}]",
                )
        arr = np.asarray(line, dtype=float)
        # drop repeated points so that shape distances strictly increase
        seg = haversine_m(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])
        keep = np.concatenate(([True], seg >= 0.1))
        arr = arr[keep]
        if len(arr) < 2:
            raise DataError(f"{p}: {f}.line has zero length", path=p, field=f"{f}.line")
        seg = haversine_m(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])
        out.append(
            _Direction(
                route, int(di), arr[:, 0], arr[:, 1], np.concatenate(([0.0], np.cumsum(seg)))
            )
        )
    return sorted(out, key=lambda d: d.direction)


@dataclass(frozen=True)
class _Visit:
    along_m: float
    stop: int  # index into the stop list; -1 for a synthetic stop
    dist_m: float


def _match_direction(
    d: _Direction,
    stops_xy: np.ndarray,
    tree: cKDTree,
    proj: LocalProjection,
    cfg: StopMatching,
) -> list[_Visit]:
    """Stops served by one direction, in line order (see the module docstring)."""
    pts = proj.forward(d.lat, d.lon)
    a, vec = pts[:-1], np.diff(pts, axis=0)
    len2 = np.maximum((vec**2).sum(axis=1), 1e-9)
    seg_len = np.sqrt(len2)
    cands = tree.query_ball_point(a + vec / 2, seg_len / 2 + cfg.match_distance_m)
    sizes = np.fromiter((len(c) for c in cands), dtype=np.int64, count=len(cands))
    if sizes.sum() == 0:
        return []
    seg = np.repeat(np.arange(len(a)), sizes)
    stop = np.fromiter((s for c in cands for s in c), dtype=np.int64, count=int(sizes.sum()))
    rel = stops_xy[stop] - a[seg]
    t = np.clip((rel * vec[seg]).sum(axis=1) / len2[seg], 0.0, 1.0)
    off = rel - t[:, None] * vec[seg]
    dist = np.hypot(off[:, 0], off[:, 1])
    cross = vec[seg, 0] * rel[:, 1] - vec[seg, 1] * rel[:, 0]  # > 0: stop on the left
    along = d.cum_m[seg] + t * (d.cum_m[seg + 1] - d.cum_m[seg])
    near = dist <= cfg.match_distance_m
    stop, dist, cross, along = stop[near], dist[near], cross[near], along[near]
    if len(stop) == 0:
        return []
    # split each stop's projections into visits, keep the nearest projection of each
    order = np.lexsort((along, stop))
    stop, dist, cross, along = stop[order], dist[order], cross[order], along[order]
    new = np.ones(len(stop), dtype=bool)
    new[1:] = (stop[1:] != stop[:-1]) | (np.diff(along) > cfg.revisit_gap_m)
    visit = np.cumsum(new) - 1
    best = np.lexsort((dist, visit))
    first = np.ones(len(best), dtype=bool)
    first[1:] = visit[best[1:]] != visit[best[:-1]]
    pick = best[first]
    right_side = (cross[pick] <= 0) | (dist[pick] <= cfg.centerline_tolerance_m)
    pick = pick[right_side]
    return sorted(
        (_Visit(float(along[i]), int(stop[i]), float(dist[i])) for i in pick),
        key=lambda v: v.along_m,
    )


def _thin_visits(
    visits: list[_Visit], stops: list[BusStop], spacing: float
) -> tuple[list[_Visit], int]:
    """Drop visits closer than ``spacing`` along the line, keeping the better stop."""

    def score(v: _Visit) -> tuple[bool, bool, float]:
        s = stops[v.stop]
        return (s.named, s.tags.get("public_transport") != "stop_position", -v.dist_m)

    kept: list[_Visit] = []
    dropped = 0
    for v in visits:
        if kept and v.along_m - kept[-1].along_m < spacing:
            dropped += 1
            prev_ok = len(kept) < 2 or v.along_m - kept[-2].along_m >= spacing
            if prev_ok and score(v) > score(kept[-1]):
                kept[-1] = v
            continue
        kept.append(v)
    return kept, dropped


def _score(stop: BusStop | None, dist_m: float) -> tuple[bool, bool, bool, float]:
    """Which of two stops to keep: a real one, named, a platform, nearer the line."""
    if stop is None:
        return (False, False, False, -dist_m)
    named = stop.named
    return (True, named, stop.tags.get("public_transport") != "stop_position", -dist_m)


def _clean(
    route_dirs: dict[str, list[tuple[_Direction, list[_Visit]]]],
    stops: list[BusStop],
    stops_xy: np.ndarray,
    synthetic: list[dict[str, Any]],
    proj: LocalProjection,
    cfg: StopMatching,
    report: CleanupReport,
) -> dict[str, list[tuple[_Direction, list[_Visit]]]]:
    """Each direction's visits after :func:`~datasets.almaty.cleanup.clean_visits`; a route
    whose every direction is dropped is dropped too (and reported)."""
    out: dict[str, list[tuple[_Direction, list[_Visit]]]] = {}
    for route, dirs in route_dirs.items():
        kept_dirs = []
        for d, visits in dirs:
            ids, xy = [], []
            for v in visits:
                if v.stop >= 0:
                    ids.append(stops[v.stop].stop_id)
                    xy.append(stops_xy[v.stop])
                else:
                    syn = synthetic[-v.stop - 1]
                    ids.append(syn["stop_id"])
                    xy.append(proj.forward(syn["lat"], syn["lon"]))
            keep = clean_visits(
                f"{route}/{d.direction}",
                [v.along_m for v in visits],
                ids,
                np.array(xy).reshape(-1, 2),
                [v.stop >= 0 for v in visits],
                lambda i, vs=visits: _score(stops[vs[i].stop] if vs[i].stop >= 0 else None,
                                            vs[i].dist_m),  # fmt: skip
                cfg,
                report,
            )
            if keep is not None:
                kept_dirs.append((d, [visits[i] for i in keep]))
        if kept_dirs:
            out[route] = kept_dirs
        else:
            report.dropped_routes.append(route)
    return out


def bus_service_id(days: tuple[str, ...]) -> str:
    if days == WEEKDAYS:
        return "bus_daily"
    return "bus_" + "".join(d[:2] for d in days)


def build_buses(
    bus_dir: Path, config: ServiceConfig
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any], list[str], set[str]]:
    """Bus stops, routes, shapes, template trips, stop_times and frequencies."""
    warnings: list[str] = []
    cfg = config.stops
    stops_path = bus_dir / "bus_stops_overpass.json"
    stops, osm_base = load_bus_stops(stops_path)
    route_files = sorted((bus_dir / "routes").glob("*.json"), key=lambda f: route_sort_key(f.stem))
    if not route_files:
        raise DataError(f"{bus_dir / 'routes'}: no route files", path=str(bus_dir / "routes"))
    directions = [d for f in route_files for d in _load_route_file(f)]

    lat = np.array([s.lat for s in stops])
    lon = np.array([s.lon for s in stops])
    proj = LocalProjection(float(lat.mean()), float(lon.mean()))
    stops_xy = proj.forward(lat, lon)
    from scipy.spatial import cKDTree  # here: `serve` imports this module, and needs none

    tree = cKDTree(stops_xy)

    tables: dict[str, list[dict[str, Any]]] = {
        k: []
        for k in (
            "stops",
            "routes",
            "trips",
            "stop_times",
            "frequencies",
            "shapes",
            "translations",
            "stop_accessibility",
        )
    }
    served: set[int] = set()
    synthetic: list[dict[str, Any]] = []
    short_dirs: list[str] = []
    visits_total = dropped_total = 0
    route_dirs: dict[str, list[tuple[_Direction, list[_Visit]]]] = {}
    for d in directions:
        visits, dropped = _thin_visits(
            _match_direction(d, stops_xy, tree, proj, cfg), stops, cfg.min_stop_spacing_m
        )
        dropped_total += dropped
        if len(visits) < 2:
            short_dirs.append(f"{d.route}/{d.direction}")
            length = float(d.cum_m[-1])
            add = []
            if not visits or visits[0].along_m >= cfg.min_stop_spacing_m:
                add.append(("start", 0))
            if not visits or length - visits[-1].along_m >= cfg.min_stop_spacing_m:
                add.append(("end", len(d.lat) - 1))
            for end, vi in add:
                sid = f"bus:synthetic:{d.route}:{d.direction}:{end}"
                synthetic.append(
                    {
                        "stop_id": sid,
                        "lat": float(d.lat[vi]),
                        "lon": float(d.lon[vi]),
                        "route": d.route,
                        "end": end,
                    }
                )
                visits.append(_Visit(float(d.cum_m[vi]), -len(synthetic), 0.0))
            visits.sort(key=lambda v: v.along_m)
            warnings.append(
                f"bus route {d.route} direction {d.direction}: {len(visits) - len(add)} "
                f"matched stop(s); synthetic stop(s) added at the line's "
                f"{' and '.join(e for e, _ in add)}"
            )
        route_dirs.setdefault(d.route, []).append((d, visits))

    cleanup = CleanupReport()
    route_dirs = _clean(route_dirs, stops, stops_xy, synthetic, proj, cfg, cleanup)
    for kept in route_dirs.values():
        for _, visits in kept:
            visits_total += sum(1 for v in visits if v.stop >= 0)
            served.update(v.stop for v in visits if v.stop >= 0)
    used_synthetic = {-v.stop - 1 for ds in route_dirs.values() for _, vs in ds for v in vs
                      if v.stop < 0}  # fmt: skip

    def visit_stop_id(v: _Visit) -> str:
        return stops[v.stop].stop_id if v.stop >= 0 else synthetic[-v.stop - 1]["stop_id"]

    def visit_name(v: _Visit) -> str | None:
        if v.stop < 0:
            return None
        t = stops[v.stop].tags
        return t.get("name:ru") or t.get("name") or None

    service_ids: set[str] = set()
    trolleybus_routes = []
    for route in sorted(route_dirs, key=route_sort_key):
        svc = config.route_service(route)
        service_id = bus_service_id(svc.days)
        service_ids.add(service_id)
        tagged = [stops[v.stop].tags for _, vs in route_dirs[route] for v in vs if v.stop >= 0]
        tb_only = sum(1 for t in tagged if t.get("trolleybus") == "yes" and t.get("bus") != "yes")
        bus_yes = sum(1 for t in tagged if t.get("bus") == "yes")
        route_type = 11 if tb_only >= 3 and bus_yes == 0 else 3
        if route_type == 11:
            trolleybus_routes.append(route)
        tables["routes"].append(
            {
                "route_id": f"bus:{route}",
                "agency_id": "bus",
                "route_short_name": route,
                "route_long_name": "",
                "route_desc": "",
                "route_type": route_type,
            }
        )
        if svc.low_floor_share is None or 0 < svc.low_floor_share < 1:
            accessible = UNKNOWN
        else:
            accessible = YES if svc.low_floor_share == 1 else NO
        for d, visits in route_dirs[route]:
            shape_id = f"bus:{route}:{d.direction}"
            km = np.round(d.cum_m / 1000.0, 4)
            tables["shapes"] += [
                {
                    "shape_id": shape_id,
                    "shape_pt_lat": round(float(d.lat[k]), 7),
                    "shape_pt_lon": round(float(d.lon[k]), 7),
                    "shape_pt_sequence": k,
                    "shape_dist_traveled": float(km[k]),
                }
                for k in range(len(d.lat))
            ]
            along = np.array([v.along_m for v in visits])
            headsign = visit_name(visits[-1]) or ""
            for band in svc.bands:
                trip_id = f"bus:{route}:{d.direction}:{band.name}"
                tables["trips"].append(
                    {
                        "route_id": f"bus:{route}",
                        "service_id": service_id,
                        "trip_id": trip_id,
                        "trip_headsign": headsign,
                        "direction_id": d.direction,
                        "shape_id": shape_id,
                        "wheelchair_accessible": accessible,
                    }
                )
                # cumulative rounding keeps the times non-decreasing
                times = band.start_s + np.round((along - along[0]) / band.speed_mps)
                tables["stop_times"] += [
                    {
                        "trip_id": trip_id,
                        "arrival_time": format_time(times[k]),
                        "departure_time": format_time(times[k]),
                        "stop_id": visit_stop_id(v),
                        "stop_sequence": k + 1,
                        "shape_dist_traveled": round(v.along_m / 1000.0, 4),
                        "timepoint": 0,
                    }
                    for k, v in enumerate(visits)
                ]
                tables["frequencies"].append(
                    {
                        "trip_id": trip_id,
                        "start_time": format_time(band.start_s),
                        "end_time": format_time(band.end_s),
                        "headway_secs": band.headway_s,
                        "exact_times": 0,
                    }
                )

    limited_as = cfg.wheelchair_limited_as
    wheelchair_counts = dict.fromkeys(ACCESSIBILITY_TO_GTFS, 0)
    for s in stops:
        t = s.tags
        name = t.get("name:ru") or t.get("name")
        code = wheelchair_boarding_code(t.get("wheelchair"), limited_as=limited_as)
        wheelchair_counts[code] += 1
        tables["stops"].append(
            {
                "stop_id": s.stop_id,
                "stop_code": str(s.osm_id),
                "stop_name": name or UNNAMED_STOP[0],
                "stop_desc": "" if name else "no name in OpenStreetMap",
                "stop_lat": s.lat,
                "stop_lon": s.lon,
                "location_type": 0,
                "wheelchair_boarding": code,
            }
        )
        tables["stop_accessibility"].append(
            {"stop_id": s.stop_id, **{k: t.get(k, "") for k in ACCESS_TAGS}, "source": "osm"}
        )
        for lang in ("kk", "en"):
            tr = t.get(f"name:{lang}") or (UNNAMED_STOP[1] if lang == "en" and not name else None)
            if tr and tr != (name or UNNAMED_STOP[0]):
                tables["translations"].append(
                    {
                        "table_name": "stops",
                        "field_name": "stop_name",
                        "language": lang,
                        "translation": tr,
                        "record_id": s.stop_id,
                    }
                )
    for k, syn in enumerate(synthetic):
        if k not in used_synthetic:
            continue  # its direction was dropped by the clean-up
        tables["stops"].append(
            {
                "stop_id": syn["stop_id"],
                "stop_code": "",
                "stop_name": f"Конечная маршрута {syn['route']}",
                "stop_desc": f"synthetic: {syn['end']} of route line, no OSM stop matched",
                "stop_lat": round(syn["lat"], 7),
                "stop_lon": round(syn["lon"], 7),
                "location_type": 0,
                "wheelchair_boarding": UNKNOWN,
            }
        )
        tables["translations"].append(
            {
                "table_name": "stops",
                "field_name": "stop_name",
                "language": "en",
                "translation": f"Route {syn['route']} terminus",
                "record_id": syn["stop_id"],
            }
        )
        tables["stop_accessibility"].append(
            {"stop_id": syn["stop_id"], **dict.fromkeys(ACCESS_TAGS, ""), "source": "synthetic"}
        )

    n_dirs = len(directions)
    report = {
        "osm_base": osm_base,
        "route_files": len(route_files),
        "routes_kept": len(tables["routes"]),
        "directions": n_dirs,
        "directions_with_2plus_stops": n_dirs - len(short_dirs),
        "directions_lt2_stops": short_dirs,
        "synthetic_stops": len(used_synthetic),
        "cleanup": cleanup.to_dict(cfg),
        "trolleybus_routes": trolleybus_routes,
        "stops_in_source": len(stops),
        "stops_matched": len(served),
        "stops_unserved": len(stops) - len(served),
        "stop_visits": visits_total,
        "visits_dropped_too_close": dropped_total,
        "wheelchair_boarding_counts": {  # by the GTFS number written
            str(ACCESSIBILITY_TO_GTFS[k]): v for k, v in wheelchair_counts.items()
        },
        "template_trips": len(tables["trips"]),
        "frequencies": len(tables["frequencies"]),
        "thresholds": {
            "match_distance_m": cfg.match_distance_m,
            "centerline_tolerance_m": cfg.centerline_tolerance_m,
            "min_stop_spacing_m": cfg.min_stop_spacing_m,
            "revisit_gap_m": cfg.revisit_gap_m,
            "wheelchair_limited_as": ACCESSIBILITY_TO_GTFS[cfg.wheelchair_limited_as],
        },
        "default_service": {
            "days": list(config.bus_default.days),
            "span": [
                format_time(config.bus_default.bands[0].start_s),
                format_time(config.bus_default.bands[-1].end_s),
            ],
            "bands": [
                {
                    "name": b.name,
                    "start": format_time(b.start_s),
                    "end": format_time(b.end_s),
                    "headway_min": b.headway_s / 60,
                    "speed_kmh": round(b.speed_mps * 3.6, 2),
                }
                for b in config.bus_default.bands
            ],
            "low_floor_share": config.bus_default.low_floor_share,
        },
        "route_overrides": sorted(config.bus_routes, key=route_sort_key),
    }
    unknown = sorted(set(config.bus_routes) - {d.route for d in directions}, key=route_sort_key)
    if unknown:
        warnings.append(f"service config names routes without a route file: {unknown}")
    return tables, report, warnings, service_ids
