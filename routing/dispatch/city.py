"""A city day (bookings and vehicles with coordinates) -> :class:`DispatchProblem`.

A *day* is plain data (JSON-ready)::

    {"bookings": [{"id": "b1", "pickup": [lat, lon], "dropoff": [lat, lon],
                   "earliest_pickup": "09:10" | "latest_arrival": "10:00",
                   "passengers": {"wheelchair": 1, "escort": 1}, "priority": 2,
                   "max_ride_s": null, "profile": "wheelchair_manual"}, ...],
     "vehicles": [{"id": "v1", "depot": [lat, lon], "shift": ["07:00", "19:00"],
                   "wheelchair_places": 2, "seats": 3,
                   "breaks": [{"earliest": "12:00", "latest": "13:30", "minutes": 30}]}, ...]}

Times are seconds after midnight or ``"HH:MM"`` (local time). Places are snapped to the
kerb (:meth:`CarNetwork.snap`); travel times are the car network's free-flow times times
the time-of-day factor of the day's busiest hour (:func:`period_factor`), so a plan holds
in every hour of it (conservative: off-peak legs get slack).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from routing import clock
from routing.dispatch.carnet import CarNetwork, Kerb, period_factor
from routing.dispatch.model import KIND_NEEDS, Break, DispatchProblem, Vehicle, city_booking
from routing.errors import InvalidInputError


def parse_clock(value: Any, field: str) -> float:
    """Seconds after midnight from a number or ``"HH:MM"`` / ``"HH:MM:SS"``."""
    if isinstance(value, bool):
        raise InvalidInputError(f"{field} must be a time", field=field)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        try:
            seconds = float(clock.parse_clock(value.strip()))
        except ValueError:
            raise InvalidInputError(f"{field} must be HH:MM", field=field) from None
    else:
        raise InvalidInputError(f"{field} must be a time", field=field)
    if not 0 <= seconds <= 2 * 86400:
        raise InvalidInputError(f"{field} is outside the day", field=field)
    return seconds


def format_clock(seconds: float) -> str:
    """``HH:MM:SS`` of seconds after midnight, rounded to the second."""
    return clock.format_time(round(seconds))


def _point(value: Any, field: str) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"{field} must be [lat, lon]", field=field) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InvalidInputError(f"{field} is not a WGS84 [lat, lon]", field=field)
    return lat, lon


@dataclass(frozen=True)
class CityProblem:
    """The problem and what it was made from (for GeoJSON, storage and substitution)."""

    problem: DispatchProblem
    kerbs: tuple[Kerb, ...]
    points: tuple[tuple[float, float], ...]  # the doors, as given
    factor: float
    day: Mapping[str, Any]


def build_city_problem(
    day: Mapping[str, Any], network: CarNetwork, *, factor: float | None = None
) -> CityProblem:
    """Snap the day's places, compute the matrices and build the bookings and vehicles."""
    bookings_in: Sequence[Mapping[str, Any]] = day.get("bookings") or []
    vehicles_in: Sequence[Mapping[str, Any]] = day.get("vehicles") or []
    if not vehicles_in:
        raise InvalidInputError("a day needs at least one vehicle", field="vehicles")
    points: list[tuple[float, float]] = []
    index: dict[tuple[float, float], int] = {}

    def place(value: Any, field: str) -> int:
        point = _point(value, field)
        if point not in index:
            index[point] = len(points)
            points.append(point)
        return index[point]

    vehicle_rows = []
    for k, v in enumerate(vehicles_in):
        f = f"vehicles[{k}]"
        shift = v.get("shift") or [None, None]
        start_s = parse_clock(shift[0], f"{f}.shift")
        end_s = parse_clock(shift[1], f"{f}.shift")
        if end_s <= start_s:
            raise InvalidInputError(f"{f}.shift ends before it starts", field=f"{f}.shift")
        vehicle_rows.append(
            (
                str(v.get("id", f"v{k + 1}")),
                place(v.get("depot"), f"{f}.depot"),
                (start_s, end_s),
                int(v.get("wheelchair_places", 0)),
                int(v.get("seats", 0)),
                parse_breaks(v.get("breaks"), f"{f}.breaks"),
            )
        )
    booking_rows = []
    for k, b in enumerate(bookings_in):
        f = f"bookings[{k}]"
        booking_rows.append(
            (b, place(b.get("pickup"), f"{f}.pickup"), place(b.get("dropoff"), f"{f}.dropoff"), f)
        )
    kerbs = network.snap(points)
    hours = [r[2] for r in vehicle_rows]
    if factor is None:
        factor = period_factor(min(h[0] for h in hours), max(h[1] for h in hours))
    travel, distance = network.matrices(kerbs, factor=factor)

    bookings = []
    for b, pickup, dropoff, f in booking_rows:
        passengers = b.get("passengers") or {}
        if not isinstance(passengers, Mapping):
            raise InvalidInputError(f"{f}.passengers must be an object", field=f"{f}.passengers")
        earliest = b.get("earliest_pickup")
        latest = b.get("latest_arrival")
        max_ride = b.get("max_ride_s")
        bookings.append(
            city_booking(
                str(b.get("id", f"b{len(bookings) + 1}")),
                pickup,
                dropoff,
                float(travel[pickup, dropoff]),
                {str(kind): int(n) for kind, n in passengers.items()},
                earliest_pickup=None
                if earliest is None
                else parse_clock(earliest, f"{f}.earliest_pickup"),
                latest_arrival=None
                if latest is None
                else parse_clock(latest, f"{f}.latest_arrival"),
                max_ride=None if max_ride is None else float(max_ride),
                priority=int(b.get("priority", 1)),
                profile=b.get("profile"),
            )
        )
    vehicles = tuple(
        Vehicle(
            id=vid,
            start=depot,
            end=depot,
            shift=shift,
            capacity={"wheelchair": wc, "seat": seats},
            breaks=breaks,
        )
        for vid, depot, shift, wc, seats, breaks in vehicle_rows
    )
    problem = DispatchProblem(
        bookings=tuple(bookings),
        vehicles=vehicles,
        travel_time=travel,
        distance=distance,
        coordinates=tuple(points),
        name=str(day.get("name", "day")),
    )
    return CityProblem(problem, tuple(kerbs), tuple(points), factor, day)


def _count(value: Any, field: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidInputError(f"{field} must be an integer >= {minimum}", field=field)
    return value


def check_booking(row: Any) -> dict[str, Any]:
    """A booking row checked as :func:`build_city_problem` will read it (400 names the field)."""
    if not isinstance(row, Mapping):
        raise InvalidInputError("a booking must be an object", field="booking")
    if not isinstance(row.get("id"), str) or not 1 <= len(row["id"]) <= 64:
        raise InvalidInputError("id must be a string of 1 to 64 characters", field="id")
    _point(row.get("pickup"), "pickup")
    _point(row.get("dropoff"), "dropoff")
    passengers = row.get("passengers")
    if not isinstance(passengers, Mapping) or not passengers:
        raise InvalidInputError("passengers must be an object of counts", field="passengers")
    for kind, n in passengers.items():
        if kind not in KIND_NEEDS:
            raise InvalidInputError(
                f"unknown passenger kind {kind!r} (wheelchair, ambulant, escort)",
                field="passengers",
            )
        _count(n, f"passengers.{kind}")
    if not any(passengers.values()):
        raise InvalidInputError("a booking needs at least one passenger", field="passengers")
    has_pickup, has_arrival = "earliest_pickup" in row, "latest_arrival" in row
    if has_pickup == has_arrival:
        raise InvalidInputError(
            "give exactly one of earliest_pickup and latest_arrival", field="earliest_pickup"
        )
    key = "earliest_pickup" if has_pickup else "latest_arrival"
    parse_clock(row[key], key)
    if "priority" in row:
        _count(row["priority"], "priority", minimum=1)
    if row.get("max_ride_s") is not None:
        value = row["max_ride_s"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 86400:
            raise InvalidInputError("max_ride_s must be seconds in (0, 86400]", field="max_ride_s")
    return dict(row)


def check_vehicle(row: Any) -> dict[str, Any]:
    """A vehicle row checked as :func:`build_city_problem` will read it."""
    if not isinstance(row, Mapping):
        raise InvalidInputError("a vehicle must be an object", field="vehicle")
    if not isinstance(row.get("id"), str) or not 1 <= len(row["id"]) <= 64:
        raise InvalidInputError("id must be a string of 1 to 64 characters", field="id")
    _point(row.get("depot"), "depot")
    shift = row.get("shift")
    if not isinstance(shift, list | tuple) or len(shift) != 2:
        raise InvalidInputError("shift must be [start, end]", field="shift")
    if parse_clock(shift[1], "shift") <= parse_clock(shift[0], "shift"):
        raise InvalidInputError("shift ends before it starts", field="shift")
    parse_breaks(row.get("breaks"), "breaks")
    wheelchair = _count(row.get("wheelchair_places", 0), "wheelchair_places")
    seats = _count(row.get("seats", 0), "seats")
    if wheelchair + seats == 0:
        raise InvalidInputError("a vehicle needs places", field="seats")
    return dict(row)


def parse_breaks(value: Any, field: str) -> tuple[Break, ...]:
    """``[{"earliest": "12:00", "latest": "13:30", "minutes": 30}, ...]``: each break starts
    between ``earliest`` and ``latest`` and lasts ``minutes``."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise InvalidInputError(f"{field} must be a list", field=field)
    out = []
    for n, row in enumerate(value):
        f = f"{field}[{n}]"
        if not isinstance(row, Mapping):
            raise InvalidInputError(f"{f} must be an object", field=f)
        earliest = parse_clock(row.get("earliest"), f"{f}.earliest")
        latest = parse_clock(row.get("latest"), f"{f}.latest")
        minutes = row.get("minutes")
        number = isinstance(minutes, int | float) and not isinstance(minutes, bool)
        if not number or not 0 < minutes <= 720:
            raise InvalidInputError(f"{f}.minutes must be in (0, 720]", field=f"{f}.minutes")
        if latest < earliest:
            raise InvalidInputError(f"{f}.latest is before earliest", field=f"{f}.latest")
        out.append(Break(earliest, latest, 60.0 * float(minutes)))
    return tuple(out)
