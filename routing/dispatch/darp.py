"""Read the standard Cordeau dial-a-ride instance format; write answers in its numbering.

Format (Cordeau 2006; Cordeau & Laporte 2003): the first line holds the number of vehicles,
the number of nodes, the maximum route duration, the vehicle capacity and the maximum ride
time. Then one line per node: id, x, y, service time, load (+ pickup, - drop-off), time
window start and end. Node 0 is the depot; with ``n`` requests node ``i`` is a pickup and
``n + i`` its drop-off; a node ``2n + 1`` (the end depot) may follow. Travel time equals the
Euclidean distance. Two variants of the header exist in circulation: the second field is
``2n`` in most copies and ``n`` in the original files; ``n`` is therefore taken from the node
lines (the number of pickups), never from the header.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routing.dispatch.model import Booking, DispatchProblem, Plan, Vehicle, euclidean_matrix
from routing.errors import DataError


@dataclass(frozen=True)
class DarpNode:
    id: int
    x: float
    y: float
    service: float
    load: int
    earliest: float
    latest: float


def read_darp(path: str | Path) -> DispatchProblem:
    """A :class:`DispatchProblem` from a Cordeau-format file; every request is mandatory.

    Locations are the instance's nodes (0 the depot, ``i`` and ``n + i`` a request); booking
    ids are the pickup node ids as strings.
    """
    path = Path(path)
    try:
        lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
    except OSError as exc:
        raise DataError(f"cannot read DARP instance {path}: {exc}") from exc
    try:
        vehicles, _nodes, max_duration, capacity, max_ride = (float(v) for v in lines[0][:5])
        nodes = [
            DarpNode(
                int(r[0]),
                float(r[1]),
                float(r[2]),
                float(r[3]),
                int(r[4]),
                float(r[5]),
                float(r[6]),
            )
            for r in lines[1:]
        ]
    except (ValueError, IndexError) as exc:
        raise DataError(f"{path}: not in the Cordeau DARP format ({exc})") from exc
    n = sum(1 for node in nodes if node.load > 0)
    by_id = {node.id: node for node in nodes}
    expected = set(range(2 * n + 1))
    if not expected <= set(by_id) or any(by_id[i].load <= 0 for i in range(1, n + 1)):
        raise DataError(f"{path}: nodes must be 0 (depot), 1..n pickups and n+1..2n drop-offs")
    depot = by_id[0]
    coordinates = [(by_id[i].x, by_id[i].y) for i in range(2 * n + 1)]
    end = by_id.get(2 * n + 1, depot)
    end_location = 0
    if (end.x, end.y) != (depot.x, depot.y):  # an end depot elsewhere is a location too
        coordinates.append((end.x, end.y))
        end_location = 2 * n + 1
    matrix = euclidean_matrix(coordinates)
    bookings = []
    for i in range(1, n + 1):
        pick, drop = by_id[i], by_id[n + i]
        if drop.load != -pick.load:
            raise DataError(f"{path}: request {i} picks up {pick.load} and drops {drop.load}")
        bookings.append(
            Booking(
                id=str(i),
                pickup=i,
                dropoff=n + i,
                pickup_window=(pick.earliest, pick.latest),
                dropoff_window=(drop.earliest, drop.latest),
                pickup_service=pick.service,
                dropoff_service=drop.service,
                max_ride=max_ride,
                load={"seat": pick.load},
                mandatory=True,
            )
        )
    shift = (depot.earliest, min(depot.latest, end.latest))
    fleet = tuple(
        Vehicle(
            id=str(k),
            start=0,
            end=end_location,
            shift=shift,
            capacity={"seat": int(capacity)},
            max_duration=max_duration,
        )
        for k in range(int(vehicles))
    )
    return DispatchProblem(
        bookings=tuple(bookings),
        vehicles=fleet,
        travel_time=matrix,
        distance=matrix,
        coordinates=tuple(coordinates),
        place_kinds=("seat",),
        name=path.stem,
        time_unit="min",
        distance_unit="unit",
    )


def darp_answer(plan: Plan) -> dict[str, Any]:
    """The answer as JSON: total distance and node ids per route, depot left out."""
    return {
        "cost": round(plan.cost, 6),
        "routes": [[s.location for s in route.stops] for route in plan.routes],
    }
