"""Test helpers for the transit tests: random GTFS feeds, a brute-force oracle, a checker.

The oracle is a layered time-expanded graph in networkx, built independently of RAPTOR
from the timetable's per-trip stop times and footpaths: layer ``k`` holds the states
"having used ``k`` vehicles". Its model is the one RAPTOR implements:

* the access walk reaches a stop, optionally followed by one footpath;
* a vehicle is boarded at a stop where boarding is allowed, at or after the ready time;
* after alighting, either a same-stop change (the stop's change time) or one footpath,
  plus ``min_transfer_seconds``, gives the ready time at the next boarding stop;
* the egress walk starts at the alighting stop or after one footpath from it.
"""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import networkx as nx
import numpy as np

from routing.clock import format_time
from routing.transit.mcraptor import TransitCosts
from routing.transit.raptor import (
    AccessLeg,
    EgressLeg,
    Journey,
    RaptorOptions,
    TransferLeg,
    TransitLeg,
)
from routing.transit.timetable import NO_TRANSFER, Timetable

Tables = dict[str, list[list[str]]]


# --------------------------------------------------------------------------------------
# Writing feeds
# --------------------------------------------------------------------------------------


def write_tables(folder: Path, tables: Mapping[str, list[list[str]]]) -> Path:
    """Write ``{"stops.txt": [header, row, ...], ...}`` as CSV files into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in tables.items():
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)
    return folder


def random_feed_tables(
    rng: np.random.Generator,
    *,
    n_stops: int = 25,
    n_routes: int = 6,
    stops_per_route: tuple[int, int] = (3, 8),
    trips_per_route: tuple[int, int] = (3, 12),
    day_window: tuple[int, int] = (6 * 3600, 10 * 3600),
    n_transfers: int = 20,
    loop_share: float = 0.15,
    no_pickup_share: float = 0.08,
    untimed_share: float = 0.1,
    frequency_routes: int = 1,
    night_routes: int = 1,
) -> Tables:
    """A random but valid feed: overtaking trips, loops, untimed stops, frequencies,
    pickup/drop-off limits, wheelchair flags, all transfer types and a night route whose
    times pass 24:00:00. Every trip runs daily (service ``ALL``) in 2024."""
    lat0, lon0 = 43.24, 76.93
    stops = [
        ["stop_id", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station",
         "wheelchair_boarding"],
        ["ST0", "Station 0", f"{lat0:.5f}", f"{lon0:.5f}", "1", "", "1"],
    ]  # fmt: skip
    for s in range(n_stops):
        parent = "ST0" if s < 2 else ""
        stops.append(
            [f"S{s}", f"Stop {s}", f"{lat0 + rng.uniform(-0.02, 0.02):.5f}",
             f"{lon0 + rng.uniform(-0.03, 0.03):.5f}", "0", parent, str(rng.integers(0, 3))]
        )  # fmt: skip
    routes = [["route_id", "route_short_name", "route_type"]]
    trips = [["route_id", "service_id", "trip_id", "trip_headsign", "wheelchair_accessible"]]
    stop_times = [
        ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence",
         "pickup_type", "drop_off_type"]
    ]  # fmt: skip
    frequencies = [["trip_id", "start_time", "end_time", "headway_secs", "exact_times"]]
    total_routes = n_routes + night_routes
    for r in range(total_routes):
        night = r >= n_routes
        frequency = r < frequency_routes
        length = int(rng.integers(stops_per_route[0], stops_per_route[1] + 1))
        sequence = [f"S{i}" for i in rng.choice(n_stops, size=min(length, n_stops), replace=False)]
        if len(sequence) >= 4 and rng.random() < loop_share:
            sequence.append(sequence[int(rng.integers(0, len(sequence) - 2))])  # a loop
        routes.append([f"R{r}", f"{r}", "3"])
        hops = rng.integers(60, 600, size=len(sequence) - 1)
        pickup = ["1" if rng.random() < no_pickup_share else "" for _ in sequence]
        drop_off = ["1" if rng.random() < no_pickup_share else "" for _ in sequence]
        untimed = [0 < i < len(sequence) - 1 and rng.random() < untimed_share
                   for i in range(len(sequence))]  # fmt: skip
        n_trips = 1 if frequency else int(rng.integers(trips_per_route[0], trips_per_route[1] + 1))
        for j in range(n_trips):
            trip_id = f"T{r}_{j}"
            trips.append([f"R{r}", "ALL", trip_id, f"To {sequence[-1]}", str(rng.integers(0, 3))])
            if night:
                t = int(rng.integers(23 * 3600, 25 * 3600))
            else:
                t = int(rng.integers(*day_window))
            speed = rng.uniform(0.6, 1.4)  # varies per trip, so some trips overtake others
            for i, stop_id in enumerate(sequence):
                if i:
                    t += int(hops[i - 1] * speed)
                dwell = int(rng.integers(0, 60))
                arrival, departure = format_time(t), format_time(t + dwell)
                if untimed[i]:
                    arrival = departure = ""
                stop_times.append(
                    [trip_id, arrival, departure, stop_id, str(10 * i + 1), pickup[i], drop_off[i]]
                )
                t += dwell
            if frequency:
                start = int(rng.integers(*day_window))
                frequencies.append(
                    [trip_id, format_time(start), format_time(start + 2 * 3600),
                     str(rng.integers(4, 16) * 60), str(rng.integers(0, 2))]
                )  # fmt: skip
    transfers = [["from_stop_id", "to_stop_id", "transfer_type", "min_transfer_time"]]
    seen = set()
    for _ in range(n_transfers):
        a, b = (f"S{i}" for i in rng.integers(0, n_stops, size=2))
        if (a, b) in seen:
            continue
        seen.add((a, b))
        kind = rng.choice([0, 2, 2, 2, 3])
        seconds = (
            "" if kind == 3 or (kind == 0 and rng.random() < 0.5) else str(rng.integers(0, 400))
        )
        transfers.append([a, b, str(kind), seconds])
    transfers.append(["ST0", "ST0", "2", "90"])
    return {
        "agency.txt": [
            ["agency_name", "agency_url", "agency_timezone"],
            ["Random", "https://example.kz", "Asia/Almaty"],
        ],
        "stops.txt": stops,
        "routes.txt": routes,
        "trips.txt": trips,
        "stop_times.txt": stop_times,
        "calendar.txt": [
            [
                "service_id",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
                "start_date",
                "end_date",
            ],
            ["ALL", "1", "1", "1", "1", "1", "1", "1", "20240101", "20241231"],
        ],  # fmt: skip
        "frequencies.txt": frequencies,
        "transfers.txt": transfers,
    }


# --------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------


class TimeExpandedOracle:
    """Earliest arrival per leg limit by Dijkstra on a layered time-expanded graph."""

    def __init__(
        self,
        tt: Timetable,
        options: RaptorOptions,
        *,
        trips: Iterable[int] | None = None,
        costs: TransitCosts | None = None,
    ) -> None:
        """``trips``: build the graph of these trips only (all by default), to keep the
        oracle small on a real timetable when the query's time span is known.
        ``costs``: the generalised cost, put on the edges as ``cost`` and ``unknown``
        attributes for :meth:`pareto_journeys` (boarding: trip and stop penalties, plus
        the change penalty from the second vehicle on; alighting: stop penalty and the
        footpath's extra cost)."""
        self.tt = tt
        self.costs = c = (costs or TransitCosts()).arrays(tt)
        self.max_legs = options.max_transfers + 1
        self.buffer = options.min_transfer_seconds
        first, last = options.max_access_walk_s, options.max_egress_walk_s
        self.max_first_walk = math.inf if first is None else first
        self.max_last_walk = math.inf if last is None else last
        n = tt.n_stops
        trip_ok = _mask(options.allowed_trip, tt.n_trips)
        board_ok = _mask(options.allowed_board, n)
        alight_ok = _mask(options.allowed_alight, n)
        self.footpaths: dict[int, list[tuple[int, int]]] = {}
        self.footpaths_extra: dict[int, list[tuple[int, int, int]]] = {}
        for s in range(n):
            to, seconds = tt.footpaths_from(s)
            self.footpaths[s] = list(zip(to.tolist(), seconds.tolist(), strict=True))
            extra = c.footpath_extra[int(tt.footpath_ptr[s]) : int(tt.footpath_ptr[s + 1])]
            self.footpaths_extra[s] = [
                (a, b, int(x)) for (a, b), x in zip(self.footpaths[s], extra, strict=True)
            ]
        graph = nx.DiGraph()
        self.ready_times: dict[tuple[int, int], set[int]] = defaultdict(set)
        self.sink_edges: list[tuple[tuple, int, int]] = []  # (node, stop, seconds before egress)
        for trip in range(tt.n_trips) if trips is None else sorted(trips):
            if not trip_ok[trip]:
                continue
            pattern = int(tt.trip_pattern[trip])
            entries = range(
                int(tt.pattern_stop_ptr[pattern]), int(tt.pattern_stop_ptr[pattern + 1])
            )
            stops, arrivals, departures = (a.tolist() for a in tt.trip_stop_times(trip))
            for k in range(1, self.max_legs + 1):
                for i, entry in enumerate(entries):
                    stop = stops[i]
                    arr_node, dep_node = ("arr", k, trip, i), ("dep", k, trip, i)
                    graph.add_edge(arr_node, dep_node, weight=departures[i] - arrivals[i])
                    if i + 1 < len(stops):
                        graph.add_edge(
                            dep_node,
                            ("arr", k, trip, i + 1),
                            weight=arrivals[i + 1] - departures[i],
                        )
                    if tt.ps_can_board[entry] and board_ok[stop]:
                        ready = ("ready", k - 1, stop, departures[i])
                        self.ready_times[(k - 1, stop)].add(departures[i])
                        penalty = int(c.trip_penalty[trip] + c.stop_penalty[stop])
                        penalty += c.transfer_penalty if k > 1 else 0
                        unknown = bool(c.trip_unknown[trip] or c.stop_unknown[stop])
                        graph.add_edge(ready, dep_node, weight=0, cost=penalty, unknown=unknown)
                    if tt.ps_can_alight[entry] and alight_ok[stop]:
                        self._alight(graph, arr_node, k, stop, arrivals[i])
        for (k, stop), times in self.ready_times.items():
            ordered = sorted(times)
            for t1, t2 in zip(ordered, ordered[1:], strict=False):
                graph.add_edge(("ready", k, stop, t1), ("ready", k, stop, t2), weight=t2 - t1)
        self.graph = graph

    def _alight(self, graph: nx.DiGraph, node: tuple, k: int, stop: int, time: int) -> None:
        c = self.costs
        alight = int(c.stop_penalty[stop])
        # (node, stop walked to, walk seconds, alighting time, cost of alighting and walk)
        self.sink_edges.append((node, stop, 0, time, alight))
        for to, seconds, extra in self.footpaths_extra[stop]:
            self.sink_edges.append((node, to, seconds, time, alight + extra))
        if k == self.max_legs:
            return
        change = int(self.tt.change_seconds[stop])
        targets = [(to, seconds, extra) for to, seconds, extra in self.footpaths_extra[stop]]
        if change < NO_TRANSFER:
            targets.append((stop, change, 0))
        for to, seconds, extra in targets:
            ready_time = time + seconds + self.buffer
            self.ready_times[(k, to)].add(ready_time)
            graph.add_edge(node, ("ready", k, to, ready_time), weight=seconds + self.buffer,
                           cost=alight + extra, unknown=bool(c.stop_unknown[stop]))

    def earliest_arrivals(
        self, access: Mapping[int, int], egress: Mapping[int, int], departure_time: int
    ) -> list[int | None]:
        """Earliest arrival with at most 1, 2, ..., ``max_legs`` transit legs."""
        graph = self.graph  # the query's nodes are added, then removed again
        # Wire the query in: the source into layer 0, layer sinks out of every alighting.
        starts: dict[int, int] = {}
        for stop, seconds in access.items():
            if seconds > self.max_first_walk:
                continue
            starts[stop] = min(starts.get(stop, math.inf), departure_time + seconds)
            for to, walk in self.footpaths[stop]:
                if seconds + walk <= self.max_first_walk:
                    starts[to] = min(starts.get(to, math.inf), departure_time + seconds + walk)
        for stop, time in starts.items():
            times = sorted(self.ready_times.get((0, stop), ()))
            later = [t for t in times if t >= time]
            if later:  # waiting from the arrival at the stop to the first boarding event
                graph.add_edge(
                    "source", ("ready", 0, stop, later[0]), weight=later[0] - departure_time
                )
        for node, stop, walk, _, _ in self.sink_edges:
            if stop in egress and walk + egress[stop] <= self.max_last_walk:
                sink = ("sink", node[1])
                weight = walk + egress[stop]
                if graph.has_edge(node, sink):  # a DiGraph keeps one edge per pair: the best
                    weight = min(weight, graph[node][sink]["weight"])
                graph.add_edge(node, sink, weight=weight)
        if "source" in graph:
            distance = nx.single_source_dijkstra_path_length(graph, "source", weight="weight")
        else:
            distance = {}
        graph.remove_nodes_from(["source", *(("sink", k) for k in range(1, self.max_legs + 1))])
        best: list[int | None] = []
        current: int | None = None
        for k in range(1, self.max_legs + 1):
            d = distance.get(("sink", k))
            if d is not None and (current is None or departure_time + d < current):
                current = departure_time + d
            best.append(current)
        return best


    def pareto_journeys(
        self,
        access: Mapping[int, int],
        egress: Mapping[int, int],
        departure_time: int,
        access_cost: Mapping[int, int] | None = None,
        egress_cost: Mapping[int, int] | None = None,
    ) -> set[tuple[int, int, int, bool]]:
        """Every Pareto-optimal (arrival, transit legs, cost, unknown) by brute force.

        In the time-expanded graph a node's time is fixed, so a node keeps only the
        non-dominated (cost, unknown) pairs of the paths reaching it; they are pushed along
        the edges in topological order (the graph is acyclic: time never decreases inside
        a layer and boarding moves to the next layer). Every alighting then offers each
        egress (directly or after one footpath): the candidates are filtered for Pareto
        optimality over all four criteria at the end.
        """
        access_cost, egress_cost = access_cost or {}, egress_cost or {}
        if not hasattr(self, "order"):
            self.order = list(nx.topological_sort(self.graph))
        bags: dict[tuple, set[tuple[int, bool]]] = defaultdict(set)
        for stop, seconds in access.items():
            if seconds > self.max_first_walk:
                continue
            extra = int(access_cost.get(stop, 0))
            starts = [(stop, departure_time + seconds, extra)]
            for to, walk, more in self.footpaths_extra[stop]:
                if seconds + walk <= self.max_first_walk:
                    starts.append((to, departure_time + seconds + walk, extra + more))
            for at, time, cost in starts:
                later = [t for t in self.ready_times.get((0, at), ()) if t >= time]
                if later:
                    _add(bags[("ready", 0, at, min(later))], cost, False)
        for node in self.order:
            bag = bags.get(node)
            if not bag:
                continue
            for _, nxt, data in self.graph.out_edges(node, data=True):
                for cost, unknown in list(bag):
                    _add(bags[nxt], cost + data.get("cost", 0),
                         unknown or data.get("unknown", False))  # fmt: skip
        found = []
        for node, stop, walk, time, extra in self.sink_edges:
            if stop not in egress or walk + egress[stop] > self.max_last_walk:
                continue
            unknown_stop = bool(self.costs.stop_unknown[node_stop(self.tt, node)])
            for cost, unknown in bags.get(node, ()):
                found.append((time + walk + egress[stop], node[1],
                              cost + extra + int(egress_cost.get(stop, 0)),
                              unknown or unknown_stop))  # fmt: skip
        return {
            a for a in found
            if not any(b != a and all(x <= y for x, y in zip(b, a, strict=True)) for b in found)
        }  # fmt: skip


def node_stop(tt: Timetable, node: tuple) -> int:
    """The stop of a trip node ``(kind, k, trip, position)``."""
    _, _, trip, position = node
    return int(tt.trip_stop_times(trip)[0][position])


def _add(bag: set[tuple[int, bool]], cost: int, unknown: bool) -> None:
    """Put (cost, unknown) into a bag of non-dominated pairs."""
    if any(c <= cost and u <= unknown for c, u in bag):
        return
    for c, u in [x for x in bag if cost <= x[0] and unknown <= x[1]]:
        bag.discard((c, u))
    bag.add((cost, unknown))


def mc_check_cost(
    tt: Timetable,
    journey: Journey,
    costs: TransitCosts,
    access_cost: Mapping[int, int],
    egress_cost: Mapping[int, int],
) -> tuple[int, bool]:
    """A journey's (cost, unknown), recomputed leg by leg from the cost arrays."""
    c = costs.arrays(tt)
    cost, unknown, rides = 0, False, 0
    for leg in journey.legs:
        if isinstance(leg, AccessLeg):
            cost += int(access_cost.get(leg.stop, 0))
        elif isinstance(leg, EgressLeg):
            cost += int(egress_cost.get(leg.stop, 0))
        elif isinstance(leg, TransferLeg):
            lo, hi = int(tt.footpath_ptr[leg.from_stop]), int(tt.footpath_ptr[leg.from_stop + 1])
            edges = [e for e in range(lo, hi) if tt.footpath_to[e] == leg.to_stop]
            cost += int(c.footpath_extra[edges[0]])
        else:
            cost += int(c.trip_penalty[leg.trip])
            cost += int(c.stop_penalty[leg.board_stop] + c.stop_penalty[leg.alight_stop])
            cost += c.transfer_penalty if rides else 0
            unknown |= bool(c.trip_unknown[leg.trip] or c.stop_unknown[leg.board_stop]
                            or c.stop_unknown[leg.alight_stop])  # fmt: skip
            rides += 1
    return cost, unknown


def _mask(mask: np.ndarray | None, n: int) -> np.ndarray:
    return np.ones(n, dtype=bool) if mask is None else np.asarray(mask, dtype=bool)


def raptor_earliest_arrivals(journeys: Iterable[Journey], max_legs: int) -> list[int | None]:
    """The same per-limit earliest arrivals, read off RAPTOR's Pareto set."""
    journeys = list(journeys)
    out: list[int | None] = []
    for limit in range(1, max_legs + 1):
        times = [j.arrival_time for j in journeys if j.n_transit_legs <= limit]
        out.append(min(times) if times else None)
    return out


# --------------------------------------------------------------------------------------
# Checking a journey against the timetable
# --------------------------------------------------------------------------------------


def check_journey(
    tt: Timetable,
    journey: Journey,
    access: Mapping[int, int],
    egress: Mapping[int, int],
    departure_time: int,
    options: RaptorOptions,
) -> None:
    """Assert that every leg is possible in the timetable and the legs chain in time."""
    legs = journey.legs
    assert isinstance(legs[0], AccessLeg) and isinstance(legs[-1], EgressLeg)
    first, last = legs[0], legs[-1]
    assert access[first.stop] == first.seconds
    assert first.departure_time >= departure_time
    assert first.arrival_time == first.departure_time + first.seconds
    assert egress[last.stop] == last.seconds
    assert last.arrival_time == last.departure_time + last.seconds == journey.arrival_time
    assert journey.departure_time == first.departure_time
    assert 1 <= journey.n_transit_legs <= options.max_transfers + 1
    footpaths = {
        (s, int(to)): int(sec)
        for s in range(tt.n_stops)
        for to, sec in zip(*tt.footpaths_from(s), strict=True)
    }
    buffer = options.min_transfer_seconds
    where, time = first.stop, first.arrival_time
    rides, walks_in_a_row = 0, 0
    for leg in legs[1:-1]:
        if isinstance(leg, TransferLeg):
            walks_in_a_row += 1
            assert walks_in_a_row == 1, "footpaths are never chained"
            assert leg.from_stop == where and leg.from_stop != leg.to_stop
            assert footpaths[(leg.from_stop, leg.to_stop)] == leg.seconds
            assert leg.departure_time >= time
            assert leg.arrival_time == leg.departure_time + leg.seconds
            where, time = leg.to_stop, leg.arrival_time
            continue
        assert isinstance(leg, TransitLeg)
        assert leg.board_stop == where
        earliest = time
        if rides:  # changing vehicles: the stop's change time or the footpath, plus buffer
            if walks_in_a_row:
                earliest += buffer
            else:
                change = int(tt.change_seconds[where])
                assert change < NO_TRANSFER
                earliest += change + buffer
        stops, arrivals, departures = tt.trip_stop_times(leg.trip)
        pattern = int(tt.trip_pattern[leg.trip])
        base = int(tt.pattern_stop_ptr[pattern])
        assert leg.board_position < leg.alight_position
        assert stops[leg.board_position] == leg.board_stop
        assert stops[leg.alight_position] == leg.alight_stop
        assert departures[leg.board_position] == leg.board_time >= earliest
        assert arrivals[leg.alight_position] == leg.alight_time
        assert tt.ps_can_board[base + leg.board_position]
        assert tt.ps_can_alight[base + leg.alight_position]
        if options.allowed_trip is not None:
            assert options.allowed_trip[leg.trip]
        if options.allowed_board is not None:
            assert options.allowed_board[leg.board_stop]
        if options.allowed_alight is not None:
            assert options.allowed_alight[leg.alight_stop]
        where, time = leg.alight_stop, leg.alight_time
        rides, walks_in_a_row = rides + 1, 0
    assert last.stop == where and last.departure_time == time
    walks = [leg for leg in legs if not isinstance(leg, TransitLeg)]
    rides = [i for i, leg in enumerate(legs) if isinstance(leg, TransitLeg)]
    first_walk = sum(leg.seconds for leg in legs[: rides[0]])
    last_walk = sum(leg.seconds for leg in legs[rides[-1] + 1 :])
    first, last = options.max_access_walk_s, options.max_egress_walk_s
    assert walks and first_walk <= (math.inf if first is None else first)
    assert last_walk <= (math.inf if last is None else last)


# --------------------------------------------------------------------------------------
# Arrive-by and departure windows, by brute force over departure moments
# --------------------------------------------------------------------------------------


def leaving_moments(tt: Timetable, access: Mapping[int, int]) -> list[int]:
    """Every moment a journey could leave the origin: any departure of any trip at a stop
    the origin reaches (walk, or walk plus one footpath), minus that walk. A superset of the
    moments at which the best journey changes, read off the per-trip stop times."""
    walk: dict[int, int] = {}
    for stop, seconds in access.items():
        walk[stop] = min(walk.get(stop, math.inf), seconds)
        to, foot = tt.footpaths_from(stop)
        for other, more in zip(to.tolist(), foot.tolist(), strict=True):
            walk[other] = min(walk.get(other, math.inf), seconds + more)
    moments = set()
    for trip in range(tt.n_trips):
        stops, _, departures = tt.trip_stop_times(trip)
        for stop, departure in zip(stops.tolist(), departures.tolist(), strict=True):
            if stop in walk:
                moments.add(departure - walk[stop])
    return sorted(moments)


def oracle_latest_departure(
    oracle: TimeExpandedOracle,
    access: Mapping[int, int],
    egress: Mapping[int, int],
    arrive_by: int,
    earliest: int,
) -> tuple[int | None, list[int | None]]:
    """The latest moment in ``[earliest, arrive_by]`` whose earliest arrival is in time, and
    its earliest arrivals per leg limit (None, [] when no moment arrives in time)."""
    moments = [m for m in leaving_moments(oracle.tt, access) if earliest <= m <= arrive_by]
    for moment in reversed(moments):
        arrivals = oracle.earliest_arrivals(access, egress, moment)
        if arrivals[-1] is not None and arrivals[-1] <= arrive_by:
            return moment, arrivals
    return None, []


def oracle_window(
    oracle: TimeExpandedOracle,
    access: Mapping[int, int],
    egress: Mapping[int, int],
    earliest: int,
    latest: int,
) -> set[tuple[int, int]]:
    """(arrival, transit legs) of every Pareto journey that is best for some moment of the
    window: at each moment, each leg limit whose earliest arrival beats fewer legs'."""
    moments = [m for m in leaving_moments(oracle.tt, access) if earliest <= m <= latest]
    expected: set[tuple[int, int]] = set()
    for moment in [*moments, latest]:
        previous = None
        for legs, arrival in enumerate(oracle.earliest_arrivals(access, egress, moment), 1):
            if arrival is not None and (previous is None or arrival < previous):
                expected.add((arrival, legs))
            previous = arrival if arrival is not None else previous
    return expected


def every_leaving_moment(
    tt: Timetable, access: Mapping[int, int], max_first_walk: float
) -> list[int]:
    """As :func:`leaving_moments`, but for *every* walk to a stop (direct, or any access
    walk plus one footpath, within the first walk's limit), not only the shortest: with a
    cost, a longer walk may be the cheaper one, and its journey leaves earlier."""
    walks: set[tuple[int, int]] = set()
    for stop, seconds in access.items():
        if seconds > max_first_walk:
            continue
        walks.add((stop, seconds))
        to, foot = tt.footpaths_from(stop)
        for other, more in zip(to.tolist(), foot.tolist(), strict=True):
            if seconds + more <= max_first_walk:
                walks.add((other, seconds + more))
    by_stop: dict[int, list[int]] = defaultdict(list)
    for stop, seconds in walks:
        by_stop[stop].append(seconds)
    moments = set()
    for trip in range(tt.n_trips):
        stops, _, departures = tt.trip_stop_times(trip)
        for stop, departure in zip(stops.tolist(), departures.tolist(), strict=True):
            moments.update(departure - w for w in by_stop.get(stop, ()))
    return sorted(moments)


def oracle_mc_window(
    oracle: TimeExpandedOracle,
    access: Mapping[int, int],
    egress: Mapping[int, int],
    earliest: int,
    latest: int,
    access_cost: Mapping[int, int],
    egress_cost: Mapping[int, int],
) -> set[tuple[int, int, int, int, bool]]:
    """(departure, arrival, transit legs, cost, unknown) of every journey that is
    Pareto-optimal with the departure as a criterion, by brute force: the Pareto set of
    :meth:`TimeExpandedOracle.pareto_journeys` at every moment a journey can leave in the
    window (and at ``latest``), each tagged with that moment, then every tagged journey
    another beats or equals with a departure no earlier is dropped. A journey found at
    moment m leaves at m or later; when later, it is found again at its own departure (if
    in the window), whose tag beats m's; the best for ``latest`` keep ``latest``."""
    moments = [
        m for m in every_leaving_moment(oracle.tt, access, oracle.max_first_walk)
        if earliest <= m <= latest
    ]  # fmt: skip
    tagged = {
        (m, *found)
        for m in {*moments, latest}
        for found in oracle.pareto_journeys(access, egress, m, access_cost, egress_cost)
    }

    def beats(b: tuple, a: tuple) -> bool:
        return b != a and b[0] >= a[0] and all(x <= y for x, y in zip(b[1:], a[1:], strict=True))

    return {a for a in tagged if not any(beats(b, a) for b in tagged)}
