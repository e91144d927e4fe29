"""The editable service assumptions of the Almaty feed (``service.json``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from datasets.almaty._common import (
    WEEKDAYS,
    load_json,
    number_in,
    parse_date,
    parse_hhmm,
    strip_comments,
)
from routing.errors import DataError
from routing.transit.gtfs import ACCESSIBILITY_FROM_GTFS
from routing.tristate import UNKNOWN

DEFAULT_SERVICE_CONFIG = Path(__file__).resolve().parent / "service.json"
"""The editable service-assumptions file shipped with the package."""


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
    """Thresholds of stop-to-line matching and of the trip clean-up (metres).

    ``merge_distance_m``, ``max_hop_m`` and ``min_matched_stops`` drive
    :mod:`datasets.almaty.cleanup`.
    """

    match_distance_m: float = 30.0
    centerline_tolerance_m: float = 3.0
    min_stop_spacing_m: float = 30.0
    revisit_gap_m: float = 120.0
    wheelchair_limited_as: int = UNKNOWN  # a routing.tristate code
    merge_distance_m: float = 30.0
    max_hop_m: float = 20000.0
    min_matched_stops: int = 2


@dataclass(frozen=True)
class ServiceConfig:
    """The parsed ``datasets/almaty/service.json`` (its GTFS ``wheelchair_*`` numbers as
    :mod:`routing.tristate` codes)."""

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
            or any(d not in WEEKDAYS for d in days_raw)
        ):
            raise DataError(
                f"{path}: {where}.days must be a non-empty list of weekday names",
                path=path,
                field=f"{where}.days",
            )
        days = tuple(d for d in WEEKDAYS if d in days_raw)
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
            start = parse_hhmm(b.get("start"), path=path, field_name=f"{f}.start")
            end = parse_hhmm(b.get("end"), path=path, field_name=f"{f}.end")
            if end <= start:
                raise DataError(f"{path}: {f} ends before it starts", path=path, field=f)
            if bands and start < bands[-1].end_s:
                raise DataError(
                    f"{path}: {f} overlaps the band before (bands must be in time order)",
                    path=path,
                    field=f,
                )
            headway = number_in(
                b.get("headway_min"), path=path, field_name=f"{f}.headway_min", low=1, high=240
            )
            speed = number_in(
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
            share = number_in(
                share, path=path, field_name=f"{where}.low_floor_share", low=0, high=1
            )
    else:
        share = base.low_floor_share
    return RouteService(days, band_tuple, share)


def _accessibility(value: Any, *, path: str, field: str) -> int:
    """A GTFS ``wheelchair_*`` number of the config (0, 1 or 2) as a tristate code."""
    if value not in tuple(ACCESSIBILITY_FROM_GTFS):
        raise DataError(f"{path}: {field} must be 0, 1 or 2", path=path, field=field)
    return ACCESSIBILITY_FROM_GTFS[value]


def load_service_config(path: Path | None = None) -> ServiceConfig:
    """Read the service-assumptions file (default: the packaged ``datasets/almaty/service.json``).

    Parameters
    ----------
    path : Path, optional
        A JSON file shaped like ``datasets/almaty/service.json``.

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
    raw = strip_comments(load_json(path))
    if not isinstance(raw, dict):
        raise DataError(f"{p}: expected a JSON object", path=p)
    cal = raw.get("calendar", {})
    start = parse_date(cal.get("start_date"), path=p, field_name="calendar.start_date")
    end = parse_date(cal.get("end_date"), path=p, field_name="calendar.end_date")
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
        if key in metro:
            codes[key] = _accessibility(metro[key], path=p, field=f"metro.{key}")
        else:
            codes[key] = UNKNOWN
    st = raw.get("stops", {})
    defaults = StopMatching()
    kwargs: dict[str, float | int] = {}
    for name, (low, high) in {
        "match_distance_m": (1, 200),
        "centerline_tolerance_m": (0, 50),
        "min_stop_spacing_m": (0, 500),
        "revisit_gap_m": (1, 5000),
        "merge_distance_m": (0, 500),
        "max_hop_m": (100, 200000),
        "min_matched_stops": (2, 50),
    }.items():
        kwargs[name] = number_in(
            st.get(name, getattr(defaults, name)),
            path=p,
            field_name=f"stops.{name}",
            low=low,
            high=high,
        )
    limited = defaults.wheelchair_limited_as
    if "wheelchair_limited_as" in st:
        limited = _accessibility(
            st["wheelchair_limited_as"], path=p, field="stops.wheelchair_limited_as"
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
        stops=StopMatching(
            **{**kwargs, "min_matched_stops": int(kwargs["min_matched_stops"])},  # type: ignore[arg-type]
            wheelchair_limited_as=limited,
        ),
        bus_default=default,
        bus_routes=routes,
    )
