"""Key figures of a plan: served, unserved by reason, vehicle-hours, km, empty km, ride ratios.

``empty_distance`` is driven with nobody on board (from the depot to the first pickup,
between trips, back to the depot). The ride-time ratio of a booking is its ride time (end
of boarding to start of alighting) over its direct car time. The validator recomputes every
figure here in its own way.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from routing.dispatch.model import DispatchProblem, Plan


def plan_kpis(problem: DispatchProblem, plan: Plan) -> dict[str, Any]:
    """The KPIs of ``plan`` (times in the problem's time unit, distances in its distance unit)."""
    bookings = {b.id: b for b in problem.bookings}
    vehicles = {v.id: v for v in problem.vehicles}
    ratios: list[float] = []
    empty = 0.0
    for route in plan.routes:
        locations = [vehicles[route.vehicle_id].start]
        on_board: list[int] = [0]
        boarded: dict[str, float] = {}
        count = 0
        for stop in route.stops:
            booking = bookings[stop.booking_id]
            if stop.action == "pickup":
                count += 1
                boarded[booking.id] = stop.start + booking.pickup_service
            else:
                count -= 1
                direct = problem.direct_time(booking)
                ride = stop.start - boarded[booking.id]
                ratios.append(ride / direct if direct > 0 else 1.0)
            locations.append(stop.location)
            on_board.append(count)
        locations.append(vehicles[route.vehicle_id].end)
        for k in range(len(locations) - 1):
            if on_board[k] == 0:
                empty += float(problem.distance[locations[k], locations[k + 1]])
    used = [r for r in plan.routes if r.stops]
    return {
        "bookings": len(problem.bookings),
        "served": len(plan.served_ids()),
        "unserved": len(plan.unserved),
        "unserved_by_reason": dict(Counter(u.reason for u in plan.unserved)),
        "vehicles": len(problem.vehicles),
        "vehicles_used": len(used),
        "vehicle_time": sum(r.end_time - r.start_time for r in used),
        "distance": sum(r.distance for r in plan.routes),
        "empty_distance": empty,
        "mean_ride_ratio": sum(ratios) / len(ratios) if ratios else 0.0,
        "max_ride_ratio": max(ratios, default=0.0),
        "time_unit": problem.time_unit,
        "distance_unit": problem.distance_unit,
    }
