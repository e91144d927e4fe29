"""Transit edits of a planner's scenario, and transit metrics before and after them.

Edits (one JSON object each, ``type`` says which; :data:`TRANSIT_EDIT_SCHEMA`):

``low_floor_share``
    ``routes`` (route ids or short names; ``"*"`` = every bus and trolleybus route of the
    feed at that point of the edit list) get ``share`` (0..1) of low-floor vehicles. Which
    trips that makes wheelchair-accessible is the planner's rule
    (:func:`routing.transit.accessibility.thin_by_share`): per route direction, in
    departure order, trip *i* is accessible when ``floor((i+1)p) > floor(ip)``, so
    exactly ``floor(n p)`` trips, evenly spread. Share 1 makes every trip accessible,
    0 none.
``station_access``
    A station's (or stop's) lift and step-free facts: ``elevator`` ``in_service`` /
    ``out_of_service`` / ``none``, ``step_free`` true/false. They apply to the stop and to
    every stop whose parent station it is, as a transit overlay row would
    (:class:`routing.transit.accessibility.StopFacts`): a lift out of service or
    ``step_free: false`` means a wheelchair user cannot board or alight there; a lift in
    service or ``step_free: true`` means they can.
``new_station``
    A new stop on ``route`` between the consecutive stops ``after`` and ``before``:
    every trip of the route that runs ``after -> before`` now calls at the new stop,
    ``run_from_previous_s`` after leaving ``after``, waits ``dwell_s`` and reaches
    ``before`` ``run_to_next_s`` later; every later call of the trip moves by the time
    gained or lost. Trips running ``before -> after`` call there too, with the run
    times swapped. Without ``before`` the station extends the line beyond its terminal
    ``after``: trips ending there run on to it, trips starting there start from it
    ``run_from_previous_s`` earlier. The line keeps its timetable (and so its headway).
``new_bus_route``
    A new route over ``stops`` (existing ``stop_id`` or new ``lat``/``lon`` stops), both
    directions unless ``both_directions`` is false, one departure every ``headway_s``
    from ``start`` to before ``end`` (``HH:MM``, every day of the feed's calendar), with
    ``run_times_s`` between consecutive stops or, from ``speed_kmh``, the straight-line
    distance divided by the speed (an operating speed including stops, as in the Almaty
    service assumptions), plus ``dwell_s`` at each intermediate stop. ``low_floor``
    marks every trip accessible (true) or not (false).

Edits apply in list order to a copy: :func:`apply_transit_edits` never changes the base
planner, feed or overlays. Overlay-only edits (low-floor shares, station access) keep the
base feed, so the edited planner shares its timetables and street links; feed edits (new
stations, new routes) compile the edited feed's timetable and links once, lazily.

Metrics (:func:`transit_metrics`): for each profile, origin and destination, the door to
door travel time (walk, ride, wait at the origin included) of every departure moment in a
window, e.g. 2 hours every 60 s, found by the planner's one-to-all range RAPTOR
(:func:`routing.transit.raptor.stop_arrivals_by_departure`, the search behind
``/plan/distribution``), or walking all the way when that is quicker and takes at most the
planner's ``walk_only_max_s`` (the walk-only itinerary ``/plan`` offers). Per pair the
percentiles over the moments (nearest rank; unreachable moments count as slowest, so a
percentile is ``None`` when that share of moments cannot make the trip).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import pickle
import re
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from routing.clock import format_hhmm, parse_clock
from routing.cost.profiles import Profile
from routing.errors import NoRouteError, OutsideAreaError, ScenarioError
from routing.geo import haversine_m
from routing.scenario.execute import map_batches
from routing.transit.accessibility import StopFacts, TransitAccessibility
from routing.transit.gtfs import (
    Calendar,
    Feed,
    Frequency,
    Route,
    Stop,
    StopTimes,
    Trip,
)
from routing.transit.planner import TransitPlanner
from routing.transit.raptor import UNREACHED, stop_arrivals_by_departure
from routing.tristate import CODES, NO, UNKNOWN, WORDS, YES

#: GTFS ``route_type`` values of buses and trolleybuses (basic and extended).
BUS_ROUTE_TYPES = frozenset({3, 11, 800}) | frozenset(range(700, 800))

_CLOCK = r"^([0-9]|[01][0-9]|2[0-9]|3[0-5]):[0-5][0-9]$"
_ID = {"type": "string", "minLength": 1, "maxLength": 64}
_LAT = {"type": "number", "minimum": -90, "maximum": 90}
_LON = {"type": "number", "minimum": -180, "maximum": 180}
_SECONDS = {"type": "integer", "minimum": 0, "maximum": 86400}
_TRI = {"enum": list(CODES)}

#: JSON Schema (2020-12) of ONE transit edit, embeddable under ``$defs``.
TRANSIT_EDIT_SCHEMA: dict[str, Any] = {
    "title": "Transit edit",
    "type": "object",
    "required": ["type"],
    "oneOf": [
        {
            "title": "Low-floor share of routes",
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "routes", "share"],
            "properties": {
                "type": {"const": "low_floor_share"},
                "routes": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 1000,
                    "items": _ID,
                    "description": "route_id or route_short_name; '*' = every bus "
                    "and trolleybus route",
                },
                "share": {"type": "number", "minimum": 0, "maximum": 1},
                "note": {"type": "string"},
            },
        },
        {
            "title": "Station lift / step-free access",
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "station"],
            "anyOf": [{"required": ["elevator"]}, {"required": ["step_free"]}],
            "properties": {
                "type": {"const": "station_access"},
                "station": {**_ID, "description": "stop_id of the station or stop"},
                "elevator": {"enum": ["in_service", "out_of_service", "none"]},
                "step_free": {"type": "boolean"},
                "note": {"type": "string"},
            },
        },
        {
            "title": "New station on a line",
            "type": "object",
            "additionalProperties": False,
            "required": [
                "type",
                "route",
                "stop_id",
                "name",
                "lat",
                "lon",
                "after",
                "run_from_previous_s",
            ],
            "properties": {
                "type": {"const": "new_station"},
                "route": {**_ID, "description": "route_id or route_short_name"},
                "stop_id": _ID,
                "name": {"type": "string", "minLength": 1, "maxLength": 200},
                "lat": _LAT,
                "lon": _LON,
                "after": {**_ID, "description": "stop_id of the station before it"},
                "before": {
                    **_ID,
                    "description": "stop_id of the station after it; "
                    "absent: the line is extended past 'after'",
                },
                "run_from_previous_s": {**_SECONDS, "minimum": 1},
                "run_to_next_s": {**_SECONDS, "minimum": 1},
                "dwell_s": _SECONDS,
                "wheelchair_boarding": _TRI,
                "note": {"type": "string"},
            },
        },
        {
            "title": "New bus route",
            "type": "object",
            "additionalProperties": False,
            "required": ["type", "route_id", "stops", "headway_s", "start", "end"],
            "oneOf": [{"required": ["run_times_s"]}, {"required": ["speed_kmh"]}],
            "properties": {
                "type": {"const": "new_bus_route"},
                "route_id": _ID,
                "short_name": {"type": "string", "maxLength": 64},
                "mode": {"enum": ["bus", "trolleybus"]},
                "stops": {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 200,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "stop_id": _ID,
                            "name": {"type": "string", "maxLength": 200},
                            "lat": _LAT,
                            "lon": _LON,
                            "wheelchair_boarding": _TRI,
                        },
                        "anyOf": [{"required": ["stop_id"]}, {"required": ["lat", "lon"]}],
                    },
                },
                "headway_s": {"type": "integer", "minimum": 60, "maximum": 86400},
                "start": {"type": "string", "pattern": _CLOCK},
                "end": {"type": "string", "pattern": _CLOCK},
                "run_times_s": {"type": "array", "items": {**_SECONDS, "minimum": 1}},
                "speed_kmh": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
                "dwell_s": _SECONDS,
                "low_floor": {"type": "boolean"},
                "both_directions": {"type": "boolean"},
                "note": {"type": "string"},
            },
        },
    ],
}


# --------------------------------------------------------------------------------------
# Edits
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LowFloorShare:
    """``routes`` run ``share`` low-floor vehicles (see the module docstring)."""

    routes: tuple[str, ...]
    share: float
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "low_floor_share", "routes": list(self.routes), "share": self.share}


@dataclass(frozen=True)
class StationAccess:
    """Lift (``in_service``/``out_of_service``/``none``) and step-free facts of a station."""

    station: str
    elevator: str | None = None
    step_free: bool | None = None
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "station_access", "station": self.station}
        if self.elevator is not None:
            out["elevator"] = self.elevator
        if self.step_free is not None:
            out["step_free"] = self.step_free
        return out


@dataclass(frozen=True)
class NewStation:
    """A new stop on ``route`` after ``after`` (and before ``before``, if given)."""

    route: str
    stop_id: str
    name: str
    lat: float
    lon: float
    after: str
    before: str | None
    run_from_previous_s: int
    run_to_next_s: int | None
    dwell_s: int = 0
    wheelchair_boarding: int = UNKNOWN
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"type": "new_station", "route": self.route, "stop_id": self.stop_id,
               "name": self.name, "lat": self.lat, "lon": self.lon, "after": self.after,
               "run_from_previous_s": self.run_from_previous_s, "dwell_s": self.dwell_s,
               "wheelchair_boarding": WORDS[self.wheelchair_boarding]}  # fmt: skip
        if self.before is not None:
            out.update(before=self.before, run_to_next_s=self.run_to_next_s)
        return out


@dataclass(frozen=True)
class RouteStop:
    """A stop of a new route: an existing ``stop_id``, or a new one at ``lat``/``lon``."""

    stop_id: str | None
    lat: float | None = None
    lon: float | None = None
    name: str = ""
    wheelchair_boarding: int = UNKNOWN

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {} if self.stop_id is None else {"stop_id": self.stop_id}
        if self.lat is not None:
            out.update(lat=self.lat, lon=self.lon)
        if self.name:
            out["name"] = self.name
        out["wheelchair_boarding"] = WORDS[self.wheelchair_boarding]
        return out


@dataclass(frozen=True)
class NewBusRoute:
    """A new bus (or trolleybus) route; see the module docstring."""

    route_id: str
    short_name: str
    stops: tuple[RouteStop, ...]
    headway_s: int
    start_s: int
    end_s: int
    run_times_s: tuple[int, ...] | None = None
    speed_kmh: float | None = None
    dwell_s: int = 0
    low_floor: bool = True
    both_directions: bool = True
    route_type: int = 3
    path: str = ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "new_bus_route", "route_id": self.route_id, "short_name": self.short_name,
            "mode": "trolleybus" if self.route_type == 11 else "bus",
            "stops": [s.to_dict() for s in self.stops], "headway_s": self.headway_s,
            "start": format_hhmm(self.start_s), "end": format_hhmm(self.end_s),
            "dwell_s": self.dwell_s,
            "low_floor": self.low_floor, "both_directions": self.both_directions,
        }  # fmt: skip
        if self.run_times_s is not None:
            out["run_times_s"] = list(self.run_times_s)
        else:
            out["speed_kmh"] = self.speed_kmh
        return out


TransitEdit = LowFloorShare | StationAccess | NewStation | NewBusRoute



def _error(message: str, *, field: str) -> ScenarioError:
    """An error at JSON path ``field`` (e.g. ``$.transit[2].stops[1].lat``): the message
    starts with it, ``json_path`` is it and ``field`` is its last name (``lat``)."""
    leaf = re.sub(r"\[\d+\]$", "", field.rsplit(".", 1)[-1])
    return ScenarioError(message, json_path=field, field=leaf)


class _Reader:
    """Checks one edit object field by field; every error names ``path.field``."""

    def __init__(self, obj: Any, path: str, allowed: set[str]) -> None:
        if not isinstance(obj, Mapping):
            raise _error(f"{path}: a transit edit must be an object", field=path)
        unknown = sorted(set(obj) - allowed - {"type", "note"})
        if unknown:
            raise _error(
                f"{path}.{unknown[0]}: unknown field (allowed: {', '.join(sorted(allowed))})",
                field=f"{path}.{unknown[0]}",
            )
        self.obj, self.path = obj, path

    def fail(self, name: str, message: str) -> ScenarioError:
        return _error(f"{self.path}.{name}: {message}", field=f"{self.path}.{name}")

    def has(self, name: str) -> bool:
        return name in self.obj

    def text(self, name: str, *, required: bool = True, max_len: int = 64) -> str | None:
        value = self.obj.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > max_len:
            raise self.fail(name, f"must be a non-empty string of at most {max_len} characters")
        return value.strip()

    def number(self, name: str, low: float, high: float, *, required: bool = True,
               integer: bool = False) -> float | None:  # fmt: skip
        value = self.obj.get(name)
        if value is None and not required:
            return None
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and integer and float(value) != int(value):
            ok = False
        if not ok or not math.isfinite(value) or not low <= value <= high:
            kind = "an integer" if integer else "a number"
            raise self.fail(name, f"must be {kind} from {low:g} to {high:g}")
        return value

    def boolean(self, name: str, default: bool | None) -> bool | None:
        value = self.obj.get(name, default)
        if value is not None and not isinstance(value, bool):
            raise self.fail(name, "must be true or false")
        return value

    def choice(self, name: str, options: Mapping[str, Any], default: Any) -> Any:
        if name not in self.obj:
            return default
        value = self.obj[name]
        if value not in options:
            raise self.fail(name, f"must be one of {', '.join(options)}")
        return options[value]


def _clock(reader: _Reader, name: str) -> int:
    text = reader.text(name, max_len=5)
    try:
        seconds = parse_clock(text, with_seconds=False)
    except ValueError:
        seconds = None
    if seconds is None or seconds >= 36 * 3600:  # the limit of _CLOCK, the schema's pattern
        raise reader.fail(name, f"{text!r} is not a time HH:MM (hours may pass 24)")
    return seconds


def parse_transit_edit(obj: dict, path: str) -> TransitEdit:
    """One transit edit from its JSON object.

    Parameters
    ----------
    obj
        The edit, e.g. ``{"type": "low_floor_share", "routes": ["32"], "share": 1}``.
    path
        Where it sits in the scenario file (e.g. ``transit[2]``), used in errors.

    Raises
    ------
    ScenarioError
        Naming the JSON path (``json_path``, and first in the message) and ``field``.
    """
    kind = obj.get("type") if isinstance(obj, Mapping) else None
    parser = _PARSERS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise _error(f"{path}.type: must be one of {', '.join(_PARSERS)}", field=f"{path}.type")
    return parser(obj, path)


def _parse_low_floor(obj: Mapping, path: str) -> LowFloorShare:
    r = _Reader(obj, path, {"routes", "share"})
    routes = obj.get("routes")
    if not isinstance(routes, list) or not routes or len(routes) > 1000:
        raise r.fail("routes", "must be a list of 1 to 1000 route ids or short names")
    for i, route in enumerate(routes):
        if not isinstance(route, str) or not route.strip() or len(route) > 64:
            raise _error(f"{path}.routes[{i}]: must be a route id or short name",
                                    field=f"{path}.routes[{i}]")  # fmt: skip
    share = r.number("share", 0.0, 1.0)
    return LowFloorShare(tuple(s.strip() for s in routes), float(share), path)


def _parse_station_access(obj: Mapping, path: str) -> StationAccess:
    r = _Reader(obj, path, {"station", "elevator", "step_free"})
    station = r.text("station")
    elevator = r.choice("elevator", {k: k for k in ("in_service", "out_of_service", "none")},
                        None)  # fmt: skip
    step_free = r.boolean("step_free", None)
    if elevator is None and step_free is None:
        raise r.fail("elevator", "give 'elevator' or 'step_free' (or both)")
    return StationAccess(station, elevator, step_free, path)


def _parse_new_station(obj: Mapping, path: str) -> NewStation:
    r = _Reader(obj, path, {"route", "stop_id", "name", "lat", "lon", "after", "before",
                            "run_from_previous_s", "run_to_next_s", "dwell_s",
                            "wheelchair_boarding"})  # fmt: skip
    before = r.text("before", required=False)
    run_next = r.number("run_to_next_s", 1, 86400, required=before is not None, integer=True)
    if before is None and run_next is not None:
        raise r.fail("run_to_next_s", "only with 'before' (a station between two others)")
    return NewStation(
        route=r.text("route"),
        stop_id=r.text("stop_id"),
        name=r.text("name", max_len=200),
        lat=float(r.number("lat", -90, 90)),
        lon=float(r.number("lon", -180, 180)),
        after=r.text("after"),
        before=before,
        run_from_previous_s=int(r.number("run_from_previous_s", 1, 86400, integer=True)),
        run_to_next_s=None if run_next is None else int(run_next),
        dwell_s=int(r.number("dwell_s", 0, 86400, required=False, integer=True) or 0),
        wheelchair_boarding=r.choice("wheelchair_boarding", CODES, UNKNOWN),
        path=path,
    )


def _parse_new_bus_route(obj: Mapping, path: str) -> NewBusRoute:
    r = _Reader(obj, path, {"route_id", "short_name", "mode", "stops", "headway_s", "start",
                            "end", "run_times_s", "speed_kmh", "dwell_s", "low_floor",
                            "both_directions"})  # fmt: skip
    route_id = r.text("route_id")
    raw_stops = obj.get("stops")
    if not isinstance(raw_stops, list) or not 2 <= len(raw_stops) <= 200:
        raise r.fail("stops", "must be a list of 2 to 200 stops")
    stops = []
    for i, item in enumerate(raw_stops):
        s = _Reader(item, f"{path}.stops[{i}]",
                    {"stop_id", "name", "lat", "lon", "wheelchair_boarding"})  # fmt: skip
        stop_id = s.text("stop_id", required=False)
        if stop_id is None and not (s.has("lat") and s.has("lon")):
            raise s.fail("lat", "a stop needs 'stop_id' or 'lat' and 'lon'")
        at = (s.number("lat", -90, 90, required=stop_id is None),
              s.number("lon", -180, 180, required=stop_id is None))  # fmt: skip
        stops.append(RouteStop(
            stop_id=stop_id,
            lat=None if at[0] is None else float(at[0]),
            lon=None if at[1] is None else float(at[1]),
            name=s.text("name", required=False, max_len=200) or "",
            wheelchair_boarding=s.choice("wheelchair_boarding", CODES, UNKNOWN),
        ))  # fmt: skip
    run_times = obj.get("run_times_s")
    speed = r.number("speed_kmh", 0.1, 120, required=False)
    if (run_times is None) == (speed is None):
        raise r.fail("run_times_s", "give exactly one of 'run_times_s' and 'speed_kmh'")
    if run_times is not None:
        ok = isinstance(run_times, list) and len(run_times) == len(stops) - 1
        if not ok or not all(isinstance(t, int) and not isinstance(t, bool) and 0 < t <= 86400
                             for t in run_times):  # fmt: skip
            raise r.fail("run_times_s", f"must be {len(stops) - 1} whole seconds (1 to 86400), "
                                        "one per pair of consecutive stops")  # fmt: skip
    start, end = _clock(r, "start"), _clock(r, "end")
    if end <= start:
        raise r.fail("end", "must be after 'start'")
    return NewBusRoute(
        route_id=route_id,
        short_name=r.text("short_name", required=False) or route_id,
        stops=tuple(stops),
        headway_s=int(r.number("headway_s", 60, 86400, integer=True)),
        start_s=start,
        end_s=end,
        run_times_s=None if run_times is None else tuple(int(t) for t in run_times),
        speed_kmh=None if speed is None else float(speed),
        dwell_s=int(r.number("dwell_s", 0, 86400, required=False, integer=True) or 0),
        low_floor=bool(r.boolean("low_floor", True)),
        both_directions=bool(r.boolean("both_directions", True)),
        route_type=r.choice("mode", {"bus": 3, "trolleybus": 11}, 3),
        path=path,
    )


_PARSERS: dict[str, Callable[[Mapping, str], TransitEdit]] = {
    "low_floor_share": _parse_low_floor,
    "station_access": _parse_station_access,
    "new_station": _parse_new_station,
    "new_bus_route": _parse_new_bus_route,
}


# --------------------------------------------------------------------------------------
# Applying edits
# --------------------------------------------------------------------------------------


def apply_transit_edits(planner: TransitPlanner, edits: Sequence[TransitEdit]) -> TransitPlanner:
    """A planner for the base planner's transit with ``edits`` applied, in order.

    The base planner, its feed and its overlays are left as they are. No edits: the base
    planner itself. Overlay-only edits: a planner on the same feed that shares the base's
    timetables and street links (:meth:`TransitPlanner.with_changes`).

    Raises
    ------
    ScenarioError
        An edit names a route, station or stop the feed does not have, or a new stop id
        it already has; ``field`` is the edit's path and field.
    """
    if not edits:
        return planner
    feed = _FeedEditor(planner.feed)
    access = _copy_accessibility(planner.accessibility)
    for edit in edits:
        if isinstance(edit, LowFloorShare):
            for route in feed.route_keys(edit):
                access.low_floor_share[route] = edit.share
        elif isinstance(edit, StationAccess):
            _apply_station_access(feed, access, edit)
        elif isinstance(edit, NewStation):
            feed.add_station(edit)
        elif isinstance(edit, NewBusRoute):
            feed.add_route(edit)
        else:  # pragma: no cover - parse_transit_edit makes only the kinds above
            raise TypeError(f"not a transit edit: {edit!r}")
    return planner.with_changes(feed=feed.build(), accessibility=access)


def _copy_accessibility(acc: TransitAccessibility) -> TransitAccessibility:
    return TransitAccessibility(
        low_floor_share=dict(acc.low_floor_share),
        default_low_floor_share=acc.default_low_floor_share,
        stops=dict(acc.stops),
        sources=list(acc.sources),
    )


def _apply_station_access(
    feed: _FeedEditor, access: TransitAccessibility, edit: StationAccess
) -> None:
    if edit.station not in feed.stops:
        raise _error(f"{edit.path}.station: no stop or station {edit.station!r} "
                                "in the feed", field=f"{edit.path}.station")  # fmt: skip
    # The station and its platforms: the planner reads a platform's own facts first.
    targets = [edit.station] + [
        s.stop_id for s in feed.stops.values() if s.parent_station == edit.station
    ]
    for stop_id in targets:
        facts = access.stops.get(stop_id, StopFacts())
        if edit.elevator is not None:
            facts = replace(
                facts,
                elevator={"in_service": YES, "out_of_service": NO, "none": NO}[edit.elevator],
                elevator_out_of_service=edit.elevator == "out_of_service",
            )
        if edit.step_free is not None:
            facts = replace(facts, step_free=YES if edit.step_free else NO)
        access.stops[stop_id] = facts


_ST_COLUMNS = ("stop", "stop_sequence", "arrival", "departure", "pickup_type",
               "drop_off_type", "shape_dist_traveled", "line")  # fmt: skip


class _FeedEditor:
    """A copy-on-write view of a feed: new stops, routes and trips, replaced stop times."""

    def __init__(self, feed: Feed) -> None:
        self.base = feed
        self.stops: dict[str, Stop] = dict(feed.stops)
        self.routes: dict[str, Route] = dict(feed.routes)
        self.trips: dict[str, Trip] = dict(feed.trips)
        self.trip_ids: list[str] = list(feed.trip_ids)
        self.calendars: dict[str, Calendar] = dict(feed.calendars)
        self.frequencies: list[Frequency] = list(feed.frequencies)
        self.new_stop_ids: list[str] = []
        self.rows: dict[int, dict[str, np.ndarray]] = {}  # trip index -> new stop times
        self.changed = False

    # -- look-ups -------------------------------------------------------------------------
    def route_keys(self, edit: LowFloorShare) -> list[str]:
        keys = []
        for i, name in enumerate(edit.routes):
            if name == "*":
                keys += [r.route_id for r in self.routes.values()
                         if r.route_type in BUS_ROUTE_TYPES]  # fmt: skip
            else:
                keys.append(self.route_id(name, f"{edit.path}.routes[{i}]"))
        return keys

    def route_id(self, name: str, field: str) -> str:
        if name in self.routes:
            return name
        found = [r.route_id for r in self.routes.values() if r.route_short_name == name]
        if len(found) != 1:
            why = "no route" if not found else "more than one route"
            raise _error(f"{field}: {why} with id or short name {name!r} in the feed",
                                    field=field)  # fmt: skip
        return found[0]

    def stop_index(self, stop_id: str) -> int | None:
        if stop_id in self.base.stop_index:
            return self.base.stop_index[stop_id]
        if stop_id in self.new_stop_ids:
            return len(self.base.stop_ids) + self.new_stop_ids.index(stop_id)
        return None

    def trip_rows(self, t: int) -> dict[str, np.ndarray]:
        if t in self.rows:
            return self.rows[t]
        st, rows = self.base.stop_times, self.base.stop_times.rows_of(t)
        return {name: getattr(st, name)[rows] for name in _ST_COLUMNS}

    # -- edits ----------------------------------------------------------------------------
    def add_stop(self, stop: Stop, field: str) -> int:
        if stop.stop_id in self.stops:
            raise _error(f"{field}: stop id {stop.stop_id!r} is already in the feed",
                                    field=field)  # fmt: skip
        self.stops[stop.stop_id] = stop
        self.new_stop_ids.append(stop.stop_id)  # appended: base stop indices stay valid
        self.changed = True
        return len(self.base.stop_ids) + len(self.new_stop_ids) - 1

    def add_station(self, edit: NewStation) -> None:
        route = self.route_id(edit.route, f"{edit.path}.route")
        ends = []
        for name in ("after", "before"):
            stop_id = getattr(edit, name)
            if stop_id is not None and self.stop_index(stop_id) is None:
                raise _error(f"{edit.path}.{name}: no stop {stop_id!r} in the feed",
                                        field=f"{edit.path}.{name}")  # fmt: skip
            ends.append(None if stop_id is None else self.stop_index(stop_id))
        a, b = ends
        new = self.add_stop(Stop(edit.stop_id, edit.name, edit.lat, edit.lon,
                                 wheelchair_boarding=edit.wheelchair_boarding),
                            f"{edit.path}.stop_id")  # fmt: skip
        run_prev, run_next, dwell = edit.run_from_previous_s, edit.run_to_next_s, edit.dwell_s
        changed = 0
        for t, trip_id in enumerate(self.trip_ids):
            if self.trips[trip_id].route_id != route:
                continue
            rows = self.trip_rows(t)
            stops = rows["stop"]
            out = None
            if b is not None:
                for k in range(len(stops) - 1):
                    pair = (int(stops[k]), int(stops[k + 1]))
                    if pair in ((a, b), (b, a)):
                        first, second = (
                            (run_prev, run_next) if pair[0] == a else (run_next, run_prev)
                        )
                        out = _insert_call(rows, k, new, first, dwell, second, edit, trip_id)
                        break
            elif int(stops[-1]) == a:
                out = _insert_call(rows, len(stops) - 1, new, run_prev, 0, None, edit, trip_id)
            elif int(stops[0]) == a:
                out = _insert_call(rows, -1, new, None, 0, run_prev, edit, trip_id)
            if out is not None:
                self.rows[t] = out
                changed += 1
        if not changed:
            where = (f"between {edit.after!r} and {edit.before!r}" if b is not None
                     else f"ending or starting at {edit.after!r}")  # fmt: skip
            raise _error(f"{edit.path}.after: no trip of route {edit.route!r} runs "
                                    f"{where}", field=f"{edit.path}.after")  # fmt: skip

    def add_route(self, edit: NewBusRoute) -> None:
        if edit.route_id in self.routes:
            raise _error(f"{edit.path}.route_id: route {edit.route_id!r} is already "
                                    "in the feed", field=f"{edit.path}.route_id")  # fmt: skip
        indices, lat, lon = [], [], []
        for i, rs in enumerate(edit.stops):
            field = f"{edit.path}.stops[{i}]"
            if rs.stop_id is not None and rs.stop_id in self.stops and rs.lat is None:
                s = self.stop_index(rs.stop_id)
                stop = self.stops[rs.stop_id]
            else:
                if rs.lat is None:
                    raise _error(f"{field}.stop_id: no stop {rs.stop_id!r} in the feed "
                                            "(give lat and lon for a new stop)",
                                            field=f"{field}.stop_id")  # fmt: skip
                stop = Stop(rs.stop_id or f"{edit.route_id}:{i + 1}",
                            rs.name or f"{edit.short_name} stop {i + 1}", rs.lat, rs.lon,
                            wheelchair_boarding=rs.wheelchair_boarding)  # fmt: skip
                s = self.add_stop(stop, f"{field}.stop_id")
            indices.append(s)
            lat.append(stop.stop_lat)
            lon.append(stop.stop_lon)
        if edit.run_times_s is not None:
            runs = np.array(edit.run_times_s, dtype=np.int64)
        else:
            metres = haversine_m(np.array(lat[:-1]), np.array(lon[:-1]),
                                 np.array(lat[1:]), np.array(lon[1:]))  # fmt: skip
            runs = np.maximum(1, np.round(metres / (edit.speed_kmh / 3.6))).astype(np.int64)
        agency = next(iter(self.base.agencies), "")
        self.routes[edit.route_id] = Route(edit.route_id, agency, edit.short_name,
                                           "", edit.route_type)  # fmt: skip
        service = f"scenario:{edit.route_id}"
        days = [c for c in self.calendars.values()] or None
        start = min(c.start_date for c in days) if days else dt.date(1900, 1, 1)
        end = max(c.end_date for c in days) if days else dt.date(2199, 12, 31)
        self.calendars[service] = Calendar(service, (True,) * 7, start, end)
        directions = [(0, indices, runs)]
        if edit.both_directions:
            directions.append((1, indices[::-1], runs[::-1]))
        for direction, stops, run in directions:
            trip_id = f"{edit.route_id}:{direction}"
            self.trips[trip_id] = Trip(
                trip_id,
                edit.route_id,
                service,
                trip_headsign=self.stops_name(stops[-1]),
                direction_id=direction,
                wheelchair_accessible=YES if edit.low_floor else NO,
            )
            arrival = np.concatenate([[0], np.cumsum(run + edit.dwell_s) - edit.dwell_s])
            departure = arrival + np.where(np.arange(len(stops)) % (len(stops) - 1) == 0,
                                           0, edit.dwell_s)  # fmt: skip
            departure[-1] = arrival[-1]
            n = len(stops)
            self.rows[len(self.trip_ids)] = {
                "stop": np.array(stops, dtype=np.int32),
                "stop_sequence": np.arange(1, n + 1, dtype=np.int64),
                "arrival": (arrival + edit.start_s).astype(np.int32),
                "departure": (departure + edit.start_s).astype(np.int32),
                "pickup_type": np.zeros(n, dtype=np.int8),
                "drop_off_type": np.zeros(n, dtype=np.int8),
                "shape_dist_traveled": np.full(n, np.nan),
                "line": np.zeros(n, dtype=np.int64),
            }
            self.trip_ids.append(trip_id)
            self.frequencies.append(
                Frequency(trip_id, edit.start_s, edit.end_s, edit.headway_s, exact_times=1)
            )
        self.changed = True

    def stops_name(self, index: int) -> str:
        n = len(self.base.stop_ids)
        stop_id = self.base.stop_ids[index] if index < n else self.new_stop_ids[index - n]
        return self.stops[stop_id].stop_name

    # -- result ---------------------------------------------------------------------------
    def build(self) -> Feed:
        """The edited feed (the base feed itself when nothing in it changed)."""
        if not self.changed:
            return self.base
        st = self.base.stop_times
        pieces = {name: [] for name in _ST_COLUMNS}
        counts = []
        for t in range(len(self.trip_ids)):
            rows = self.trip_rows(t)
            for name in _ST_COLUMNS:
                pieces[name].append(rows[name])
            counts.append(len(rows["stop"]))
        columns = {name: np.concatenate(parts).astype(getattr(st, name).dtype)
                   for name, parts in pieces.items()}  # fmt: skip
        columns["trip"] = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
        columns["trip_ptr"] = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        for array in columns.values():
            array.flags.writeable = False
        stop_ids = tuple(self.base.stop_ids) + tuple(self.new_stop_ids)
        trip_ids = tuple(self.trip_ids)
        return replace(
            self.base,
            path=f"{self.base.path} (scenario)",
            stops=MappingProxyType(self.stops),
            routes=MappingProxyType(self.routes),
            trips=MappingProxyType(self.trips),
            stop_times=StopTimes(**columns),
            calendars=MappingProxyType(self.calendars),
            frequencies=tuple(self.frequencies),
            stop_ids=stop_ids,
            trip_ids=trip_ids,
            stop_index=MappingProxyType({s: i for i, s in enumerate(stop_ids)}),
            trip_index=MappingProxyType({s: i for i, s in enumerate(trip_ids)}),
        )


def _insert_call(
    rows: dict[str, np.ndarray],
    k: int,
    stop: int,
    run_in: int | None,
    dwell: int,
    run_out: int | None,
    edit: NewStation,
    trip_id: str,
) -> dict[str, np.ndarray]:
    """The trip's stop times with a call at ``stop`` after position ``k`` (-1: first).

    Arrives ``run_in`` after leaving call ``k``, leaves ``dwell`` later and reaches call
    ``k + 1`` ``run_out`` after that; later calls move by the difference. Before the
    first call (``k == -1``) it leaves ``run_out`` before the first departure.
    """
    arr = rows["arrival"].astype(np.int64)
    dep = rows["departure"].astype(np.int64)
    n = len(arr)
    neighbours = [i for i in (k, k + 1) if 0 <= i < n]
    if any(arr[i] < 0 or dep[i] < 0 for i in neighbours):
        raise _error(
            f"{edit.path}.after: trip {trip_id!r} has no times at the stations beside the new one",
            field=f"{edit.path}.after",
        )
    if k == -1:
        at = dep[0] - run_out
        new_arr = new_dep = at
    else:
        new_arr = dep[k] + run_in
        new_dep = new_arr + dwell
        if k + 1 < n:
            shift = new_dep + run_out - arr[k + 1]
            arr[k + 1 :] = np.where(arr[k + 1 :] >= 0, arr[k + 1 :] + shift, arr[k + 1 :])
            dep[k + 1 :] = np.where(dep[k + 1 :] >= 0, dep[k + 1 :] + shift, dep[k + 1 :])
    dist = rows["shape_dist_traveled"]
    near = dist[neighbours]
    out = {
        "stop": np.insert(rows["stop"], k + 1, stop),
        "arrival": np.insert(arr, k + 1, new_arr),
        "departure": np.insert(dep, k + 1, new_dep),
        "pickup_type": np.insert(rows["pickup_type"], k + 1, 0),
        "drop_off_type": np.insert(rows["drop_off_type"], k + 1, 0),
        "shape_dist_traveled": np.insert(dist, k + 1, near.mean() if len(near) == 2 else np.nan),
        "line": np.insert(rows["line"], k + 1, 0),
    }
    out["stop_sequence"] = np.arange(1, n + 2, dtype=np.int64)
    if k == n - 1:  # the old terminal now lets people on towards the new one
        out["pickup_type"][k] = 0
    if k == -1:
        out["drop_off_type"][1] = 0
    return out


# --------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------

LatLon = tuple[float, float]


@dataclass(frozen=True)
class DepartureWindow:
    """Departure moments ``start, start + step_s, ... start + window_s`` (local time).

    A naive ``start`` is read in the planner's zone.
    """

    start: dt.datetime
    window_s: int = 7200
    step_s: int = 60

    def __post_init__(self) -> None:
        if self.step_s <= 0 or self.window_s < 0:
            raise _error("window: step_s must be > 0 and window_s >= 0",
                                    field="window")  # fmt: skip

    def moments(self, tz: str) -> tuple[dt.date, np.ndarray]:
        """The service date and the moments as seconds after its midnight."""
        zone = ZoneInfo(tz)
        local = (self.start.replace(tzinfo=zone) if self.start.tzinfo is None
                 else self.start.astimezone(zone))  # fmt: skip
        midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
        first = round((local - midnight).total_seconds())
        return local.date(), np.arange(first, first + self.window_s + 1, self.step_s,
                                       dtype=np.int64)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return {"start": self.start.isoformat(), "window_s": self.window_s,
                "step_s": self.step_s}  # fmt: skip


@dataclass(frozen=True, eq=False)
class TravelTimes:
    """Per origin-destination pair: travel-time percentiles over a departure window.

    ``percentile_s[i, j, k]`` is percentile ``percentiles[k]`` of pair (i, j) in seconds
    (``inf``: that share of moments cannot make the trip); ``reachable_share[i, j]`` the
    share of moments that can.
    """

    profile: str
    percentiles: tuple[int, ...]
    percentile_s: np.ndarray
    reachable_share: np.ndarray
    moments: int

    def p(self, q: int) -> np.ndarray:
        """The ``(origins, destinations)`` matrix of percentile ``q``."""
        return self.percentile_s[:, :, self.percentiles.index(q)]


def _stop_walks(planner: TransitPlanner, point: LatLon, date: dt.date, profile: Profile,
                *, egress: bool):  # fmt: skip
    """``(search inputs, {stop: walking seconds})`` of a point, None if it cannot be snapped."""
    try:
        inputs = planner.search_inputs(point, point, date, profile)
    except (OutsideAreaError, NoRouteError):
        return None
    return inputs, (inputs.egress if egress else inputs.access)


def _snaps(planner: TransitPlanner, points: Sequence[LatLon], profile: Profile, what: str,
           *, reverse: bool = False):  # fmt: skip
    """Points snapped as the planner snaps journey ends (off profile islands when it can;
    ``reverse`` for destinations), None where they cannot be."""
    out = []
    for i, point in enumerate(points):
        try:
            out.append(planner.network.snap(point, profile, f"{what}[{i}]", leavable=True,
                                            reverse=reverse))  # fmt: skip
        except (OutsideAreaError, NoRouteError):
            out.append(None)
    return out


@dataclass(frozen=True, eq=False)
class _Search:
    """What every origin's search shares: the destinations' walks from stops, and so on."""

    planner: TransitPlanner
    profile: Profile
    date: dt.date
    moments: np.ndarray
    stops: np.ndarray  # (stop, destination, walking seconds) triples, by destination
    seconds: np.ndarray
    starts: np.ndarray  # first triple of each destination that has any
    reached: np.ndarray  # those destinations
    targets: list  # the destinations snapped for walking all the way (None: cannot)
    ranks: list[int]
    known_accessible_only: bool

    def row(self, point: LatLon) -> tuple[np.ndarray, np.ndarray]:
        """``(percentiles (destinations, q), reachable share (destinations))`` of an origin."""
        n_m, n_d = len(self.moments), len(self.targets)
        best = np.full((n_m, n_d), np.inf)
        walks = _stop_walks(self.planner, point, self.date, self.profile, egress=False)
        if walks is not None and len(self.stops):
            inputs, access = walks
            # The planner's searches: any vehicle and stop not known to be inaccessible, and
            # for wheelchair profiles a second one over those known to be accessible.
            ride_options = inputs.searches[-1 if self.known_accessible_only else 0][1]
            arrivals = stop_arrivals_by_departure(inputs.view.timetable, access,
                                                  self.moments.tolist(), ride_options)  # fmt: skip
            at = arrivals[:, self.stops]
            via = np.where(at < UNREACHED, at + self.seconds, np.inf)
            best[:, self.reached] = np.minimum.reduceat(via, self.starts, axis=1)
            best -= self.moments[:, None]
        # Walking all the way, when it takes at most as long as the planner offers on foot.
        source = _snaps(self.planner, [point], self.profile, "origins")
        walk = self.planner.network.matrix(source, self.targets, self.profile).seconds[0]
        walk[walk > self.planner.options.walk_only_max_s] = np.inf
        best = np.minimum(best, np.round(walk)[None, :])
        ordered = np.sort(best, axis=0)
        return ordered[self.ranks].T, np.isfinite(best).mean(axis=0)


def _mapping_proxy(items: dict) -> MappingProxyType:
    return MappingProxyType(items)


_LOCKS = {type(threading.Lock()): threading.Lock, type(threading.RLock()): threading.RLock}


class _SearchPickler(pickle.Pickler):
    """Pickles a search: the feed's read-only mappings travel as plain dicts, and the locks
    guarding the network's caches as new, free locks (the copy is another process's)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is MappingProxyType:
            return _mapping_proxy, (dict(obj),)
        if type(obj) in _LOCKS:
            return _LOCKS[type(obj)], ()
        return NotImplemented


_SEARCHES: dict[str, _Search] = {}  # in a worker process: the search of the current job


def _search_of(job: tuple[str, bytes]) -> _Search:
    """The search of a ``(key, pickled search)`` job, unpickled once per worker process."""
    key, data = job
    search = _SEARCHES.get(key)
    if search is None:
        _SEARCHES.clear()  # one job at a time per worker
        search = _SEARCHES[key] = pickle.loads(data)
    return search


def _origin_row(job: tuple[str, bytes], point: LatLon) -> tuple[np.ndarray, np.ndarray]:
    return _search_of(job).row(point)


def travel_times(
    planner: TransitPlanner,
    origins: Sequence[LatLon],
    destinations: Sequence[LatLon],
    profile: Profile,
    window: DepartureWindow,
    *,
    percentiles: Sequence[int] = (10, 50, 90),
    known_accessible_only: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> TravelTimes:
    """Door-to-door travel-time percentiles for every origin-destination pair.

    Per origin one one-to-all range RAPTOR over the window's moments with the profile's
    access walks and vehicle filters (the search ``/plan/distribution`` runs); a
    destination is reached by the profile's walk from any stop within the planner's
    ``max_access_s``, or by walking all the way (see the module docstring). A point the
    profile cannot reach from the street (too far from any way it may use) reaches nothing.
    With ``workers > 1`` origins are searched in that many local processes
    (:func:`routing.scenario.execute.map_batches`), each sent the search (planner included)
    pickled once; the result is the same.
    """
    qs = tuple(int(q) for q in percentiles)
    date, moments = window.moments(planner.tz)
    n_o, n_d, n_m = len(origins), len(destinations), len(moments)
    stops, dests, secs = [], [], []
    for j, point in enumerate(destinations):
        walks = _stop_walks(planner, point, date, profile, egress=True)
        if walks is not None:
            for s, seconds in walks[1].items():
                stops.append(s)
                dests.append(j)
                secs.append(seconds)
    dests_a = np.array(dests, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, dests_a[1:] != dests_a[:-1]]) if len(dests) else []
    search = _Search(
        planner, profile, date, moments, np.array(stops, dtype=np.int64),
        np.array(secs, dtype=np.float64), np.asarray(starts, dtype=np.int64),
        dests_a[starts] if len(dests) else np.zeros(0, dtype=np.int64),
        _snaps(planner, destinations, profile, "destinations", reverse=True),
        [max(1, math.ceil(q / 100 * n_m)) - 1 for q in qs], known_accessible_only,
    )  # fmt: skip
    out = np.full((n_o, n_d, len(qs)), np.inf)
    share = np.zeros((n_o, n_d))
    if workers > 1 and n_o > 1:
        # Worker processes get the search pickled, never by forking this process: it may
        # have threads (a web server's job, Dask, heartbeats) whose locks a fork would copy
        # held, leaving the child blocked forever (see routing.scenario.execute).
        buffer = io.BytesIO()
        _SearchPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(search)
        job = (uuid.uuid4().hex, buffer.getvalue())

        def tick(done: int, total: int) -> None:
            if done and progress is not None:
                progress(done, total)

        rows = map_batches(_origin_row, job, [(point,) for point in origins], workers=workers,
                           progress=tick, warm=_search_of)  # fmt: skip
        for i, (row, reach) in enumerate(rows):
            out[i], share[i] = row, reach
    else:
        for i, point in enumerate(origins):
            out[i], share[i] = search.row(point)
            if progress is not None:
                progress(i + 1, n_o)
    return TravelTimes(profile.name, qs, out, share, n_m)


def _finite_median(values: np.ndarray) -> float | None:
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else None


def _seconds(value: float) -> int | None:
    return int(round(value)) if np.isfinite(value) else None


def summarize(times: TravelTimes, pairs: np.ndarray | None = None) -> dict[str, Any]:
    """Figures of one profile and one state (definitions in :func:`transit_metrics`);
    ``pairs`` (bool per origin and destination) says which pairs count (default all)."""
    p50 = times.p(50) if 50 in times.percentiles else times.percentile_s[:, :, 0]
    mask = np.ones(p50.shape, dtype=bool) if pairs is None else pairs
    values = p50[mask]
    n_pairs = values.size
    usable = np.isfinite(values)
    cdf = np.sort(values)
    quantiles = list(range(0, 101, 5))
    per_origin = []
    for row, keep in zip(p50, mask, strict=True):
        row = row[keep]
        ok = np.isfinite(row)
        per_origin.append({
            "usable_share": round(float(ok.mean()), 4) if len(row) else 0.0,
            "median_p50_s": None if not ok.any() else _seconds(float(np.median(row[ok]))),
        })  # fmt: skip
    return {
        "pairs": int(n_pairs),
        "usable_pairs": int(usable.sum()),
        "usable_share": round(float(usable.mean()), 4) if n_pairs else 0.0,
        "median_s": {
            f"p{q}": (None if (m := _finite_median(times.p(q)[mask])) is None else round(m))
            for q in times.percentiles
        },
        "p50_quantiles_s": {
            str(q): (_seconds(cdf[max(0, math.ceil(q / 100 * n_pairs) - 1)]) if n_pairs else None)
            for q in quantiles
        },
        "per_origin": per_origin,
    }


def compare(
    before: TravelTimes, after: TravelTimes, pairs: np.ndarray | None = None
) -> dict[str, Any]:
    """How the median (p50) travel time of each pair (of ``pairs``) changed."""
    a, b = before.p(50), after.p(50)
    if pairs is not None:
        a, b = a[pairs], b[pairs]
    both = np.isfinite(a) & np.isfinite(b)
    delta = b[both] - a[both]
    return {
        "newly_usable_pairs": int((~np.isfinite(a) & np.isfinite(b)).sum()),
        "lost_pairs": int((np.isfinite(a) & ~np.isfinite(b)).sum()),
        "faster_pairs": int((delta < 0).sum()),
        "slower_pairs": int((delta > 0).sum()),
        "median_change_s": round(float(np.median(delta))) if len(delta) else None,
        "mean_change_s": round(float(np.mean(delta)), 1) if len(delta) else None,
    }


def transit_metrics(
    base: TransitPlanner,
    edited: TransitPlanner,
    origins: Sequence[LatLon],
    destinations: Sequence[LatLon],
    profiles: Sequence[Profile],
    window: DepartureWindow,
    *,
    percentiles: Sequence[int] = (10, 50, 90),
    skip_same_index: bool = False,
    workers: int = 1,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Transit travel-time figures per profile, before (``base``) and after (``edited``).

    With ``skip_same_index`` (origins and destinations are the same points) the pairs of
    a point with itself are left out.

    Definitions (per profile; "p50 of a pair" is the median over the window's moments of
    its door-to-door travel time, see :func:`travel_times`):

    - ``usable_share``: share of origin-destination pairs whose p50 is finite (a usable
      journey for at least half the departure moments);
    - ``median_s.pQ``: median over the pairs of their Q-th percentile (pairs where it is
      finite);
    - ``p50_quantiles_s``: the distribution of p50 over all pairs (unusable pairs count as
      slowest, ``None``), for cumulative plots;
    - ``per_origin``: per origin, the share of destinations usable and the median p50;
    - ``change``: pairs newly usable or lost, faster or slower, and the median and mean
      change of p50 over pairs usable before and after;
    - ``known_accessible`` (wheelchair profiles): the same figures when riding only trips
      and stops *known* to be accessible (the planner's second search). The main figures
      allow, like the planner's first search, every trip and stop not known to be
      inaccessible; so making unknown vehicles low-floor shows in ``known_accessible``,
      and a lift out of service at a station of unknown access in the main figures.

    With ``edited is base`` (no transit edits) the "after" figures are the "before" ones.
    """
    if 50 not in percentiles:
        percentiles = (*percentiles, 50)
    runs = sum(2 if p.wheelchair else 1 for p in profiles)
    total = runs * len(origins) * (1 if edited is base else 2)
    done = [0]

    def step(_: int, __: int) -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    pairs = None
    if skip_same_index:
        pairs = ~np.eye(len(origins), len(destinations), dtype=bool)
    out: dict[str, Any] = {}
    for profile in profiles:
        before = travel_times(base, origins, destinations, profile, window,
                              percentiles=percentiles, workers=workers, progress=step)  # fmt: skip
        after = before if edited is base else travel_times(
            edited, origins, destinations, profile, window, percentiles=percentiles,
            workers=workers, progress=step)  # fmt: skip
        out[profile.name] = {
            "before": summarize(before, pairs),
            "after": summarize(after, pairs),
            "change": compare(before, after, pairs),
        }
        if profile.wheelchair:  # the same, riding only what is known to be accessible
            known = [travel_times(planner, origins, destinations, profile, window,
                                  percentiles=percentiles, known_accessible_only=True,
                                  workers=workers, progress=step)
                     for planner in ((base,) if edited is base else (base, edited))]  # fmt: skip
            known_after = known[-1]
            out[profile.name]["known_accessible"] = {
                "before": summarize(known[0], pairs),
                "after": summarize(known_after, pairs),
                "change": compare(known[0], known_after, pairs),
            }
    return {
        "window": window.to_dict(),
        "percentiles": list(percentiles),
        "origins": len(origins),
        "destinations": len(destinations),
        "profiles": out,
    }


# --------------------------------------------------------------------------------------
# The transit section of a scenario report
# --------------------------------------------------------------------------------------

#: JSON Schema of ``options.transit`` in a scenario file (how transit is measured).
TRANSIT_OPTIONS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "How transit travel times are measured (defaults: the first Monday of the "
    "feed's calendar at 07:00, a 2-hour window every 5 minutes, at most 50 origins).",
    "properties": {
        "departure": {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$",
            "description": "first departure moment, local time of the feed",
        },
        "window_s": {"type": "integer", "minimum": 0, "maximum": 86400, "default": 7200},
        "step_s": {"type": "integer", "minimum": 30, "maximum": 3600, "default": 300},
        "max_origins": {"type": "integer", "minimum": 1, "maximum": 5000, "default": 50},
        "percentiles": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"type": "integer", "minimum": 1, "maximum": 100},
        },
    },
}

DEFAULT_TRANSIT_OPTIONS = {"window_s": 7200, "step_s": 300, "max_origins": 50,
                           "percentiles": [10, 50, 90]}  # fmt: skip


def default_departure(planner: TransitPlanner) -> dt.datetime:
    """07:00 on the first Monday of the feed's calendar (today's Monday without one)."""
    span = planner.service_dates()
    day = span[0] if span else dt.date.today()
    day += dt.timedelta(days=(7 - day.weekday()) % 7)
    return dt.datetime.combine(day, dt.time(7, 0))


def spread(n: int, keep: int) -> np.ndarray:
    """``keep`` indices of ``range(n)`` evenly spread, first and last included."""
    if n <= keep:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, keep).round().astype(np.int64))


def transit_section(
    planner: TransitPlanner,
    edits: Sequence[TransitEdit],
    points: Sequence[LatLon],
    profiles: Sequence[Profile],
    *,
    options: Mapping[str, Any] | None = None,
    street_router: Any = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """The ``transit`` section of a scenario report.

    Parameters
    ----------
    planner
        The base transit planner.
    edits
        The scenario's transit edits (may be empty).
    points
        Candidate origins (e.g. grid cell centres); at most ``options.max_origins`` of them,
        evenly spread, are both the origins and the destinations.
    profiles
        Profiles to measure.
    options
        ``options.transit`` of the scenario (:data:`TRANSIT_OPTIONS_SCHEMA`).
    street_router
        A :class:`~routing.router.StreetRouter` on the edited streets, when the scenario
        edits them: the "after" journeys then walk on the edited streets too.
    """
    opts = {**DEFAULT_TRANSIT_OPTIONS, **dict(options or {})}
    start = (dt.datetime.fromisoformat(opts["departure"]) if opts.get("departure")
             else default_departure(planner))  # fmt: skip
    window = DepartureWindow(start, int(opts["window_s"]), int(opts["step_s"]))
    chosen = spread(len(points), int(opts["max_origins"]))
    sample = [(float(points[i][0]), float(points[i][1])) for i in chosen]
    edited = apply_transit_edits(planner, edits)
    if street_router is not None:
        edited = edited.with_changes(router=street_router)
    added_stops = len(edited.feed.stop_ids) - len(planner.feed.stop_ids)
    qs = tuple(opts["percentiles"])
    figures = transit_metrics(planner, edited, sample, sample, profiles, window,
                              percentiles=qs, skip_same_index=True,
                              progress=progress)  # fmt: skip
    return {
        "options": {**opts, "departure": start.isoformat()},
        "edits": [e.to_dict() for e in edits],
        "feed_changes": {
            "stops_added": added_stops,
            "routes_added": len(edited.feed.routes) - len(planner.feed.routes),
            "trips_added": len(edited.feed.trip_ids) - len(planner.feed.trip_ids),
        },
        "points": [[round(lat, 6), round(lon, 6)] for lat, lon in sample],
        **figures,
    }
