"""Plans to and from plain data (JSON), and a plan as GeoJSON.

A plan as JSON: ``status``, ``cost`` (total distance), ``solve_seconds``, ``routes`` (per
vehicle: ``vehicle_id``, ``start_time``, ``end_time``, ``distance``, ``stops`` with
``booking_id``, ``action`` (pickup | dropoff), ``location``, ``arrival``, ``start`` (service
start), ``departure`` and ``load`` by place kind; ``breaks`` with ``start`` and ``end``) and
``unserved`` (``booking_id``, ``reason``, ``message``). Times are in the problem's unit
(seconds after midnight for a city day; then each stop also carries ``arrival_clock``,
``start_clock`` and ``departure_clock`` as HH:MM:SS).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from routing.dispatch.city import format_clock
from routing.dispatch.model import DispatchProblem, Plan, Stop, Unserved, VehicleRoute
from routing.errors import InvalidInputError


def plan_to_dict(problem: DispatchProblem, plan: Plan) -> dict[str, Any]:
    clock = problem.time_unit == "s"
    routes = []
    for route in plan.routes:
        stops = []
        for s in route.stops:
            row: dict[str, Any] = {
                "booking_id": s.booking_id,
                "action": s.action,
                "location": s.location,
                "arrival": s.arrival,
                "start": s.start,
                "departure": s.departure,
                "load": dict(s.load),
            }
            if clock:
                row.update(
                    arrival_clock=format_clock(s.arrival),
                    start_clock=format_clock(s.start),
                    departure_clock=format_clock(s.departure),
                )
            stops.append(row)
        routes.append(
            {
                "vehicle_id": route.vehicle_id,
                "start_time": route.start_time,
                "end_time": route.end_time,
                "distance": route.distance,
                "stops": stops,
                "breaks": [
                    dict({"start": a, "end": b},
                         **({"start_clock": format_clock(a), "end_clock": format_clock(b)}
                            if clock else {}))
                    for a, b in route.breaks
                ],
            }
        )
    return {
        "status": plan.status,
        "cost": plan.cost,
        "solve_seconds": plan.solve_seconds,
        "routes": routes,
        "unserved": [
            {"booking_id": u.booking_id, "reason": u.reason, "message": u.message}
            for u in plan.unserved
        ],
        "locked": list(plan.locked),
    }


def plan_from_dict(data: Mapping[str, Any]) -> Plan:
    """The inverse of :func:`plan_to_dict` (clock strings are ignored)."""
    try:
        routes = tuple(
            VehicleRoute(
                str(r["vehicle_id"]),
                float(r["start_time"]),
                float(r["end_time"]),
                tuple(
                    Stop(
                        str(s["booking_id"]),
                        str(s["action"]),
                        int(s["location"]),
                        float(s["arrival"]),
                        float(s["start"]),
                        float(s["departure"]),
                        {str(k): int(v) for k, v in s["load"].items()},
                    )
                    for s in r["stops"]
                ),
                float(r["distance"]),
                tuple((float(b["start"]), float(b["end"])) for b in r.get("breaks", [])),
            )
            for r in data["routes"]
        )
        unserved = tuple(
            Unserved(str(u["booking_id"]), str(u.get("reason", "")), str(u.get("message", "")))
            for u in data.get("unserved", [])
        )
        return Plan(
            routes,
            unserved,
            float(data["cost"]),
            str(data.get("status", "solved")),
            float(data.get("solve_seconds", 0.0)),
            tuple(data.get("locked", [])),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidInputError(f"not a plan: {exc}", field="plan") from exc


def plan_geojson(
    problem: DispatchProblem, plan: Plan, points: Sequence[tuple[float, float]]
) -> dict[str, Any]:
    """Stops as Points and each vehicle's stop order as a LineString (straight lines between
    stops: the order of the day, not the streets driven). ``points`` are (lat, lon) by location."""
    features: list[dict[str, Any]] = []
    vehicles = {v.id: v for v in problem.vehicles}
    for route in plan.routes:
        vehicle = vehicles[route.vehicle_id]
        chain = [vehicle.start, *(s.location for s in route.stops), vehicle.end]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[points[i][1], points[i][0]] for i in chain],
                },
                "properties": {
                    "kind": "route",
                    "vehicle_id": route.vehicle_id,
                    "distance_m": route.distance,
                    "stops": len(route.stops),
                    "start": format_clock(route.start_time),
                    "end": format_clock(route.end_time),
                },
            }
        )
        for order, s in enumerate(route.stops, 1):
            features.append(
                {
                    "type": "Feature",
                    "geometry": {
                        "type": "Point",
                        "coordinates": [points[s.location][1], points[s.location][0]],
                    },
                    "properties": {
                        "kind": s.action,
                        "vehicle_id": route.vehicle_id,
                        "order": order,
                        "booking_id": s.booking_id,
                        "start": format_clock(s.start),
                        "load": dict(s.load),
                    },
                }
            )
    bookings = {b.id: b for b in problem.bookings}
    for u in plan.unserved:
        loc = bookings[u.booking_id].pickup
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [points[loc][1], points[loc][0]]},
                "properties": {"kind": "unserved", "booking_id": u.booking_id, "reason": u.reason},
            }
        )
    return {"type": "FeatureCollection", "features": features}
