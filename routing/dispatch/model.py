"""The dispatch model: bookings, vehicles, a problem (with its travel matrices) and a plan.

Units are those of the problem's matrices: seconds and metres for a city day, the
instance's own units for a literature (DARP) instance. Everything here is immutable;
the solver and the validator both read the same :class:`DispatchProblem`.

Passenger kinds
---------------
``wheelchair`` (a wheelchair user, needs a wheelchair place with the lift), ``ambulant``
(a seat) and ``escort`` (a companion, a seat). :data:`KIND_NEEDS` maps a kind to the
capacity it uses, so a vehicle's capacity is per place kind: ``wheelchair`` places and
``seat`` places. A literature instance uses the single place kind ``seat``.

Documented defaults (city bookings)
-----------------------------------
- Service time at a stop: :data:`BOARDING_S` per passenger of each kind (lift boarding of a
  wheelchair user 180 s, an ambulant passenger 60 s, an escort 30 s), the same on
  alighting, plus :data:`STOP_OVERHEAD_S` (60 s: park, open, close).
- Maximum ride time: ``RIDE_FACTOR * direct + RIDE_EXTRA_S`` (1.5 x the direct car time plus
  15 minutes), the rule of thumb of paratransit services (ride at most about the direct time
  plus a bounded detour).
- Time windows: a booking gives an earliest pickup (the window is ``[t, t + PICKUP_WINDOW_S]``,
  20 minutes) or a latest arrival (the drop-off window is ``[t - ARRIVAL_WINDOW_S, t]``,
  30 minutes early at most; the pickup window then follows from the ride-time limit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from routing.errors import InvalidInputError

#: Passenger kind -> the place kind it occupies in a vehicle.
KIND_NEEDS: Mapping[str, str] = {"wheelchair": "wheelchair", "ambulant": "seat", "escort": "seat"}
PLACE_KINDS: tuple[str, ...] = ("wheelchair", "seat")

#: Seconds to board (and again to alight) per passenger of each kind.
BOARDING_S: Mapping[str, float] = {"wheelchair": 180.0, "ambulant": 60.0, "escort": 30.0}
STOP_OVERHEAD_S = 60.0
RIDE_FACTOR = 1.5
RIDE_EXTRA_S = 900.0
PICKUP_WINDOW_S = 1200.0
ARRIVAL_WINDOW_S = 1800.0


def service_time(passengers: Mapping[str, int]) -> float:
    """Seconds a stop takes for boarding (or alighting) ``passengers`` (kind -> count)."""
    return STOP_OVERHEAD_S + sum(BOARDING_S[kind] * n for kind, n in passengers.items())


def default_max_ride(direct: float) -> float:
    """The documented default maximum ride time for a trip whose direct time is ``direct``."""
    return RIDE_FACTOR * direct + RIDE_EXTRA_S


def places_needed(passengers: Mapping[str, int]) -> dict[str, int]:
    """Place kind -> count for a party of ``passengers`` (kind -> count)."""
    needs: dict[str, int] = {}
    for kind, count in passengers.items():
        if kind not in KIND_NEEDS:
            raise InvalidInputError(f"unknown passenger kind {kind!r}", field="passengers")
        if count < 0:
            raise InvalidInputError("passenger counts must be >= 0", field="passengers")
        needs[KIND_NEEDS[kind]] = needs.get(KIND_NEEDS[kind], 0) + int(count)
    return needs


@dataclass(frozen=True)
class Booking:
    """One door-to-door trip request.

    ``pickup`` and ``dropoff`` are location indices into the problem's matrices.
    ``load`` is place kind -> count (see :func:`places_needed`). ``max_ride`` bounds the time
    from the end of boarding to the start of alighting (Cordeau's definition). ``priority``
    (>= 1) scales the prize for serving an optional booking; ``mandatory`` bookings must be
    served or the solve fails.
    """

    id: str
    pickup: int
    dropoff: int
    pickup_window: tuple[float, float]
    dropoff_window: tuple[float, float]
    pickup_service: float
    dropoff_service: float
    max_ride: float
    load: Mapping[str, int]
    priority: int = 1
    mandatory: bool = False
    passengers: Mapping[str, int] = field(default_factory=dict)
    profile: str | None = None


@dataclass(frozen=True)
class Break:
    """A driver's break: ``duration`` off work, starting between ``earliest`` and ``latest``.

    During a break the vehicle neither drives nor serves a stop: it is taken before the
    vehicle leaves, between two stops (the drive still fits around it) or after it is back.
    """

    earliest: float
    latest: float
    duration: float


@dataclass(frozen=True)
class Vehicle:
    """A vehicle: where it starts and ends, its shift, its places per kind and its breaks."""

    id: str
    start: int
    end: int
    shift: tuple[float, float]
    capacity: Mapping[str, int]
    max_duration: float | None = None
    breaks: tuple[Break, ...] = ()


@dataclass(frozen=True)
class DispatchProblem:
    """Bookings, vehicles and the travel-time and distance matrices between locations.

    ``coordinates`` are (lat, lon) for a city problem or (x, y) for a literature instance;
    ``travel_time[i, j]`` and ``distance[i, j]`` are between location indices.
    """

    bookings: tuple[Booking, ...]
    vehicles: tuple[Vehicle, ...]
    travel_time: np.ndarray
    distance: np.ndarray
    coordinates: tuple[tuple[float, float], ...]
    place_kinds: tuple[str, ...] = PLACE_KINDS
    name: str = "dispatch"
    time_unit: str = "s"
    distance_unit: str = "m"

    def __post_init__(self) -> None:
        n = len(self.coordinates)
        for name in ("travel_time", "distance"):
            matrix = getattr(self, name)
            if matrix.shape != (n, n):
                raise InvalidInputError(f"{name} must be {n} x {n}", field=name)
            if not np.all(np.isfinite(matrix)):
                raise InvalidInputError(f"{name} has unreachable pairs", field=name)
        seen: set[str] = set()
        for booking in self.bookings:
            if booking.id in seen:
                raise InvalidInputError(f"duplicate booking id {booking.id!r}", field="bookings")
            seen.add(booking.id)
            for loc in (booking.pickup, booking.dropoff):
                if not 0 <= loc < n:
                    raise InvalidInputError(f"booking {booking.id}: bad location", field="bookings")
        vehicle_ids = [v.id for v in self.vehicles]
        if len(set(vehicle_ids)) != len(vehicle_ids):
            raise InvalidInputError("duplicate vehicle id", field="vehicles")

    def booking(self, booking_id: str) -> Booking:
        for booking in self.bookings:
            if booking.id == booking_id:
                return booking
        raise KeyError(booking_id)

    def direct_time(self, booking: Booking) -> float:
        return float(self.travel_time[booking.pickup, booking.dropoff])


# -- plans ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stop:
    """A stop of a route: the booking served, pickup or drop-off, and its times.

    ``arrival`` <= ``start`` (service start, after waiting) and ``departure`` = ``start`` +
    service. ``load`` is the vehicle's load by place kind when it leaves the stop.
    """

    booking_id: str
    action: str  # "pickup" | "dropoff"
    location: int
    arrival: float
    start: float
    departure: float
    load: Mapping[str, int]


@dataclass(frozen=True)
class VehicleRoute:
    """A vehicle's day: leave the start at ``start_time``, the stops, back at ``end_time``."""

    vehicle_id: str
    start_time: float
    end_time: float
    stops: tuple[Stop, ...]
    distance: float
    breaks: tuple[tuple[float, float], ...] = ()  # (start, end) of each of the vehicle's breaks


@dataclass(frozen=True)
class Unserved:
    booking_id: str
    reason: str
    message: str


@dataclass(frozen=True)
class Plan:
    """A solver's answer: routes (vehicles with no stop left out), unserved bookings, cost.

    ``cost`` is the total distance driven, as the solver reports it; the validator
    recomputes it from the routes.
    """

    routes: tuple[VehicleRoute, ...]
    unserved: tuple[Unserved, ...]
    cost: float
    status: str = "solved"
    solve_seconds: float = 0.0
    locked: tuple[str, ...] = ()  # booking ids whose stops were locked when re-planning

    def route_of(self, vehicle_id: str) -> VehicleRoute | None:
        for route in self.routes:
            if route.vehicle_id == vehicle_id:
                return route
        return None

    def served_ids(self) -> list[str]:
        return [s.booking_id for r in self.routes for s in r.stops if s.action == "pickup"]


def route_distance(problem: DispatchProblem, vehicle: Vehicle, stops: Sequence[Stop]) -> float:
    """Distance driven from the vehicle's start through ``stops`` and back to its end."""
    locations = [vehicle.start, *(s.location for s in stops), vehicle.end]
    return float(
        sum(problem.distance[a, b] for a, b in zip(locations, locations[1:], strict=False))
    )


def city_booking(
    booking_id: str,
    pickup: int,
    dropoff: int,
    direct: float,
    passengers: Mapping[str, int],
    *,
    earliest_pickup: float | None = None,
    latest_arrival: float | None = None,
    max_ride: float | None = None,
    priority: int = 1,
    profile: str | None = None,
) -> Booking:
    """A city :class:`Booking` from what a passenger books, with the documented defaults."""
    if (earliest_pickup is None) == (latest_arrival is None):
        raise InvalidInputError(
            "give exactly one of earliest_pickup and latest_arrival", field="earliest_pickup"
        )
    if not any(passengers.values()):
        raise InvalidInputError("a booking needs at least one passenger", field="passengers")
    if priority < 1:
        raise InvalidInputError("priority must be >= 1", field="priority")
    pickup_service = service_time(passengers)
    ride = default_max_ride(direct) if max_ride is None else float(max_ride)
    if ride < direct:
        raise InvalidInputError("max_ride is shorter than the direct trip", field="max_ride")
    if earliest_pickup is not None:
        start = float(earliest_pickup)
        pickup_window = (start, start + PICKUP_WINDOW_S)
        dropoff_window = (start + pickup_service + direct, pickup_window[1] + pickup_service + ride)
    else:
        end = float(latest_arrival)
        dropoff_window = (end - ARRIVAL_WINDOW_S, end)
        pickup_window = (
            max(0.0, dropoff_window[0] - ride - pickup_service),
            end - direct - pickup_service,
        )
    return Booking(
        id=booking_id,
        pickup=pickup,
        dropoff=dropoff,
        pickup_window=pickup_window,
        dropoff_window=dropoff_window,
        pickup_service=pickup_service,
        dropoff_service=pickup_service,
        max_ride=ride,
        load=places_needed(passengers),
        priority=priority,
        passengers=dict(passengers),
        profile=profile,
    )


def euclidean_matrix(points: Sequence[tuple[float, float]]) -> np.ndarray:
    """Pairwise Euclidean distances (literature instances: travel time = distance)."""
    xy = np.asarray(points, dtype=float)
    return np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
