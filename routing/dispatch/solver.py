"""Solve a :class:`DispatchProblem` with OR-Tools' routing library.

Why OR-Tools: every hard constraint of the dial-a-ride problem is expressed natively -
pickup-and-delivery pairs on one vehicle in order, a capacity dimension per place kind,
time windows and shifts on the time dimension, the route duration as a span bound, and the
maximum ride time as a constraint on the time dimension's cumulative variables
(``cumul(dropoff) - cumul(pickup) - service(pickup) <= max_ride``), given twice: as the
time dimension's native pickup-to-delivery limit (which the search's filters see, so
insertions breaking it are never tried: 10x faster first solutions on a 300-booking day)
and as a constraint on the cumuls (which fixes the schedule the plan reports).
PyVRP (0.14) has no maximum ride time (PyVRP/PyVRP#1097 is open) and no paired
pickup-and-delivery yet (#331), so it could only be used by filtering its routes
afterwards, which this project does not do.

Objective: serve as many bookings as possible (an optional booking left out costs
``UNSERVED_PRIZE * priority``), then minimise the distance driven plus, for city problems,
``SPAN_COST`` per second of vehicle time (``time_cost=0`` for literature instances, whose
objective is the distance alone).

Integers: OR-Tools works on integers, so times are multiplied by ``time_scale`` and rounded
*conservatively* (travel and service times up, window ends and ride limits down): any
schedule the solver finds is feasible for the float data, which the independent validator
checks on every plan.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from routing.dispatch.model import (
    Booking,
    DispatchProblem,
    Plan,
    Stop,
    Unserved,
    VehicleRoute,
)
from routing.errors import RoutingError

UNSERVED_PRIZE = 10_000_000
MANDATORY_PRIZE = 10_000_000_000
FALLBACK_FIRST_SOLUTION = "LOCAL_CHEAPEST_INSERTION"
SPAN_COST = 1


class SolveError(RoutingError):
    """The solver found no plan (e.g. a mandatory booking cannot be served)."""

    code = "no_plan"
    http_status = 422


@dataclass(frozen=True)
class Lock:
    """Stops already under way: ``vehicle_id`` must start with these (booking, action) stops
    at exactly these service-start times, in this order."""

    vehicle_id: str
    stops: tuple[tuple[str, str, float], ...]


@dataclass(frozen=True)
class SolveOptions:
    time_limit: float = 10.0
    time_scale: float = 1.0
    distance_scale: float = 1.0
    time_cost: int = SPAN_COST
    not_before: float | None = None  # re-planning: no unlocked stop starts before this
    locks: tuple[Lock, ...] = ()
    pinned: tuple[tuple[str, str], ...] = ()  # (booking id, vehicle id): keep on that vehicle
    # Re-planning: (vehicle id, break index, start) of breaks already begun stay at that start;
    # every other break whose window is still open starts at not_before or later.
    fixed_breaks: tuple[tuple[str, int, float], ...] = ()
    first_solution: str = "PARALLEL_CHEAPEST_INSERTION"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    # Large days: insertion and local-search moves look at this many nearest nodes only
    # (full neighbourhoods up to 4x as many nodes).
    neighbors: int = 60


def solve(problem: DispatchProblem, options: SolveOptions | None = None) -> Plan:
    """Plan ``problem``; raise :class:`SolveError` when no plan serves the mandatory bookings."""
    options = options or SolveOptions()
    started = time.perf_counter()
    missing: list[str] = []
    # When a plan leaves a mandatory booking out, search once more from the other first
    # solution (local cheapest insertion finds feasible tight instances more often).
    for first in dict.fromkeys((options.first_solution, FALLBACK_FIRST_SOLUTION)):
        model = _Model(problem, replace(options, first_solution=first))
        assignment = model.solve()
        if assignment is None:
            continue
        plan = model.plan(assignment, time.perf_counter() - started)
        missing = [u.booking_id for u in plan.unserved if problem.booking(u.booking_id).mandatory]
        if not missing:
            return plan
    raise SolveError(
        "no plan found within the time limit that serves every mandatory booking"
        + (f" ({len(missing)} left out: {', '.join(missing[:10])})" if missing else ""),
    )


class _Model:
    """Nodes: a start and an end per vehicle, then a pickup and a drop-off per booking."""

    def __init__(self, problem: DispatchProblem, options: SolveOptions) -> None:
        self.problem, self.options = problem, options
        nv, nb = len(problem.vehicles), len(problem.bookings)
        self.node_location: list[int] = []
        self.node_service: list[float] = []
        for v in problem.vehicles:
            self.node_location += [v.start, v.end]
            self.node_service += [0.0, 0.0]
        for b in problem.bookings:
            self.node_location += [b.pickup, b.dropoff]
            self.node_service += [b.pickup_service, b.dropoff_service]
        self.n_nodes = 2 * nv + 2 * nb
        self.manager = pywrapcp.RoutingIndexManager(
            self.n_nodes, nv, [2 * k for k in range(nv)], [2 * k + 1 for k in range(nv)]
        )
        self.routing = pywrapcp.RoutingModel(self.manager)
        self._build()

    # -- helpers -------------------------------------------------------------------------
    def _up(self, seconds: float) -> int:
        return int(math.ceil(seconds * self.options.time_scale - 1e-9))

    def _down(self, seconds: float) -> int:
        return int(math.floor(seconds * self.options.time_scale + 1e-9))

    def pickup_node(self, k: int) -> int:
        return 2 * len(self.problem.vehicles) + 2 * k

    def _index(self, node: int) -> int:
        return self.manager.NodeToIndex(node)

    def _build(self) -> None:
        p, o, routing = self.problem, self.options, self.routing
        loc = np.asarray(self.node_location)
        travel = np.ceil(p.travel_time[np.ix_(loc, loc)] * o.time_scale - 1e-9)
        service = np.ceil(np.asarray(self.node_service) * o.time_scale - 1e-9)
        time_matrix = (travel + service[:, None]).astype(np.int64)
        dist_matrix = np.rint(p.distance[np.ix_(loc, loc)] * o.distance_scale).astype(np.int64)
        time_cb = routing.RegisterTransitMatrix(time_matrix.tolist())
        dist_cb = routing.RegisterTransitMatrix(dist_matrix.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)

        horizon = max(
            [self._up(v.shift[1]) for v in p.vehicles]
            + [self._up(b.dropoff_window[1]) for b in p.bookings]
            + [1]
        )
        routing.AddDimension(time_cb, horizon, horizon, False, "time")
        self.time = routing.GetDimensionOrDie("time")
        if o.time_cost:
            self.time.SetSpanCostCoefficientForAllVehicles(int(o.time_cost))
        for k, v in enumerate(p.vehicles):
            start, end = routing.Start(k), routing.End(k)
            self.time.CumulVar(start).SetRange(self._up(v.shift[0]), self._down(v.shift[1]))
            self.time.CumulVar(end).SetRange(self._up(v.shift[0]), self._down(v.shift[1]))
            if v.max_duration is not None:
                self.time.SetSpanUpperBoundForVehicle(self._down(v.max_duration), k)
            routing.AddVariableMaximizedByFinalizer(self.time.CumulVar(start))
            routing.AddVariableMinimizedByFinalizer(self.time.CumulVar(end))
        self._add_breaks(service.astype(np.int64).tolist())

        for kind in p.place_kinds:
            demand = [0] * self.n_nodes
            for k, b in enumerate(p.bookings):
                demand[self.pickup_node(k)] = int(b.load.get(kind, 0))
                demand[self.pickup_node(k) + 1] = -int(b.load.get(kind, 0))
            if not any(demand):
                continue
            cb = routing.RegisterUnaryTransitVector(demand)
            caps = [int(v.capacity.get(kind, 0)) for v in p.vehicles]
            routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"load_{kind}")

        solver = routing.solver()
        self._limits: list = []  # the limit callbacks must outlive the search
        not_before = None if o.not_before is None else self._up(o.not_before)
        locked = {(bid, action) for lock in o.locks for bid, action, _ in lock.stops}
        for k, b in enumerate(p.bookings):
            pi, di = self._index(self.pickup_node(k)), self._index(self.pickup_node(k) + 1)
            routing.AddPickupAndDelivery(pi, di)
            solver.Add(routing.VehicleVar(pi) == routing.VehicleVar(di))
            cp, cd = self.time.CumulVar(pi), self.time.CumulVar(di)
            solver.Add(cp <= cd)
            cp.SetRange(self._up(b.pickup_window[0]), self._down(b.pickup_window[1]))
            cd.SetRange(self._up(b.dropoff_window[0]), self._down(b.dropoff_window[1]))
            # ride = start(dropoff) - (start(pickup) + boarding) <= max_ride: a native
            # pickup-to-delivery limit (seen by the search's filters, so insertions that
            # break it are never tried), and the same as a constraint on the cumuls.
            limit = self._down(b.max_ride + b.pickup_service)
            self._limits.append(lambda _p, _d, limit=limit: limit)
            self.time.SetPickupToDeliveryLimitFunctionForPair(self._limits[-1], k)
            solver.Add(cd - cp <= limit)
            # Mandatory bookings are optional to the search too (with a prize no distance
            # outweighs), so that a first solution always exists; a plan leaving one out is
            # refused in solve(), never returned.
            prize = MANDATORY_PRIZE if b.mandatory else UNSERVED_PRIZE * int(b.priority)
            routing.AddDisjunction([pi, di], prize, 2)
            solver.Add(routing.ActiveVar(pi) == routing.ActiveVar(di))
            if not_before is not None:
                for action, cumul in (("pickup", cp), ("dropoff", cd)):
                    if (b.id, action) not in locked:
                        cumul.SetMin(max(cumul.Min(), not_before))
            routing.AddVariableMinimizedByFinalizer(cp)
            routing.AddVariableMinimizedByFinalizer(cd)
        if o.locks:
            self._apply_locks()
        vehicle_of = {v.id: k for k, v in enumerate(p.vehicles)}
        booking_of = {b.id: k for k, b in enumerate(p.bookings)}
        for booking_id, vehicle_id in o.pinned:
            node = self.pickup_node(booking_of[booking_id])
            for index in (self._index(node), self._index(node + 1)):
                # -1: the booking may still go unserved (then it is reported as such)
                routing.VehicleVar(index).SetValues([-1, vehicle_of[vehicle_id]])

    def _add_breaks(self, visit_time: list[int]) -> None:
        """Each vehicle's breaks as fixed-duration intervals on the time dimension: OR-Tools
        keeps them off the stops' service (``visit_time``) and adds them to the drive they
        interrupt; a break's start window is rounded inwards, its duration up."""
        solver, routing, o = self.routing.solver(), self.routing, self.options
        fixed = {(vid, n): start for vid, n, start in o.fixed_breaks}
        not_before = None if o.not_before is None else self._up(o.not_before)
        self.break_vars: list[list] = []
        for k, v in enumerate(self.problem.vehicles):
            intervals = []
            for n, b in enumerate(v.breaks):
                lo, hi = self._up(b.earliest), self._down(b.latest)
                if (v.id, n) in fixed:
                    lo = hi = self._up(fixed[v.id, n])
                elif not_before is not None and hi >= not_before:
                    lo = max(lo, not_before)
                if hi < lo:
                    raise SolveError(f"{v.id}: break {n + 1} has an empty start window")
                interval = solver.FixedDurationIntervalVar(
                    lo, hi, self._up(b.duration), False, f"break-{v.id}-{n}"
                )
                routing.AddIntervalToAssignment(interval)
                intervals.append(interval)
            if intervals:
                self.time.SetBreakIntervalsOfVehicle(intervals, k, visit_time)
            self.break_vars.append(intervals)

    def _apply_locks(self) -> None:
        """Fix each lock chain as the start of its vehicle's route (``NextVar`` domains, so
        no search move can change it) at its service-start times."""
        p, routing = self.problem, self.routing
        vehicle_of = {v.id: k for k, v in enumerate(p.vehicles)}
        booking_of = {b.id: k for k, b in enumerate(p.bookings)}
        for lock in self.options.locks:
            k = vehicle_of[lock.vehicle_id]
            previous = routing.Start(k)
            for bid, action, start in lock.stops:
                node = self.pickup_node(booking_of[bid]) + (0 if action == "pickup" else 1)
                index = self._index(node)
                routing.NextVar(previous).SetValue(index)
                value = self._up(start)
                self.time.CumulVar(index).SetRange(value, value)
                previous = index

    def solve(self) -> pywrapcp.Assignment | None:
        o, routing = self.options, self.routing
        params = pywrapcp.DefaultRoutingSearchParameters()
        params.first_solution_strategy = getattr(
            routing_enums_pb2.FirstSolutionStrategy, o.first_solution
        )
        params.local_search_metaheuristic = getattr(
            routing_enums_pb2.LocalSearchMetaheuristic, o.metaheuristic
        )
        params.time_limit.FromMilliseconds(max(1, int(o.time_limit * 1000)))
        if self.n_nodes > 4 * o.neighbors:
            ratio = o.neighbors / self.n_nodes
            first = params.global_cheapest_insertion_first_solution_parameters
            first.neighbors_ratio, first.min_neighbors = ratio, o.neighbors
            params.ls_operator_neighbors_ratio = ratio
            params.ls_operator_min_neighbors = o.neighbors
        return routing.SolveWithParameters(params)

    def plan(self, assignment: pywrapcp.Assignment, seconds: float) -> Plan:
        p, routing = self.problem, self.routing
        scale = self.options.time_scale
        routes, served = [], set()
        for k, vehicle in enumerate(p.vehicles):
            index = routing.Start(k)
            start_time = assignment.Min(self.time.CumulVar(index)) / scale
            breaks = tuple(
                (assignment.StartValue(iv) / scale, assignment.EndValue(iv) / scale)
                for iv in self.break_vars[k]
            )
            load = {kind: 0 for kind in p.place_kinds}
            stops: list[Stop] = []
            prev_loc, prev_ready = vehicle.start, start_time
            index = assignment.Value(routing.NextVar(index))
            while not routing.IsEnd(index):
                node = self.manager.IndexToNode(index)
                k_booking, is_drop = divmod(node - 2 * len(p.vehicles), 2)
                booking = p.bookings[k_booking]
                start = assignment.Min(self.time.CumulVar(index)) / scale
                location = booking.dropoff if is_drop else booking.pickup
                service = booking.dropoff_service if is_drop else booking.pickup_service
                for kind, count in booking.load.items():
                    load[kind] = load.get(kind, 0) + (-count if is_drop else count)
                arrival = prev_ready + float(p.travel_time[prev_loc, location])
                arrival += sum(b - a for a, b in breaks if prev_ready <= a and b <= start)
                stops.append(
                    Stop(
                        booking.id,
                        "dropoff" if is_drop else "pickup",
                        location,
                        min(arrival, start),
                        start,
                        start + service,
                        dict(load),
                    )
                )
                served.add(booking.id)
                prev_loc, prev_ready = location, start + service
                index = assignment.Value(routing.NextVar(index))
            if not stops:
                continue
            end_time = assignment.Min(self.time.CumulVar(index)) / scale
            distance = float(
                sum(p.distance[a, b] for a, b in _legs(vehicle.start, stops, vehicle.end))
            )
            routes.append(
                VehicleRoute(vehicle.id, start_time, end_time, tuple(stops), distance, breaks)
            )
        unserved = tuple(
            Unserved(b.id, *explain_unserved(p, b, not_before=self.options.not_before))
            for b in p.bookings
            if b.id not in served
        )
        cost = float(sum(r.distance for r in routes))
        return Plan(
            tuple(routes),
            unserved,
            cost,
            "solved",
            seconds,
            tuple(bid for lock in self.options.locks for bid, _, _ in lock.stops),
        )


def _legs(start: int, stops: Sequence[Stop], end: int) -> list[tuple[int, int]]:
    locations = [start, *(s.location for s in stops), end]
    return list(zip(locations, locations[1:], strict=False))


def explain_unserved(
    problem: DispatchProblem, booking: Booking, *, not_before: float | None = None
) -> tuple[str, str]:
    """Why ``booking`` may be unserved: ``(reason code, message)``.

    Checks, in order: no vehicle has the places; the direct trip breaks the ride limit; the
    pickup window closed before ``not_before`` (re-planning); no
    vehicle could serve it alone within its shift and the windows; otherwise the fleet had
    no room left for it (the solver found no insertion within the time limit).
    """
    fits = [v for v in problem.vehicles if _has_places(v.capacity, booking.load)]
    if not fits:
        return "no_vehicle_with_places", f"no vehicle has the places needed ({dict(booking.load)})"
    direct = problem.direct_time(booking)
    if direct > booking.max_ride:
        return "ride_limit", "the direct trip is longer than the maximum ride time"
    if not_before is not None and booking.pickup_window[1] < not_before:
        return "too_late", "its pickup window closed before the re-planning time"
    tt = problem.travel_time
    for v in fits:
        ready = max(v.shift[0], not_before or v.shift[0])
        leave = max(ready + float(tt[v.start, booking.pickup]), booking.pickup_window[0])
        if leave > booking.pickup_window[1]:
            continue
        arrive = max(leave + booking.pickup_service + direct, booking.dropoff_window[0])
        if arrive > booking.dropoff_window[1]:
            continue
        back = arrive + booking.dropoff_service + float(tt[booking.dropoff, v.end])
        if back <= v.shift[1]:
            return (
                "fleet_busy",
                "no vehicle had room for it at that time (none found within the time limit)",
            )
    return (
        "outside_shifts",
        "no vehicle's shift can reach the pickup and drop-off within their windows",
    )


def _has_places(capacity: Mapping[str, int], load: Mapping[str, int]) -> bool:
    return all(capacity.get(kind, 0) >= count for kind, count in load.items())


def darp_options(time_limit: float) -> SolveOptions:
    """Options for a literature instance: distance is the whole objective, 1/1000 resolution."""
    return SolveOptions(
        time_limit=time_limit, time_scale=1000.0, distance_scale=1000.0, time_cost=0
    )
