"""Build a GTFS feed of Almaty's metro and buses from the real public data.

Inputs (``<data>/almaty/``, see ``PROVENANCE.md``): the metro's stations, per-station
timetable and holidays, the OSM bus stops (raw Overpass JSON) and the bus routes' lines.
The metro has a real timetable; the buses have lines only, so their stops are matched to
the lines and their service is modelled from the editable assumptions in
``routing/transit/data/almaty_service.json``.

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

Bus stops and stop sequences
----------------------------
Every OSM stop becomes a stop ``bus:<node id>`` (kept even when no route serves it, so
that its accessibility facts stay available). ``wheelchair_boarding`` comes from the
``wheelchair`` tag: yes/designated -> 1, no -> 2, limited -> 0 by default (GTFS has no
"limited"; 0 = unknown keeps a partly accessible stop from being shown as accessible;
``stops.wheelchair_limited_as`` changes it), anything else -> 0. The raw tags wheelchair,
tactile_paving, shelter, bench, lit and departures_board go to ``stop_accessibility.txt``.

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

Files written
-------------
agency, stops, routes, trips, stop_times, calendar, calendar_dates, frequencies, shapes,
feed_info, plus attributions (OpenStreetMap, ODbL), translations (kk/en stop names from
``name:kk``/``name:en``; primary names are Russian, ``feed_lang=ru``) and the extra
``stop_accessibility.txt``. Stops without a name in OSM are called "Остановка без
названия" ("Unnamed stop"). The metro shape joins the stations with straight lines (no
track geometry in the data). The zip is byte-for-byte reproducible.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import os
import re
import sys
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from routing.cache import atomic_write
from routing.errors import DataError

logger = logging.getLogger(__name__)

DEFAULT_SERVICE_CONFIG = Path(__file__).resolve().parent / "data" / "almaty_service.json"
"""The editable service-assumptions file shipped with the package."""

TIMEZONE = "Asia/Almaty"

_SERVICE_DAY_START_S = 4 * 3600  # times before 04:00 belong to the previous service day
_EARTH_RADIUS_M = 6_371_008.8
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_METRO_DAYS = ("weekday", "weekend")
_METRO_DIRECTIONS = ("forward", "backward")  # direction_id 0, 1
_METRO_ROUTE_ID = "metro:L1"
_ACCESS_TAGS = ("wheelchair", "tactile_paving", "shelter", "bench", "lit", "departures_board")
_UNNAMED_STOP = ("Остановка без названия", "Unnamed stop")  # ru (feed_lang), en

# Column order of every file written; GTFS readers match columns by name.
FIELDS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"),
    "stops": (
        "stop_id",
        "stop_code",
        "stop_name",
        "stop_desc",
        "stop_lat",
        "stop_lon",
        "location_type",
        "wheelchair_boarding",
    ),
    "routes": (
        "route_id",
        "agency_id",
        "route_short_name",
        "route_long_name",
        "route_desc",
        "route_type",
    ),
    "trips": (
        "route_id",
        "service_id",
        "trip_id",
        "trip_headsign",
        "direction_id",
        "shape_id",
        "wheelchair_accessible",
    ),
    "stop_times": (
        "trip_id",
        "arrival_time",
        "departure_time",
        "stop_id",
        "stop_sequence",
        "shape_dist_traveled",
        "timepoint",
    ),
    "calendar": (
        "service_id",
        *_WEEKDAYS,
        "start_date",
        "end_date",
    ),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
    "shapes": (
        "shape_id",
        "shape_pt_lat",
        "shape_pt_lon",
        "shape_pt_sequence",
        "shape_dist_traveled",
    ),
    "feed_info": (
        "feed_publisher_name",
        "feed_publisher_url",
        "feed_lang",
        "feed_start_date",
        "feed_end_date",
        "feed_version",
    ),
    "attributions": (
        "attribution_id",
        "organization_name",
        "is_producer",
        "is_operator",
        "is_authority",
        "attribution_url",
    ),
    "translations": ("table_name", "field_name", "language", "translation", "record_id"),
    "stop_accessibility": ("stop_id", *_ACCESS_TAGS, "source"),
}
"""GTFS files written, in zip order, with their columns (``stop_accessibility`` is extra)."""


# --------------------------------------------------------------------------- results


@dataclass
class FeedBuildResult:
    """A built feed: GTFS tables as rows, and figures describing the build.

    Attributes
    ----------
    tables : dict of str to list of dict
        GTFS file stem (``"stops"``, ``"stop_times"``, ...) to its rows; the columns of
        each file are :data:`FIELDS`.
    report : dict
        Figures of the build (metro trips, run-time spread, stops matched, routes kept,
        ...) and ``warnings``, a list of plain-language strings.
    """

    tables: dict[str, list[dict[str, Any]]]
    report: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of one GTFS file (empty list when absent)."""
        return self.tables.get(name, [])


# --------------------------------------------------------------------------- config


@dataclass(frozen=True)
class Band:
    """One time band of modelled bus service."""

    name: str
    start_s: int
    end_s: int
    headway_s: int
    speed_mps: float


@dataclass(frozen=True)
class RouteService:
    """Modelled service of one bus route."""

    days: tuple[str, ...]
    bands: tuple[Band, ...]
    low_floor_share: float | None


@dataclass(frozen=True)
class StopMatching:
    """Thresholds of stop-to-line matching (metres)."""

    match_distance_m: float = 30.0
    centerline_tolerance_m: float = 3.0
    min_stop_spacing_m: float = 30.0
    revisit_gap_m: float = 120.0
    wheelchair_limited_as: int = 0


@dataclass(frozen=True)
class ServiceConfig:
    """The parsed ``almaty_service.json``."""

    path: str
    start_date: date
    end_date: date
    agencies: dict[str, dict[str, str]]
    feed_info: dict[str, str]
    metro_wheelchair_boarding: int
    metro_wheelchair_accessible: int
    stops: StopMatching
    bus_default: RouteService
    bus_routes: dict[str, RouteService]

    def route_service(self, route: str) -> RouteService:
        """Service of one route: its override or the default."""
        return self.bus_routes.get(route, self.bus_default)


def _strip_comments(obj: Any) -> Any:
    """Drop ``_``-prefixed keys (comments) recursively."""
    if isinstance(obj, dict):
        return {k: _strip_comments(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list):
        return [_strip_comments(v) for v in obj]
    return obj


def _parse_hhmm(text: Any, *, path: str, field_name: str) -> int:
    """Seconds from ``HH:MM`` or ``HH:MM:SS`` (hours may exceed 23)."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", str(text).strip())
    if match is None or int(match.group(2)) > 59 or int(match.group(3) or 0) > 59:
        raise DataError(
            f"{path}: {field_name} must be HH:MM, got {text!r}", path=path, field=field_name
        )
    return int(match.group(1)) * 3600 + int(match.group(2)) * 60 + int(match.group(3) or 0)


def _parse_date(text: Any, *, path: str, field_name: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise DataError(
            f"{path}: {field_name} must be a YYYY-MM-DD date, got {text!r}",
            path=path,
            field=field_name,
        ) from None


def _number(value: Any, *, path: str, field_name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (low <= value <= high):
        raise DataError(
            f"{path}: {field_name} must be a number in [{low}, {high}], got {value!r}",
            path=path,
            field=field_name,
        )
    return float(value)


def _parse_route_service(
    raw: dict[str, Any], base: RouteService | None, *, path: str, where: str
) -> RouteService:
    """A route's service from its JSON, missing keys taken from ``base``."""
    if not isinstance(raw, dict):
        raise DataError(f"{path}: {where} must be an object", path=path, field=where)
    if "days" in raw or base is None:
        days_raw = raw.get("days")
        if (
            not isinstance(days_raw, list)
            or not days_raw
            or any(d not in _WEEKDAYS for d in days_raw)
        ):
            raise DataError(
                f"{path}: {where}.days must be a non-empty list of weekday names",
                path=path,
                field=f"{where}.days",
            )
        days = tuple(d for d in _WEEKDAYS if d in days_raw)
    else:
        days = base.days
    if "bands" in raw or base is None:
        bands_raw = raw.get("bands")
        if not isinstance(bands_raw, list) or not bands_raw:
            raise DataError(
                f"{path}: {where}.bands must be a non-empty list",
                path=path,
                field=f"{where}.bands",
            )
        bands = []
        for i, b in enumerate(bands_raw):
            f = f"{where}.bands[{i}]"
            if not isinstance(b, dict):
                raise DataError(f"{path}: {f} must be an object", path=path, field=f)
            start = _parse_hhmm(b.get("start"), path=path, field_name=f"{f}.start")
            end = _parse_hhmm(b.get("end"), path=path, field_name=f"{f}.end")
            if end <= start:
                raise DataError(f"{path}: {f} ends before it starts", path=path, field=f)
            if bands and start < bands[-1].end_s:
                raise DataError(
                    f"{path}: {f} overlaps the band before (bands must be in time order)",
                    path=path,
                    field=f,
                )
            headway = _number(
                b.get("headway_min"), path=path, field_name=f"{f}.headway_min", low=1, high=240
            )
            speed = _number(
                b.get("speed_kmh"), path=path, field_name=f"{f}.speed_kmh", low=1, high=120
            )
            bands.append(
                Band(str(b.get("name", f"band{i}")), start, end, round(headway * 60), speed / 3.6)
            )
        band_tuple = tuple(bands)
    else:
        band_tuple = base.bands
    if "low_floor_share" in raw or base is None:
        share = raw.get("low_floor_share")
        if share is not None:
            share = _number(share, path=path, field_name=f"{where}.low_floor_share", low=0, high=1)
    else:
        share = base.low_floor_share
    return RouteService(days, band_tuple, share)


def load_service_config(path: Path | None = None) -> ServiceConfig:
    """Read the service-assumptions file (default: the packaged ``almaty_service.json``).

    Parameters
    ----------
    path : Path, optional
        A JSON file shaped like ``routing/transit/data/almaty_service.json``.

    Returns
    -------
    ServiceConfig

    Raises
    ------
    DataError
        The file is missing, not JSON, or a value is out of range (names the field).
    """
    path = Path(path) if path is not None else DEFAULT_SERVICE_CONFIG
    p = str(path)
    raw = _strip_comments(_load_json(path))
    if not isinstance(raw, dict):
        raise DataError(f"{p}: expected a JSON object", path=p)
    cal = raw.get("calendar", {})
    start = _parse_date(cal.get("start_date"), path=p, field_name="calendar.start_date")
    end = _parse_date(cal.get("end_date"), path=p, field_name="calendar.end_date")
    if end < start:
        raise DataError(
            f"{p}: calendar.end_date is before start_date", path=p, field="calendar.end_date"
        )
    agencies = raw.get("agencies", {})
    for key in ("metro", "bus"):
        a = agencies.get(key)
        if not isinstance(a, dict) or not a.get("name") or not a.get("url"):
            raise DataError(
                f"{p}: agencies.{key} needs a name and a url", path=p, field=f"agencies.{key}"
            )
    info = raw.get("feed_info", {})
    if not info.get("publisher_name") or not info.get("publisher_url"):
        raise DataError(
            f"{p}: feed_info needs publisher_name and publisher_url", path=p, field="feed_info"
        )
    metro = raw.get("metro", {})
    codes = {}
    for key in ("wheelchair_boarding", "wheelchair_accessible"):
        value = metro.get(key, 0)
        if value not in (0, 1, 2):
            raise DataError(f"{p}: metro.{key} must be 0, 1 or 2", path=p, field=f"metro.{key}")
        codes[key] = int(value)
    st = raw.get("stops", {})
    defaults = StopMatching()
    kwargs: dict[str, float | int] = {}
    for name, (low, high) in {
        "match_distance_m": (1, 200),
        "centerline_tolerance_m": (0, 50),
        "min_stop_spacing_m": (0, 500),
        "revisit_gap_m": (1, 5000),
    }.items():
        kwargs[name] = _number(
            st.get(name, getattr(defaults, name)),
            path=p,
            field_name=f"stops.{name}",
            low=low,
            high=high,
        )
    limited = st.get("wheelchair_limited_as", defaults.wheelchair_limited_as)
    if limited not in (0, 1, 2):
        raise DataError(
            f"{p}: stops.wheelchair_limited_as must be 0, 1 or 2",
            path=p,
            field="stops.wheelchair_limited_as",
        )
    bus = raw.get("bus")
    if not isinstance(bus, dict) or "default" not in bus:
        raise DataError(f"{p}: bus.default is required", path=p, field="bus.default")
    default = _parse_route_service(bus["default"], None, path=p, where="bus.default")
    routes_raw = bus.get("routes", {})
    if not isinstance(routes_raw, dict):
        raise DataError(f"{p}: bus.routes must be an object", path=p, field="bus.routes")
    routes = {
        str(k): _parse_route_service(v, default, path=p, where=f"bus.routes.{k}")
        for k, v in routes_raw.items()
    }
    return ServiceConfig(
        path=p,
        start_date=start,
        end_date=end,
        agencies={k: {kk: str(vv) for kk, vv in agencies[k].items()} for k in ("metro", "bus")},
        feed_info={k: str(v) for k, v in info.items()},
        metro_wheelchair_boarding=codes["wheelchair_boarding"],
        metro_wheelchair_accessible=codes["wheelchair_accessible"],
        stops=StopMatching(**kwargs, wheelchair_limited_as=int(limited)),  # type: ignore[arg-type]
        bus_default=default,
        bus_routes=routes,
    )


# --------------------------------------------------------------------------- helpers


def _load_json(path: Path) -> Any:
    """Parse a JSON file, raising DataError naming the file (and line) when broken."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})",
            path=str(path),
            line=exc.lineno,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})", path=str(path)) from None


def format_time(seconds: float) -> str:
    """GTFS ``HH:MM:SS`` (hours may pass 24) from seconds of the service day."""
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _haversine_m(
    lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray
) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


class _LocalProjection:
    """Equirectangular metres around a reference latitude (error < 0.5 % within ~50 km)."""

    def __init__(self, lat0: float, lon0: float) -> None:
        phi = math.radians(lat0)
        # WGS84 metres per degree at lat0 (series of the meridian/parallel arc lengths)
        self.ky = 111132.954 - 559.822 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
        self.kx = 111412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi)
        self.lat0, self.lon0 = lat0, lon0

    def __call__(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        return np.column_stack(
            ((np.asarray(lon) - self.lon0) * self.kx, (np.asarray(lat) - self.lat0) * self.ky)
        )


def _resolve_almaty_dir(data_dir: Path) -> Path:
    """Accept the shared data root (holding ``almaty/``) or the ``almaty`` folder itself."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / "almaty", data_dir):
        if (candidate / "metro").is_dir() and (candidate / "bus").is_dir():
            return candidate
    raise DataError(
        f"{data_dir}: no Almaty data (expected metro/ and bus/ under it or under almaty/)",
        path=str(data_dir),
    )


# --------------------------------------------------------------------------- metro


@dataclass(frozen=True)
class _Station:
    slug: str
    names: dict[str, str]
    lat: float
    lon: float


def _load_stations(path: Path) -> list[_Station]:
    raw = _load_json(path)
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
        lat = _number(s.get("lat"), path=p, field_name=f"{f}.lat", low=-90, high=90)
        lon = _number(s.get("lon"), path=p, field_name=f"{f}.lon", low=-180, high=180)
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
        secs.append(s + 86400 if s < _SERVICE_DAY_START_S else s)
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


def _build_metro(
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
    sched = _load_json(sched_path)
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
                _haversine_m(
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
    raw = _load_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("dates"), list):
        raise DataError(f"{p}: expected an object with a 'dates' list", path=p, field="dates")
    working_raw = raw.get("workingWeekends", [])
    if not isinstance(working_raw, list):
        raise DataError(f"{p}: workingWeekends must be a list", path=p, field="workingWeekends")
    holidays = sorted(
        {_parse_date(d, path=p, field_name=f"dates[{k}]") for k, d in enumerate(raw["dates"])}
    )
    working = sorted(
        {
            _parse_date(d, path=p, field_name=f"workingWeekends[{k}]")
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
    outside = on_weekend = weekday_holidays = working_applied = 0
    for d in holidays:
        if not config.start_date <= d <= config.end_date:
            outside += 1
        elif d.weekday() >= 5:
            on_weekend += 1  # weekend service runs anyway
        else:
            weekday_holidays += 1
            rows.append(
                {"service_id": "weekday", "date": d.strftime("%Y%m%d"), "exception_type": 2}
            )
            rows.append(
                {"service_id": "weekend", "date": d.strftime("%Y%m%d"), "exception_type": 1}
            )
    for d in working:
        if not config.start_date <= d <= config.end_date:
            outside += 1
        elif d.weekday() < 5:
            warnings.append(f"holidays.json: working day {d} is not a weekend day; ignored")
        else:
            working_applied += 1
            rows.append(
                {"service_id": "weekend", "date": d.strftime("%Y%m%d"), "exception_type": 2}
            )
            rows.append(
                {"service_id": "weekday", "date": d.strftime("%Y%m%d"), "exception_type": 1}
            )
    rows.sort(key=lambda r: (r["date"], r["service_id"]))
    return rows, {
        "holidays": len(holidays),
        "holidays_on_weekdays": weekday_holidays,
        "holidays_on_weekends": on_weekend,
        "working_weekends": working_applied,
        "dates_outside_calendar": outside,
    }


# --------------------------------------------------------------------------- bus stops


@dataclass(frozen=True)
class _BusStop:
    osm_id: int
    lat: float
    lon: float
    tags: dict[str, str]

    @property
    def stop_id(self) -> str:
        return f"bus:{self.osm_id}"

    @property
    def named(self) -> bool:
        return bool(self.tags.get("name") or self.tags.get("name:ru"))


def _load_bus_stops(path: Path) -> tuple[list[_BusStop], str | None]:
    """Stop nodes of an Overpass response, and its OSM base timestamp."""
    raw = _load_json(path)
    p = str(path)
    elements = raw.get("elements") if isinstance(raw, dict) else None
    if not isinstance(elements, list):
        raise DataError(
            f"{p}: expected an Overpass response with 'elements'", path=p, field="elements"
        )
    stops: dict[int, _BusStop] = {}
    for k, e in enumerate(elements):
        if not isinstance(e, dict) or e.get("type") != "node":
            continue  # Overpass may add ways/areas; stops are nodes
        f = f"elements[{k}]"
        if not isinstance(e.get("id"), int):
            raise DataError(f"{p}: {f} has no integer id", path=p, field=f"{f}.id")
        lat = _number(e.get("lat"), path=p, field_name=f"{f}.lat", low=-90, high=90)
        lon = _number(e.get("lon"), path=p, field_name=f"{f}.lon", low=-180, high=180)
        tags = e.get("tags") or {}
        if not isinstance(tags, dict):
            raise DataError(f"{p}: {f}.tags must be an object", path=p, field=f"{f}.tags")
        stops[e["id"]] = _BusStop(e["id"], lat, lon, {str(a): str(b) for a, b in tags.items()})
    if not stops:
        raise DataError(f"{p}: no stop nodes", path=p, field="elements")
    osm3s = raw.get("osm3s")
    base = osm3s.get("timestamp_osm_base") if isinstance(osm3s, dict) else None
    return list(stops.values()), base


def wheelchair_boarding_code(tag: str | None, *, limited_as: int = 0) -> int:
    """GTFS ``wheelchair_boarding`` from an OSM ``wheelchair`` tag.

    Parameters
    ----------
    tag : str or None
        The tag's value.
    limited_as : int
        Code for ``limited`` (GTFS has none; 0 = unknown by default).

    Returns
    -------
    int
        1 (yes, designated), 2 (no), ``limited_as`` (limited) or 0 (absent or other).
    """
    value = (tag or "").strip().lower()
    if value in ("yes", "designated"):
        return 1
    if value == "no":
        return 2
    if value == "limited":
        return limited_as
    return 0


# --------------------------------------------------------------------------- bus lines


@dataclass
class _Direction:
    route: str
    direction: int
    lat: np.ndarray
    lon: np.ndarray
    cum_m: np.ndarray  # distance along the line at each vertex (haversine)


def _route_sort_key(name: str) -> tuple[int, str]:
    digits = re.match(r"\d+", name)
    return (int(digits.group()) if digits else 10**9, name)


def _load_route_file(path: Path) -> list[_Direction]:
    """The directions of one route file, validated; DataError names the file."""
    p = str(path)
    raw = _load_json(path)
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
        seg = _haversine_m(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])
        keep = np.concatenate(([True], seg >= 0.1))
        arr = arr[keep]
        if len(arr) < 2:
            raise DataError(f"{p}: {f}.line has zero length", path=p, field=f"{f}.line")
        seg = _haversine_m(arr[:-1, 0], arr[:-1, 1], arr[1:, 0], arr[1:, 1])
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
    proj: _LocalProjection,
    cfg: StopMatching,
) -> list[_Visit]:
    """Stops served by one direction, in line order (see the module docstring)."""
    pts = proj(d.lat, d.lon)
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
    visits: list[_Visit], stops: list[_BusStop], spacing: float
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


def _bus_service_id(days: tuple[str, ...]) -> str:
    if days == _WEEKDAYS:
        return "bus_daily"
    return "bus_" + "".join(d[:2] for d in days)


def _build_buses(
    bus_dir: Path, config: ServiceConfig
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any], list[str], set[str]]:
    """Bus stops, routes, shapes, template trips, stop_times and frequencies."""
    warnings: list[str] = []
    cfg = config.stops
    stops_path = bus_dir / "bus_stops_overpass.json"
    stops, osm_base = _load_bus_stops(stops_path)
    route_files = sorted((bus_dir / "routes").glob("*.json"), key=lambda f: _route_sort_key(f.stem))
    if not route_files:
        raise DataError(f"{bus_dir / 'routes'}: no route files", path=str(bus_dir / "routes"))
    directions = [d for f in route_files for d in _load_route_file(f)]

    lat = np.array([s.lat for s in stops])
    lon = np.array([s.lon for s in stops])
    proj = _LocalProjection(float(lat.mean()), float(lon.mean()))
    stops_xy = proj(lat, lon)
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
        visits_total += sum(1 for v in visits if v.stop >= 0)
        served.update(v.stop for v in visits if v.stop >= 0)
        route_dirs.setdefault(d.route, []).append((d, visits))

    def visit_stop_id(v: _Visit) -> str:
        return stops[v.stop].stop_id if v.stop >= 0 else synthetic[-v.stop - 1]["stop_id"]

    def visit_name(v: _Visit) -> str | None:
        if v.stop < 0:
            return None
        t = stops[v.stop].tags
        return t.get("name:ru") or t.get("name") or None

    service_ids: set[str] = set()
    trolleybus_routes = []
    for route in sorted(route_dirs, key=_route_sort_key):
        svc = config.route_service(route)
        service_id = _bus_service_id(svc.days)
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
            accessible = 0
        else:
            accessible = 1 if svc.low_floor_share == 1 else 2
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
    wheelchair_counts: dict[int, int] = {0: 0, 1: 0, 2: 0}
    for s in stops:
        t = s.tags
        name = t.get("name:ru") or t.get("name")
        code = wheelchair_boarding_code(t.get("wheelchair"), limited_as=limited_as)
        wheelchair_counts[code] += 1
        tables["stops"].append(
            {
                "stop_id": s.stop_id,
                "stop_code": str(s.osm_id),
                "stop_name": name or _UNNAMED_STOP[0],
                "stop_desc": "" if name else "no name in OpenStreetMap",
                "stop_lat": s.lat,
                "stop_lon": s.lon,
                "location_type": 0,
                "wheelchair_boarding": code,
            }
        )
        tables["stop_accessibility"].append(
            {"stop_id": s.stop_id, **{k: t.get(k, "") for k in _ACCESS_TAGS}, "source": "osm"}
        )
        for lang in ("kk", "en"):
            tr = t.get(f"name:{lang}") or (_UNNAMED_STOP[1] if lang == "en" and not name else None)
            if tr and tr != (name or _UNNAMED_STOP[0]):
                tables["translations"].append(
                    {
                        "table_name": "stops",
                        "field_name": "stop_name",
                        "language": lang,
                        "translation": tr,
                        "record_id": s.stop_id,
                    }
                )
    for syn in synthetic:
        tables["stops"].append(
            {
                "stop_id": syn["stop_id"],
                "stop_code": "",
                "stop_name": f"Конечная маршрута {syn['route']}",
                "stop_desc": f"synthetic: {syn['end']} of route line, no OSM stop matched",
                "stop_lat": round(syn["lat"], 7),
                "stop_lon": round(syn["lon"], 7),
                "location_type": 0,
                "wheelchair_boarding": 0,
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
            {"stop_id": syn["stop_id"], **dict.fromkeys(_ACCESS_TAGS, ""), "source": "synthetic"}
        )

    n_dirs = len(directions)
    report = {
        "osm_base": osm_base,
        "route_files": len(route_files),
        "routes_kept": len(tables["routes"]),
        "directions": n_dirs,
        "directions_with_2plus_stops": n_dirs - len(short_dirs),
        "directions_lt2_stops": short_dirs,
        "synthetic_stops": len(synthetic),
        "trolleybus_routes": trolleybus_routes,
        "stops_in_source": len(stops),
        "stops_matched": len(served),
        "stops_unserved": len(stops) - len(served),
        "stop_visits": visits_total,
        "visits_dropped_too_close": dropped_total,
        "wheelchair_boarding_counts": {str(k): v for k, v in wheelchair_counts.items()},
        "template_trips": len(tables["trips"]),
        "frequencies": len(tables["frequencies"]),
        "thresholds": {
            "match_distance_m": cfg.match_distance_m,
            "centerline_tolerance_m": cfg.centerline_tolerance_m,
            "min_stop_spacing_m": cfg.min_stop_spacing_m,
            "revisit_gap_m": cfg.revisit_gap_m,
            "wheelchair_limited_as": cfg.wheelchair_limited_as,
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
        "route_overrides": sorted(config.bus_routes, key=_route_sort_key),
    }
    unknown = sorted(set(config.bus_routes) - set(route_dirs), key=_route_sort_key)
    if unknown:
        warnings.append(f"service config names routes without a route file: {unknown}")
    return tables, report, warnings, service_ids


# --------------------------------------------------------------------------- assembly


def build_almaty_feed(
    data_dir: Path,
    *,
    service_config: Path | None = None,
    run_time_tolerance_s: float = 45.0,
    min_match_share: float = 0.9,
) -> FeedBuildResult:
    """Build the GTFS tables of Almaty's metro and buses from the real data.

    Parameters
    ----------
    data_dir : Path
        The shared data directory (holding ``almaty/``) or its ``almaty`` folder.
    service_config : Path, optional
        Service assumptions (default: packaged ``almaty_service.json``).
    run_time_tolerance_s : float
        Metro matching window around the median run time of a segment.
    min_match_share : float
        Least share of a segment's departures that must match, else DataError.

    Returns
    -------
    FeedBuildResult
        Tables (see :data:`FIELDS`) and the build report.

    Raises
    ------
    DataError
        An input file is missing or malformed, or the metro timetable is inconsistent.
    """
    t0 = time.perf_counter()
    config = load_service_config(service_config)
    root = _resolve_almaty_dir(Path(data_dir))
    metro_tables, metro_report, metro_warn = _build_metro(
        root / "metro",
        config,
        run_time_tolerance_s=run_time_tolerance_s,
        min_match_share=min_match_share,
    )
    bus_tables, bus_report, bus_warn, bus_services = _build_buses(root / "bus", config)

    start, end = config.start_date.strftime("%Y%m%d"), config.end_date.strftime("%Y%m%d")
    calendar = [
        {
            "service_id": "weekday",
            **{d: int(i < 5) for i, d in enumerate(_WEEKDAYS)},
            "start_date": start,
            "end_date": end,
        },
        {
            "service_id": "weekend",
            **{d: int(i >= 5) for i, d in enumerate(_WEEKDAYS)},
            "start_date": start,
            "end_date": end,
        },
    ]
    for sid in sorted(bus_services):
        days = next(
            svc.days
            for svc in (config.bus_default, *config.bus_routes.values())
            if _bus_service_id(svc.days) == sid
        )
        calendar.append(
            {
                "service_id": sid,
                **{d: int(d in days) for d in _WEEKDAYS},
                "start_date": start,
                "end_date": end,
            }
        )

    agency = [
        {
            "agency_id": key,
            "agency_name": config.agencies[key]["name"],
            "agency_url": config.agencies[key]["url"],
            "agency_timezone": TIMEZONE,
            "agency_lang": config.agencies[key].get("lang", "ru"),
        }
        for key in ("metro", "bus")
    ]
    sources = (
        ("metro", metro_report.get("schedule_generated_at")),
        ("osm", bus_report.get("osm_base")),
    )
    version = "; ".join(f"{name} {str(v)[:10]}" for name, v in sources if v)
    feed_info = [
        {
            "feed_publisher_name": config.feed_info["publisher_name"],
            "feed_publisher_url": config.feed_info["publisher_url"],
            "feed_lang": config.feed_info.get("lang", "ru"),
            "feed_start_date": start,
            "feed_end_date": end,
            "feed_version": version,
        }
    ]
    attributions = [
        {
            "attribution_id": "osm",
            "organization_name": "OpenStreetMap contributors (ODbL 1.0)",
            "is_producer": 1,
            "is_operator": 0,
            "is_authority": 0,
            "attribution_url": "https://www.openstreetmap.org/copyright",
        }
    ]
    metro_access = [
        {"stop_id": r["stop_id"], **dict.fromkeys(_ACCESS_TAGS, ""), "source": "metro"}
        for r in metro_tables["stops"]
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "agency": agency,
        "stops": metro_tables["stops"] + bus_tables["stops"],
        "routes": metro_tables["routes"] + bus_tables["routes"],
        "trips": metro_tables["trips"] + bus_tables["trips"],
        "stop_times": metro_tables["stop_times"] + bus_tables["stop_times"],
        "calendar": calendar,
        "calendar_dates": metro_tables["calendar_dates"],
        "frequencies": bus_tables["frequencies"],
        "shapes": metro_tables["shapes"] + bus_tables["shapes"],
        "feed_info": feed_info,
        "attributions": attributions,
        "translations": metro_tables["translations"] + bus_tables["translations"],
        "stop_accessibility": metro_access + bus_tables["stop_accessibility"],
    }
    warnings = metro_warn + bus_warn
    for w in warnings:
        logger.warning("%s", w)
    report = {
        "metro": metro_report,
        "bus": bus_report,
        "service_config": config.path,
        "calendar": {
            "start_date": start,
            "end_date": end,
            "services": [c["service_id"] for c in calendar],
        },
        "rows": {k: len(v) for k, v in tables.items()},
        "warnings": warnings,
        "build_seconds": round(time.perf_counter() - t0, 2),
    }
    return FeedBuildResult(tables=tables, report=report)


def _csv_bytes(rows: list[dict[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), extrasaction="raise", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_gtfs_zip(result: FeedBuildResult, out_path: Path) -> Path:
    """Write the feed as a GTFS zip (plus ``stop_accessibility.txt``).

    Parameters
    ----------
    result : FeedBuildResult
        A built feed.
    out_path : Path
        The zip to write (parent folders are created; an existing file is replaced).

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, columns in FIELDS.items():
                rows = result.tables.get(name)
                if not rows:
                    continue
                # fixed timestamp: the same inputs give a byte-identical zip
                info = zipfile.ZipInfo(f"{name}.txt", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, _csv_bytes(rows, columns))

    # A unique temporary name, renamed into place: never a half-written feed, and two
    # processes writing at once do not share a temporary file.
    atomic_write(out_path, write)
    return out_path


# --------------------------------------------------------------------------- CLI


def default_data_dir() -> Path:
    """``$INCLUSIVE_ROUTING_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("INCLUSIVE_ROUTING_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def gtfs_build_command(out: Path, data_dir: Path, service_config: Path | None) -> dict:
    """Build the feed, write it to ``out`` and return the report (for the CLI).

    Parameters
    ----------
    out : Path
        The GTFS zip to write.
    data_dir : Path
        Shared data directory (see :func:`build_almaty_feed`).
    service_config : Path or None
        Service assumptions file; None for the packaged one.

    Returns
    -------
    dict
        The build report, plus ``out`` (path written) and ``zip_bytes``.
    """
    result = build_almaty_feed(Path(data_dir), service_config=service_config)
    path = write_gtfs_zip(result, Path(out))
    report = dict(result.report)
    report["out"] = str(path)
    report["zip_bytes"] = path.stat().st_size
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``inclusive-routing gtfs build --out FILE [--data DIR] [--service-config PATH]``.

    Prints the build report as JSON; returns the exit status (2 on a data error).
    """
    parser = argparse.ArgumentParser(
        prog="inclusive-routing gtfs", description="GTFS feeds built from Almaty data"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the Almaty metro + bus GTFS zip")
    build.add_argument(
        "--out",
        type=Path,
        default=Path("almaty-gtfs.zip"),
        help="GTFS zip to write (default: almaty-gtfs.zip)",
    )
    build.add_argument(
        "--data",
        type=Path,
        default=None,
        help="shared data directory (default: $INCLUSIVE_ROUTING_SHARED_DATA or ../shared/data)",
    )
    build.add_argument(
        "--service-config",
        type=Path,
        default=None,
        help="service assumptions JSON (default: packaged almaty_service.json)",
    )
    args = parser.parse_args(argv)
    try:
        report = gtfs_build_command(args.out, args.data or default_data_dir(), args.service_config)
    except DataError as exc:
        print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
