"""Metro trips assembled from the per-station timetable.

Metro trips
-----------
``schedule.json`` lists, per station, the departures of each direction (``forward`` =
towards Momyshuly, direction_id 0; ``backward`` = towards Raiymbek batyr, direction_id 1),
but not which departures belong to the same train. Trips are assembled per service day
(weekday, weekend) and direction:

1. Times are read as seconds of the service day; times before 04:00 belong to the service
   day before and become 24:xx:xx. Each list is sorted and exact duplicates are dropped
   and counted (Raiymbek batyr's weekday list holds each of its 128 times twice).
2. For each pair of consecutive stations (i, i+1) the run time r_i is the median over the
   departures at i of the gap to the first later departure at i+1. Headways (>= 5.6 min)
   are much longer than run times (<= 3.3 min), so the first later departure is almost
   always the same train and the median is robust to the few that are not.
3. Departures are matched greedily in time order (trains do not overtake): departure t at
   i takes the first unused departure at i+1 in ``[t + r_i - tol, t + r_i + tol]``
   (``run_time_tolerance_s``, 45 s by default; it must be under half the headway for a
   match to be unique). Chained matches form the trips.
4. A departure at i with no match ends its trip at i+1, arriving at ``t + r_i``. Terminal
   stations list departures in one direction only, so the run time of the last segment
   (e.g. Saryarqa -> Momyshuly) comes from the same segment in the other direction. A
   departure at i+1 with no match at i starts a trip there (the timetable starts some
   early trains mid-line).
5. At intermediate stations arrival = departure (the timetable gives departures only;
   dwell is inside the run times).

The method is checked, not trusted: per segment the report gives the run-time median,
min, max and spread of the matched pairs, and the counts of matched and unmatched
departures, trips starting mid-line and trips ending short of the terminal. A segment
whose run time is not positive or whose matching window is not unique raises
:class:`~routing.errors.DataError`; so does a segment where fewer than
``min_match_share`` of the departures match. Unmatched departures are logged.

Calendar: ``weekday`` runs Monday-Friday and ``weekend`` Saturday-Sunday over the
configured validity (2026-01-01 .. 2027-12-31). Each date of ``holidays.json``'s
``dates`` falling on a weekday removes ``weekday`` and adds ``weekend`` in
calendar_dates (holidays on a weekend need no exception); each date of
``workingWeekends`` (a Saturday declared a working day) does the reverse.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from datasets.almaty._common import (
    SERVICE_DAY_START_S,
    load_json,
    number_in,
    parse_date,
)
from datasets.almaty.service import ServiceConfig
from routing.clock import format_time
from routing.errors import DataError
from routing.geo import haversine_m

logger = logging.getLogger(__name__)

_METRO_DAYS = ("weekday", "weekend")
_METRO_DIRECTIONS = ("forward", "backward")  # direction_id 0, 1
_METRO_ROUTE_ID = "metro:L1"


@dataclass(frozen=True)
class _Station:
    slug: str
    names: dict[str, str]
    lat: float
    lon: float


def _load_stations(path: Path) -> list[_Station]:
    raw = load_json(path)
    p = str(path)
    if not isinstance(raw, list) or len(raw) < 2:
        raise DataError(f"{p}: expected a list of stations", path=p)
    stations = []
    for i, s in enumerate(raw):
        f = f"[{i}]"
        if not isinstance(s, dict) or not isinstance(s.get("slug"), str):
            raise DataError(f"{p}: station {f} needs a slug", path=p, field=f"{f}.slug")
        names = s.get("name")
        if not isinstance(names, dict) or not names.get("ru"):
            raise DataError(f"{p}: station {f} needs name.ru", path=p, field=f"{f}.name")
        lat = number_in(s.get("lat"), path=p, field_name=f"{f}.lat", low=-90, high=90)
        lon = number_in(s.get("lon"), path=p, field_name=f"{f}.lon", low=-180, high=180)
        stations.append(_Station(s["slug"], {k: str(v) for k, v in names.items()}, lat, lon))
    if "order" in raw[0]:
        # the file is in line order already; trust an explicit order field if present
        order = [s.get("order") for s in raw]
        if all(isinstance(o, int) for o in order):
            stations = [s for _, s in sorted(zip(order, stations, strict=True), key=lambda t: t[0])]
    if len({s.slug for s in stations}) != len(stations):
        raise DataError(f"{p}: duplicate station slugs", path=p, field="slug")
    return stations


def _parse_departures(values: Any, *, path: str, where: str) -> tuple[np.ndarray, int]:
    """Sorted unique departure seconds (after-midnight times moved past 24:00) + dup count."""
    if not isinstance(values, list):
        raise DataError(f"{path}: {where} must be a list of HH:MM:SS times", path=path, field=where)
    secs = []
    for k, text in enumerate(values):
        match = re.fullmatch(r"(\d{2}):(\d{2}):(\d{2})", str(text))
        if (
            match is None
            or int(match.group(1)) > 23
            or int(match.group(2)) > 59
            or int(match.group(3)) > 59
        ):
            raise DataError(
                f"{path}: {where}[{k}] is not HH:MM:SS: {text!r}", path=path, field=f"{where}[{k}]"
            )
        s = int(match.group(1)) * 3600 + int(match.group(2)) * 60 + int(match.group(3))
        secs.append(s + 86400 if s < SERVICE_DAY_START_S else s)
    arr = np.unique(np.asarray(secs, dtype=np.int64))
    return arr, len(secs) - len(arr)


@dataclass
class _SegmentMatch:
    """Matching of the departures of one direction between two consecutive stations."""

    run_time_s: float | None  # median first-later gap; None when a list is empty
    pairs: np.ndarray  # (k, 2) indices into the two departure lists
    gaps: np.ndarray  # matched run times (s)


def _estimate_run_time(a: np.ndarray, b: np.ndarray) -> float | None:
    """Median gap from each departure in ``a`` to the first later one in ``b``."""
    if len(a) == 0 or len(b) == 0:
        return None
    idx = np.searchsorted(b, a, side="right")
    ok = idx < len(b)
    if not ok.any():
        return None
    return float(np.median(b[idx[ok]] - a[ok]))


def _greedy_match(a: np.ndarray, b: np.ndarray, run_time: float, tol: float) -> np.ndarray:
    """Order-preserving greedy matching of ``a[k] + run_time`` to ``b`` within ``tol``."""
    pairs = []
    j = 0  # only moves forward: trains do not overtake
    for k, t in enumerate(a):
        j = max(j, int(np.searchsorted(b, t + run_time - tol, side="left")))
        if j < len(b) and b[j] <= t + run_time + tol:
            pairs.append((k, j))
            j += 1
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def build_metro(
    metro_dir: Path,
    config: ServiceConfig,
    *,
    run_time_tolerance_s: float,
    min_match_share: float,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any], list[str]]:
    """Metro stops, route, shapes, trips, stop_times, calendar and calendar_dates."""
    warnings: list[str] = []
    stations = _load_stations(metro_dir / "stations.json")
    sched_path = metro_dir / "schedule.json"
    sp = str(sched_path)
    sched = load_json(sched_path)
    per_station = sched.get("stations") if isinstance(sched, dict) else None
    if not isinstance(per_station, dict):
        raise DataError(f"{sp}: expected an object with 'stations'", path=sp, field="stations")
    slugs = [s.slug for s in stations]
    missing = [s for s in slugs if s not in per_station]
    if missing:
        raise DataError(f"{sp}: no timetable for stations {missing}", path=sp, field="stations")

    # departures[day][direction][i] in the direction's station order
    departures: dict[str, dict[str, list[np.ndarray]]] = {}
    duplicates: dict[str, int] = {}
    for day in _METRO_DAYS:
        departures[day] = {}
        for direction in _METRO_DIRECTIONS:
            order = slugs if direction == "forward" else slugs[::-1]
            lists = []
            for slug in order:
                entry = per_station[slug]
                where = f"stations.{slug}.{day}.{direction}"
                if not isinstance(entry, dict) or not isinstance(entry.get(day), dict):
                    raise DataError(f"{sp}: {where} missing", path=sp, field=where)
                arr, dups = _parse_departures(entry[day].get(direction, []), path=sp, where=where)
                if dups:
                    duplicates[f"{slug}.{day}.{direction}"] = dups
                    warnings.append(
                        f"metro: {slug} {day} {direction} lists {dups} duplicate departure "
                        "times; dropped"
                    )
                lists.append(arr)
            departures[day][direction] = lists

    # run-time estimates per physical segment, from the data where both lists exist
    n = len(slugs)
    estimates: dict[tuple[str, str, int], float | None] = {}
    for day in _METRO_DAYS:
        for direction in _METRO_DIRECTIONS:
            lists = departures[day][direction]
            for i in range(n - 1):
                estimates[day, direction, i] = _estimate_run_time(lists[i], lists[i + 1])

    def run_time(day: str, direction: str, i: int) -> float:
        """Run time of segment i of a direction; terminals borrow the other direction's."""
        other = "backward" if direction == "forward" else "forward"
        mirror = n - 2 - i  # the same physical segment, indexed in the other direction
        for key in (
            (day, direction, i),
            (day, other, mirror),
            *((d, direction, i) for d in _METRO_DAYS if d != day),
            *((d, other, mirror) for d in _METRO_DAYS if d != day),
        ):
            value = estimates.get(key)
            if value is not None:
                return value
        order = slugs if direction == "forward" else slugs[::-1]
        raise DataError(
            f"{sp}: no departures give a run time between {order[i]} and {order[i + 1]}",
            path=sp,
            field=f"stations.{order[i]}",
        )

    by_id = {s.slug: s for s in stations}
    cum_km = np.concatenate(
        (
            [0.0],
            np.cumsum(
                haversine_m(
                    np.array([s.lat for s in stations[:-1]]),
                    np.array([s.lon for s in stations[:-1]]),
                    np.array([s.lat for s in stations[1:]]),
                    np.array([s.lon for s in stations[1:]]),
                )
            )
            / 1000.0,
        )
    )

    trips: list[dict[str, Any]] = []
    stop_times: list[dict[str, Any]] = []
    segments: dict[str, Any] = {}
    trips_per_service: dict[str, int] = {}
    counts = {
        "departures": 0,
        "matched": 0,
        "unmatched": 0,
        "into_terminal": 0,
        "trips_starting_mid_line": 0,
        "trips_ending_short": 0,
    }
    for day in _METRO_DAYS:
        trips_per_service[day] = 0
        for dir_id, direction in enumerate(_METRO_DIRECTIONS):
            order = slugs if direction == "forward" else slugs[::-1]
            dist = cum_km if direction == "forward" else cum_km[-1] - cum_km[::-1]
            lists = departures[day][direction]
            nxt = [np.full(len(x), -1, dtype=np.int64) for x in lists]
            has_prev = [np.zeros(len(x), dtype=bool) for x in lists]
            for i in range(n - 1):
                a, b = lists[i], lists[i + 1]
                counts["departures"] += len(a)
                seg = f"{day}.{direction}.{order[i]}-{order[i + 1]}"
                r = run_time(day, direction, i)
                if r <= 0:
                    raise DataError(
                        f"{sp}: run time {seg} is {r} s", path=sp, field=f"stations.{order[i]}"
                    )
                if len(b) == 0:
                    # terminal: no departures to match, every train arrives after r
                    counts["into_terminal"] += len(a)
                    segments[seg] = {
                        "run_time_s": r,
                        "source": "other direction",
                        "matched": 0,
                        "into_terminal": len(a),
                    }
                    continue
                if len(b) > 1 and 2 * run_time_tolerance_s >= np.diff(b).min():
                    raise DataError(
                        f"{sp}: run-time tolerance {run_time_tolerance_s} s is not below half"
                        f" the shortest headway at {order[i + 1]} ({np.diff(b).min()} s) in "
                        f"{seg}; matching would be ambiguous",
                        path=sp,
                        field=f"stations.{order[i + 1]}",
                    )
                pairs = _greedy_match(a, b, r, run_time_tolerance_s)
                gaps = b[pairs[:, 1]] - a[pairs[:, 0]] if len(pairs) else np.array([])
                nxt[i][pairs[:, 0]] = pairs[:, 1]
                has_prev[i + 1][pairs[:, 1]] = True
                share = len(pairs) / max(1, min(len(a), len(b)))
                counts["matched"] += len(pairs)
                counts["unmatched"] += len(a) - len(pairs)
                segments[seg] = {
                    "run_time_s": r,
                    "min_s": float(gaps.min()) if len(gaps) else None,
                    "max_s": float(gaps.max()) if len(gaps) else None,
                    "spread_s": float(gaps.max() - gaps.min()) if len(gaps) else None,
                    "off_median": int((gaps != r).sum()),
                    "matched": len(pairs),
                    "unmatched_from": len(a) - len(pairs),
                    "unmatched_to": len(b) - len(pairs),
                }
                if share < min_match_share:
                    raise DataError(
                        f"{sp}: only {share:.0%} of departures match between {order[i]} and "
                        f"{order[i + 1]} ({seg}); the timetable is inconsistent",
                        path=sp,
                        field=f"stations.{order[i + 1]}",
                    )
                if len(a) - len(pairs):
                    logger.info(
                        "metro %s: %d departures end at %s", seg, len(a) - len(pairs), order[i + 1]
                    )

            # chain matches into trips
            starts = [
                (lists[i][k], i, k)
                for i in range(n)
                for k in range(len(lists[i]))
                if not has_prev[i][k]
            ]
            starts.sort()
            for t0, i0, k0 in starts:
                calls: list[tuple[int, int]] = []  # (station index, time)
                i, k = i0, k0
                while True:
                    t = int(lists[i][k])
                    calls.append((i, t))
                    if i == n - 1:
                        break
                    if nxt[i][k] >= 0:
                        k = int(nxt[i][k])
                        i += 1
                        continue
                    calls.append((i + 1, t + int(round(run_time(day, direction, i)))))
                    break
                if len(calls) < 2:
                    warnings.append(
                        f"metro: departure {format_time(t0)} at {order[i0]} "
                        f"({day} {direction}) goes nowhere; dropped"
                    )
                    continue
                if i0 > 0:
                    counts["trips_starting_mid_line"] += 1
                if calls[-1][0] != n - 1:
                    counts["trips_ending_short"] += 1
                trips_per_service[day] += 1
                trip_id = f"metro:{day}:{dir_id}:{trips_per_service[day]:03d}"
                last = by_id[order[calls[-1][0]]]
                trips.append(
                    {
                        "route_id": _METRO_ROUTE_ID,
                        "service_id": day,
                        "trip_id": trip_id,
                        "trip_headsign": last.names["ru"],
                        "direction_id": dir_id,
                        "shape_id": f"metro:L1:{dir_id}",
                        "wheelchair_accessible": config.metro_wheelchair_accessible,
                    }
                )
                for seq, (si, t) in enumerate(calls, start=1):
                    stop_times.append(
                        {
                            "trip_id": trip_id,
                            "arrival_time": format_time(t),
                            "departure_time": format_time(t),
                            "stop_id": f"metro:{order[si]}",
                            "stop_sequence": seq,
                            "shape_dist_traveled": round(float(dist[si]), 4),
                            "timepoint": 1,
                        }
                    )

    spreads = [s["spread_s"] for s in segments.values() if s.get("spread_s") is not None]
    if counts["unmatched"]:
        logger.warning(
            "metro: %d of %d departures have no match at the next station",
            counts["unmatched"],
            counts["departures"],
        )

    stops = [
        {
            "stop_id": f"metro:{s.slug}",
            "stop_code": s.slug,
            "stop_name": s.names["ru"],
            "stop_desc": "Almaty Metro Line 1",
            "stop_lat": s.lat,
            "stop_lon": s.lon,
            "location_type": 0,
            "wheelchair_boarding": config.metro_wheelchair_boarding,
        }
        for s in stations
    ]
    translations = [
        {
            "table_name": "stops",
            "field_name": "stop_name",
            "language": lang,
            "translation": s.names[lang],
            "record_id": f"metro:{s.slug}",
        }
        for s in stations
        for lang in ("kk", "en")
        if s.names.get(lang)
    ]
    shapes = []
    for dir_id in (0, 1):
        seq_st = stations if dir_id == 0 else stations[::-1]
        dist = cum_km if dir_id == 0 else cum_km[-1] - cum_km[::-1]
        shapes += [
            {
                "shape_id": f"metro:L1:{dir_id}",
                "shape_pt_lat": s.lat,
                "shape_pt_lon": s.lon,
                "shape_pt_sequence": k,
                "shape_dist_traveled": round(float(dist[k]), 4),
            }
            for k, s in enumerate(seq_st)
        ]
    routes = [
        {
            "route_id": _METRO_ROUTE_ID,
            "agency_id": "metro",
            "route_short_name": "",
            "route_long_name": "Almaty Metro Line 1",
            "route_desc": "Metro",
            "route_type": 1,
        }
    ]

    calendar_dates, cal_report = _holiday_exceptions(metro_dir / "holidays.json", config, warnings)
    report = {
        "stations": len(stations),
        "trips_per_service": trips_per_service,
        "trips": sum(trips_per_service.values()),
        "duplicate_departures_dropped": sum(duplicates.values()),
        "duplicates_by_list": duplicates,
        "departures": counts["departures"],
        "departures_matched": counts["matched"],
        "departures_unmatched": counts["unmatched"],
        "departures_into_terminal": counts["into_terminal"],
        "trips_starting_mid_line": counts["trips_starting_mid_line"],
        "trips_ending_short": counts["trips_ending_short"],
        "run_time_tolerance_s": run_time_tolerance_s,
        "max_run_time_spread_s": max(spreads) if spreads else None,
        "segments": segments,
        "calendar": cal_report,
        "schedule_generated_at": sched.get("generated_at"),
    }
    tables = {
        "stops": stops,
        "routes": routes,
        "trips": trips,
        "stop_times": stop_times,
        "shapes": shapes,
        "calendar_dates": calendar_dates,
        "translations": translations,
    }
    return tables, report, warnings


def _holiday_exceptions(
    path: Path, config: ServiceConfig, warnings: list[str]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """calendar_dates rows switching weekday/weekend service on holidays and working days."""
    p = str(path)
    raw = load_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("dates"), list):
        raise DataError(f"{p}: expected an object with a 'dates' list", path=p, field="dates")
    working_raw = raw.get("workingWeekends", [])
    if not isinstance(working_raw, list):
        raise DataError(f"{p}: workingWeekends must be a list", path=p, field="workingWeekends")
    holidays = sorted(
        {parse_date(d, path=p, field_name=f"dates[{k}]") for k, d in enumerate(raw["dates"])}
    )
    working = sorted(
        {
            parse_date(d, path=p, field_name=f"workingWeekends[{k}]")
            for k, d in enumerate(working_raw)
        }
    )
    both = set(holidays) & set(working)
    if both:
        raise DataError(
            f"{p}: dates both holiday and working day: {sorted(both)}",
            path=p,
            field="workingWeekends",
        )
    for key in raw:
        if str(key).startswith("_note"):
            warnings.append(
                f"holidays.json carries a note ({key}): the list may be incomplete for that period"
            )
    rows: list[dict[str, Any]] = []
    def swap(day: date, removed: str, added: str) -> None:
        """On ``day`` the ``added`` service runs instead of the ``removed`` one."""
        text = day.strftime("%Y%m%d")
        rows.append({"service_id": removed, "date": text, "exception_type": 2})
        rows.append({"service_id": added, "date": text, "exception_type": 1})

    outside = on_weekend = weekday_holidays = working_applied = 0
    for d in holidays:
        if not config.start_date <= d <= config.end_date:
            outside += 1
        elif d.weekday() >= 5:
            on_weekend += 1  # weekend service runs anyway
        else:
            weekday_holidays += 1
            swap(d, "weekday", "weekend")
    for d in working:
        if not config.start_date <= d <= config.end_date:
            outside += 1
        elif d.weekday() < 5:
            warnings.append(f"holidays.json: working day {d} is not a weekend day; ignored")
        else:
            working_applied += 1
            swap(d, "weekend", "weekday")
    rows.sort(key=lambda r: (r["date"], r["service_id"]))
    return rows, {
        "holidays": len(holidays),
        "holidays_on_weekdays": weekday_holidays,
        "holidays_on_weekends": on_weekend,
        "working_weekends": working_applied,
        "dates_outside_calendar": outside,
    }
