"""Which bookings an accessible public-transport journey could serve instead of a vehicle.

For each booking the journey planner (:meth:`routing.transit.planner.TransitPlanner.plan`,
its public entry point) is asked for journeys for the passenger's profile (the booking's
``profile``, else ``wheelchair_manual`` when a wheelchair user travels, else
``reduced_mobility``), leaving at the start of the booking's pickup window. A journey
*fits* when it rides a bus or the metro (a walk alone is not counted), arrives by the end
of the drop-off window and takes at most :data:`TRANSIT_FACTOR` (2.0) times the direct
taxi time plus :data:`TRANSIT_SLACK_S` (10 minutes, for the walk to a stop that a
door-to-door taxi does not have).

Two answers per booking, both reported: **known accessible** (a journey without any
``unknown_*`` warning: every vehicle, stop and street on it is known to be usable) and
**allowing unknowns** (any journey the profile may take, unknown accessibility included).

Vehicle-hours freed, two figures: a *per-booking estimate* (the vehicle time each
substitutable booking takes in the plan, from the vehicle's arrival at the pickup to its
departure from the drop-off; it counts shared rides once per booking, so it overstates, and
it misses the empty drives and whole vehicles a smaller day saves, so it can also
understate), and the *re-planned* figure of :func:`replanned_hours_freed`: the day planned
again without the substitutable bookings (the same solver and options), the plan's vehicle
time minus the new plan's. Both plans come from a time-limited heuristic search, so part of
the difference can be search noise; ``control=True`` re-plans the whole day too, to show
its size, and the served counts are reported with every figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from routing.cost.profiles import get_profile
from routing.dispatch.city import CityProblem
from routing.dispatch.kpis import plan_kpis
from routing.dispatch.model import Booking, DispatchProblem, Plan
from routing.dispatch.solver import SolveOptions, solve
from routing.dispatch.validator import validate
from routing.errors import RoutingError

TRANSIT_FACTOR = 2.0
TRANSIT_SLACK_S = 600.0


@dataclass(frozen=True)
class Substitution:
    booking_id: str
    profile: str
    taxi_s: float
    known_s: float | None  # fastest fitting known-accessible journey, None if none
    any_s: float | None  # fastest fitting journey allowing unknowns, None if none
    vehicle_s: float  # vehicle time the booking takes in the plan (0 if unserved)
    note: str = ""

    @property
    def known(self) -> bool:
        return self.known_s is not None

    @property
    def with_unknowns(self) -> bool:
        return self.any_s is not None


def _profile_name(booking: Booking) -> str:
    if booking.profile:
        return booking.profile
    return "wheelchair_manual" if booking.passengers.get("wheelchair") else "reduced_mobility"


def _vehicle_time(plan: Plan | None) -> dict[str, float]:
    out: dict[str, float] = {}
    if plan is None:
        return out
    for route in plan.routes:
        arrive: dict[str, float] = {}
        for stop in route.stops:
            if stop.action == "pickup":
                arrive[stop.booking_id] = stop.arrival
            else:
                out[stop.booking_id] = stop.departure - arrive[stop.booking_id]
    return out


def find_substitutions(
    city: CityProblem,
    planner: Any,
    date: dt.date,
    *,
    plan: Plan | None = None,
    tz: str | None = None,
) -> list[Substitution]:
    """One :class:`Substitution` per booking of ``city`` (see the module docstring); the
    bookings' times are local times of ``tz``, by default the planner's (its feed's
    ``agency_timezone``)."""
    problem = city.problem
    busy = _vehicle_time(plan)
    midnight = dt.datetime.combine(date, dt.time(), tzinfo=ZoneInfo(tz or planner.tz))
    out = []
    for booking in problem.bookings:
        name = _profile_name(booking)
        taxi = problem.direct_time(booking)
        limit = TRANSIT_FACTOR * taxi + TRANSIT_SLACK_S
        leave = booking.pickup_window[0]
        when = midnight + dt.timedelta(seconds=leave)
        known_s = any_s = None
        note = ""
        try:
            journeys = planner.plan(
                city.points[booking.pickup], city.points[booking.dropoff], when, get_profile(name)
            ).itineraries
        except RoutingError as exc:  # no route, outside the area: no substitute
            journeys = []
            note = exc.code
        for journey in journeys:
            took = (journey.arrival - journey.departure).total_seconds()
            arrives = (journey.arrival - midnight).total_seconds()
            rides = any(leg.get("mode") not in (None, "walk") for leg in journey.legs)
            if not rides or took > limit or arrives > booking.dropoff_window[1]:
                continue
            door_to_door = arrives - leave
            known = not any(str(w.get("code", "")).startswith("unknown") for w in journey.warnings)
            any_s = door_to_door if any_s is None else min(any_s, door_to_door)
            if known:
                known_s = door_to_door if known_s is None else min(known_s, door_to_door)
        out.append(Substitution(booking.id, name, taxi, known_s, any_s,
                                busy.get(booking.id, 0.0), note))  # fmt: skip
    return out


def substitution_summary(subs: list[Substitution]) -> dict[str, Any]:
    """Counts and vehicle-hours freed (per-booking estimate), known-accessible and with
    unknowns."""
    known = [s for s in subs if s.known]
    anyway = [s for s in subs if s.with_unknowns]
    return {
        "bookings": len(subs),
        "substitutable_known_accessible": len(known),
        "substitutable_allowing_unknowns": len(anyway),
        "vehicle_hours_freed_known": sum(s.vehicle_s for s in known) / 3600.0,
        "vehicle_hours_freed_allowing_unknowns": sum(s.vehicle_s for s in anyway) / 3600.0,
        "factor": TRANSIT_FACTOR,
        "slack_s": TRANSIT_SLACK_S,
    }


def substitution_rows(subs: list[Substitution]) -> list[Mapping[str, Any]]:
    return [
        {"booking_id": s.booking_id, "profile": s.profile, "taxi_s": round(s.taxi_s),
         "transit_known_s": None if s.known_s is None else round(s.known_s),
         "transit_any_s": None if s.any_s is None else round(s.any_s),
         "vehicle_s": round(s.vehicle_s), "note": s.note}
        for s in subs
    ]  # fmt: skip


@dataclass(frozen=True)
class HoursFreed:
    """The day re-planned without ``removed`` substitutable bookings (times in the problem's
    unit)."""

    removed: tuple[str, ...]
    vehicle_time_before: float
    vehicle_time_after: float
    served_before: int
    served_after: int

    @property
    def freed(self) -> float:
        return self.vehicle_time_before - self.vehicle_time_after


def replanned_hours_freed(
    problem: DispatchProblem,
    plan: Plan,
    subs: list[Substitution],
    options: SolveOptions,
    *,
    control: bool = False,
) -> dict[str, HoursFreed]:
    """``{"known": ..., "allowing_unknowns": ...}``: ``plan`` against a plan of the same day
    without the bookings substitutable known-accessible (resp. allowing unknowns); with
    ``control``, also ``"control"``: the whole day planned again (its ``freed`` is search
    noise, nothing was removed).

    Every re-plan is checked by the validator; a violation raises :class:`RoutingError`.
    """
    before = plan_kpis(problem, plan)
    out = {}
    kinds = [("known", Substitution.known.fget),
             ("allowing_unknowns", Substitution.with_unknowns.fget)]  # fmt: skip
    if control:
        kinds.append(("control", lambda _s: False))
    for kind, keep in kinds:
        removed = tuple(s.booking_id for s in subs if keep(s))
        rest = replace(
            problem, bookings=tuple(b for b in problem.bookings if b.id not in set(removed))
        )
        new = solve(rest, options) if removed or kind == "control" else plan
        if new is not plan and validate(rest, new):
            raise RoutingError("the re-plan without substitutable bookings is not valid")
        after = plan_kpis(rest, new)
        out[kind] = HoursFreed(removed, before["vehicle_time"], after["vehicle_time"],
                               before["served"], after["served"])  # fmt: skip
    return out
