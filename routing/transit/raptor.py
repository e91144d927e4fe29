"""RAPTOR: round-based public transit routing (Delling, Pajor and Werneck, 2012).

Round ``k`` finds the earliest arrival at every stop using exactly ``k`` vehicles, from
the arrivals of round ``k - 1``. The result is the Pareto set over (arrival at the
destination, number of vehicles): a journey for every round that arrives earlier than
all rounds before it.

Each round is a handful of vectorised numpy operations over all pattern stops to scan,
not a Python loop over patterns:

1. **Marking**: only patterns serving a stop whose boarding time improved last round are
   scanned, each from the first such stop on.
2. **Earliest trip**: for every scanned pattern stop, the first trip leaving at or after
   the stop's boarding time is one ``np.searchsorted`` over
   :attr:`~routing.transit.timetable.Timetable.departure_key`, which stacks the sorted
   departure columns of all pattern stops. Hidden trips are skipped via a per-query
   "next allowed trip" table.
3. **Riding**: patterns are FIFO, so a lower trip index arrives no later anywhere; the trip
   ridden at a stop is the lowest boardable trip at any *earlier* stop of the pattern, a
   segmented exclusive prefix minimum (``np.maximum.accumulate`` over a key whose high
   part is the pattern, so segments cannot leak into each other).
4. **Pruning**: an arrival counts only if it beats the best arrival at that stop in any
   round (local pruning) and the best arrival at the destination so far (target pruning).
5. **Transfers**: from each stop reached by a vehicle this round, one footpath or a
   same-stop change (plus ``min_transfer_seconds``) gives the boarding time for the next
   round. Footpaths are not chained here; :meth:`Timetable.with_chained_footpaths` closes
   them under chaining beforehand when several walks in a row are wanted.

Labels of every round are kept so journeys are rebuilt leg by leg.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from routing.arrays import concat_ranges
from routing.deadline import accepts_deadline, checkpoint
from routing.errors import InvalidInputError
from routing.transit.timetable import NO_TRANSFER, Timetable

#: "Not reached" time.
UNREACHED = np.iinfo(np.int64).max // 4

_NO_STOP = -1


@dataclass(frozen=True)
class RaptorOptions:
    """How a query may use the network.

    Attributes
    ----------
    max_transfers
        Vehicle changes allowed; a journey has at most ``max_transfers + 1`` transit legs.
    min_transfer_seconds
        Extra buffer on every change of vehicle (same stop or footpath), on top of the
        stop's change time or the footpath's walking time.
    allowed_trip
        Bool per trip; False hides the trip (e.g. not wheelchair accessible).
    allowed_board, allowed_alight
        Bool per stop; False forbids boarding / alighting there.
    max_access_walk_s, max_egress_walk_s
        Longest *whole* first walk (access, plus the footpath that may follow it before the
        first vehicle) and last walk (the footpath after the last vehicle, plus egress);
        None for no limit.
    """

    max_transfers: int = 4
    min_transfer_seconds: int = 0
    allowed_trip: np.ndarray | None = None
    allowed_board: np.ndarray | None = None
    allowed_alight: np.ndarray | None = None
    max_access_walk_s: int | None = None
    max_egress_walk_s: int | None = None


@dataclass(frozen=True)
class AccessLeg:
    """Walk from the origin to the first stop."""

    stop: int
    seconds: int
    departure_time: int
    arrival_time: int


@dataclass(frozen=True)
class TransitLeg:
    """A ride on ``trip`` from ``board_stop`` to ``alight_stop``.

    ``board_position``/``alight_position`` index the trip's pattern stops, so the stops in
    between are ``timetable.pattern_stops(timetable.trip_pattern[trip])[board:alight + 1]``.
    """

    trip: int
    board_stop: int
    alight_stop: int
    board_time: int
    alight_time: int
    board_position: int
    alight_position: int


@dataclass(frozen=True)
class TransferLeg:
    """A footpath between two different stops, walked right after alighting."""

    from_stop: int
    to_stop: int
    seconds: int
    departure_time: int
    arrival_time: int


@dataclass(frozen=True)
class EgressLeg:
    """Walk from the last stop to the destination."""

    stop: int
    seconds: int
    departure_time: int
    arrival_time: int


Leg = AccessLeg | TransitLeg | TransferLeg | EgressLeg


@dataclass(frozen=True)
class Journey:
    """One itinerary: access, transit legs with transfers between them, egress.

    ``departure_time`` is the latest time to leave the origin and still catch the first
    vehicle (all waiting happens before leaving); times are seconds since midnight of the
    timetable's service date. ``cost`` (generalised cost beyond elapsed time) and
    ``has_unknowns`` are set by :func:`routing.transit.mcraptor.mc_raptor` only.
    """

    departure_time: int
    arrival_time: int
    legs: tuple[Leg, ...]
    cost: int = 0
    has_unknowns: bool = False

    @property
    def transit_legs(self) -> tuple[TransitLeg, ...]:
        return tuple(leg for leg in self.legs if isinstance(leg, TransitLeg))

    @property
    def n_transit_legs(self) -> int:
        return len(self.transit_legs)

    @property
    def n_transfers(self) -> int:
        return max(0, self.n_transit_legs - 1)

    @property
    def duration(self) -> int:
        return self.arrival_time - self.departure_time

    @property
    def access(self) -> AccessLeg:
        return self.legs[0]  # type: ignore[return-value]

    @property
    def egress(self) -> EgressLeg:
        return self.legs[-1]  # type: ignore[return-value]


StopSeconds = Mapping[int, int] | Iterable[tuple[int, int]]


@dataclass
class _Round:
    """Labels of one round, as full per-stop arrays.

    ``ride_*``: arrivals by vehicle in this round (trip, boarding and alighting pattern
    stop). ``walk_*``: arrivals by one footpath after such a ride (only for egress).
    ``ready_*``: the earliest time one can board at each stop having used at most this many
    vehicles, where it came from (a stop, or -1 for the access walk), the walk seconds, and
    the round that set it (copied forward when not improved).
    """

    ride_time: np.ndarray
    ride_trip: np.ndarray
    ride_board: np.ndarray
    ride_alight: np.ndarray
    walk_time: np.ndarray
    walk_from: np.ndarray
    ready: np.ndarray
    ready_from: np.ndarray
    ready_walk: np.ndarray
    ready_round: np.ndarray

    @classmethod
    def empty(cls, n: int) -> _Round:
        """Labels of a round nothing has reached yet."""
        unreached = [np.full(n, UNREACHED, dtype=np.int64) for _ in range(3)]
        none = [np.full(n, _NO_STOP, dtype=np.int64) for _ in range(5)]
        return cls(
            ride_time=unreached[0], ride_trip=none[0], ride_board=none[1], ride_alight=none[2],
            walk_time=unreached[1], walk_from=none[3], ready=unreached[2], ready_from=none[4],
            ready_walk=np.zeros(n, dtype=np.int64), ready_round=np.zeros(n, dtype=np.int64),
        )  # fmt: skip


@accepts_deadline
def raptor(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    departure_time: int,
    options: RaptorOptions | None = None,
) -> list[Journey]:
    """Pareto-optimal journeys by arrival time and number of transit legs.

    Parameters
    ----------
    timetable
        The compiled service day.
    access
        Walking seconds from the origin to each stop it reaches: ``{stop: seconds}`` or
        ``(stop, seconds)`` pairs (the smallest wins on repeats).
    egress
        Walking seconds from stops to the destination, same form.
    departure_time
        Earliest departure from the origin, seconds since midnight of the service date.
    options
        Limits and filters; defaults to :class:`RaptorOptions()`.

    Returns
    -------
    list of Journey
        Fewest transit legs first; each later journey arrives strictly earlier. Empty if
        the destination cannot be reached by transit (walking alone is the caller's).

    Raises
    ------
    InvalidInputError
        If a stop index is out of range or a walking time is negative.
    ValueError
        If an option array does not match the timetable.
    """
    search = _Search(timetable, access, egress, options or RaptorOptions())
    return search.run(int(departure_time)) if search.feasible else []


@accepts_deadline
def range_raptor(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    earliest: int,
    latest: int,
    options: RaptorOptions | None = None,
    *,
    departure_times: Iterable[int] | None = None,
) -> list[Journey]:
    """Every journey that is best for some departure moment in ``[earliest, latest]`` (rRAPTOR).

    Range RAPTOR (Delling, Pajor and Werneck 2012, section 4): one RAPTOR run per
    departure time, latest first, *keeping the labels of later runs*. A label of a later
    departure that reaches a stop no later with no more vehicles dominates anything an
    earlier departure could add there, so each run only explores what it improves, and
    every journey it reports is Pareto-optimal in (later departure, earlier arrival, fewer
    transit legs).

    By default the runs are at the *exact* departure times at which a journey can leave
    the origin (a trip's departure at a stop reached from the origin, minus the walk there;
    see :func:`departure_candidates`), so the result holds every Pareto journey whose
    departure moment lies in the window. The journey of the window's latest moment may
    leave after ``latest`` (it is the best one for leaving at ``latest``).

    Parameters
    ----------
    timetable, access, egress, options
        As for :func:`raptor`.
    earliest, latest
        The window of departure moments (seconds since the service date's midnight).
    departure_times
        Run at these moments instead (e.g. every minute, as for travel-time
        distributions); values outside the window are ignored.

    Returns
    -------
    list of Journey
        Sorted by departure, then fewer legs; no journey dominates another.
    """
    opts = options or RaptorOptions()
    search = _Search(timetable, access, egress, opts)
    if not search.feasible or latest < earliest:
        return []
    if departure_times is None:
        # ``latest`` itself first: its best journey may leave after the window ends.
        times = np.append(departure_candidates(timetable, access, earliest, latest, opts), latest)
    else:
        times = np.unique(np.asarray(list(departure_times), dtype=np.int64))
        times = times[(times >= earliest) & (times <= latest)]
    found: list[Journey] = []
    for t in np.unique(times)[::-1].tolist():
        found.extend(search.run(int(t)))
    return sorted(found, key=lambda j: (j.departure_time, j.n_transit_legs))


def arrivals_by_departure(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    departure_times: Iterable[int],
    options: RaptorOptions | None = None,
) -> np.ndarray:
    """Earliest arrival (any number of legs allowed) for each departure moment (rRAPTOR).

    The runs share their labels as in :func:`range_raptor`; moments are answered in any
    order given. :data:`UNREACHED` where no journey exists.
    """
    times = np.asarray(list(departure_times), dtype=np.int64)
    out = np.full(len(times), UNREACHED, dtype=np.int64)
    search = _Search(timetable, access, egress, options or RaptorOptions())
    if not search.feasible:
        return out
    for i in np.argsort(-times, kind="stable").tolist():
        search.run(int(times[i]))
        out[i] = int(search.target[-1])
    return out


def stop_arrivals_by_departure(
    timetable: Timetable,
    access: StopSeconds,
    departure_times: Iterable[int],
    options: RaptorOptions | None = None,
) -> np.ndarray:
    """Earliest arrival at every stop for each departure moment: one-to-all range RAPTOR.

    As :func:`arrivals_by_departure` without a destination (no target pruning). A stop
    counts as reached by a vehicle (at most ``max_transfers + 1`` legs) or by the access
    walk alone.

    Returns
    -------
    ndarray
        ``(len(departure_times), n_stops)`` int64, :data:`UNREACHED` where not reached.
    """
    tt = timetable
    times = np.asarray(list(departure_times), dtype=np.int64)
    out = np.full((len(times), tt.n_stops), UNREACHED, dtype=np.int64)
    search = _Search(tt, access, {}, options or RaptorOptions())
    if len(search.access_stops) == 0:
        return out
    walk = np.full(tt.n_stops, UNREACHED, dtype=np.int64)
    walk[search.access_stops] = search.access_seconds
    for i in np.argsort(-times, kind="stable").tolist():
        if tt.n_trips:
            search.run(int(times[i]))
        by_walk = np.where(walk < UNREACHED, walk + times[i], UNREACHED)
        out[i] = np.minimum(search.best_ride[-1], by_walk)
    return out


def latest_departure(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    arrive_by: int,
    earliest: int,
    options: RaptorOptions | None = None,
) -> list[Journey]:
    """Journeys of the latest departure that still arrives by ``arrive_by`` (arrive-by).

    The earliest arrival is a non-decreasing function of the departure moment, so the
    latest departure arriving in time is found by a binary search over the exact departure
    moments in ``[earliest, arrive_by]`` (:func:`departure_candidates`), one forward RAPTOR
    run per probe (about log2 of their number). The answer is that run's Pareto set
    (arrival, legs) cut to journeys arriving by ``arrive_by``: the latest departure first,
    then any with fewer legs that also leave then and arrive in time.

    Returns
    -------
    list of Journey
        Empty when no journey leaving at or after ``earliest`` arrives in time.
    """
    opts = options or RaptorOptions()
    times = departure_candidates(timetable, access, earliest, arrive_by, opts)

    def run(t: int) -> list[Journey]:
        return [
            j for j in raptor(timetable, access, egress, t, opts) if j.arrival_time <= arrive_by
        ]

    lo, hi = 0, len(times) - 1  # invariant: every moment after ``hi`` arrives too late
    best: list[Journey] = []
    while lo <= hi:
        mid = (lo + hi) // 2
        journeys = run(int(times[mid]))
        if journeys:
            best, lo = journeys, mid + 1
        else:
            hi = mid - 1
    return best


def departure_candidates(
    timetable: Timetable,
    access: StopSeconds,
    earliest: int,
    latest: int,
    options: RaptorOptions | None = None,
) -> np.ndarray:
    """Sorted moments in ``[earliest, latest]`` at which a journey can leave the origin.

    A journey leaves just in time for its first vehicle: a departure of an allowed trip
    at a stop where boarding is allowed, minus the shortest walk there (the access walk,
    perhaps followed by one footpath, as in the search). These are the only moments at
    which the best journey can change, so range and arrive-by searches run only there.
    """
    tt = timetable
    opts = options or RaptorOptions()
    stops, seconds = _within(
        *_stop_seconds(access, tt.n_stops, "access"), opts.max_access_walk_s
    )
    if len(stops) == 0 or tt.n_trips == 0:
        return np.zeros(0, dtype=np.int64)
    walk = np.full(tt.n_stops, UNREACHED, dtype=np.int64)
    walk[stops] = seconds
    src, dst, foot = _footpaths(tt, stops)
    total = walk[src] + foot
    if opts.max_access_walk_s is not None:
        dst, total = dst[total <= opts.max_access_walk_s], total[total <= opts.max_access_walk_s]
    np.minimum.at(walk, dst, total)
    reached = np.flatnonzero(walk < UNREACHED)
    return _leaving_moments(tt, reached, walk[reached], opts, earliest, latest)


def _leaving_moments(
    tt: Timetable,
    stops: np.ndarray,
    walks: np.ndarray,
    opts: RaptorOptions,
    earliest: int,
    latest: int,
    *,
    owners: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``departure - walk`` in ``[earliest, latest]`` over every allowed
    departure at each of ``stops`` (repeats allowed), ``walks`` seconds from the origin.
    ``owners``: every such moment instead, unsorted, with the index of its walk."""
    index = np.arange(len(stops))
    board_ok = _stop_mask(opts.allowed_board, tt.n_stops, "allowed_board")
    if board_ok is not None:
        index = index[board_ok[stops]]
    lo, hi = tt.stop_ps_ptr[stops[index]], tt.stop_ps_ptr[stops[index] + 1]
    entries = tt.stop_ps[concat_ranges(lo, hi - lo)].astype(np.int64)
    walker = np.repeat(index, hi - lo)
    walk = walks[walker]
    boardable = tt.ps_can_board[entries]
    entries, walk, walker = entries[boardable], walk[boardable], walker[boardable]
    pattern = tt.ps_pattern[entries].astype(np.int64)
    counts = np.diff(tt.pattern_trip_ptr)[pattern]
    events = concat_ranges(tt.ps_event_ptr[entries], counts)
    owner = np.repeat(np.arange(len(entries)), counts)
    if opts.allowed_trip is not None:
        allowed = _stop_mask(opts.allowed_trip, tt.n_trips, "allowed_trip")
        local = events - np.repeat(tt.ps_event_ptr[entries], counts)
        trip = np.repeat(tt.pattern_trip_ptr[pattern], counts) + local
        keep = allowed[trip]
        events, owner = events[keep], owner[keep]
    leave = tt.event_departure[events].astype(np.int64) - walk[owner]
    inside = (leave >= earliest) & (leave <= latest)
    if owners:
        return leave[inside], walker[owner[inside]]
    return np.unique(leave[inside])


# --------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------


class _Search:
    """RAPTOR's labels for one origin, destination and options, kept between runs.

    A run at an earlier departure than every run before reuses their labels (rRAPTOR):
    ``rounds[k]`` holds the best labels with ``k`` vehicles over all runs so far,
    ``best_ride[k]`` the best arrival by vehicle at each stop with at most ``k`` vehicles
    (local pruning) and ``target[k]`` the best arrival at the destination with at most
    ``k`` vehicles (target pruning). A single run is plain RAPTOR.
    """

    def __init__(
        self, tt: Timetable, access: StopSeconds, egress: StopSeconds, opts: RaptorOptions
    ) -> None:
        self.tt, self.opts = tt, opts
        n = tt.n_stops
        self.access_stops, self.access_seconds = _within(
            *_stop_seconds(access, n, "access"), opts.max_access_walk_s
        )
        self.egress_stops, self.egress_seconds = _within(
            *_stop_seconds(egress, n, "egress"), opts.max_egress_walk_s
        )
        self.egress_walk = np.full(n, UNREACHED, dtype=np.int64)
        self.egress_walk[self.egress_stops] = self.egress_seconds
        self.feasible = bool(len(self.access_stops) and len(self.egress_stops) and tt.n_trips > 0)
        self.board_ok = _stop_mask(opts.allowed_board, n, "allowed_board")
        self.alight_ok = _stop_mask(opts.allowed_alight, n, "allowed_alight")
        self.next_trip = _next_allowed_trip(opts.allowed_trip, tt.n_trips)
        self.is_egress = np.zeros(n, dtype=bool)
        self.is_egress[self.egress_stops] = True
        rounds = opts.max_transfers + 1
        self.rounds = [_Round.empty(n) for _ in range(rounds + 1)]
        self.best_ride = np.full((rounds + 1, n), UNREACHED, dtype=np.int64)
        self.target = np.full(rounds + 1, UNREACHED, dtype=np.int64)
        self.last_departure: int | None = None
        self.access_map = dict(
            zip(self.access_stops.tolist(), self.access_seconds.tolist(), strict=True)
        )
        self.egress_map = dict(
            zip(self.egress_stops.tolist(), self.egress_seconds.tolist(), strict=True)
        )

    def run(self, departure_time: int) -> list[Journey]:
        """The journeys leaving at or after ``departure_time`` that improve on earlier runs."""
        if self.last_departure is not None and departure_time > self.last_departure:
            raise ValueError("runs of one search must go from later to earlier departures")
        self.last_departure = departure_time
        tt, opts, n = self.tt, self.opts, self.tt.n_stops
        buffer = int(opts.min_transfer_seconds)
        position_base = tt.max_pattern_stops + 1
        pattern_base = (tt.max_pattern_trips + 1) * position_base  # > any trip*pos key
        trip_counts = np.diff(tt.pattern_trip_ptr)
        egress_stops, egress_seconds = self.egress_stops, self.egress_seconds

        # Round 0: the access walks, then at most one footpath from the stop they reach.
        first = self.rounds[0]
        start_time = np.full(n, UNREACHED, dtype=np.int64)
        start_from = np.full(n, _NO_STOP, dtype=np.int64)
        start_walk = np.zeros(n, dtype=np.int64)
        start_time[self.access_stops] = departure_time + self.access_seconds
        src, dst, walk = _footpaths(tt, self.access_stops)
        if opts.max_access_walk_s is not None:  # the whole first walk stays in the limit
            ok = start_time[src] - departure_time + walk <= opts.max_access_walk_s
            src, dst, walk = src[ok], dst[ok], walk[ok]
        _settle(
            start_time, start_from, start_walk, None, 0,
            dst, start_time[src] + walk, src, walk, bound=UNREACHED,
        )  # fmt: skip
        marked = np.flatnonzero(start_time < first.ready)
        first.ready[marked] = start_time[marked]
        first.ready_from[marked] = start_from[marked]
        first.ready_walk[marked] = start_walk[marked]
        first.ready_round[marked] = 0
        found: list[tuple[int, int, bool]] = []  # (round, egress stop, reached it by footpath)

        for k in range(1, len(self.rounds)):
            if len(marked) == 0:
                break
            checkpoint("a RAPTOR round")
            previous, current = self.rounds[k - 1], self.rounds[k]
            bound = int(self.target[k])  # best arrival with at most k vehicles so far

            # --- scan the patterns through marked stops, from their first marked stop on
            entries = _scan_entries(tt, marked)
            pattern = tt.ps_pattern[entries].astype(np.int64)
            position = tt.ps_position[entries].astype(np.int64)
            stop = tt.ps_stop[entries]
            ready_at = previous.ready[stop]
            boardable = tt.ps_can_board[entries] & (ready_at < bound)
            if self.board_ok is not None:
                boardable &= self.board_ok[stop]
            first_trip = np.full(len(entries), -1, dtype=np.int64)  # local index, -1: none
            b = np.flatnonzero(boardable)
            if len(b):
                shifted = np.clip(ready_at[b] - tt.key_origin, 0, tt.key_span - 1)
                found_at = np.searchsorted(tt.departure_key, entries[b] * tt.key_span + shifted)
                local = found_at - tt.ps_event_ptr[entries[b]]
                if self.next_trip is not None:
                    offset = tt.pattern_trip_ptr[pattern[b]]
                    local = self.next_trip[offset + local] - offset
                ok = local < trip_counts[pattern[b]]
                first_trip[b[ok]] = local[ok]

            # Lowest (trip, position) boardable strictly before each entry, within its pattern.
            none_key = pattern_base - 1
            key = np.where(first_trip >= 0, first_trip * position_base + position, none_key)
            running = np.maximum.accumulate(pattern * pattern_base + (none_key - key))
            before = np.empty_like(running)
            before[1:] = running[:-1]
            segment_start = np.ones(len(entries), dtype=bool)
            segment_start[1:] = pattern[1:] != pattern[:-1]
            before[segment_start] = pattern[segment_start] * pattern_base
            ridden = none_key - (before - pattern * pattern_base)

            can_alight = (ridden < none_key) & tt.ps_can_alight[entries]
            if self.alight_ok is not None:
                can_alight &= self.alight_ok[stop]
            a = np.flatnonzero(can_alight)
            trip_local = ridden[a] // position_base
            arrival = tt.event_arrival[tt.ps_event_ptr[entries[a]] + trip_local].astype(np.int64)
            better = (arrival < self.best_ride[k][stop[a]]) & (arrival < bound)
            a, trip_local, arrival = a[better], trip_local[better], arrival[better]
            winners = _first_per_stop(stop[a], arrival, n)
            a, trip_local, arrival = a[winners], trip_local[winners], arrival[winners]
            improved = stop[a].astype(np.int64)
            if len(improved) == 0:
                break
            current.ride_time[improved] = arrival
            self.best_ride[k:, improved] = np.minimum(self.best_ride[k:, improved], arrival)
            current.ride_trip[improved] = tt.pattern_trip_ptr[pattern[a]] + trip_local
            current.ride_board[improved] = (
                tt.pattern_stop_ptr[pattern[a]] + ridden[a] % position_base
            )
            current.ride_alight[improved] = entries[a]

            # --- one footpath after the ride: for egress, and to board in the next round
            src, dst, walk = _footpaths(tt, improved)
            walked = current.ride_time[src] + walk
            to_egress = np.flatnonzero(self.is_egress[dst])
            if opts.max_egress_walk_s is not None:  # the whole last walk stays in the limit
                to_egress = to_egress[
                    walk[to_egress] + self.egress_walk[dst[to_egress]] <= opts.max_egress_walk_s
                ]
            winners = to_egress[_first_per_stop(dst[to_egress], walked[to_egress], n)]
            winners = winners[walked[winners] < current.walk_time[dst[winners]]]
            current.walk_time[dst[winners]] = walked[winners]
            current.walk_from[dst[winners]] = src[winners]

            at_stop = np.minimum(current.ride_time[egress_stops], current.walk_time[egress_stops])
            total = at_stop + egress_seconds
            best = int(np.argmin(total)) if len(total) else -1
            if best >= 0 and total[best] < bound:
                bound = int(total[best])
                self.target[k:] = np.minimum(self.target[k:], bound)
                by_walk = bool(
                    current.walk_time[egress_stops[best]] < current.ride_time[egress_stops[best]]
                )
                found.append((k, int(egress_stops[best]), by_walk))

            # With at most k vehicles one is ready no later than with k - 1 (this run's or
            # a later departure's labels, whichever is earlier).
            take = np.flatnonzero(previous.ready < current.ready)
            current.ready[take] = previous.ready[take]
            current.ready_from[take] = previous.ready_from[take]
            current.ready_walk[take] = previous.ready_walk[take]
            current.ready_round[take] = previous.ready_round[take]
            change = tt.change_seconds[improved].astype(np.int64)
            stay = change < NO_TRANSFER
            useful = np.flatnonzero(walked + buffer < np.minimum(current.ready[dst], bound))
            src, dst, walk, walked = src[useful], dst[useful], walk[useful], walked[useful]
            cand_stop = np.concatenate([improved[stay], dst])
            cand_time = (
                np.concatenate([current.ride_time[improved[stay]] + change[stay], walked]) + buffer
            )
            cand_from = np.concatenate([improved[stay], src])
            cand_walk = np.concatenate([np.zeros(int(stay.sum()), dtype=np.int64), walk])
            marked = _settle(
                current.ready, current.ready_from, current.ready_walk, current.ready_round, k,
                cand_stop, cand_time, cand_from, cand_walk, bound=bound,
            )  # fmt: skip

        journeys = [
            _rebuild(tt, self.rounds, k, s, w, self.access_map, self.egress_map)
            for k, s, w in found
        ]
        return _pareto(journeys)


# --------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------


def _stop_seconds(pairs: StopSeconds, n_stops: int, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Unique stops and their smallest walking seconds."""
    items = list(pairs.items()) if isinstance(pairs, Mapping) else list(pairs)
    data = np.array(items, dtype=np.int64).reshape(-1, 2)
    stops, seconds = data[:, 0], data[:, 1]
    if ((stops < 0) | (stops >= n_stops)).any():
        raise InvalidInputError(f"{name}: stop index outside 0..{n_stops - 1}", field=name)
    if (seconds < 0).any():
        raise InvalidInputError(f"{name}: walking seconds must not be negative", field=name)
    keep = _first_per_stop(stops, seconds, n_stops)
    return stops[keep], seconds[keep]


def _within(
    stops: np.ndarray, seconds: np.ndarray, limit: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """The walks no longer than ``limit`` (all when None)."""
    if limit is None:
        return stops, seconds
    keep = seconds <= limit
    return stops[keep], seconds[keep]


def _stop_mask(mask: np.ndarray | None, n: int, name: str) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != (n,):
        raise ValueError(f"{name} must be a bool array of shape ({n},), not {mask.shape}")
    return mask


def _next_allowed_trip(allowed: np.ndarray | None, n_trips: int) -> np.ndarray | None:
    """``next[t]``: the first allowed trip index >= ``t`` (``n_trips`` if none)."""
    if allowed is None:
        return None
    allowed = _stop_mask(allowed, n_trips, "allowed_trip")
    index = np.where(allowed, np.arange(n_trips), n_trips)
    following = np.minimum.accumulate(index[::-1])[::-1]
    # One past the end: a search that ran off its pattern lands on the next pattern's
    # first trip or on ``n_trips``; either is >= the pattern's end, i.e. "none".
    return np.append(following, n_trips)


def _scan_entries(tt: Timetable, marked: np.ndarray) -> np.ndarray:
    """Pattern stops to scan: each touched pattern from its first marked stop to its end."""
    lo = tt.stop_ps_ptr[marked]
    entries = tt.stop_ps[concat_ranges(lo, tt.stop_ps_ptr[marked + 1] - lo)]
    if len(entries) == 0:
        return entries.astype(np.int64)
    first_position = np.full(tt.n_patterns, tt.max_pattern_stops, dtype=np.int64)
    np.minimum.at(first_position, tt.ps_pattern[entries], tt.ps_position[entries])
    pattern = np.flatnonzero(first_position < tt.max_pattern_stops)
    first = tt.pattern_stop_ptr[pattern] + first_position[pattern]
    return concat_ranges(first, tt.pattern_stop_ptr[pattern + 1] - first)


def _footpaths(tt: Timetable, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(from, to, seconds)`` of all footpaths leaving ``stops``."""
    lo, hi = tt.footpath_ptr[stops], tt.footpath_ptr[stops + 1]
    edges = concat_ranges(lo, hi - lo)
    src = np.repeat(stops.astype(np.int64), hi - lo)
    return src, tt.footpath_to[edges].astype(np.int64), tt.footpath_seconds[edges].astype(np.int64)


def _first_per_stop(stops: np.ndarray, times: np.ndarray, n_stops: int) -> np.ndarray:
    """Indices of the earliest candidate for each distinct stop, by stop.

    Dense per-stop arrays (``np.minimum.at``) beat sorting here: stops are few thousand,
    candidates (footpaths of every improved stop) can be tens of thousands.
    """
    if len(stops) == 0:
        return np.zeros(0, dtype=np.int64)
    best = np.full(n_stops, UNREACHED, dtype=np.int64)
    np.minimum.at(best, stops, times)
    hit = np.flatnonzero(times == best[stops])
    chosen = np.full(n_stops, -1, dtype=np.int64)
    chosen[stops[hit]] = hit  # among equal times any one will do
    return chosen[chosen >= 0]


def _settle(
    ready: np.ndarray,
    ready_from: np.ndarray,
    ready_walk: np.ndarray,
    ready_round: np.ndarray | None,
    k: int,
    stops: np.ndarray,
    times: np.ndarray,
    sources: np.ndarray,
    walks: np.ndarray,
    *,
    bound: int,
) -> np.ndarray:
    """Lower ``ready`` where a candidate beats it (and the target bound); return those stops."""
    winners = _first_per_stop(stops, times, len(ready))
    stops, times = stops[winners], times[winners]
    better = (times < ready[stops]) & (times < bound)
    winners, stops = winners[better], stops[better]
    ready[stops] = times[better]
    ready_from[stops] = sources[winners]
    ready_walk[stops] = walks[winners]
    if ready_round is not None:
        ready_round[stops] = k
    return stops.astype(np.int64)


def _rebuild(
    tt: Timetable,
    rounds: list[_Round],
    k: int,
    egress_stop: int,
    by_walk: bool,
    access: dict[int, int],
    egress: dict[int, int],
) -> Journey:
    """Follow the labels back from the destination to the origin."""
    labels = rounds[k]
    backwards: list[Leg] = []
    at_stop = int(labels.walk_time[egress_stop] if by_walk else labels.ride_time[egress_stop])
    backwards.append(
        EgressLeg(egress_stop, egress[egress_stop], at_stop, at_stop + egress[egress_stop])
    )
    stop = egress_stop
    if by_walk:
        stop = int(labels.walk_from[egress_stop])
        alighted = int(labels.ride_time[stop])
        backwards.append(TransferLeg(stop, egress_stop, at_stop - alighted, alighted, at_stop))
    while True:
        labels = rounds[k]
        trip = int(labels.ride_trip[stop])
        board_entry, alight_entry = int(labels.ride_board[stop]), int(labels.ride_alight[stop])
        pattern = int(tt.trip_pattern[trip])
        local = trip - int(tt.pattern_trip_ptr[pattern])
        board_stop = int(tt.ps_stop[board_entry])
        board_time = int(tt.event_departure[tt.ps_event_ptr[board_entry] + local])
        backwards.append(
            TransitLeg(
                trip=trip,
                board_stop=board_stop,
                alight_stop=stop,
                board_time=board_time,
                alight_time=int(labels.ride_time[stop]),
                board_position=int(tt.ps_position[board_entry]),
                alight_position=int(tt.ps_position[alight_entry]),
            )
        )
        before = rounds[k - 1]
        source = int(before.ready_from[board_stop])
        walk = int(before.ready_walk[board_stop])
        k = int(before.ready_round[board_stop])
        if k == 0:
            break
        if source != board_stop:
            alighted = int(rounds[k].ride_time[source])
            backwards.append(TransferLeg(source, board_stop, walk, alighted, alighted + walk))
        stop = source
    # Round 0: the access walk, perhaps followed by one footpath; leave just in time.
    leave = board_time
    if source != _NO_STOP:
        backwards.append(TransferLeg(source, board_stop, walk, leave - walk, leave))
        leave -= walk
        board_stop = source
    seconds = access[board_stop]
    backwards.append(AccessLeg(board_stop, seconds, leave - seconds, leave))
    legs = tuple(reversed(backwards))
    return Journey(leave - seconds, legs[-1].arrival_time, legs)


def _pareto(journeys: list[Journey]) -> list[Journey]:
    """Keep journeys that arrive strictly earlier than every one with fewer legs."""
    kept: list[Journey] = []
    for journey in sorted(journeys, key=lambda j: (j.n_transit_legs, j.arrival_time)):
        if not kept or journey.arrival_time < kept[-1].arrival_time:
            kept.append(journey)
    return kept
