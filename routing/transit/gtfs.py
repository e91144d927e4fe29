"""GTFS feeds: read a feed (zip file or folder) into an immutable :class:`Feed`.

Every file is read with the stdlib ``csv`` module and checked against the GTFS reference
(https://gtfs.org/schedule/reference/) as it is read: required files and fields, value
formats, and references between files. A broken feed raises :class:`GtfsError` whose
message starts with the file and line (the header is line 1), e.g.::

    stop_times.txt line 57: departure_time '8:6x:00' is not HH:MM:SS

and whose ``path``, ``line`` and ``field`` attributes say the same for programs.

Small tables are dicts of frozen dataclasses keyed by id (in file order); ``stop_times``
(the one large table) is columnar numpy arrays, sorted by trip then ``stop_sequence``.
The feed is read as written: missing intermediate times stay :data:`NO_TIME` and
frequencies stay templates; :mod:`routing.transit.timetable` interpolates and expands.
Only ``wheelchair_boarding`` / ``wheelchair_accessible`` are converted as they are read,
from GTFS's numbers to the engine's :mod:`routing.tristate` codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import IO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np

from routing.clock import format_time, parse_time
from routing.errors import GtfsError
from routing.tristate import NO, UNKNOWN, YES

#: Value of an empty ``arrival_time`` / ``departure_time`` in :class:`StopTimes`.
NO_TIME = -1

#: GTFS's number for each :mod:`routing.tristate` code in ``wheelchair_boarding`` and
#: ``wheelchair_accessible`` (0 unknown, 1 yes, 2 no), and back. Only reading and writing
#: GTFS files uses these numbers: a :class:`Feed` holds tristate codes.
ACCESSIBILITY_TO_GTFS = MappingProxyType({UNKNOWN: 0, YES: 1, NO: 2})
ACCESSIBILITY_FROM_GTFS = MappingProxyType({n: code for code, n in ACCESSIBILITY_TO_GTFS.items()})

#: ``location_type`` values.
STOP_OR_PLATFORM, STATION, ENTRANCE, GENERIC_NODE, BOARDING_AREA = 0, 1, 2, 3, 4

#: ``pickup_type`` / ``drop_off_type`` value meaning "not available at this stop".
NO_PICKUP_OR_DROP_OFF = 1

#: ``transfer_type`` values.
TRANSFER_RECOMMENDED, TRANSFER_TIMED, TRANSFER_MIN_TIME, TRANSFER_NOT_POSSIBLE = 0, 1, 2, 3
TRANSFER_IN_SEAT, TRANSFER_IN_SEAT_NOT_ALLOWED = 4, 5

REQUIRED_FILES = ("agency.txt", "stops.txt", "routes.txt", "trips.txt", "stop_times.txt")

_DATE_RE = re.compile(r"^\d{8}$")
# Basic route types plus the Google "extended" ones (100..1799) that many feeds use.
_ROUTE_TYPES = frozenset(range(0, 8)) | {11, 12} | frozenset(range(100, 1800))
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Agency:
    """One row of ``agency.txt``; ``agency_id`` is "" when the feed has a single agency."""

    agency_id: str
    agency_name: str
    agency_url: str
    agency_timezone: str
    agency_lang: str = ""
    agency_phone: str = ""


@dataclass(frozen=True)
class Stop:
    """One row of ``stops.txt`` (stops, platforms, stations, entrances, nodes).

    ``stop_lat``/``stop_lon`` are NaN for generic nodes and boarding areas that omit them;
    ``parent_station`` is "" when there is none.
    """

    stop_id: str
    stop_name: str
    stop_lat: float
    stop_lon: float
    location_type: int = STOP_OR_PLATFORM
    parent_station: str = ""
    wheelchair_boarding: int = UNKNOWN
    stop_code: str = ""
    stop_desc: str = ""
    platform_code: str = ""
    level_id: str = ""


@dataclass(frozen=True)
class Route:
    """One row of ``routes.txt``."""

    route_id: str
    agency_id: str
    route_short_name: str
    route_long_name: str
    route_type: int
    route_color: str = ""
    route_text_color: str = ""
    route_desc: str = ""


@dataclass(frozen=True)
class Trip:
    """One row of ``trips.txt``; ``direction_id`` is None when empty."""

    trip_id: str
    route_id: str
    service_id: str
    trip_headsign: str = ""
    trip_short_name: str = ""
    direction_id: int | None = None
    block_id: str = ""
    shape_id: str = ""
    wheelchair_accessible: int = UNKNOWN


@dataclass(frozen=True)
class Calendar:
    """One row of ``calendar.txt``; ``weekdays[0]`` is Monday."""

    service_id: str
    weekdays: tuple[bool, bool, bool, bool, bool, bool, bool]
    start_date: dt.date
    end_date: dt.date


@dataclass(frozen=True)
class CalendarDate:
    """One row of ``calendar_dates.txt``: ``exception_type`` 1 adds, 2 removes service."""

    service_id: str
    date: dt.date
    exception_type: int


@dataclass(frozen=True)
class Frequency:
    """One row of ``frequencies.txt``; times in seconds of the service day."""

    trip_id: str
    start_time: int
    end_time: int
    headway_secs: int
    exact_times: int = 0


@dataclass(frozen=True)
class Transfer:
    """One row of ``transfers.txt``; absent ids are "", absent ``min_transfer_time`` None."""

    from_stop_id: str
    to_stop_id: str
    transfer_type: int
    min_transfer_time: int | None = None
    from_route_id: str = ""
    to_route_id: str = ""
    from_trip_id: str = ""
    to_trip_id: str = ""


@dataclass(frozen=True, eq=False)
class Shape:
    """The points of one shape in ``shape_pt_sequence`` order (read-only arrays)."""

    shape_id: str
    lat: np.ndarray
    lon: np.ndarray
    dist_traveled: np.ndarray  # NaN where shape_dist_traveled is empty


@dataclass(frozen=True, eq=False)
class StopTimes:
    """``stop_times.txt`` as read-only columns, sorted by trip then ``stop_sequence``.

    Attributes
    ----------
    trip
        Index into :attr:`Feed.trip_ids` of each row (int32).
    stop
        Index into :attr:`Feed.stop_ids` of each row (int32).
    stop_sequence
        As in the file (int64).
    arrival, departure
        Seconds after the service day's "noon minus 12h" (int32); :data:`NO_TIME` if empty.
    pickup_type, drop_off_type
        0 regular, 1 none, 2 phone agency, 3 ask the driver (int8).
    shape_dist_traveled
        float64, NaN if empty.
    line
        Line of each row in ``stop_times.txt`` (int64), for messages about it.
    trip_ptr
        Rows of trip ``i`` are ``trip_ptr[i]:trip_ptr[i + 1]`` (length ``n_trips + 1``).
    """

    trip: np.ndarray
    stop: np.ndarray
    stop_sequence: np.ndarray
    arrival: np.ndarray
    departure: np.ndarray
    pickup_type: np.ndarray
    drop_off_type: np.ndarray
    shape_dist_traveled: np.ndarray
    line: np.ndarray
    trip_ptr: np.ndarray

    def __len__(self) -> int:
        return len(self.trip)

    def rows_of(self, trip_index: int) -> slice:
        """The rows of one trip (by its index in :attr:`Feed.trip_ids`)."""
        return slice(int(self.trip_ptr[trip_index]), int(self.trip_ptr[trip_index + 1]))


@dataclass(frozen=True, eq=False)
class Feed:
    """A validated GTFS feed. Mappings are read-only and keep file order.

    Attributes
    ----------
    path
        Where the feed was read from (folder or zip).
    agencies, stops, routes, trips, calendars, shapes
        Records keyed by their id.
    stop_ids, trip_ids
        Ids in file order; :class:`StopTimes` refers to stops and trips by position here.
    stop_index, trip_index
        Id -> position in ``stop_ids`` / ``trip_ids``.
    stop_times
        The columnar stop times.
    calendar_dates, frequencies, transfers
        Rows in file order.
    files
        Names of the ``.txt`` files the feed holds.
    """

    path: str
    agencies: Mapping[str, Agency]
    stops: Mapping[str, Stop]
    routes: Mapping[str, Route]
    trips: Mapping[str, Trip]
    stop_times: StopTimes
    calendars: Mapping[str, Calendar]
    calendar_dates: tuple[CalendarDate, ...]
    frequencies: tuple[Frequency, ...]
    transfers: tuple[Transfer, ...]
    shapes: Mapping[str, Shape]
    stop_ids: tuple[str, ...]
    trip_ids: tuple[str, ...]
    stop_index: Mapping[str, int]
    trip_index: Mapping[str, int]
    files: tuple[str, ...]

    @property
    def timezone(self) -> str:
        """The feed's ``agency_timezone``: local time of its times and calendar days.

        The loader checks that there is one, shared by every agency.
        """
        zones = {a.agency_timezone for a in self.agencies.values()}
        if len(zones) != 1:
            raise GtfsError(f"{self.path}: needs one agency_timezone, has {sorted(zones)}",
                            path=self.path, field="agency_timezone")  # fmt: skip
        return zones.pop()

    def frequencies_of(self, trip_id: str) -> tuple[Frequency, ...]:
        """The ``frequencies.txt`` rows of one trip, by start time (empty if scheduled)."""
        return self._frequencies_by_trip.get(trip_id, ())

    @cached_property
    def _frequencies_by_trip(self) -> dict[str, tuple[Frequency, ...]]:
        # cached_property writes the instance __dict__ directly, so frozen does not object.
        grouped: dict[str, list[Frequency]] = {}
        for row in self.frequencies:
            grouped.setdefault(row.trip_id, []).append(row)
        return {k: tuple(sorted(v, key=lambda f: f.start_time)) for k, v in grouped.items()}


# --------------------------------------------------------------------------------------
# Public helpers
# --------------------------------------------------------------------------------------


def active_service_ids(feed: Feed, date: dt.date) -> set[str]:
    """The ``service_id`` values running on ``date`` per calendar and calendar_dates.

    A ``calendar.txt`` row runs on the weekdays it flags between its start and end dates
    (inclusive); a ``calendar_dates.txt`` row with ``exception_type`` 1 adds the service on
    its date and one with 2 removes it, whatever the calendar says.
    """
    weekday = date.weekday()
    active = {
        service_id
        for service_id, cal in feed.calendars.items()
        if cal.start_date <= date <= cal.end_date and cal.weekdays[weekday]
    }
    for exception in feed.calendar_dates:
        if exception.date == date:
            if exception.exception_type == 1:
                active.add(exception.service_id)
            else:
                active.discard(exception.service_id)
    return active


# --------------------------------------------------------------------------------------
# Reading files
# --------------------------------------------------------------------------------------


class _Source:
    """The files of a feed, in a folder or a zip (optionally under one top-level folder)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._zip: zipfile.ZipFile | None = None
        self._members: dict[str, str] = {}
        if path.is_dir():
            self._members = {p.name: p.name for p in path.iterdir() if p.suffix == ".txt"}
        elif path.is_file():
            try:
                self._zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise GtfsError(
                    f"{path}: not a GTFS zip file or folder ({exc})", path=str(path)
                ) from exc
            self._check_members()
            names = [n for n in self._zip.namelist() if n.endswith(".txt")]
            top = {n for n in names if "/" not in n}
            # Some publishers zip the folder, not its contents: accept one common prefix.
            nested = {n.rsplit("/", 1)[-1]: n for n in names if n.count("/") == 1}
            self._members = {n: n for n in top} if top else nested
        else:
            raise GtfsError(f"GTFS feed not found: {path}", path=str(path))

    def _check_members(self) -> None:
        """Read every member once: a damaged one is named now, not misread as bad rows."""
        assert self._zip is not None
        try:
            bad = self._zip.testzip()
        except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:
            raise GtfsError(f"{self.path}: the zip file is damaged ({exc})",
                            path=str(self.path)) from exc  # fmt: skip
        if bad is not None:
            raise GtfsError(f"{self.path}: member {bad} of the zip file is damaged (CRC check "
                            "failed)", path=str(self.path), field=bad)  # fmt: skip

    def has(self, name: str) -> bool:
        return name in self._members

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._members))

    def display(self, name: str) -> str:
        return str(self.path / name)

    def open(self, name: str) -> IO[str]:
        member = self._members[name]
        if self._zip is None:
            return open(self.path / member, encoding="utf-8-sig", newline="")
        return io.TextIOWrapper(self._zip.open(member), encoding="utf-8-sig", newline="")

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


class _Table:
    """Reading one file: the header, then rows with their line numbers."""

    def __init__(self, source: _Source, name: str, required: tuple[str, ...]) -> None:
        self.name = name
        self.display = source.display(name)
        self._handle = source.open(name)
        self._reader = csv.reader(self._handle)
        try:
            header = next(self._reader)
        except StopIteration:
            raise self.error(None, None, "file is empty (no header)") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self.error(1, None, f"cannot read header ({exc})") from exc
        self.header = [h.strip() for h in header]
        self.columns = {h: i for i, h in enumerate(self.header) if h}
        for field in required:
            if field not in self.columns:
                raise self.error(1, field, f"required field '{field}' is missing from the header")

    def error(self, line: int | None, field: str | None, message: str) -> GtfsError:
        where = f"{self.name} line {line}" if line is not None else self.name
        return GtfsError(f"{where}: {message}", path=self.display, line=line, field=field)

    def rows(self) -> Iterator[_Row]:
        """Rows with typed getters; blank lines are skipped."""
        for line, values in self.raw_rows():
            yield _Row(self, line, values)

    def raw_rows(self) -> Iterator[tuple[int, list[str]]]:
        """``(line, values)`` per row: the fast path, used as is for ``stop_times.txt``."""
        width = len(self.header)
        try:
            for values in self._reader:
                if not values or (len(values) == 1 and not values[0].strip()):
                    continue  # blank line
                if len(values) != width:
                    raise self.error(
                        self._reader.line_num,
                        None,
                        f"row has {len(values)} fields but the header has {width}",
                    )
                yield self._reader.line_num, values
        except (csv.Error, UnicodeDecodeError) as exc:
            raise self.error(self._reader.line_num, None, f"cannot read row ({exc})") from exc
        finally:
            self._handle.close()


class _Row:
    """One row; the typed getters raise :class:`GtfsError` naming file, line and field."""

    __slots__ = ("table", "line", "values")

    def __init__(self, table: _Table, line: int, values: list[str]) -> None:
        self.table = table
        self.line = line
        self.values = values

    def error(self, field: str | None, message: str) -> GtfsError:
        return self.table.error(self.line, field, message)

    def text(self, field: str, *, required: bool = False) -> str:
        index = self.table.columns.get(field)
        value = self.values[index].strip() if index is not None else ""
        if required and not value:
            raise self.error(field, f"required field {field} is empty")
        return value

    def integer(
        self,
        field: str,
        *,
        default: int | None = None,
        required: bool = False,
        minimum: int | None = None,
        choices: tuple[int, ...] | frozenset[int] | None = None,
    ) -> int | None:
        value = self.text(field, required=required)
        if not value:
            return default
        try:
            number = int(value)
        except ValueError:
            raise self.error(field, f"{field} '{value}' is not an integer") from None
        if choices is not None and number not in choices:
            if len(choices) > 10:
                raise self.error(field, f"{field} '{value}' is not a valid {field}")
            shown = ", ".join(str(c) for c in sorted(choices))
            raise self.error(field, f"{field} '{value}' is not one of {shown}")
        if minimum is not None and number < minimum:
            raise self.error(field, f"{field} '{value}' is less than {minimum}")
        return number

    def accessibility(self, field: str) -> int:
        """A ``wheelchair_*`` field as a :mod:`routing.tristate` code (empty: unknown)."""
        number = self.integer(field, choices=frozenset(ACCESSIBILITY_FROM_GTFS))
        return UNKNOWN if number is None else ACCESSIBILITY_FROM_GTFS[number]

    def number(
        self, field: str, *, required: bool = False, low: float = -np.inf, high: float = np.inf
    ) -> float:
        value = self.text(field, required=required)
        if not value:
            return float("nan")
        try:
            number = float(value)
        except ValueError:
            raise self.error(field, f"{field} '{value}' is not a number") from None
        if not low <= number <= high:
            raise self.error(field, f"{field} '{value}' is outside [{low:g}, {high:g}]")
        return number

    def time(self, field: str, *, required: bool = False) -> int:
        value = self.text(field, required=required)
        if not value:
            return NO_TIME
        try:
            return parse_time(value)
        except ValueError:
            raise self.error(field, f"{field} '{value}' is not HH:MM:SS") from None

    def date(self, field: str) -> dt.date:
        value = self.text(field, required=True)
        try:
            if not _DATE_RE.match(value):
                raise ValueError
            return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
        except ValueError:
            raise self.error(field, f"{field} '{value}' is not a YYYYMMDD date") from None


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def load_feed(path: str | Path) -> Feed:
    """Read and validate a GTFS feed from a ``.zip`` file or a folder of ``.txt`` files.

    Parameters
    ----------
    path
        The zip file or the folder.

    Returns
    -------
    Feed
        The validated, read-only feed.

    Raises
    ------
    GtfsError
        If a required file or field is missing, a value is malformed, an id is duplicated
        or a reference points at nothing. ``path``, ``line`` and ``field`` say where.
    """
    source = _Source(Path(path))
    try:
        return _load(source)
    finally:
        source.close()


def _require_file(source: _Source, name: str) -> None:
    if not source.has(name):
        raise GtfsError(
            f"{name}: required file is missing from {source.path}", path=source.display(name)
        )


def _load(source: _Source) -> Feed:
    for name in REQUIRED_FILES:
        _require_file(source, name)
    if not (source.has("calendar.txt") or source.has("calendar_dates.txt")):
        raise GtfsError(
            f"calendar.txt: feed {source.path} has neither calendar.txt nor calendar_dates.txt",
            path=source.display("calendar.txt"),
        )
    agencies = _read_agencies(source)
    stops = _read_stops(source)
    routes = _read_routes(source, agencies)
    calendars = _read_calendar(source) if source.has("calendar.txt") else {}
    calendar_dates = _read_calendar_dates(source) if source.has("calendar_dates.txt") else ()
    shapes = _read_shapes(source) if source.has("shapes.txt") else None
    service_ids = set(calendars) | {row.service_id for row in calendar_dates}
    trips = _read_trips(source, routes, service_ids, shapes)
    stop_ids = tuple(stops)
    trip_ids = tuple(trips)
    stop_index = {stop_id: i for i, stop_id in enumerate(stop_ids)}
    trip_index = {trip_id: i for i, trip_id in enumerate(trip_ids)}
    stop_times = _read_stop_times(source, stops, stop_index, trip_index)
    frequencies = _read_frequencies(source, trip_index) if source.has("frequencies.txt") else ()
    transfers = _read_transfers(source, stops, routes, trips) if source.has("transfers.txt") else ()
    return Feed(
        path=str(source.path),
        agencies=MappingProxyType(agencies),
        stops=MappingProxyType(stops),
        routes=MappingProxyType(routes),
        trips=MappingProxyType(trips),
        stop_times=stop_times,
        calendars=MappingProxyType(calendars),
        calendar_dates=tuple(calendar_dates),
        frequencies=tuple(frequencies),
        transfers=tuple(transfers),
        shapes=MappingProxyType(shapes or {}),
        stop_ids=stop_ids,
        trip_ids=trip_ids,
        stop_index=MappingProxyType(stop_index),
        trip_index=MappingProxyType(trip_index),
        files=source.names(),
    )


def _duplicate(row: _Row, field: str, value: str, first_line: int) -> GtfsError:
    return row.error(field, f"{field} '{value}' duplicates line {first_line}")


def _read_agencies(source: _Source) -> dict[str, Agency]:
    table = _Table(source, "agency.txt", ("agency_name", "agency_url", "agency_timezone"))
    agencies: dict[str, Agency] = {}
    lines: dict[str, int] = {}
    for row in table.rows():
        agency_id = row.text("agency_id")
        if agency_id in lines:
            raise _duplicate(row, "agency_id", agency_id, lines[agency_id])
        timezone = row.text("agency_timezone", required=True)
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise row.error(
                "agency_timezone", f"agency_timezone '{timezone}' is not an IANA time zone"
            ) from None
        lines[agency_id] = row.line
        agencies[agency_id] = Agency(
            agency_id=agency_id,
            agency_name=row.text("agency_name", required=True),
            agency_url=row.text("agency_url", required=True),
            agency_timezone=timezone,
            agency_lang=row.text("agency_lang"),
            agency_phone=row.text("agency_phone"),
        )
    if not agencies:
        raise table.error(None, None, "has no agency")
    if len(agencies) > 1 and "" in agencies:
        raise table.error(
            lines[""], "agency_id", "agency_id is required when there are 2+ agencies"
        )
    zones = {a.agency_timezone for a in agencies.values()}
    if len(zones) > 1:
        raise table.error(
            None, "agency_timezone", f"agencies use different time zones {sorted(zones)}"
        )
    return agencies


def _read_stops(source: _Source) -> dict[str, Stop]:
    table = _Table(source, "stops.txt", ("stop_id",))
    stops: dict[str, Stop] = {}
    lines: dict[str, int] = {}
    for row in table.rows():
        stop_id = row.text("stop_id", required=True)
        if stop_id in lines:
            raise _duplicate(row, "stop_id", stop_id, lines[stop_id])
        location_type = row.integer("location_type", default=0, choices=(0, 1, 2, 3, 4))
        located = location_type in (STOP_OR_PLATFORM, STATION, ENTRANCE)
        parent = row.text("parent_station")
        if location_type in (ENTRANCE, GENERIC_NODE, BOARDING_AREA) and not parent:
            raise row.error(
                "parent_station", f"parent_station is required for location_type {location_type}"
            )
        if location_type == STATION and parent:
            raise row.error("parent_station", "a station (location_type 1) has no parent_station")
        lines[stop_id] = row.line
        stops[stop_id] = Stop(
            stop_id=stop_id,
            stop_name=row.text("stop_name", required=located),
            stop_lat=row.number("stop_lat", required=located, low=-90.0, high=90.0),
            stop_lon=row.number("stop_lon", required=located, low=-180.0, high=180.0),
            location_type=location_type,
            parent_station=parent,
            wheelchair_boarding=row.accessibility("wheelchair_boarding"),
            stop_code=row.text("stop_code"),
            stop_desc=row.text("stop_desc"),
            platform_code=row.text("platform_code"),
            level_id=row.text("level_id"),
        )
    # Parents may come after their children in the file: check once all are read.
    for stop in stops.values():
        if not stop.parent_station:
            continue
        line = lines[stop.stop_id]
        parent = stops.get(stop.parent_station)
        if parent is None:
            raise table.error(
                line,
                "parent_station",
                f"parent_station '{stop.parent_station}' is not in stops.txt",
            )
        wanted = STOP_OR_PLATFORM if stop.location_type == BOARDING_AREA else STATION
        if parent.location_type != wanted:
            raise table.error(
                line,
                "parent_station",
                f"parent_station '{parent.stop_id}' has location_type {parent.location_type}, "
                f"expected {wanted}",
            )
    return stops


def _read_routes(source: _Source, agencies: dict[str, Agency]) -> dict[str, Route]:
    table = _Table(source, "routes.txt", ("route_id", "route_type"))
    routes: dict[str, Route] = {}
    lines: dict[str, int] = {}
    single_agency = next(iter(agencies)) if len(agencies) == 1 else None
    for row in table.rows():
        route_id = row.text("route_id", required=True)
        if route_id in lines:
            raise _duplicate(row, "route_id", route_id, lines[route_id])
        agency_id = row.text("agency_id")
        if not agency_id:
            if single_agency is None:
                raise row.error("agency_id", "agency_id is required when there are 2+ agencies")
            agency_id = single_agency
        elif agency_id not in agencies:
            raise row.error("agency_id", f"agency_id '{agency_id}' is not in agency.txt")
        short_name = row.text("route_short_name")
        long_name = row.text("route_long_name")
        if not short_name and not long_name:
            raise row.error(
                "route_short_name", "route_short_name and route_long_name are both empty"
            )
        lines[route_id] = row.line
        routes[route_id] = Route(
            route_id=route_id,
            agency_id=agency_id,
            route_short_name=short_name,
            route_long_name=long_name,
            route_type=row.integer("route_type", required=True, choices=_ROUTE_TYPES),
            route_color=row.text("route_color"),
            route_text_color=row.text("route_text_color"),
            route_desc=row.text("route_desc"),
        )
    return routes


def _read_calendar(source: _Source) -> dict[str, Calendar]:
    table = _Table(source, "calendar.txt", ("service_id", *_WEEKDAYS, "start_date", "end_date"))
    calendars: dict[str, Calendar] = {}
    lines: dict[str, int] = {}
    for row in table.rows():
        service_id = row.text("service_id", required=True)
        if service_id in lines:
            raise _duplicate(row, "service_id", service_id, lines[service_id])
        flags = tuple(bool(row.integer(day, required=True, choices=(0, 1))) for day in _WEEKDAYS)
        start, end = row.date("start_date"), row.date("end_date")
        if end < start:
            raise row.error(
                "end_date", f"end_date {end:%Y%m%d} is before start_date {start:%Y%m%d}"
            )
        lines[service_id] = row.line
        calendars[service_id] = Calendar(service_id, flags, start, end)  # type: ignore[arg-type]
    return calendars


def _read_calendar_dates(source: _Source) -> list[CalendarDate]:
    table = _Table(source, "calendar_dates.txt", ("service_id", "date", "exception_type"))
    rows: list[CalendarDate] = []
    lines: dict[tuple[str, dt.date], int] = {}
    for row in table.rows():
        service_id = row.text("service_id", required=True)
        date = row.date("date")
        kind = row.integer("exception_type", required=True, choices=(1, 2))
        if (service_id, date) in lines:
            raise _duplicate(row, "date", f"{date:%Y%m%d}", lines[(service_id, date)])
        lines[(service_id, date)] = row.line
        rows.append(CalendarDate(service_id, date, kind))  # type: ignore[arg-type]
    return rows


def _read_shapes(source: _Source) -> dict[str, Shape]:
    table = _Table(
        source,
        "shapes.txt",
        ("shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"),
    )
    points: dict[str, list[tuple[int, float, float, float, int]]] = {}
    for row in table.rows():
        points.setdefault(row.text("shape_id", required=True), []).append(
            (
                row.integer("shape_pt_sequence", required=True, minimum=0),  # type: ignore[arg-type]
                row.number("shape_pt_lat", required=True, low=-90.0, high=90.0),
                row.number("shape_pt_lon", required=True, low=-180.0, high=180.0),
                row.number("shape_dist_traveled", low=0.0),
                row.line,
            )
        )
    shapes: dict[str, Shape] = {}
    for shape_id, rows in points.items():
        rows.sort()
        for before, after in zip(rows, rows[1:], strict=False):
            if before[0] == after[0]:
                raise table.error(
                    max(before[4], after[4]),
                    "shape_pt_sequence",
                    f"shape_pt_sequence {after[0]} repeats in shape '{shape_id}'",
                )
        shapes[shape_id] = Shape(
            shape_id=shape_id,
            lat=_frozen(np.array([r[1] for r in rows], dtype=np.float64)),
            lon=_frozen(np.array([r[2] for r in rows], dtype=np.float64)),
            dist_traveled=_frozen(np.array([r[3] for r in rows], dtype=np.float64)),
        )
    return shapes


def _read_trips(
    source: _Source,
    routes: dict[str, Route],
    service_ids: set[str],
    shapes: dict[str, Shape] | None,
) -> dict[str, Trip]:
    table = _Table(source, "trips.txt", ("route_id", "service_id", "trip_id"))
    trips: dict[str, Trip] = {}
    lines: dict[str, int] = {}
    for row in table.rows():
        trip_id = row.text("trip_id", required=True)
        if trip_id in lines:
            raise _duplicate(row, "trip_id", trip_id, lines[trip_id])
        route_id = row.text("route_id", required=True)
        if route_id not in routes:
            raise row.error("route_id", f"route_id '{route_id}' is not in routes.txt")
        service_id = row.text("service_id", required=True)
        if service_id not in service_ids:
            raise row.error(
                "service_id",
                f"service_id '{service_id}' is not in calendar.txt or calendar_dates.txt",
            )
        shape_id = row.text("shape_id")
        # Without shapes.txt a shape_id cannot be checked; it is kept as written.
        if shape_id and shapes is not None and shape_id not in shapes:
            raise row.error("shape_id", f"shape_id '{shape_id}' is not in shapes.txt")
        lines[trip_id] = row.line
        trips[trip_id] = Trip(
            trip_id=trip_id,
            route_id=route_id,
            service_id=service_id,
            trip_headsign=row.text("trip_headsign"),
            trip_short_name=row.text("trip_short_name"),
            direction_id=row.integer("direction_id", choices=(0, 1)),
            block_id=row.text("block_id"),
            shape_id=shape_id,
            wheelchair_accessible=row.accessibility("wheelchair_accessible"),
        )
    return trips


def _read_stop_times(
    source: _Source,
    stops: dict[str, Stop],
    stop_index: dict[str, int],
    trip_index: dict[str, int],
) -> StopTimes:
    name = "stop_times.txt"
    table = _Table(source, name, ("trip_id", "stop_id", "stop_sequence"))
    cols = table.columns
    # Conditionally required (first/last stop of a trip); checked below, not per row.
    for field in ("arrival_time", "departure_time"):
        if field not in cols:
            raise table.error(1, field, f"required field '{field}' is missing from the header")
    i_trip, i_stop, i_seq = cols["trip_id"], cols["stop_id"], cols["stop_sequence"]
    i_arr, i_dep = cols["arrival_time"], cols["departure_time"]
    i_pick, i_drop = cols.get("pickup_type"), cols.get("drop_off_type")
    i_dist = cols.get("shape_dist_traveled")

    trip_col: list[int] = []
    stop_col: list[int] = []
    seq_col: list[int] = []
    arr_col: list[int] = []
    dep_col: list[int] = []
    pick_col: list[int] = []
    drop_col: list[int] = []
    dist_col: list[float] = []
    line_col: list[int] = []
    times: dict[str, int] = {"": NO_TIME}  # the same few thousand strings repeat: parse once
    flags = {"": 0, "0": 0, "1": 1, "2": 2, "3": 3}

    def fail(line: int, field: str, message: str) -> GtfsError:
        return table.error(line, field, message)

    def parse(line: int, field: str, text: str) -> int:
        try:
            times[text] = value = parse_time(text)
        except ValueError:
            raise fail(line, field, f"{field} '{text}' is not HH:MM:SS") from None
        return value

    for line, values in table.raw_rows():
        trip_id = values[i_trip].strip()
        trip = trip_index.get(trip_id)
        if trip is None:
            if not trip_id:
                raise fail(line, "trip_id", "required field trip_id is empty")
            raise fail(line, "trip_id", f"trip_id '{trip_id}' is not in trips.txt")
        stop_id = values[i_stop].strip()
        stop = stop_index.get(stop_id)
        if stop is None:
            if not stop_id:
                raise fail(line, "stop_id", "required field stop_id is empty")
            raise fail(line, "stop_id", f"stop_id '{stop_id}' is not in stops.txt")
        if stops[stop_id].location_type != STOP_OR_PLATFORM:
            raise fail(
                line,
                "stop_id",
                f"stop_id '{stop_id}' has location_type {stops[stop_id].location_type}; "
                "stop_times must use stops or platforms (0)",
            )
        seq_text = values[i_seq].strip()
        if not seq_text.isdigit():
            if not seq_text:
                raise fail(line, "stop_sequence", "required field stop_sequence is empty")
            raise fail(
                line, "stop_sequence", f"stop_sequence '{seq_text}' is not a non-negative integer"
            )
        arr_text = values[i_arr].strip()
        arrival = times.get(arr_text)
        if arrival is None:
            arrival = parse(line, "arrival_time", arr_text)
        dep_text = values[i_dep].strip()
        departure = times.get(dep_text)
        if departure is None:
            departure = parse(line, "departure_time", dep_text)
        pickup = drop_off = 0
        if i_pick is not None:
            pickup = flags.get(values[i_pick].strip(), -1)
            if pickup < 0:
                raise fail(line, "pickup_type", f"pickup_type '{values[i_pick]}' is not 0-3")
        if i_drop is not None:
            drop_off = flags.get(values[i_drop].strip(), -1)
            if drop_off < 0:
                raise fail(line, "drop_off_type", f"drop_off_type '{values[i_drop]}' is not 0-3")
        dist = float("nan")
        if i_dist is not None and values[i_dist].strip():
            try:
                dist = float(values[i_dist])
            except ValueError:
                raise fail(
                    line,
                    "shape_dist_traveled",
                    f"shape_dist_traveled '{values[i_dist]}' is not a number",
                ) from None
        trip_col.append(trip)
        stop_col.append(stop)
        seq_col.append(int(seq_text))
        arr_col.append(arrival)
        dep_col.append(departure)
        pick_col.append(pickup)
        drop_col.append(drop_off)
        dist_col.append(dist)
        line_col.append(line)

    trip_arr = np.array(trip_col, dtype=np.int32)
    seq_arr = np.array(seq_col, dtype=np.int64)
    order = np.lexsort((seq_arr, trip_arr))
    columns = {
        "trip": trip_arr[order],
        "stop": np.array(stop_col, dtype=np.int32)[order],
        "stop_sequence": seq_arr[order],
        "arrival": np.array(arr_col, dtype=np.int32)[order],
        "departure": np.array(dep_col, dtype=np.int32)[order],
        "pickup_type": np.array(pick_col, dtype=np.int8)[order],
        "drop_off_type": np.array(drop_col, dtype=np.int8)[order],
        "shape_dist_traveled": np.array(dist_col, dtype=np.float64)[order],
        "line": np.array(line_col, dtype=np.int64)[order],
    }
    trip_ptr = np.searchsorted(columns["trip"], np.arange(len(trip_index) + 1)).astype(np.int64)
    _check_stop_times(table, columns, trip_ptr)
    return StopTimes(**{k: _frozen(v) for k, v in columns.items()}, trip_ptr=_frozen(trip_ptr))


def _check_stop_times(table: _Table, c: dict[str, np.ndarray], trip_ptr: np.ndarray) -> None:
    """Sequences unique per trip, first/last stops timed, times never running backwards."""
    trip, seq, line = c["trip"], c["stop_sequence"], c["line"]
    arrival, departure = c["arrival"], c["departure"]
    if len(trip) == 0:
        return
    same_trip = trip[1:] == trip[:-1]
    repeated = np.flatnonzero(same_trip & (seq[1:] == seq[:-1]))
    if len(repeated):
        i = int(repeated[0])
        raise table.error(
            int(max(line[i], line[i + 1])),
            "stop_sequence",
            f"stop_sequence {seq[i]} repeats in trip (first at line {min(line[i], line[i + 1])})",
        )
    starts = trip_ptr[:-1][trip_ptr[1:] > trip_ptr[:-1]]
    ends = trip_ptr[1:][trip_ptr[1:] > trip_ptr[:-1]] - 1
    for ends_of_trip, which in ((starts, "first"), (ends, "last")):
        untimed = ends_of_trip[
            (arrival[ends_of_trip] == NO_TIME) & (departure[ends_of_trip] == NO_TIME)
        ]
        if len(untimed):
            i = int(untimed[0])
            raise table.error(
                int(line[i]),
                "arrival_time",
                f"arrival_time and departure_time are empty at the {which} stop of the trip",
            )
    both = (arrival != NO_TIME) & (departure != NO_TIME)
    early = np.flatnonzero(both & (departure < arrival))
    if len(early):
        i = int(early[0])
        raise table.error(
            int(line[i]),
            "departure_time",
            f"departure_time {format_time(departure[i])} is before arrival_time "
            f"{format_time(arrival[i])}",
        )
    # Each row's first known time must not precede the last known time of an earlier row.
    first = np.where(arrival != NO_TIME, arrival, departure)
    last = np.where(departure != NO_TIME, departure, arrival)
    index = np.arange(len(trip))
    known_at = np.maximum.accumulate(np.where(last != NO_TIME, index, -1))
    previous = np.empty_like(known_at)
    previous[0] = -1
    previous[1:] = known_at[:-1]
    row_start = np.repeat(trip_ptr[:-1], np.diff(trip_ptr))
    has_previous = (previous >= row_start) & (first != NO_TIME)
    prev_last = last[np.where(has_previous, previous, 0)]
    backwards = np.flatnonzero(has_previous & (first < prev_last))
    if len(backwards):
        i = int(backwards[0])
        field = "arrival_time" if arrival[i] != NO_TIME else "departure_time"
        raise table.error(
            int(line[i]),
            field,
            f"{field} {format_time(first[i])} is before the previous stop's time "
            f"{format_time(prev_last[i])}",
        )


def _read_frequencies(source: _Source, trip_index: dict[str, int]) -> list[Frequency]:
    table = _Table(source, "frequencies.txt", ("trip_id", "start_time", "end_time", "headway_secs"))
    rows: list[Frequency] = []
    lines: list[int] = []
    for row in table.rows():
        trip_id = row.text("trip_id", required=True)
        if trip_id not in trip_index:
            raise row.error("trip_id", f"trip_id '{trip_id}' is not in trips.txt")
        start = row.time("start_time", required=True)
        end = row.time("end_time", required=True)
        if end <= start:
            raise row.error(
                "end_time",
                f"end_time {format_time(end)} is not after start_time {format_time(start)}",
            )
        headway = row.integer("headway_secs", required=True, minimum=1)
        exact = row.integer("exact_times", default=0, choices=(0, 1))
        rows.append(Frequency(trip_id, start, end, headway, exact))  # type: ignore[arg-type]
        lines.append(row.line)
    # The spec forbids overlapping intervals of one trip (they would double the service).
    order = sorted(range(len(rows)), key=lambda i: (rows[i].trip_id, rows[i].start_time))
    for a, b in zip(order, order[1:], strict=False):
        if rows[a].trip_id == rows[b].trip_id and rows[b].start_time < rows[a].end_time:
            raise table.error(
                lines[b],
                "start_time",
                f"interval of trip '{rows[b].trip_id}' overlaps the one at line {lines[a]}",
            )
    return rows


def _read_transfers(
    source: _Source,
    stops: dict[str, Stop],
    routes: dict[str, Route],
    trips: dict[str, Trip],
) -> list[Transfer]:
    table = _Table(source, "transfers.txt", ())
    rows: list[Transfer] = []
    if "transfer_type" not in table.columns:
        raise table.error(
            1, "transfer_type", "required field 'transfer_type' is missing from the header"
        )
    for row in table.rows():
        kind = row.integer("transfer_type", default=0, choices=(0, 1, 2, 3, 4, 5))
        refs: dict[str, str] = {}
        for field, known, where in (
            ("from_stop_id", stops, "stops.txt"),
            ("to_stop_id", stops, "stops.txt"),
            ("from_route_id", routes, "routes.txt"),
            ("to_route_id", routes, "routes.txt"),
            ("from_trip_id", trips, "trips.txt"),
            ("to_trip_id", trips, "trips.txt"),
        ):
            # Rules 1-3 need both stops and in-seat rules (4, 5) both trips; 0 needs neither.
            needed = (
                field.endswith("stop_id")
                if kind in (1, 2, 3)
                else (kind in (4, 5) and field.endswith("trip_id"))
            )
            value = row.text(field, required=needed)
            if value and value not in known:
                raise row.error(field, f"{field} '{value}' is not in {where}")
            refs[field] = value
        for field in ("from_stop_id", "to_stop_id"):
            stop = stops.get(refs[field])
            if stop is not None and stop.location_type not in (STOP_OR_PLATFORM, STATION):
                raise row.error(
                    field, f"{field} '{stop.stop_id}' is not a stop, platform or station"
                )
        rows.append(
            Transfer(
                from_stop_id=refs["from_stop_id"],
                to_stop_id=refs["to_stop_id"],
                transfer_type=kind,  # type: ignore[arg-type]
                min_transfer_time=row.integer("min_transfer_time", minimum=0),
                from_route_id=refs["from_route_id"],
                to_route_id=refs["to_route_id"],
                from_trip_id=refs["from_trip_id"],
                to_trip_id=refs["to_trip_id"],
            )
        )
    return rows


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
