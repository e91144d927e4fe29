"""``/plan`` search time per profile (no HTTP) beside a networkx time-expanded baseline.

Run: ``pytest benchmarks/test_plan_speed.py --benchmark-only``, then
``python benchmarks/ratios.py <json>`` prints median ratios (``networkx/ours``).
Each round plans the next of 200 seeded Almaty origin-destination pairs leaving in the
weekday morning peak, so the median is a per-query median.

``test_plan_agrees_with_time_expanded_graph`` is a plain test (skipped by
``--benchmark-only``); run it with ``pytest benchmarks/test_plan_speed.py
--benchmark-disable -k agrees``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import time
from dataclasses import replace
from zoneinfo import ZoneInfo

import networkx as nx
import numpy as np
import pytest

from datasets.almaty.cache import ensure_almaty_gtfs
from routing.cost import PROFILE_NAMES, get_profile
from routing.errors import NoRouteError, OutsideAreaError
from routing.transit.planner import TransitPlanner
from routing.transit.raptor import UNREACHED, RaptorOptions, raptor
from routing.transit.timetable import NO_TRANSFER, Timetable
from routing.tristate import NO

PROFILES = list(PROFILE_NAMES)
ALMATY_TZ = "Asia/Almaty"  # the Almaty feed's agency_timezone
BASELINE_PROFILES = ["walk", "wheelchair_manual"]
PAIRS = 200
SEED = 2026
SERVICE_DATE = dt.date(2026, 12, 7)  # a Monday
PEAK = (7 * 3600 + 30 * 60, 9 * 3600)  # departures drawn from 07:30..09:00
WINDOW = (7 * 3600, 11 * 3600)  # events the time-expanded graph keeps
OFFSET_M = (20.0, 80.0)  # origins and destinations lie this far from a stop
MIN_STRAIGHT_M = 1000.0  # shorter pairs are mostly walks; keep the queries transit queries
CHECKED_PAIRS = 20
_EARTH_M_PER_DEG = 111_195.0


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def almaty_planner(almaty_router, shared_data, tmp_path_factory) -> TransitPlanner:
    """The planner on the Almaty feed built from the shared data (into a temporary cache)."""
    gtfs = ensure_almaty_gtfs(shared_data / "almaty", tmp_path_factory.mktemp("gtfs-cache"))
    return TransitPlanner.from_gtfs(almaty_router, gtfs)


@pytest.fixture(scope="module")
def od_pairs(almaty_planner) -> list[tuple[tuple[float, float], tuple[float, float], dt.datetime]]:
    """200 seeded ``(origin, destination, departure)`` queries.

    Origin and destination are random served stops (bus stops and metro platforms of the
    service day) moved 20-80 m in a random direction, at least 1 km apart in a straight
    line and inside the street graph's area; departures are uniform in 07:30-09:00 on
    Monday 2026-12-07, Almaty time.
    """
    tt = almaty_planner.timetable(SERVICE_DATE)
    served = np.flatnonzero(np.diff(tt.stop_ps_ptr) > 0)
    rng = np.random.default_rng(SEED)
    zone = ZoneInfo(ALMATY_TZ)
    midnight = dt.datetime.combine(SERVICE_DATE, dt.time(), tzinfo=zone)

    def near(stop: int) -> tuple[float, float] | None:
        lat, lon = float(tt.stop_lat[stop]), float(tt.stop_lon[stop])
        metres, bearing = rng.uniform(*OFFSET_M), rng.uniform(0.0, 2 * math.pi)
        lat += metres * math.cos(bearing) / _EARTH_M_PER_DEG
        lon += metres * math.sin(bearing) / (_EARTH_M_PER_DEG * math.cos(math.radians(lat)))
        try:
            almaty_planner.network.nearest_way((lat, lon), "point")
        except OutsideAreaError:
            return None
        return lat, lon

    pairs = []
    while len(pairs) < PAIRS:
        a, b = (int(s) for s in rng.choice(served, size=2, replace=False))
        origin, destination = near(a), near(b)
        if origin is None or destination is None:
            continue
        if _straight_m(origin, destination) < MIN_STRAIGHT_M:
            continue
        when = midnight + dt.timedelta(seconds=int(rng.integers(PEAK[0], PEAK[1] + 1)))
        pairs.append((origin, destination, when))
    return pairs


@pytest.fixture(scope="module")
def time_expanded():
    """``get(planner, profile)``: the profile's time-expanded graph, one kept at a time.

    A graph of the 07:00-11:00 window (about 680k nodes and 2.3M arcs) takes about 1.2 GB
    in networkx, so only the most recent profile's graph stays in memory.
    """
    kept: dict[str, TimeExpandedGraph] = {}

    def get(planner: TransitPlanner, profile_name: str) -> TimeExpandedGraph:
        if profile_name not in kept:
            kept.clear()
            profile = get_profile(profile_name)
            tt = planner._prepared(SERVICE_DATE, profile)[0]
            kept[profile_name] = TimeExpandedGraph(tt, search_options(planner, profile), WINDOW)
        return kept[profile_name]

    return get


# --------------------------------------------------------------------------- helpers


def _straight_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Straight-line metres between two ``(lat, lon)`` points (equirectangular)."""
    dy = (a[0] - b[0]) * _EARTH_M_PER_DEG
    dx = (a[1] - b[1]) * _EARTH_M_PER_DEG * math.cos(math.radians((a[0] + b[0]) / 2))
    return math.hypot(dx, dy)


def _seconds_of_day(when: dt.datetime) -> int:
    """Seconds since local midnight, as the planner counts the departure."""
    local = when.astimezone(ZoneInfo(ALMATY_TZ))
    return local.hour * 3600 + local.minute * 60 + local.second


def search_options(planner: TransitPlanner, profile) -> RaptorOptions:
    """The rules of the planner's first ("any") RAPTOR search for ``profile``.

    Wheelchair profiles ride only trips and use only stops not marked inaccessible; the
    change buffer is the planner's default (180 s for wheelchair and blind profiles, 60 s
    for others).

    Parameters
    ----------
    planner
        The planner whose options and accessibility facts apply.
    profile
        The profile.

    Returns
    -------
    RaptorOptions
    """
    _, _, stop_wc, _, trip_wc = planner._prepared(SERVICE_DATE, profile)
    buffer = planner.options.min_transfer_s
    if buffer is None:
        buffer = 180 if (profile.wheelchair or profile.name == "blind") else 60
    if not profile.wheelchair:
        return RaptorOptions(max_transfers=planner.options.max_transfers,
                             min_transfer_seconds=buffer)  # fmt: skip
    return RaptorOptions(
        max_transfers=planner.options.max_transfers,
        min_transfer_seconds=buffer,
        allowed_trip=trip_wc != NO,
        allowed_board=stop_wc != NO,
        allowed_alight=stop_wc != NO,
    )


def access_egress(planner: TransitPlanner, origin, destination, profile):
    """The planner's walking seconds from the origin to each stop and from each to the end.

    Parameters
    ----------
    planner
        The planner (its street router and the profile's stop links).
    origin, destination
        ``(lat, lon)``.
    profile
        The profile.

    Returns
    -------
    tuple of dict
        ``({stop: seconds}, {stop: seconds})``, computed as :meth:`TransitPlanner.plan`
        does; both empty when a point cannot be snapped for the profile.
    """
    network = planner.network
    try:
        src = network.snap(origin, profile, "from")
        dst = network.snap(destination, profile, "to")
    except NoRouteError:
        return {}, {}
    links = planner._prepared(SERVICE_DATE, profile)[1]
    acc_s, acc_c = planner._access(src, profile, links, reverse=False)
    egr_s, egr_c = planner._access(dst, profile, links, reverse=True)
    access = {int(i): int(round(acc_s[i])) for i in np.flatnonzero(np.isfinite(acc_c))}
    egress = {int(i): int(round(egr_s[i])) for i in np.flatnonzero(np.isfinite(egr_c))}
    return access, egress


class TimeExpandedGraph:
    """A networkx time-expanded graph of one service day's window, for earliest arrival.

    Every node has a time and every arc weighs the time between its ends, so a Dijkstra
    distance from the query's source is the time elapsed since the departure. Nodes:

    * ``A(e)``, ``D(e)``: arrival and departure of trip event ``e`` (a trip at one stop of
      its pattern); arcs ``A(e) -> D(e)`` (dwell, staying on board) and ``D(e) -> A(e')``
      (ride to the trip's next stop);
    * ``W(s, t)``: waiting at stop ``s`` for the departures at ``t``, one per distinct
      boardable departure time, chained in time order; ``W(s, t) -> D(e)`` boards;
    * ``X(s)``: "arrived at stop ``s`` by vehicle", ``A(e) -> X(s)`` with weight 0, where the
      query's egress arcs to the sink start.

    Changing vehicles: from every alighting ``A(e)`` at stop ``s`` an arc to the first
    ``W(s, t)`` with ``t >= arrival + change_seconds[s] + buffer`` and, for every footpath
    ``s -> s'`` of the timetable (the profile's transfer walks), to the first ``W(s', t)``
    with ``t >= arrival + walk + buffer``. As in RAPTOR, footpaths are not chained. Unlike
    RAPTOR's search the number of vehicles is not limited.

    Parameters
    ----------
    tt
        The compiled service day with the profile's footpaths
        (``TransitPlanner._prepared(date, profile)[0]``).
    options
        Trip, boarding and alighting filters and the change buffer; ``max_transfers`` is
        ignored.
    window
        ``(start, end)`` seconds since midnight: events outside it are left out.
    """

    SOURCE = -1
    SINK = -2
    _SPAN = 4 * 86_400  # key = stop * span + time; times in the window are 0..2 days

    def __init__(self, tt: Timetable, options: RaptorOptions, window: tuple[int, int]) -> None:
        started = time.perf_counter()
        self.tt = tt
        n, n_events = tt.n_stops, len(tt.event_departure)
        lo, hi = window
        trips_per_ps = np.diff(tt.pattern_trip_ptr)[tt.ps_pattern]
        ps = np.repeat(np.arange(len(tt.ps_stop), dtype=np.int64), trips_per_ps)
        local = np.arange(n_events, dtype=np.int64) - tt.ps_event_ptr[ps]
        trip = tt.pattern_trip_ptr[tt.ps_pattern[ps]] + local
        stop = tt.ps_stop[ps].astype(np.int64)
        arr = tt.event_arrival.astype(np.int64)
        dep = tt.event_departure.astype(np.int64)
        keep = (arr >= lo) & (dep <= hi)
        if options.allowed_trip is not None:
            keep &= np.asarray(options.allowed_trip, dtype=bool)[trip]
        board = keep & tt.ps_can_board[ps]
        alight = keep & tt.ps_can_alight[ps]
        if options.allowed_board is not None:
            board &= np.asarray(options.allowed_board, dtype=bool)[stop]
        if options.allowed_alight is not None:
            alight &= np.asarray(options.allowed_alight, dtype=bool)[stop]

        a_node = np.arange(n_events, dtype=np.int64)
        d_node = a_node + n_events
        self._x0 = 2 * n_events
        self._w0 = 2 * n_events + n
        arcs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        # Dwell and ride.
        e = np.flatnonzero(keep)
        arcs.append((a_node[e], d_node[e], dep[e] - arr[e]))
        nxt_ps = ps + 1
        same = nxt_ps < len(tt.ps_stop)
        same[same] = tt.ps_pattern[nxt_ps[same]] == tt.ps_pattern[ps[same]]
        e = np.flatnonzero(keep & same)
        e2 = tt.ps_event_ptr[nxt_ps[e]] + local[e]
        ok = keep[e2]
        e, e2 = e[ok], e2[ok]
        arcs.append((d_node[e], a_node[e2], arr[e2] - dep[e]))
        # Waiting chains and boarding.
        b = np.flatnonzero(board)
        self._wkeys = np.unique(stop[b] * self._SPAN + dep[b])
        w_stop, w_time = self._wkeys // self._SPAN, self._wkeys % self._SPAN
        w_node = self._w0 + np.arange(len(self._wkeys), dtype=np.int64)
        chain = np.flatnonzero(w_stop[1:] == w_stop[:-1])
        arcs.append((w_node[chain], w_node[chain + 1], w_time[chain + 1] - w_time[chain]))
        w_of = np.searchsorted(self._wkeys, stop[b] * self._SPAN + dep[b])
        arcs.append((w_node[w_of], d_node[b], np.zeros(len(b), dtype=np.int64)))
        # Alighting: arrived at the stop, and changes (same stop or one footpath).
        al = np.flatnonzero(alight)
        arcs.append((a_node[al], self._x0 + stop[al], np.zeros(len(al), dtype=np.int64)))
        buffer = int(options.min_transfer_seconds)
        change = tt.change_seconds[stop[al]].astype(np.int64)
        stay = change < NO_TRANSFER
        lo_fp, hi_fp = tt.footpath_ptr[stop[al]], tt.footpath_ptr[stop[al] + 1]
        counts = hi_fp - lo_fp
        fp = np.repeat(lo_fp - np.cumsum(counts) + counts, counts) + np.arange(counts.sum())
        from_event = np.concatenate([al[stay], np.repeat(al, counts)])
        to_stop = np.concatenate([stop[al[stay]], tt.footpath_to[fp].astype(np.int64)])
        walk = np.concatenate([change[stay], tt.footpath_seconds[fp].astype(np.int64)])
        ready = arr[from_event] + walk + buffer
        w = np.searchsorted(self._wkeys, to_stop * self._SPAN + ready)
        ok = w < len(self._wkeys)
        ok[ok] = w_stop[w[ok]] == to_stop[ok]
        from_event, w = from_event[ok], w[ok]
        arcs.append((a_node[from_event], w_node[w], w_time[w] - arr[from_event]))

        graph = nx.DiGraph()
        for u, v, weight in arcs:
            graph.add_weighted_edges_from(zip(u.tolist(), v.tolist(), weight.tolist(),
                                              strict=True))  # fmt: skip
        self.graph = graph
        # Footpaths as flat arrays, for the query's "access, then one footpath" starts and
        # "one footpath, then egress" ends.
        self._fp_from = np.repeat(np.arange(n, dtype=np.int64), np.diff(tt.footpath_ptr))
        self._fp_to = tt.footpath_to.astype(np.int64)
        self._fp_s = tt.footpath_seconds.astype(np.int64)
        self.build_seconds = time.perf_counter() - started

    def query_arcs(
        self, access: dict[int, int], egress: dict[int, int], depart: int
    ) -> list[tuple[int, int, int]]:
        """The query's source and sink arcs.

        The source reaches, at each stop that the access walk (optionally followed by one
        footpath) reaches at ``t``, the first boardable departure at or after ``t``; every
        ``X(s)`` reaches the sink in ``min(egress[s], footpath(s, s') + egress[s'])``.

        Parameters
        ----------
        access, egress
            ``{stop: walking seconds}`` from the origin and to the destination.
        depart
            Departure, seconds since midnight.

        Returns
        -------
        list of tuple
            ``(u, v, weight)`` arcs.
        """
        n = self.tt.n_stops
        start = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        if access:
            stops = np.fromiter(access.keys(), dtype=np.int64, count=len(access))
            start[stops] = depart + np.fromiter(access.values(), dtype=np.int64, count=len(stops))
            walked = start[self._fp_from] + self._fp_s
            np.minimum.at(start, self._fp_to, walked)
        reached = np.flatnonzero(start < np.iinfo(np.int64).max // 4)
        w = np.searchsorted(self._wkeys, reached * self._SPAN + start[reached])
        ok = w < len(self._wkeys)
        ok[ok] = self._wkeys[w[ok]] // self._SPAN == reached[ok]
        w = w[ok]
        arcs = [(self.SOURCE, int(self._w0 + k), int(self._wkeys[k] % self._SPAN - depart))
                for k in w.tolist()]  # fmt: skip
        end = np.full(n, np.iinfo(np.int64).max // 4, dtype=np.int64)
        if egress:
            stops = np.fromiter(egress.keys(), dtype=np.int64, count=len(egress))
            end[stops] = np.fromiter(egress.values(), dtype=np.int64, count=len(stops))
            np.minimum.at(end, self._fp_from, self._fp_s + end[self._fp_to])
        for s in np.flatnonzero(end < np.iinfo(np.int64).max // 4).tolist():
            x = self._x0 + s
            if x in self.graph:
                arcs.append((x, self.SINK, int(end[s])))
        return arcs

    def earliest_arrival(self, arcs: list[tuple[int, int, int]], depart: int) -> int | None:
        """Wire the query's arcs in, run Dijkstra to the sink, take them out again.

        Parameters
        ----------
        arcs
            From :meth:`query_arcs`.
        depart
            Departure, seconds since midnight.

        Returns
        -------
        int or None
            Earliest arrival (seconds since midnight), None when the sink is not reached.
        """
        graph = self.graph
        graph.add_weighted_edges_from(arcs)
        try:
            return depart + int(
                nx.dijkstra_path_length(graph, self.SOURCE, self.SINK, weight="weight")
            )
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None
        finally:
            graph.remove_nodes_from([self.SOURCE, self.SINK])


# --------------------------------------------------------------------------- benchmarks


@pytest.mark.parametrize("profile_name", PROFILES)
def test_plan_query(benchmark, almaty_planner, od_pairs, profile_name):
    """``TransitPlanner.plan`` as ``/plan`` calls it, without HTTP.

    Each query snaps both points, runs the access and egress street searches, one RAPTOR
    search (two for wheelchair profiles: "any" and "only known accessible"), builds the
    itineraries (walking legs routed on the street graph) and the walk-only alternative.
    The warm-up rounds build the per-profile caches (timetable, stop links, transfer
    walks) before timing starts.
    """
    planner, profile = almaty_planner, get_profile(profile_name)
    it = itertools.cycle(od_pairs)
    planner._prepared(SERVICE_DATE, profile)  # caches first, so warm-up is a real query

    def one():
        origin, destination, when = next(it)
        try:
            return planner.plan(origin, destination, when, profile)
        except NoRouteError:  # no itinerary is a valid answer; it was still searched for
            return None

    benchmark.group = "plan almaty"
    benchmark.extra_info.update(city="almaty", profile=profile_name, kind="ours_plan")
    benchmark.pedantic(one, rounds=PAIRS, iterations=1, warmup_rounds=3)


def test_plan_agrees_with_time_expanded_graph(almaty_planner, od_pairs, time_expanded):
    """Walk profile, 20 pairs: the planner's earliest arrivals against networkx's.

    * RAPTOR without a limit on transfers, from the planner's own access and egress walks,
      must arrive exactly when the time-expanded graph says: both model the same network.
    * The plan's earliest itinerary is no later than RAPTOR's earliest within the
      planner's limit of three transfers (it can be earlier: the walk-only itinerary).
    * So it is later than networkx's only when the earliest journey needs more than four
      vehicles (the graph has no limit).
    """
    profile = get_profile("walk")
    planner = almaty_planner
    graph = time_expanded(planner, "walk")
    tt = planner._prepared(SERVICE_DATE, profile)[0]
    limited = search_options(planner, profile)
    unlimited = replace(limited, max_transfers=20)
    midnight = dt.datetime.combine(SERVICE_DATE, dt.time(), tzinfo=ZoneInfo(ALMATY_TZ))
    answered = 0
    for origin, destination, when in od_pairs[:CHECKED_PAIRS]:
        depart = _seconds_of_day(when)
        access, egress = access_egress(planner, origin, destination, profile)
        expected = graph.earliest_arrival(graph.query_arcs(access, egress, depart), depart)
        searched = access and egress
        free = raptor(tt, access, egress, depart, unlimited) if searched else []
        assert min((j.arrival_time for j in free), default=None) == expected, (origin, when)
        walk = int(profile.max_access_walk_s)  # the planner's limit on first and last walks
        planned = replace(limited, max_access_walk_s=walk, max_egress_walk_s=walk)
        capped = raptor(tt, access, egress, depart, planned) if searched else []
        fastest = min((j.arrival_time for j in capped), default=None)
        try:
            plan = planner.plan(origin, destination, when, profile)
        except NoRouteError:
            assert expected is None
            continue
        best = min((i.arrival - midnight).total_seconds() for i in plan.itineraries)
        if fastest is not None:
            assert best <= fastest, (origin, destination, when, best, fastest)
        if expected is not None and best > expected:
            assert fastest > expected  # only the transfer limit makes the plan later
        answered += expected is not None
    assert answered >= CHECKED_PAIRS // 2


@pytest.mark.parametrize("profile_name", BASELINE_PROFILES)
def test_networkx_time_expanded(benchmark, almaty_planner, od_pairs, time_expanded,
                                profile_name):  # fmt: skip
    """Earliest arrival by ``nx.dijkstra_path_length`` on a time-expanded graph.

    The graph (built outside the timing; see :class:`TimeExpandedGraph`) holds the same
    compiled service day, 07:00-11:00, with the same profile's transfer walks, change
    buffer and wheelchair filters as the planner's search. The access and egress walking
    seconds come from the planner's own street searches, and the query's source and sink
    arcs from them, both computed **outside** the timing; each timed round adds those
    arcs to the graph, runs ``nx.dijkstra_path_length`` to the sink and removes them.

    Both sides answer "earliest arrival from A to B leaving at t", but ours does more per
    query: snapping, the two access/egress street searches, a Pareto set over (arrival,
    transfers) rather than one arrival, two searches for wheelchair profiles, itineraries
    with walking legs routed on the street graph, and a walk-only alternative.
    """
    planner, profile = almaty_planner, get_profile(profile_name)
    graph = time_expanded(planner, profile_name)
    queries = []
    for origin, destination, when in od_pairs:
        depart = _seconds_of_day(when)
        access, egress = access_egress(planner, origin, destination, profile)
        queries.append((graph.query_arcs(access, egress, depart), depart))
    it = itertools.cycle(queries)

    def one():
        arcs, depart = next(it)
        return graph.earliest_arrival(arcs, depart)

    benchmark.group = "plan almaty"
    benchmark.extra_info.update(
        city="almaty",
        profile=profile_name,
        kind="networkx_te",
        te_build_s=round(graph.build_seconds, 2),
        te_nodes=graph.graph.number_of_nodes(),
        te_edges=graph.graph.number_of_edges(),
        te_window="07:00-11:00",
    )
    benchmark.pedantic(one, rounds=PAIRS, iterations=1, warmup_rounds=3)


# --------------------------------------------------------------------------- arrive-by and windows

#: Rounds of the arrive-by and window benchmarks (each networkx round is many Dijkstras).
RANGE_ROUNDS = 20
WINDOW_S, STEP_S = 2 * 3600, 5 * 60  # a 2-hour window, one departure every 5 minutes
ARRIVE_BY = 10 * 3600  # latest arrival; departures searched from 07:00 (the graph's window)


def range_queries(planner: TransitPlanner, od_pairs, profile):
    """Access and egress walks of the first pairs, computed once (as for the baseline), and
    a window start in 07:00-07:30, so that the windows' journeys end inside the graph's."""
    out = []
    for origin, destination, when in od_pairs[:RANGE_ROUNDS]:
        access, egress = access_egress(planner, origin, destination, profile)
        if access and egress:
            out.append((access, egress, WINDOW[0] + _seconds_of_day(when) % 1800))
    return out


def nx_latest_departure(graph: TimeExpandedGraph, access, egress, moments) -> int | None:
    """Latest of ``moments`` whose earliest arrival is by :data:`ARRIVE_BY`, by the same
    binary search as ours, one ``nx.dijkstra_path_length`` per probe."""
    lo, hi, best = 0, len(moments) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        t = int(moments[mid])
        arrival = graph.earliest_arrival(graph.query_arcs(access, egress, t), t)
        if arrival is not None and arrival <= ARRIVE_BY:
            best, lo = t, mid + 1
        else:
            hi = mid - 1
    return best


@pytest.mark.parametrize("side", ["ours", "networkx"])
def test_arrive_by(benchmark, almaty_planner, od_pairs, time_expanded, side):
    """Latest departure arriving by 10:00 (walk profile): ours is
    :func:`~routing.transit.raptor.latest_departure` (binary search over the exact
    departure moments, one RAPTOR run per probe); networkx runs the same binary search
    with one Dijkstra on the time-expanded graph per probe. Both return the same moment
    (asserted on every query before timing)."""
    from routing.transit.raptor import departure_candidates, latest_departure

    profile = get_profile("walk")
    planner = almaty_planner
    tt = planner._prepared(SERVICE_DATE, profile)[0]
    options = search_options(planner, profile)
    graph = time_expanded(planner, "walk")
    queries = []
    for access, egress, _ in range_queries(planner, od_pairs, profile):
        moments = departure_candidates(tt, access, WINDOW[0], ARRIVE_BY, options)
        queries.append((access, egress, moments))
    for access, egress, moments in queries[:5]:
        ours = latest_departure(tt, access, egress, ARRIVE_BY, WINDOW[0],
                                replace(options, max_transfers=20))  # fmt: skip
        leave = max((j.departure_time for j in ours), default=None)
        assert leave == nx_latest_departure(graph, access, egress, moments)
    it = itertools.cycle(queries)

    def one():
        access, egress, moments = next(it)
        if side == "ours":
            return latest_departure(tt, access, egress, ARRIVE_BY, WINDOW[0], options)
        return nx_latest_departure(graph, access, egress, moments)

    benchmark.group = "plan almaty arrive-by"
    kind = "ours_plan" if side == "ours" else "networkx_te"
    benchmark.extra_info.update(city="almaty-arrive-by", profile="walk", kind=kind)
    benchmark.pedantic(one, rounds=len(queries), iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("side", ["ours", "mcraptor", "mcraptor_exact", "networkx"])
def test_two_hour_window(benchmark, almaty_planner, od_pairs, time_expanded, side):
    """Earliest arrival for each of 25 departures (every 5 minutes over 2 hours), walk
    profile: ours is :func:`~routing.transit.raptor.arrivals_by_departure` (range RAPTOR,
    labels kept between departures); networkx runs one Dijkstra per departure. The
    arrivals agree (with no transfer limit) on the first queries before timing (checked
    in the ``ours`` round only: each networkx window takes half a minute).

    ``mcraptor``: :func:`~routing.transit.mcraptor.range_mc_raptor` at the same 25
    departures with the walk profile's generalised cost (the footpaths' extra cost and
    the change penalty; the access and egress walks' extra cost left out): the whole
    Pareto set with the departure, arrival, transfers, cost and unknowns as criteria, not
    one arrival;
    ``mcraptor_exact``: the same over every exact departure moment of the window, which is
    what a ``/plan`` window request runs. Before timing, ``mcraptor``'s earliest arrival
    leaving at or after each of the 25 moments is checked against ``ours``."""
    from routing.transit.mcraptor import range_mc_raptor
    from routing.transit.raptor import arrivals_by_departure

    profile = get_profile("walk")
    planner = almaty_planner
    tt = planner._prepared(SERVICE_DATE, profile)[0]
    options = search_options(planner, profile)
    graph = time_expanded(planner, "walk")
    queries = range_queries(planner, od_pairs, profile)

    def nx_window(access, egress, start):
        out = []
        for t in range(start, start + WINDOW_S + 1, STEP_S):
            out.append(graph.earliest_arrival(graph.query_arcs(access, egress, t), t))
        return out

    costs = planner.transit_costs(planner._prepared(SERVICE_DATE, profile), profile)
    for access, egress, start in queries[:3] if side in ("ours", "mcraptor") else []:
        moments = range(start, start + WINDOW_S + 1, STEP_S)
        if side == "mcraptor":  # the earliest arrival leaving at or after each moment
            found = range_mc_raptor(tt, access, egress, start, start + WINDOW_S, options,
                                    costs, departure_times=moments)  # fmt: skip
            plain = arrivals_by_departure(tt, access, egress, moments, options)
            for t, arrival in zip(moments, plain.tolist(), strict=True):
                best = min((j.arrival_time for j in found if j.departure_time >= t),
                           default=UNREACHED)  # fmt: skip
                assert best == arrival
            continue
        ours = arrivals_by_departure(tt, access, egress, moments,
                                     replace(options, max_transfers=20))  # fmt: skip
        for mine, theirs in zip(ours.tolist(), nx_window(access, egress, start), strict=True):
            if mine <= WINDOW[1]:  # the graph holds no event after its window's end
                assert mine == theirs
            else:
                assert theirs is None or theirs >= mine
    it = itertools.cycle(queries)

    def one():
        access, egress, start = next(it)
        moments = range(start, start + WINDOW_S + 1, STEP_S)
        if side == "ours":
            return arrivals_by_departure(tt, access, egress, moments, options)
        if side.startswith("mcraptor"):
            steps = None if side == "mcraptor_exact" else moments
            return range_mc_raptor(tt, access, egress, start, start + WINDOW_S, options, costs,
                                   departure_times=steps)  # fmt: skip
        return nx_window(access, egress, start)

    benchmark.group = "plan almaty 2h window"
    kind = "networkx_te" if side == "networkx" else "ours_plan"
    benchmark.extra_info.update(city="almaty-window", profile="walk", kind=kind)
    benchmark.pedantic(one, rounds=len(queries), iterations=1, warmup_rounds=1)


# --------------------------------------------------------------------------- cost in the search

#: Pairs of the search-only benchmark (inputs computed once, before timing).
SEARCH_PAIRS = 60


@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual", "blind"])
@pytest.mark.parametrize("side", ["raptor", "mcraptor"])
def test_search_with_cost(benchmark, almaty_planner, od_pairs, side, profile_name):
    """The transit search of one single-departure ``/plan`` query, without the walks:
    ``mcraptor`` is what the planner runs now (one McRAPTOR run, the generalised cost
    and "unknowns" inside the search); ``raptor`` is what it ran before (plain RAPTOR,
    plus the "known accessible only" second search for wheelchair profiles). The ratio
    raptor/mcraptor (< 1: McRAPTOR is slower) is the price of the cost criterion."""
    from routing.transit.mcraptor import mc_raptor

    planner, profile = almaty_planner, get_profile(profile_name)
    queries = []
    for origin, destination, when in od_pairs[:SEARCH_PAIRS]:
        try:
            inputs = planner.search_inputs(origin, destination, SERVICE_DATE, profile)
        except (NoRouteError, OutsideAreaError):
            continue
        if inputs.access and inputs.egress:
            queries.append((inputs, _seconds_of_day(when)))
    walk_extras = planner._walk_extras
    extras = [
        (walk_extras(i.access, i.access_cost), walk_extras(i.egress, i.egress_cost))
        for i, _ in queries
    ]
    it = itertools.cycle(zip(queries, extras, strict=True))

    def one():
        (inputs, moment), (acc_x, egr_x) = next(it)
        tt = inputs.view.timetable
        if side == "mcraptor":
            _, options = inputs.searches[0]
            return mc_raptor(tt, inputs.access, inputs.egress, moment, options, inputs.costs,
                             access_cost=acc_x, egress_cost=egr_x)  # fmt: skip
        return [raptor(tt, inputs.access, inputs.egress, moment, options)
                for _, options in inputs.searches]  # fmt: skip

    benchmark.group = f"plan almaty search {profile_name}"
    benchmark.extra_info.update(city="almaty-search", profile=profile_name,
                                kind=f"ours_{side}", queries=len(queries))  # fmt: skip
    benchmark.pedantic(one, rounds=2 * len(queries), iterations=1, warmup_rounds=2)
