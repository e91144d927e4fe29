"""Independent plan validator: checks a plan against every hard constraint and every figure.

It shares nothing with the solver but the problem's data: it re-walks each route with the
problem's float matrices, recomputes loads, ride times, distances and the KPIs, and lists
every violation it finds. A plan is valid when :func:`validate` returns an empty list.

Violation codes: ``unknown_vehicle``, ``duplicate_vehicle``, ``unknown_booking``,
``location``, ``pairing`` (pickup and drop-off not exactly once each on one route),
``precedence`` (drop-off before pickup), ``coverage`` (a booking neither served nor listed as
unserved, or both), ``mandatory`` (a mandatory booking unserved), ``travel_time`` (an arrival
sooner than the drive allows), ``service_start`` (service before arrival), ``service_time``
(departure before service ends), ``time_window``, ``capacity``, ``ride_time``, ``shift``,
``route_duration``, ``break`` (a break missing, outside its window, too short, overlapping
a stop or another break, or leaving too little time for the drive it interrupts),
``reported_load``, ``reported_distance``, ``reported_cost``, ``reported_kpi``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from routing.dispatch.model import DispatchProblem, Plan, Vehicle, VehicleRoute

TOLERANCE = 1e-6


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    vehicle_id: str | None = None
    booking_id: str | None = None


def _close(a: float, b: float, tolerance: float) -> bool:
    return abs(a - b) <= tolerance * max(1.0, abs(a), abs(b))


def validate(
    problem: DispatchProblem,
    plan: Plan,
    *,
    kpis: Mapping[str, Any] | None = None,
    tolerance: float = TOLERANCE,
) -> list[Violation]:
    """Every violation of ``plan`` (empty when it is valid); ``kpis`` are checked too if given."""
    out: list[Violation] = []
    vehicles = {v.id: v for v in problem.vehicles}
    bookings = {b.id: b for b in problem.bookings}
    tt, dist = problem.travel_time, problem.distance
    served_on: dict[str, str] = {}
    seen_vehicles: set[str] = set()
    total = 0.0

    for route in plan.routes:
        vid = route.vehicle_id
        vehicle = vehicles.get(vid)
        if vehicle is None:
            out.append(Violation("unknown_vehicle", f"vehicle {vid!r} is not in the problem", vid))
            continue
        if vid in seen_vehicles:
            out.append(Violation("duplicate_vehicle", f"vehicle {vid!r} has two routes", vid))
        seen_vehicles.add(vid)
        if route.start_time < vehicle.shift[0] - tolerance:
            out.append(
                Violation(
                    "shift",
                    f"{vid} leaves at {route.start_time:g} before its "
                    f"shift starts ({vehicle.shift[0]:g})",
                    vid,
                )
            )
        if route.end_time > vehicle.shift[1] + tolerance:
            out.append(
                Violation(
                    "shift",
                    f"{vid} is back at {route.end_time:g} after its shift "
                    f"ends ({vehicle.shift[1]:g})",
                    vid,
                )
            )
        if vehicle.max_duration is not None and (
            route.end_time - route.start_time > vehicle.max_duration + tolerance
        ):
            out.append(
                Violation(
                    "route_duration",
                    f"{vid} works {route.end_time - route.start_time:g} > {vehicle.max_duration:g}",
                    vid,
                )
            )

        here, ready = vehicle.start, route.start_time
        load = {kind: 0 for kind in problem.place_kinds}
        pickups: dict[str, float] = {}  # booking id -> end of boarding
        dropped: set[str] = set()
        driven = 0.0
        for stop in route.stops:
            bid = stop.booking_id
            booking = bookings.get(bid)
            if booking is None:
                out.append(Violation("unknown_booking", f"{bid!r} is not a booking", vid, bid))
                continue
            expected_loc = booking.pickup if stop.action == "pickup" else booking.dropoff
            if stop.action not in ("pickup", "dropoff") or stop.location != expected_loc:
                out.append(
                    Violation("location", f"{stop.action} of {bid} is not at its place", vid, bid)
                )
            driven += float(dist[here, stop.location])
            if stop.arrival < ready + float(tt[here, stop.location]) - tolerance:
                out.append(
                    Violation(
                        "travel_time",
                        f"{vid} reaches the {stop.action} of {bid} at "
                        f"{stop.arrival:g}, sooner than the drive allows "
                        f"({ready + float(tt[here, stop.location]):g})",
                        vid,
                        bid,
                    )
                )
            if stop.start < stop.arrival - tolerance:
                out.append(
                    Violation(
                        "service_start",
                        f"{stop.action} of {bid} starts before the vehicle arrives",
                        vid,
                        bid,
                    )
                )
            service = booking.pickup_service if stop.action == "pickup" else booking.dropoff_service
            if stop.departure < stop.start + service - tolerance:
                out.append(
                    Violation(
                        "service_time",
                        f"{stop.action} of {bid} leaves before its "
                        f"service time ({service:g}) is over",
                        vid,
                        bid,
                    )
                )
            window = booking.pickup_window if stop.action == "pickup" else booking.dropoff_window
            if not window[0] - tolerance <= stop.start <= window[1] + tolerance:
                out.append(
                    Violation(
                        "time_window",
                        f"{stop.action} of {bid} at {stop.start:g} is "
                        f"outside [{window[0]:g}, {window[1]:g}]",
                        vid,
                        bid,
                    )
                )
            sign = 1 if stop.action == "pickup" else -1
            if stop.action == "pickup":
                if bid in pickups or bid in served_on:
                    out.append(Violation("pairing", f"{bid} is picked up twice", vid, bid))
                pickups[bid] = stop.start + booking.pickup_service
                served_on[bid] = vid
            else:
                if bid not in pickups:
                    kind = "pairing" if served_on.get(bid, vid) != vid else "precedence"
                    out.append(
                        Violation(
                            kind,
                            f"{bid} is dropped off before (or without) its pickup on this vehicle",
                            vid,
                            bid,
                        )
                    )
                elif bid in dropped:
                    out.append(Violation("pairing", f"{bid} is dropped off twice", vid, bid))
                else:
                    ride = stop.start - pickups[bid]
                    if ride > booking.max_ride + tolerance:
                        out.append(
                            Violation(
                                "ride_time",
                                f"{bid} rides {ride:g} > {booking.max_ride:g}",
                                vid,
                                bid,
                            )
                        )
                dropped.add(bid)
            for kind, count in booking.load.items():
                load[kind] = load.get(kind, 0) + sign * count
                if load[kind] > vehicle.capacity.get(kind, 0):
                    out.append(
                        Violation(
                            "capacity",
                            f"{vid} carries {load[kind]} {kind} places "
                            f"> {vehicle.capacity.get(kind, 0)}",
                            vid,
                            bid,
                        )
                    )
            reported = {k: v for k, v in stop.load.items() if v}
            if reported != {k: v for k, v in load.items() if v}:
                out.append(
                    Violation(
                        "reported_load",
                        f"load after the {stop.action} of {bid} is "
                        f"reported {dict(stop.load)}, is {load}",
                        vid,
                        bid,
                    )
                )
            here, ready = stop.location, stop.departure
        for bid in pickups:
            if bid not in dropped:
                out.append(Violation("pairing", f"{bid} is never dropped off", vid, bid))
        driven += float(dist[here, vehicle.end])
        if route.end_time < ready + float(tt[here, vehicle.end]) - tolerance:
            out.append(
                Violation(
                    "travel_time",
                    f"{vid} is back at {route.end_time:g}, sooner than the drive allows",
                    vid,
                )
            )
        if not _close(route.distance, driven, tolerance):
            out.append(
                Violation(
                    "reported_distance", f"{vid} reports {route.distance:g}, drives {driven:g}", vid
                )
            )
        total += driven
        out.extend(_check_breaks(problem, vehicle, route, tolerance))

    unserved = [u.booking_id for u in plan.unserved]
    for bid in unserved:
        if bid not in bookings:
            out.append(
                Violation("unknown_booking", f"unserved {bid!r} is not a booking", None, bid)
            )
    for bid, booking in bookings.items():
        listed = unserved.count(bid) + (bid in served_on)
        if listed != 1:
            out.append(
                Violation(
                    "coverage", f"{bid} is served or listed unserved {listed} times", None, bid
                )
            )
        if booking.mandatory and bid not in served_on:
            out.append(Violation("mandatory", f"mandatory {bid} is not served", None, bid))
    if not _close(plan.cost, total, tolerance):
        out.append(
            Violation("reported_cost", f"plan reports cost {plan.cost:g}, routes drive {total:g}")
        )
    if kpis is not None:
        out.extend(_check_kpis(problem, plan, kpis, tolerance))
    return out


def _check_breaks(
    problem: DispatchProblem, vehicle: Vehicle, route: VehicleRoute, tolerance: float
) -> list[Violation]:
    """A break is taken before the vehicle leaves, after it is back, or in the gap between
    leaving one place and starting service at the next, where the drive must still fit."""
    vid, tt = vehicle.id, problem.travel_time
    out: list[Violation] = []
    if len(route.breaks) != len(vehicle.breaks):
        return [Violation("break", f"{vid} has {len(vehicle.breaks)} breaks, the plan "
                                   f"reports {len(route.breaks)}", vid)]  # fmt: skip
    for n, (spec, (a, b)) in enumerate(zip(vehicle.breaks, route.breaks, strict=True), 1):
        if not spec.earliest - tolerance <= a <= spec.latest + tolerance:
            window = f"[{spec.earliest:g}, {spec.latest:g}]"
            message = f"{vid} break {n} starts at {a:g}, outside {window}"
            out.append(Violation("break", message, vid))
        if b - a < spec.duration - tolerance:
            out.append(Violation("break", f"{vid} break {n} lasts {b - a:g} < {spec.duration:g}",
                                 vid))  # fmt: skip
    spans = sorted(route.breaks)
    for (_, b1), (a2, _) in zip(spans, spans[1:], strict=False):
        if a2 < b1 - tolerance:
            out.append(Violation("break", f"{vid} has overlapping breaks", vid))
    # (free from, free until, drive from, drive to) between leaving a place and the next service
    places = [(route.start_time, vehicle.start)]
    places += [(s.departure, s.location) for s in route.stops]
    arrivals = [s.start for s in route.stops] + [route.end_time]
    targets = [*(s.location for s in route.stops), vehicle.end]
    gaps = [
        (t0, t1, here, there)
        for (t0, here), t1, there in zip(places, arrivals, targets, strict=True)
    ]
    inside = [False] * len(spans)
    for t0, t1, here, there in gaps:
        taken = 0.0
        for i, (a, b) in enumerate(spans):
            if a >= t0 - tolerance and b <= t1 + tolerance:
                inside[i], taken = True, taken + (b - a)
        if taken and t1 - t0 < float(tt[here, there]) + taken - tolerance:
            out.append(Violation("break", f"{vid} has no time left to drive around its break "
                                          f"between {t0:g} and {t1:g}", vid))  # fmt: skip
    for i, (a, b) in enumerate(spans):
        outside = b <= route.start_time + tolerance or a >= route.end_time - tolerance
        if not inside[i] and not outside:
            out.append(Violation("break", f"{vid} break at [{a:g}, {b:g}] overlaps a stop", vid))
    return out


def _check_kpis(
    problem: DispatchProblem, plan: Plan, kpis: Mapping[str, Any], tolerance: float
) -> list[Violation]:
    """Recompute the KPIs the plan reports, in this module's own way, and compare."""
    bookings = {b.id: b for b in problem.bookings}
    vehicles = {v.id: v for v in problem.vehicles}
    ratios = []
    empty = 0.0
    for route in plan.routes:
        here, onboard = vehicles[route.vehicle_id].start, 0
        boarded: dict[str, float] = {}
        for stop in route.stops:
            if onboard == 0:
                empty += float(problem.distance[here, stop.location])
            booking = bookings[stop.booking_id]
            if stop.action == "pickup":
                boarded[stop.booking_id] = stop.start + booking.pickup_service
                onboard += 1
            else:
                direct = float(problem.travel_time[booking.pickup, booking.dropoff])
                ride = stop.start - boarded[stop.booking_id]
                ratios.append(ride / direct if direct > 0 else 1.0)
                onboard -= 1
            here = stop.location
        empty += float(problem.distance[here, vehicles[route.vehicle_id].end])
    expected = {
        "served": len(plan.served_ids()),
        "unserved": len(plan.unserved),
        "vehicles_used": sum(1 for r in plan.routes if r.stops),
        "vehicle_time": sum(r.end_time - r.start_time for r in plan.routes if r.stops),
        "distance": sum(r.distance for r in plan.routes),
        "empty_distance": empty,
        "mean_ride_ratio": sum(ratios) / len(ratios) if ratios else 0.0,
        "max_ride_ratio": max(ratios, default=0.0),
    }
    out = []
    for name, value in expected.items():
        if name not in kpis:
            out.append(Violation("reported_kpi", f"KPI {name} is missing"))
        elif not _close(float(kpis[name]), float(value), tolerance):
            out.append(
                Violation("reported_kpi", f"KPI {name} is reported {kpis[name]}, is {value}")
            )
    return out
