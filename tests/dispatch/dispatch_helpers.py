"""Small hand-made dispatch problems and a brute-force oracle for their optimum."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from routing.dispatch.model import Booking, Break, DispatchProblem, Vehicle, euclidean_matrix


def line_problem(
    points: Sequence[tuple[float, float]],
    requests: Sequence[dict],
    vehicles: Sequence[dict],
) -> DispatchProblem:
    """A problem on Euclidean points (location 0 is the depot); travel time = distance."""
    matrix = euclidean_matrix(points)
    bookings = tuple(
        Booking(
            id=r["id"],
            pickup=r["pickup"],
            dropoff=r["dropoff"],
            pickup_window=r.get("pickup_window", (0.0, 1000.0)),
            dropoff_window=r.get("dropoff_window", (0.0, 1000.0)),
            pickup_service=r.get("service", 1.0),
            dropoff_service=r.get("service", 1.0),
            max_ride=r.get("max_ride", 1000.0),
            load=r.get("load", {"seat": 1}),
            priority=r.get("priority", 1),
            mandatory=r.get("mandatory", False),
        )
        for r in requests
    )
    fleet = tuple(
        Vehicle(
            id=v["id"],
            start=0,
            end=0,
            shift=v.get("shift", (0.0, 1000.0)),
            capacity=v.get("capacity", {"seat": 2, "wheelchair": 1}),
            max_duration=v.get("max_duration"),
            breaks=tuple(Break(*b) for b in v.get("breaks", ())),
        )
        for v in vehicles
    )
    return DispatchProblem(
        bookings=bookings,
        vehicles=fleet,
        travel_time=matrix,
        distance=matrix,
        coordinates=tuple(points),
        time_unit="min",
        distance_unit="unit",
    )


def _feasible_schedule(problem: DispatchProblem, vehicle: Vehicle, seq) -> bool:
    """Do service-start times exist for ``seq`` ((booking, action) pairs)? Bellman-Ford on
    the difference constraints x_j - x_i <= c (node 0 is the reference time 0)."""
    tt = problem.travel_time
    n = len(seq) + 2  # start, stops..., end
    ref = n
    edges = []  # (i, j, c): x_j <= x_i + c

    def at_most(j, i, c):
        edges.append((i, j, c))

    locs = [vehicle.start] + [b.pickup if a == "pickup" else b.dropoff for b, a in seq]
    locs.append(vehicle.end)
    service = [0.0] + [b.pickup_service if a == "pickup" else b.dropoff_service for b, a in seq]
    for k in range(n - 1):  # x_{k+1} >= x_k + s_k + t  <=>  x_k - x_{k+1} <= -(s_k + t)
        at_most(k, k + 1, -(service[k] + tt[locs[k], locs[k + 1]]))
    windows = [vehicle.shift]
    windows += [b.pickup_window if a == "pickup" else b.dropoff_window for b, a in seq]
    windows.append(vehicle.shift)
    for k, (lo, hi) in enumerate(windows):
        at_most(k, ref, hi)
        at_most(ref, k, -lo)
    if vehicle.max_duration is not None:
        at_most(n - 1, 0, vehicle.max_duration)
    for i, (b, a) in enumerate(seq):
        if a == "pickup":
            j = next(k for k, (b2, a2) in enumerate(seq) if b2 is b and a2 == "dropoff")
            at_most(j + 1, i + 1, b.max_ride + b.pickup_service)
    dist = [0.0] * (n + 1)
    for _ in range(n + 1):
        changed = False
        for i, j, c in edges:
            if dist[i] + c < dist[j] - 1e-9:
                dist[j] = dist[i] + c
                changed = True
        if not changed:
            return True
    return False


def _sequences(bookings):
    """Every order of the pickups and drop-offs of ``bookings`` with pickups first."""
    stops = [(b, "pickup") for b in bookings] + [(b, "dropoff") for b in bookings]
    for perm in itertools.permutations(stops):
        seen = set()
        ok = True
        for b, a in perm:
            if a == "pickup":
                seen.add(b.id)
            elif b.id not in seen:
                ok = False
                break
        if ok:
            yield perm


def _capacity_ok(vehicle, seq) -> bool:
    load: dict[str, int] = {}
    for b, a in seq:
        for kind, n in b.load.items():
            load[kind] = load.get(kind, 0) + (n if a == "pickup" else -n)
            if load[kind] > vehicle.capacity.get(kind, 0):
                return False
    return True


def brute_force(problem: DispatchProblem) -> tuple[int, float]:
    """(most bookings that can be served, least distance serving that many) by enumeration."""
    best = (-1, math.inf)
    bookings = problem.bookings
    nv = len(problem.vehicles)
    for assign in itertools.product(range(nv + 1), repeat=len(bookings)):  # nv = unserved
        if any(b.mandatory and a == nv for b, a in zip(bookings, assign, strict=True)):
            continue
        total, ok = 0.0, True
        for k, vehicle in enumerate(problem.vehicles):
            mine = [b for b, a in zip(bookings, assign, strict=True) if a == k]
            if not mine:
                continue
            cheapest = math.inf
            for seq in _sequences(mine):
                locs = [vehicle.start]
                locs += [b.pickup if a == "pickup" else b.dropoff for b, a in seq]
                locs.append(vehicle.end)
                d = float(sum(problem.distance[x, y] for x, y in itertools.pairwise(locs)))
                if d < cheapest and _capacity_ok(vehicle, seq):
                    if _feasible_schedule(problem, vehicle, seq):
                        cheapest = d
            if cheapest == math.inf:
                ok = False
                break
            total += cheapest
        if ok:
            served = sum(1 for a in assign if a < nv)
            if served > best[0] or (served == best[0] and total < best[1]):
                best = (served, total)
    return best


def random_small_problem(seed: int, n_requests: int = 3, n_vehicles: int = 2) -> DispatchProblem:
    rng = np.random.default_rng(seed)
    points = [(0.0, 0.0)] + [tuple(rng.uniform(-10, 10, 2)) for _ in range(2 * n_requests)]
    requests = []
    for i in range(n_requests):
        t0 = float(rng.uniform(0, 40))
        requests.append(
            {
                "id": f"r{i}",
                "pickup": 1 + 2 * i,
                "dropoff": 2 + 2 * i,
                "pickup_window": (t0, t0 + 15.0),
                "max_ride": 30.0,
                "service": 1.0,
                "load": {"seat": int(rng.integers(1, 3))},
            }
        )
    vehicles = [
        {"id": f"v{k}", "shift": (0.0, 120.0), "capacity": {"seat": 2}} for k in range(n_vehicles)
    ]
    return line_problem(points, requests, vehicles)
