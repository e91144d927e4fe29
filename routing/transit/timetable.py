"""One service date of a GTFS feed compiled into integer-indexed numpy arrays for RAPTOR.

Times are int seconds since midnight of the service date. Trips of the previous service
day that run past 24:00:00 are kept with their times minus 86400, so a query at 00:30
finds yesterday's 24:40 departure at 00:40. With ``include_next_day`` the next date's trips
are kept too, with their times plus 86400, so a search late in the evening finds the first
trips of the next morning (an overnight search) in the same arrays.

Layout (all arrays read-only; ``n`` = stops, ``P`` = patterns, ``T`` = trips):

* **patterns**: trips of one route with the same stop sequence and the same pickup and
  drop-off rules, split further so that no trip overtakes another (a FIFO pattern: at
  every stop, departures *and* arrivals grow with the trip index). Trips of a pattern are
  numbered consecutively, ``pattern_trip_ptr[p]:pattern_trip_ptr[p + 1]``, earliest first.
* **pattern stops** ("ps" entries): the stops of pattern ``p`` are entries
  ``pattern_stop_ptr[p]:pattern_stop_ptr[p + 1]`` with ``ps_stop``, ``ps_position``,
  ``ps_can_board``, ``ps_can_alight``.
* **events**: the times of every trip at one pattern stop ``c`` are contiguous:
  ``event_departure[ps_event_ptr[c] + i]`` is the departure of the pattern's ``i``-th trip.
  Because a pattern is FIFO each such column is sorted, so the earliest trip leaving after
  ``t`` is one ``np.searchsorted``; :attr:`Timetable.departure_key` stacks all columns into
  one sorted array so that RAPTOR searches every pattern stop of a round in one call.
* **footpaths**: directed stop-to-stop walks ``footpath_ptr[s]:footpath_ptr[s + 1]`` with
  ``footpath_to``/``footpath_seconds``, and ``change_seconds[s]``, the minimum time to change
  vehicles at the same stop (:data:`NO_TRANSFER` where ``transfers.txt`` forbids it).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import numpy as np

from routing.deadline import checkpoint
from routing.geo import haversine_m
from routing.transit.gtfs import (
    NO_PICKUP_OR_DROP_OFF,
    NO_TIME,
    STATION,
    STOP_OR_PLATFORM,
    TRANSFER_NOT_POSSIBLE,
    Feed,
    Transfer,
    active_service_ids,
)
from routing.tristate import UNKNOWN

DAY = 86_400

#: ``change_seconds`` value of a stop where changing vehicles is not possible.
NO_TRANSFER = np.iinfo(np.int32).max



@dataclass(frozen=True, eq=False)
class Timetable:
    """A feed's service on one date as arrays; build it with :meth:`from_feed`.

    Attributes
    ----------
    service_date
        The date whose midnight is time 0.
    stop_ids, stop_index, stop_names, stop_lat, stop_lon
        Every stop of the feed (stations too, which no pattern serves), in file order.
    stop_location_type, stop_parent
        GTFS ``location_type`` and index of ``parent_station`` (-1 if none).
    stop_wheelchair
        ``wheelchair_boarding`` as a :mod:`routing.tristate` code, an unknown child taking
        its parent's.
    route_ids, route_short_names, route_long_names, route_types
        Every route of the feed, in file order.
    trip_ids
        Feed ``trip_id`` of each trip; repeated for trips expanded from ``frequencies.txt``.
    trip_pattern, trip_route, trip_wheelchair, trip_direction, trip_headsigns
        Per trip; ``trip_wheelchair`` is ``wheelchair_accessible`` (a tristate code) and
        ``trip_direction`` is -1 where ``direction_id`` is empty.
    trip_day_offset
        0 for trips of ``service_date``, -86400 for those of the day before, +86400 for
        those of the next day.
    trip_from_frequency
        True for trips expanded from ``frequencies.txt``.
    pattern_route, pattern_stop_ptr, pattern_trip_ptr
        Per pattern; see the module docstring.
    ps_stop, ps_pattern, ps_position, ps_can_board, ps_can_alight, ps_event_ptr
        Per pattern stop.
    event_arrival, event_departure
        Per trip and pattern stop (int32 seconds).
    stop_ps_ptr, stop_ps
        Pattern stops at stop ``s`` are ``stop_ps[stop_ps_ptr[s]:stop_ps_ptr[s + 1]]``.
    footpath_ptr, footpath_to, footpath_seconds, change_seconds
        Transfers; see the module docstring.
    forbidden_footpaths
        ``(from, to)`` stop pairs that ``transfers.txt`` marks as not possible.
    departure_key, key_span, key_origin
        ``departure_key[e] = c * key_span + (event_departure[e] - key_origin)`` for the
        event ``e`` of pattern stop ``c``: globally sorted, for RAPTOR's searches.
    max_pattern_stops, max_pattern_trips
        Largest pattern length and trip count.
    report
        Counts of what compiling skipped or added.
    """

    service_date: dt.date
    stop_ids: tuple[str, ...]
    stop_index: Mapping[str, int]
    stop_names: tuple[str, ...]
    stop_lat: np.ndarray
    stop_lon: np.ndarray
    stop_location_type: np.ndarray
    stop_parent: np.ndarray
    stop_wheelchair: np.ndarray
    route_ids: tuple[str, ...]
    route_short_names: tuple[str, ...]
    route_long_names: tuple[str, ...]
    route_types: np.ndarray
    trip_ids: tuple[str, ...]
    trip_pattern: np.ndarray
    trip_route: np.ndarray
    trip_wheelchair: np.ndarray
    trip_direction: np.ndarray
    trip_headsigns: tuple[str, ...]
    trip_day_offset: np.ndarray
    trip_from_frequency: np.ndarray
    pattern_route: np.ndarray
    pattern_stop_ptr: np.ndarray
    pattern_trip_ptr: np.ndarray
    ps_stop: np.ndarray
    ps_pattern: np.ndarray
    ps_position: np.ndarray
    ps_can_board: np.ndarray
    ps_can_alight: np.ndarray
    ps_event_ptr: np.ndarray
    event_arrival: np.ndarray
    event_departure: np.ndarray
    stop_ps_ptr: np.ndarray
    stop_ps: np.ndarray
    footpath_ptr: np.ndarray
    footpath_to: np.ndarray
    footpath_seconds: np.ndarray
    change_seconds: np.ndarray
    forbidden_footpaths: frozenset[tuple[int, int]]
    departure_key: np.ndarray
    key_span: int
    key_origin: int
    max_pattern_stops: int
    max_pattern_trips: int
    report: Mapping[str, int]

    # ------------------------------------------------------------------ building

    @classmethod
    def from_feed(
        cls,
        feed: Feed,
        service_date: dt.date,
        *,
        include_previous_day: bool = True,
        include_next_day: bool = False,
        footpath_speed_mps: float = 1.0,
    ) -> Timetable:
        """Compile the trips of ``feed`` running on ``service_date``.

        Parameters
        ----------
        feed
            A loaded feed.
        service_date
            The date to compile; time 0 is its midnight.
        include_previous_day
            Also keep the previous date's trips still running after midnight (times
            minus 86400).
        include_next_day
            Also keep the next date's trips (times plus 86400), for overnight searches.
        footpath_speed_mps
            Walking speed for ``transfers.txt`` footpaths between different stops that
            give no ``min_transfer_time``: seconds = straight-line metres / speed.

        Returns
        -------
        Timetable
        """
        report: dict[str, int] = {
            "trips_too_short": 0,
            "trips_not_running": 0,
            "trips_from_previous_day": 0,
            "trips_from_next_day": 0,
            "trips_from_frequencies": 0,
            "transfers_ignored": 0,
        }
        stop_ids = feed.stop_ids
        stop_index = {stop_id: i for i, stop_id in enumerate(stop_ids)}
        stops = [feed.stops[s] for s in stop_ids]
        parent = np.array([stop_index.get(s.parent_station, -1) for s in stops], dtype=np.int32)
        wheelchair = np.array([s.wheelchair_boarding for s in stops], dtype=np.int8)
        # Unknown children inherit from their parent (boarding area -> platform -> station).
        for _ in range(3):
            inherit = (wheelchair == UNKNOWN) & (parent >= 0)
            wheelchair[inherit] = wheelchair[parent[inherit]]

        route_ids = tuple(feed.routes)
        route_index = {route_id: i for i, route_id in enumerate(route_ids)}

        instances = _trip_instances(
            feed, service_date, include_previous_day, include_next_day, report
        )
        checkpoint("the day's trips")
        built = _build_patterns(feed, instances, route_index)
        checkpoint("the day's patterns")

        stop_ps = np.argsort(built["ps_stop"], kind="stable").astype(np.int32)
        stop_ps_ptr = np.searchsorted(built["ps_stop"][stop_ps], np.arange(len(stop_ids) + 1))

        lat = np.array([s.stop_lat for s in stops], dtype=np.float64)
        lon = np.array([s.stop_lon for s in stops], dtype=np.float64)
        pairs, change, forbidden = _feed_transfers(
            feed, stop_index, lat, lon, footpath_speed_mps, report
        )
        footpath_ptr, footpath_to, footpath_seconds = _footpath_csr(pairs, len(stop_ids))
        checkpoint("the feed's footpaths")

        key_span, key_origin, departure_key = _departure_key(
            built["event_departure"], built["pattern_trip_ptr"], built["ps_pattern"]
        )
        trips = [feed.trips[feed.trip_ids[i]] for i in built["trip_feed_index"]]
        routes = [feed.routes[r] for r in route_ids]
        lengths = np.diff(built["pattern_stop_ptr"])
        counts = np.diff(built["pattern_trip_ptr"])
        arrays = {
            "stop_lat": lat,
            "stop_lon": lon,
            "stop_location_type": np.array([s.location_type for s in stops], dtype=np.int8),
            "stop_parent": parent,
            "stop_wheelchair": wheelchair,
            "route_types": np.array([r.route_type for r in routes], dtype=np.int32),
            "trip_wheelchair": np.array([t.wheelchair_accessible for t in trips], dtype=np.int8),
            "trip_direction": np.array(
                [-1 if t.direction_id is None else t.direction_id for t in trips], dtype=np.int8
            ),
            "stop_ps_ptr": stop_ps_ptr.astype(np.int64),
            "stop_ps": stop_ps,
            "footpath_ptr": footpath_ptr,
            "footpath_to": footpath_to,
            "footpath_seconds": footpath_seconds,
            "change_seconds": change,
            "departure_key": departure_key,
            **{k: v for k, v in built.items() if k != "trip_feed_index"},
        }
        return cls(
            service_date=service_date,
            stop_ids=stop_ids,
            stop_index=MappingProxyType(stop_index),
            stop_names=tuple(s.stop_name for s in stops),
            route_ids=route_ids,
            route_short_names=tuple(r.route_short_name for r in routes),
            route_long_names=tuple(r.route_long_name for r in routes),
            trip_ids=tuple(t.trip_id for t in trips),
            trip_headsigns=tuple(t.trip_headsign for t in trips),
            forbidden_footpaths=frozenset(forbidden),
            key_span=key_span,
            key_origin=key_origin,
            max_pattern_stops=int(lengths.max()) if len(lengths) else 0,
            max_pattern_trips=int(counts.max()) if len(counts) else 0,
            report=MappingProxyType(report),
            **{k: _frozen(v) for k, v in arrays.items()},
        )

    def with_transfers(
        self,
        footpaths: Mapping[tuple[int, int], int] | Iterable[tuple[int, int, int]],
        *,
        replace_existing: bool = False,
    ) -> Timetable:
        """A copy with extra footpaths, e.g. walks the street graph computed for a profile.

        Parameters
        ----------
        footpaths
            ``{(from_stop, to_stop): seconds}`` or ``(from_stop, to_stop, seconds)`` triples
            (stop indices). A pair with ``from_stop == to_stop`` sets that stop's minimum
            change time instead.
        replace_existing
            Drop the footpaths the timetable has (from ``transfers.txt`` or earlier calls)
            before adding these. Same-stop change times and forbidden pairs are kept.

        Returns
        -------
        Timetable
            When a pair is given twice, or already exists, the larger time wins: a feed's
            ``min_transfer_time`` and a profile's walking time are both lower bounds.
            Pairs that ``transfers.txt`` forbids (type 3) are not added.
        """
        if isinstance(footpaths, Mapping):
            triples = [(int(a), int(b), int(s)) for (a, b), s in footpaths.items()]
        else:
            triples = [(int(a), int(b), int(s)) for a, b, s in footpaths]
        pairs: dict[tuple[int, int], int] = {}
        if not replace_existing:
            for s in range(self.n_stops):
                lo, hi = self.footpath_ptr[s], self.footpath_ptr[s + 1]
                targets = self.footpath_to[lo:hi].tolist()
                seconds = self.footpath_seconds[lo:hi].tolist()
                pairs.update(((s, to), sec) for to, sec in zip(targets, seconds, strict=True))
        change = self.change_seconds.copy()
        n = self.n_stops
        for a, b, seconds in triples:
            if not (0 <= a < n and 0 <= b < n) or seconds < 0:
                raise ValueError(f"footpath ({a}, {b}, {seconds}) is not (stop, stop, seconds>=0)")
            if a == b:
                if change[a] != NO_TRANSFER:
                    change[a] = max(int(change[a]), seconds)
            elif (a, b) not in self.forbidden_footpaths:
                pairs[(a, b)] = max(pairs.get((a, b), seconds), seconds)
        ptr, to, sec = _footpath_csr(pairs, n)
        return replace(
            self,
            footpath_ptr=_frozen(ptr),
            footpath_to=_frozen(to),
            footpath_seconds=_frozen(sec),
            change_seconds=_frozen(change),
        )

    def with_chained_footpaths(self, max_seconds: float) -> Timetable:
        """A copy where walking several footpaths in a row is one footpath.

        RAPTOR takes at most one footpath between two rides; closing the footpaths under
        chaining (the shortest chain ``a -> b -> c ...`` of at most ``max_seconds``
        becomes a footpath ``a -> c``) lets a transfer be a walk past intermediate stops.
        Existing footpaths keep their time; pairs ``transfers.txt`` forbids stay absent.
        """
        from scipy.sparse import csr_matrix  # here: a server without transit never loads them
        from scipy.sparse.csgraph import dijkstra

        n = self.n_stops
        rows = np.repeat(np.arange(n), np.diff(self.footpath_ptr))
        if len(rows) == 0:
            return self
        # csgraph drops zero weights: shift every walk by a millisecond, removed below.
        eps = 1e-3
        walks = csr_matrix(
            (self.footpath_seconds.astype(np.float64) + eps, (rows, self.footpath_to)),
            shape=(n, n),
        )
        sources = np.unique(rows)
        dist = dijkstra(walks, directed=True, indices=sources, limit=max_seconds + n * eps)
        src, dst = np.nonzero(np.isfinite(dist))
        a = sources[src]
        keep = a != dst
        a, b, seconds = a[keep], dst[keep], dist[src[keep], dst[keep]]
        triples = zip(a.tolist(), b.tolist(), np.round(seconds).astype(np.int64).tolist(),
                      strict=True)  # fmt: skip
        return self.with_transfers([(x, y, s) for x, y, s in triples if s <= max_seconds])

    # ------------------------------------------------------------------ reading

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    @property
    def n_trips(self) -> int:
        return len(self.trip_pattern)

    @property
    def n_patterns(self) -> int:
        return len(self.pattern_route)

    def pattern_stops(self, pattern: int) -> np.ndarray:
        """Stop indices of a pattern in travel order."""
        return self.ps_stop[self.pattern_stop_ptr[pattern] : self.pattern_stop_ptr[pattern + 1]]

    def patterns_at(self, stop: int) -> np.ndarray:
        """Sorted indices of the patterns serving a stop."""
        entries = self.stop_ps[self.stop_ps_ptr[stop] : self.stop_ps_ptr[stop + 1]]
        return np.unique(self.ps_pattern[entries])

    def footpaths_from(self, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """``(to_stops, seconds)`` of the footpaths leaving a stop."""
        lo, hi = self.footpath_ptr[stop], self.footpath_ptr[stop + 1]
        return self.footpath_to[lo:hi], self.footpath_seconds[lo:hi]

    def trip_stop_times(self, trip: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(stops, arrivals, departures)`` of one trip, in travel order."""
        pattern = int(self.trip_pattern[trip])
        entries = np.arange(self.pattern_stop_ptr[pattern], self.pattern_stop_ptr[pattern + 1])
        events = self.ps_event_ptr[entries] + (trip - self.pattern_trip_ptr[pattern])
        return (
            self.ps_stop[entries],
            self.event_arrival[events].astype(np.int64),
            self.event_departure[events].astype(np.int64),
        )

    def trip_label(self, trip: int) -> str:
        """A short human label, e.g. ``"12 → Airport"``."""
        route = int(self.trip_route[trip])
        name = self.route_short_names[route] or self.route_long_names[route]
        headsign = self.trip_headsigns[trip]
        return f"{name} → {headsign}" if headsign else name


# --------------------------------------------------------------------------------------
# Compiling
# --------------------------------------------------------------------------------------


@dataclass
class _Instance:
    """One concrete run of a feed trip: its times are the feed trip's plus ``shift``."""

    feed_trip: int
    shift: int
    day_offset: int
    from_frequency: bool


def _trip_instances(
    feed: Feed,
    service_date: dt.date,
    include_previous_day: bool,
    include_next_day: bool,
    report: dict[str, int],
) -> list[tuple[_Instance, np.ndarray, np.ndarray]]:
    """Every run on the date (late runs of the day before, runs of the next) with base times."""
    today = active_service_ids(feed, service_date)
    yesterday = (
        active_service_ids(feed, service_date - dt.timedelta(days=1))
        if include_previous_day
        else set()
    )
    tomorrow = (
        active_service_ids(feed, service_date + dt.timedelta(days=1)) if include_next_day else set()
    )
    st = feed.stop_times
    out: list[tuple[_Instance, np.ndarray, np.ndarray]] = []
    for index, trip_id in enumerate(feed.trip_ids):
        rows = st.rows_of(index)
        if rows.stop - rows.start < 2:
            report["trips_too_short"] += 1
            continue
        service = feed.trips[trip_id].service_id
        days = ((0, today), (-DAY, yesterday), (DAY, tomorrow))
        offsets = [off for off, running in days if service in running]
        if not offsets:
            report["trips_not_running"] += 1
            continue
        arrival, departure = _interpolated_times(
            st.arrival[rows], st.departure[rows], st.shape_dist_traveled[rows]
        )
        frequencies = feed.frequencies_of(trip_id)
        if frequencies:
            # exact_times 0 and 1 alike: a scheduled departure every headway, start <= t < end.
            starts = np.concatenate(
                [np.arange(f.start_time, f.end_time, f.headway_secs) for f in frequencies]
            )
            shifts = (starts - departure[0]).tolist()
        else:
            shifts = [0]
        runs_before = len(out)
        for offset in offsets:
            for shift in shifts:
                if offset < 0 and arrival[-1] + shift + offset < 0:
                    continue  # yesterday's run that ended before midnight
                run = _Instance(index, shift + offset, offset, bool(frequencies))
                out.append((run, arrival, departure))
                report["trips_from_previous_day"] += offset < 0
                report["trips_from_next_day"] += offset > 0
                report["trips_from_frequencies"] += bool(frequencies)
        report["trips_not_running"] += len(out) == runs_before
    return out


def _interpolated_times(
    arrival: np.ndarray, departure: np.ndarray, distance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Times of every stop: one missing time copies the other, untimed stops interpolate.

    Untimed stops get times on a straight line between the previous timed departure and the
    next timed arrival, by ``shape_dist_traveled`` when the trip has it everywhere and it
    grows, else by stop count.
    """
    arr = arrival.astype(np.int64)
    dep = departure.astype(np.int64)
    arr = np.where(arr == NO_TIME, dep, arr)
    dep = np.where(dep == NO_TIME, arr, dep)
    missing = arr == NO_TIME
    if missing.any():
        use_distance = np.isfinite(distance).all() and (np.diff(distance) >= 0).all()
        x = distance if use_distance else np.arange(len(arr), dtype=np.float64)
        known = np.flatnonzero(~missing)
        gaps = np.flatnonzero(missing)
        after = known[np.searchsorted(known, gaps)]  # first and last stops are always timed
        before = known[np.searchsorted(known, gaps) - 1]
        span = x[after] - x[before]
        share = np.where(span > 0, (x[gaps] - x[before]) / np.where(span > 0, span, 1), 0.5)
        times = np.rint(dep[before] + share * (arr[after] - dep[before])).astype(np.int64)
        arr[gaps] = times
        dep[gaps] = times
    return arr, dep


def _build_patterns(
    feed: Feed,
    instances: list[tuple[_Instance, np.ndarray, np.ndarray]],
    route_index: dict[str, int],
) -> dict[str, np.ndarray]:
    """Group runs into FIFO patterns and lay out pattern stops, trips and events."""
    st = feed.stop_times
    groups: dict[tuple, list[tuple[_Instance, np.ndarray, np.ndarray]]] = {}
    for item in instances:
        rows = st.rows_of(item[0].feed_trip)
        trip = feed.trips[feed.trip_ids[item[0].feed_trip]]
        key = (
            route_index[trip.route_id],
            st.stop[rows].tobytes(),
            (st.pickup_type[rows] != NO_PICKUP_OR_DROP_OFF).tobytes(),
            (st.drop_off_type[rows] != NO_PICKUP_OR_DROP_OFF).tobytes(),
        )
        groups.setdefault(key, []).append(item)

    pattern_route: list[int] = []
    pattern_stop_ptr = [0]
    pattern_trip_ptr = [0]
    ps_stop: list[np.ndarray] = []
    ps_board: list[np.ndarray] = []
    ps_alight: list[np.ndarray] = []
    arrivals: list[np.ndarray] = []
    departures: list[np.ndarray] = []
    trip_feed_index: list[int] = []
    trip_day_offset: list[int] = []
    trip_from_frequency: list[bool] = []
    for (route, stops_bytes, board_bytes, alight_bytes), items in groups.items():
        stops = np.frombuffer(stops_bytes, dtype=np.int32)
        can_board = np.frombuffer(board_bytes, dtype=bool).copy()
        can_alight = np.frombuffer(alight_bytes, dtype=bool).copy()
        can_board[-1] = False  # boarding at the last stop goes nowhere
        can_alight[0] = False
        shifts = np.array([it[0].shift for it in items], dtype=np.int64)
        arr = np.stack([it[1] for it in items]) + shifts[:, None]
        dep = np.stack([it[2] for it in items]) + shifts[:, None]
        order = np.lexsort((arr[:, -1], dep[:, 0]))
        for members in _fifo_split(arr, dep, order):
            pattern_route.append(route)
            pattern_stop_ptr.append(pattern_stop_ptr[-1] + len(stops))
            pattern_trip_ptr.append(pattern_trip_ptr[-1] + len(members))
            ps_stop.append(stops)
            ps_board.append(can_board)
            ps_alight.append(can_alight)
            # Column-major: the times of all trips at one stop are contiguous.
            arrivals.append(arr[members].T.ravel())
            departures.append(dep[members].T.ravel())
            for m in members:
                instance = items[m][0]
                trip_feed_index.append(instance.feed_trip)
                trip_day_offset.append(instance.day_offset)
                trip_from_frequency.append(instance.from_frequency)

    n_patterns = len(pattern_route)
    stop_ptr = np.array(pattern_stop_ptr, dtype=np.int64)
    trip_ptr = np.array(pattern_trip_ptr, dtype=np.int64)
    lengths = np.diff(stop_ptr)
    counts = np.diff(trip_ptr)
    ps_pattern = np.repeat(np.arange(n_patterns, dtype=np.int32), lengths)
    ps_position = (np.arange(stop_ptr[-1]) - np.repeat(stop_ptr[:-1], lengths)).astype(np.int32)
    trips_per_ps = np.repeat(counts, lengths)
    ps_event_ptr = np.concatenate([[0], np.cumsum(trips_per_ps)[:-1]]).astype(np.int64)
    event_arrival = np.concatenate(arrivals) if arrivals else np.zeros(0, np.int64)
    event_departure = np.concatenate(departures) if departures else np.zeros(0, np.int64)
    return {
        "pattern_route": np.array(pattern_route, dtype=np.int32),
        "pattern_stop_ptr": stop_ptr,
        "pattern_trip_ptr": trip_ptr,
        "ps_stop": _concat(ps_stop, np.int32),
        "ps_pattern": ps_pattern,
        "ps_position": ps_position,
        "ps_can_board": _concat(ps_board, bool),
        "ps_can_alight": _concat(ps_alight, bool),
        "ps_event_ptr": ps_event_ptr[: len(ps_pattern)],
        "event_arrival": event_arrival.astype(np.int32),
        "event_departure": event_departure.astype(np.int32),
        "trip_pattern": np.repeat(np.arange(n_patterns, dtype=np.int32), counts),
        "trip_route": np.repeat(np.array(pattern_route, dtype=np.int32), counts),
        "trip_feed_index": np.array(trip_feed_index, dtype=np.int64),
        "trip_day_offset": np.array(trip_day_offset, dtype=np.int32),
        "trip_from_frequency": np.array(trip_from_frequency, dtype=bool),
    }


def _fifo_split(arr: np.ndarray, dep: np.ndarray, order: np.ndarray) -> list[list[int]]:
    """Split trips (rows, visited in ``order``) into runs where none overtakes another.

    First fit: each trip joins the first run whose last trip it never precedes, at any
    stop, in arrival or departure; otherwise it starts a new run.
    """
    runs: list[list[int]] = []
    last_arr: list[np.ndarray] = []
    last_dep: list[np.ndarray] = []
    for row in order.tolist():
        for i in range(len(runs)):
            if (arr[row] >= last_arr[i]).all() and (dep[row] >= last_dep[i]).all():
                runs[i].append(row)
                last_arr[i], last_dep[i] = arr[row], dep[row]
                break
        else:
            runs.append([row])
            last_arr.append(arr[row])
            last_dep.append(dep[row])
    return runs


def _feed_transfers(
    feed: Feed,
    stop_index: dict[str, int],
    lat: np.ndarray,
    lon: np.ndarray,
    speed_mps: float,
    report: dict[str, int],
) -> tuple[dict[tuple[int, int], int], np.ndarray, set[tuple[int, int]]]:
    """Footpaths, same-stop change times and forbidden pairs from ``transfers.txt``.

    Only stop-to-stop rules are modelled; rules tied to routes or trips (and in-seat
    transfers) are counted in ``report["transfers_ignored"]``. A station stands for all its
    platforms; rules naming platforms are applied after, so they override the station's.
    """
    children: dict[str, list[int]] = {}
    for stop in feed.stops.values():
        if stop.parent_station and stop.location_type == STOP_OR_PLATFORM:
            children.setdefault(stop.parent_station, []).append(stop_index[stop.stop_id])

    def expand(stop_id: str) -> list[int]:
        if feed.stops[stop_id].location_type == STATION:
            return children.get(stop_id, [])
        return [stop_index[stop_id]]

    change = np.zeros(len(stop_index), dtype=np.int32)
    pairs: dict[tuple[int, int], int] = {}
    forbidden: set[tuple[int, int]] = set()
    usable = []
    for rule in feed.transfers:
        stop_to_stop = rule.transfer_type <= TRANSFER_NOT_POSSIBLE and rule.from_stop_id
        restricted = rule.from_route_id or rule.to_route_id or rule.from_trip_id or rule.to_trip_id
        if not stop_to_stop or not rule.to_stop_id or restricted:
            report["transfers_ignored"] += 1
            continue
        usable.append(rule)

    def names_a_station(rule: Transfer) -> bool:
        kinds = (
            feed.stops[rule.from_stop_id].location_type,
            feed.stops[rule.to_stop_id].location_type,
        )
        return STATION in kinds

    # Stable sort: station rules first, so that rules naming platforms override them.
    for rule in sorted(usable, key=lambda r: not names_a_station(r)):
        for a in expand(rule.from_stop_id):
            for b in expand(rule.to_stop_id):
                if a == b:
                    if rule.transfer_type == TRANSFER_NOT_POSSIBLE:
                        change[a] = NO_TRANSFER
                    else:
                        change[a] = rule.min_transfer_time or 0
                elif rule.transfer_type == TRANSFER_NOT_POSSIBLE:
                    forbidden.add((a, b))
                    pairs.pop((a, b), None)
                else:
                    if rule.min_transfer_time is not None:
                        seconds = rule.min_transfer_time
                    else:
                        metres = float(haversine_m(lat[a], lon[a], lat[b], lon[b]))
                        seconds = math.ceil(metres / speed_mps)
                    pairs[(a, b)] = seconds
                    forbidden.discard((a, b))
    return pairs, change, forbidden


def _footpath_csr(
    pairs: dict[tuple[int, int], int], n_stops: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if pairs:
        keys = np.array(list(pairs), dtype=np.int64)
        seconds = np.array(list(pairs.values()), dtype=np.int32)
        order = np.lexsort((keys[:, 1], keys[:, 0]))
        src, dst, sec = keys[order, 0], keys[order, 1], seconds[order]
    else:
        src = dst = np.zeros(0, dtype=np.int64)
        sec = np.zeros(0, dtype=np.int32)
    ptr = np.searchsorted(src, np.arange(n_stops + 1)).astype(np.int64)
    return ptr, dst.astype(np.int32), sec


def _departure_key(
    event_departure: np.ndarray,
    pattern_trip_ptr: np.ndarray,
    ps_pattern: np.ndarray,
) -> tuple[int, int, np.ndarray]:
    """One sorted int64 key over all departure columns (see :class:`Timetable`)."""
    if len(event_departure) == 0:
        return 2, 0, np.zeros(0, dtype=np.int64)
    origin = int(event_departure.min())
    span = int(event_departure.max()) - origin + 2  # room for "after every departure"
    counts = np.diff(pattern_trip_ptr)[ps_pattern]
    column = np.repeat(np.arange(len(ps_pattern), dtype=np.int64), counts)
    key = column * span + (event_departure.astype(np.int64) - origin)
    if (np.diff(key) < 0).any():  # FIFO patterns make this impossible; guard the invariant
        raise AssertionError("departure columns are not sorted")
    return span, origin, key


def _concat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array
