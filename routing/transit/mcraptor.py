"""Multi-criteria RAPTOR: arrival, vehicles used and a generalised cost, in the search.

McRAPTOR (Delling, Pajor and Werneck 2012, section 5) keeps at every stop a *bag* of
labels that do not dominate each other instead of one earliest arrival. Here a label is
``(arrival, cost, unknown)`` in round ``k`` (``k`` vehicles used):

* ``cost`` is the generalised cost *beyond elapsed time* (walks' extra profile cost,
  a penalty per change, accessibility penalties of vehicles and stops), integer seconds.
  The planner's generalised cost of a journey is ``elapsed time + cost``; both terms are
  no worse for a label that dominates, so the best journey by it is always in the set.
  Keeping time out of ``cost`` (OpenTripPlanner folds it into its ``c1``) makes
  dominance at a stop exact without pricing the wait: any continuation of a dominated
  label can follow the dominating one and adds the same cost.
* ``unknown`` is True once the journey uses a vehicle or stop whose accessibility is not
  known. It is a criterion so a journey using only *known* accessible vehicles and stops
  is never dropped for a faster one with unknowns: a second "known only" search is not
  needed.

The costs come from :class:`TransitCosts`, a small interface over integer indexes (trip,
stop, footpath edge), as OpenTripPlanner's ``RaptorCostCalculator`` is. A vehicle's cost
may differ between trips of one pattern, so at a stop a label boards the earliest trip of
each distinct (penalty, unknown) class: patterns are FIFO, so a later trip of the same
class arrives no earlier anywhere and costs the same.

The search is vectorised like :mod:`routing.transit.raptor`: each round gathers every
boarding of the labels new in the previous round, drops boardings dominated on the same
trip at an earlier stop of the pattern (OTP's route bag, kept per trip), expands the
rest to the stops after them, and keeps what no label in the stop's bag (of this or an
earlier round) or at the destination dominates, with one sort and segmented prefix minima.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from routing.arrays import concat_ranges
from routing.deadline import checkpoint
from routing.transit.raptor import (
    UNREACHED,
    AccessLeg,
    EgressLeg,
    Journey,
    Leg,
    RaptorOptions,
    StopSeconds,
    TransferLeg,
    TransitLeg,
    _leaving_moments,
    _next_allowed_trip,
    _stop_mask,
    _stop_seconds,
    _within,
)
from routing.transit.timetable import NO_TRANSFER, Timetable

#: Largest generalised cost a label may carry (integer seconds); sums stay below it.
MAX_COST = 2**31 - 1
_STOP_BASE = np.int64(2**32)  # > MAX_COST: keys of different stops never mix
_MAX_CLASSES = 8
_FEW = 256


@dataclass(frozen=True)
class TransitCosts:
    """Generalised cost of a journey beyond its elapsed time, over integer indexes.

    Every array is optional (None: no cost, nothing unknown). Costs are integer seconds
    and must not be negative (target pruning relies on costs only growing).

    Attributes
    ----------
    trip_penalty
        Per trip: added for riding it (e.g. vehicle accessibility not known).
    trip_unknown
        Per trip: riding it makes the journey "with unknowns".
    stop_penalty
        Per stop: added for each boarding and each alighting there.
    stop_unknown
        Per stop: boarding or alighting there makes the journey "with unknowns".
    transfer_penalty
        Added for every vehicle after the first.
    footpath_extra
        Per footpath edge of the timetable (aligned with ``footpath_to``): the walk's
        profile cost beyond its seconds.
    """

    trip_penalty: np.ndarray | None = None
    trip_unknown: np.ndarray | None = None
    stop_penalty: np.ndarray | None = None
    stop_unknown: np.ndarray | None = None
    transfer_penalty: int = 0
    footpath_extra: np.ndarray | None = None

    def arrays(self, tt: Timetable) -> _CostArrays:
        """Dense int64/bool arrays for ``tt``, checked."""
        def values(a, n, name, dtype):
            if a is None:
                return np.zeros(n, dtype=dtype)
            a = np.asarray(a)
            if a.shape != (n,):
                raise ValueError(f"{name} must have shape ({n},), not {a.shape}")
            if dtype is not bool and (a < 0).any():
                raise ValueError(f"{name} must not be negative")
            return a.astype(dtype)

        if self.transfer_penalty < 0:
            raise ValueError("transfer_penalty must not be negative")
        return _CostArrays(
            values(self.trip_penalty, tt.n_trips, "trip_penalty", np.int64),
            values(self.trip_unknown, tt.n_trips, "trip_unknown", bool),
            values(self.stop_penalty, tt.n_stops, "stop_penalty", np.int64),
            values(self.stop_unknown, tt.n_stops, "stop_unknown", bool),
            int(self.transfer_penalty),
            values(self.footpath_extra, len(tt.footpath_to), "footpath_extra", np.int64),
        )


@dataclass(frozen=True)
class _CostArrays:
    trip_penalty: np.ndarray
    trip_unknown: np.ndarray
    stop_penalty: np.ndarray
    stop_unknown: np.ndarray
    transfer_penalty: int
    footpath_extra: np.ndarray


@dataclass
class _Labels:
    """Labels of one kind in one round, as flat arrays (one entry per label).

    ``parent``: for a ride, the ready label (previous round) it boarded from; for a ready
    label, the ride (same round) it walked or changed from, -1 for the access walk.
    ``via``: a ride's boarding pattern stop; a ready label's stop it came from on foot
    (itself for a change at one stop, the access stop or -1 in round 0).
    ``walk``: footpath seconds of a ready label. ``trip``/``alight``: a ride's trip and
    alighting pattern stop.
    """

    stop: np.ndarray
    time: np.ndarray
    cost: np.ndarray
    unknown: np.ndarray
    parent: np.ndarray
    via: np.ndarray
    walk: np.ndarray
    trip: np.ndarray
    alight: np.ndarray

    @classmethod
    def of(cls, **columns) -> _Labels:
        n = len(columns["stop"])
        filler = np.full(n, -1, dtype=np.int64)
        return cls(**{name: np.asarray(columns.get(name, filler))
                      for name in cls.__dataclass_fields__})  # fmt: skip

    def take(self, index: np.ndarray) -> _Labels:
        return _Labels(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})

    def __len__(self) -> int:
        return len(self.stop)


class _Bag:
    """Non-dominated ``(time, cost, unknown)`` per stop over all rounds so far (pruning).

    Each label keeps its round (``rank``): a label prunes a candidate only from a round no
    later than the candidate's. Within one run rounds only grow, so that holds anyway; a
    range search shares the bags between runs, and a later departure's labels of round
    3 must not prune this departure's labels of round 1 (fewer vehicles is a criterion).
    """

    def __init__(self) -> None:
        empty = np.zeros(0, dtype=np.int64)
        self.stop, self.time, self.cost, self.rank = empty, empty, empty, empty
        self.unknown = np.zeros(0, dtype=bool)

    def admit(self, stop, time, cost, unknown, n_stops: int, rank: int) -> np.ndarray:
        """Indices of candidates (all of round ``rank``) no bag label of a round <= ``rank``
        (or earlier candidate) dominates; the bag then keeps them and drops the labels of
        rounds >= ``rank`` they dominate. Only the bag's labels at the candidates' stops
        take part."""
        mine = self.rank <= rank
        if len(stop) < _FEW:  # the quick test pays off only on many candidates
            fast = np.ones(len(stop), dtype=bool)
        elif mine.all():
            fast = ~_beaten_by_extremes(stop, time, cost, unknown, self.stop, self.time,
                                        self.cost, self.unknown, n_stops)  # fmt: skip
        else:
            fast = ~_beaten_by_extremes(stop, time, cost, unknown, self.stop[mine],
                                        self.time[mine], self.cost[mine], self.unknown[mine],
                                        n_stops)  # fmt: skip
        picked = np.flatnonzero(fast)
        stop, time, cost, unknown = stop[picked], time[picked], cost[picked], unknown[picked]
        touched = np.zeros(n_stops, dtype=bool)
        touched[stop] = True
        here = touched[self.stop]
        old = np.flatnonzero(here)
        n_old = len(old)
        all_stop = np.concatenate([self.stop[old], stop])
        all_time = np.concatenate([self.time[old], time])
        all_cost = np.concatenate([self.cost[old], cost])
        all_unknown = np.concatenate([self.unknown[old], unknown])
        all_rank = np.concatenate([self.rank[old], np.full(len(stop), rank, dtype=np.int64)])
        is_new = np.arange(len(all_stop)) >= n_old
        ranked = all_rank if (all_rank != rank).any() else None
        keep = ~dominated(all_stop, all_time, all_cost, all_unknown, is_new, rank=ranked)
        rest = ~here
        self.stop = np.concatenate([self.stop[rest], all_stop[keep]])
        self.time = np.concatenate([self.time[rest], all_time[keep]])
        self.cost = np.concatenate([self.cost[rest], all_cost[keep]])
        self.unknown = np.concatenate([self.unknown[rest], all_unknown[keep]])
        self.rank = np.concatenate([self.rank[rest], all_rank[keep]])
        return picked[np.flatnonzero(keep[n_old:])]


def _beaten_by_extremes(
    stop, time, cost, unknown, bag_stop, bag_time, bag_cost, bag_unknown, n_stops: int
) -> np.ndarray:
    """A quick, partial dominance test before the exact one (which sorts): per stop, the
    earliest and the cheapest label (of the bag and the candidates; of all and of the
    known ones) beat most candidates of a round. True only where one of them dominates."""
    if len(stop) == 0:
        return np.zeros(0, dtype=bool)
    touched = np.zeros(n_stops, dtype=bool)
    touched[stop] = True
    old = np.flatnonzero(touched[bag_stop])
    all_stop = np.concatenate([bag_stop[old], stop])
    all_time = np.concatenate([bag_time[old], time])
    all_cost = np.concatenate([bag_cost[old], cost]).astype(np.int64)
    all_unknown = np.concatenate([bag_unknown[old], unknown]).astype(np.int64)
    t0 = int(all_time.min())
    rel = all_time - t0
    if int(rel.max()) >= 2**29:
        return np.zeros(len(stop), dtype=bool)
    out = np.zeros(len(stop), dtype=bool)
    none = np.iinfo(np.int64).max
    c_rel, c_cost, c_unknown = time - t0, all_cost[len(old):], all_unknown[len(old):]
    for only_known in (False, True) if all_unknown.any() else (False,):
        mine = np.flatnonzero(all_unknown == 0) if only_known else None
        for key in (rel * 2**33 + all_cost * 2 + all_unknown,  # earliest, then cheapest
                    all_cost * 2**31 + rel):  # cheapest, then earliest  # fmt: skip
            best = np.full(n_stops, none, dtype=np.int64)
            if mine is None:
                np.minimum.at(best, all_stop, key)
                chosen = np.flatnonzero(key == best[all_stop])
            else:
                np.minimum.at(best, all_stop[mine], key[mine])
                chosen = mine[key[mine] == best[all_stop[mine]]]
            # Decode the winning label's (time, cost, unknown) through its index.
            index = np.full(n_stops, -1, dtype=np.int64)
            index[all_stop[chosen]] = chosen
            winner = index[stop]
            has = np.flatnonzero(winner >= 0)
            w = winner[has]
            r, rc = rel[w], c_rel[has]
            k, kc = all_cost[w], c_cost[has]
            u, uc = all_unknown[w], c_unknown[has]
            beats = (r <= rc) & (k <= kc) & (u <= uc) & ((r < rc) | (k < kc) | (u < uc))
            out[has[beats]] = True
    return out


def _first_of_each(*columns: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each distinct row of non-negative integer
    ``columns``, rows in lexicographic order (``np.unique(..., axis=1)`` gives the same,
    but far slower: it sorts a structured view)."""
    spans = [int(c.max(initial=0)) + 1 for c in columns]
    if float(np.prod(spans, dtype=np.float64)) >= 2**62:
        return np.unique(np.stack(columns), axis=1, return_index=True)[1]
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column, span in zip(columns, spans, strict=True):
        key = key * span + column
    return np.unique(key, return_index=True)[1]


def dominated(
    group: np.ndarray,
    order: np.ndarray,
    cost: np.ndarray,
    unknown: np.ndarray,
    tie: np.ndarray | None = None,
    *,
    rank: np.ndarray | None = None,
) -> np.ndarray:
    """Per item: another item of its ``group`` has ``order`` <=, ``cost`` <=,
    ``unknown`` <= and ``rank`` <= (of two equal items the one with the smaller ``tie``
    survives).

    One lexicographic sort and two segmented exclusive prefix minima of the cost (over all
    items, and over the known ones only), per rank value when ranks are given (they are
    few: rounds).
    """
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=bool)
    n_ranks = 1 if rank is None else int(rank.max()) + 1
    # Two int64 keys instead of six: (group, order) and (cost, unknown, rank, tie).
    low = int(order.min())
    span = int(order.max()) - low + 1
    first = group.astype(np.int64) * span + (order - low)
    second = (cost.astype(np.int64) * 2 + unknown.astype(np.int64)) * (2 * n_ranks)
    if rank is not None:
        second += rank.astype(np.int64) * 2
    if tie is not None:
        second += tie.astype(np.int64)
    second_span = int(second.max()) + 1
    if (int(first.max()) + 1) * second_span < 2**62:  # one key: one quicksort
        perm = np.argsort(first * second_span + second)
    else:
        perm = np.lexsort([second, first])
    g, c, u = group[perm].astype(np.int64), cost[perm], unknown[perm]
    start = np.ones(n, dtype=bool)
    start[1:] = g[1:] != g[:-1]
    shift = g * _STOP_BASE

    def exclusive_min(values: np.ndarray) -> np.ndarray:
        running = np.minimum.accumulate(values - shift)
        out = np.empty(n, dtype=np.int64)
        out[0] = MAX_COST
        out[1:] = running[:-1] + shift[1:]
        out[start] = MAX_COST + 1
        return out

    def beaten(usable: np.ndarray | None) -> np.ndarray:
        """Dominated by an earlier item among the ``usable`` ones (all when None)."""
        any_cost = c if usable is None else np.where(usable, c, MAX_COST)
        any_before = exclusive_min(any_cost)
        known_before = exclusive_min(np.where(u, MAX_COST, any_cost))
        return np.where(u, any_before <= c, known_before <= c)

    if rank is None:
        hit = beaten(None)
    else:
        r = rank[perm]
        hit = np.zeros(n, dtype=bool)
        for level in np.unique(r).tolist():
            mine = r == level
            hit[mine] = beaten(r <= level)[mine]
    out = np.empty(n, dtype=bool)
    out[perm] = hit
    return out


def mc_raptor(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    departure_time: int,
    options: RaptorOptions | None = None,
    costs: TransitCosts | None = None,
    *,
    access_cost: Mapping[int, int] | None = None,
    egress_cost: Mapping[int, int] | None = None,
) -> list[Journey]:
    """Pareto-optimal journeys by arrival, transit legs, generalised cost and unknowns.

    Parameters
    ----------
    timetable, access, egress, departure_time, options
        As for :func:`routing.transit.raptor.raptor` (same walk limits and filters).
    costs
        The generalised cost model; None: no cost (then the result is RAPTOR's Pareto
        set, with ties between equally fast journeys kept once).
    access_cost, egress_cost
        Per stop: the access / egress walk's cost beyond its seconds (default 0).

    Returns
    -------
    list of Journey
        Each with ``cost`` and ``has_unknowns`` set; no journey is dominated by another
        in (arrival, transit legs, cost, unknowns). Fewest legs first, then by arrival.
    """
    search = _McSearch(timetable, access, egress, options or RaptorOptions(), costs,
                       access_cost or {}, egress_cost or {})  # fmt: skip
    return search.run(int(departure_time)) if search.feasible else []


def range_mc_raptor(
    timetable: Timetable,
    access: StopSeconds,
    egress: StopSeconds,
    earliest: int,
    latest: int,
    options: RaptorOptions | None = None,
    costs: TransitCosts | None = None,
    *,
    access_cost: Mapping[int, int] | None = None,
    egress_cost: Mapping[int, int] | None = None,
    departure_times: Iterable[int] | None = None,
) -> list[Journey]:
    """Every journey that is Pareto-optimal in (later departure, earlier arrival, fewer
    transit legs, lower cost, no unknowns) among those leaving in ``[earliest, latest]``
    (range McRAPTOR).

    One McRAPTOR run per departure moment, latest first, *sharing the bags and the
    journeys found* between runs, as range RAPTOR shares its labels (Delling, Pajor and
    Werneck 2012, sections 4 and 5: the departure is one more criterion). Runs go from
    later to earlier departures, so every label and journey already in the bags leaves no
    earlier than the current run's: one that is no later, no costlier, has no more
    unknowns and *no more vehicles* (each label keeps its round) dominates whatever the
    current run could add there. Each run therefore explores only what it improves.

    The moments are the exact times a journey can leave: a departure at a stop reached on
    foot minus the walk there, for every walk to that stop that is not both longer and
    costlier than another (a longer walk may be the cheaper one). The best journeys for
    leaving at ``latest`` may leave after it.

    Parameters
    ----------
    timetable, access, egress, options, costs, access_cost, egress_cost
        As for :func:`mc_raptor`.
    earliest, latest
        The window of departure moments (seconds since the service date's midnight).
    departure_times
        Run at these moments instead (e.g. every 5 minutes); values outside the window
        are ignored.

    Returns
    -------
    list of Journey
        Sorted by departure, then fewer legs, arrival and cost; none dominates another.
    """
    search = _McSearch(timetable, access, egress, options or RaptorOptions(), costs,
                       access_cost or {}, egress_cost or {})  # fmt: skip
    if not search.feasible or latest < earliest:
        return []
    found: list[Journey] = []
    if departure_times is None:
        # ``latest`` with every access walk; then, going back, each moment only with the
        # walks that catch a vehicle then: every other walk boards the same trips as at
        # the moment before (later), so what it would add is already there.
        found.extend(search.run(int(latest)))
        leave, walk = search.leaving_moments(earliest, latest)
        order = np.lexsort([walk, -leave])
        leave, walk = leave[order], walk[order]
        _, starts = np.unique(-leave, return_index=True)
        ends = np.append(starts[1:], len(leave))[: len(starts)]
        for lo, hi in zip(starts.tolist(), ends.tolist(), strict=True):
            if leave[lo] < latest:
                found.extend(search.run(int(leave[lo]), np.unique(walk[lo:hi])))
    else:
        times = np.unique(np.asarray(list(departure_times), dtype=np.int64))
        times = times[(times >= earliest) & (times <= latest)]
        for t in times[::-1].tolist():
            found.extend(search.run(int(t)))
    return _range_pareto(found)


def _range_pareto(journeys: list[Journey]) -> list[Journey]:
    """Drop journeys another leaves no earlier than and beats or equals in arrival, legs,
    cost and unknowns (the runs prune so, this only makes the contract explicit)."""
    journeys = sorted(journeys, key=lambda j: (-j.departure_time, j.n_transit_legs,
                                               j.arrival_time, j.cost, j.has_unknowns))  # fmt: skip
    kept: list[Journey] = []
    for j in journeys:
        if not any(k.arrival_time <= j.arrival_time and k.n_transit_legs <= j.n_transit_legs
                   and k.cost <= j.cost and k.has_unknowns <= j.has_unknowns
                   for k in kept):  # fmt: skip
            kept.append(j)
    kept.sort(key=lambda j: (j.departure_time, j.n_transit_legs, j.arrival_time, j.cost,
                             j.has_unknowns))  # fmt: skip
    return kept


class _McSearch:
    def __init__(self, tt, access, egress, opts, costs, access_cost, egress_cost) -> None:
        self.tt, self.opts = tt, opts
        n = tt.n_stops
        self.access_stops, self.access_seconds = _within(
            *_stop_seconds(access, n, "access"), opts.max_access_walk_s
        )
        self.egress_stops, self.egress_seconds = _within(
            *_stop_seconds(egress, n, "egress"), opts.max_egress_walk_s
        )
        self.feasible = bool(len(self.access_stops) and len(self.egress_stops) and tt.n_trips)
        self.c = (costs or TransitCosts()).arrays(tt)
        self.access_extra = np.array([int(access_cost.get(int(s), 0)) for s in self.access_stops],
                                     dtype=np.int64)  # fmt: skip
        self.egress_walk = np.full(n, UNREACHED, dtype=np.int64)
        self.egress_walk[self.egress_stops] = self.egress_seconds
        self.egress_extra = np.zeros(n, dtype=np.int64)
        for s in self.egress_stops.tolist():
            self.egress_extra[s] = int(egress_cost.get(s, 0))
        if (self.access_extra < 0).any() or (self.egress_extra < 0).any():
            raise ValueError("access_cost and egress_cost must not be negative")
        self.board_ok = _stop_mask(opts.allowed_board, n, "allowed_board")
        self.alight_ok = _stop_mask(opts.allowed_alight, n, "allowed_alight")
        # Boarding classes: the earliest trip of each (penalty, unknown) pair is boarded.
        allowed = _stop_mask(opts.allowed_trip, tt.n_trips, "allowed_trip")
        key = self.c.trip_penalty * 2 + self.c.trip_unknown
        classes = np.unique(key if allowed is None else key[allowed])
        if len(classes) > _MAX_CLASSES:
            raise ValueError(f"at most {_MAX_CLASSES} distinct trip (penalty, unknown) pairs")
        base = np.ones(tt.n_trips, dtype=bool) if allowed is None else allowed
        if len(classes) <= 1:
            self.next_trips = [_next_allowed_trip(allowed, tt.n_trips)]
        else:
            self.next_trips = [_next_allowed_trip(base & (key == c), tt.n_trips) for c in classes]

        # Round 0's labels, less the departure: the access walks, each perhaps followed
        # by one footpath (``time``: seconds of the whole walk, ``walk``: the footpath's).
        a_stop, a_sec = self.access_stops, self.access_seconds
        src, dst, walk, edge = _footpath_edges(tt, np.arange(len(a_stop)), a_stop)
        if opts.max_access_walk_s is not None:
            ok = a_sec[src] + walk <= opts.max_access_walk_s
            src, dst, walk, edge = src[ok], dst[ok], walk[ok], edge[ok]
        self.starts = _Labels.of(
            stop=np.concatenate([a_stop, dst]),
            time=np.concatenate([a_sec, a_sec[src] + walk]),
            cost=np.concatenate(
                [self.access_extra, self.access_extra[src] + self.c.footpath_extra[edge]]
            ),
            via=np.concatenate([np.full(len(a_stop), -1), a_stop[src]]),
            walk=np.concatenate([np.zeros(len(a_stop), dtype=np.int64), walk]),
        )
        # Shared by the runs of a range search (later departures first): what a later
        # departure reached no later, no costlier and with no more vehicles prunes.
        self.ride_bag, self.ready_bag = _Bag(), _Bag()
        self.t_arr = np.zeros(0, dtype=np.int64)  # journeys found: arrival, cost, ...
        self.t_cost = np.zeros(0, dtype=np.int64)
        self.t_unk = np.zeros(0, dtype=bool)
        self.t_legs = np.zeros(0, dtype=np.int64)
        self.last_departure: int | None = None
        self._bounds_key: tuple[int, int] | None = None
        self._bounds: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def leaving_moments(self, earliest: int, latest: int) -> tuple[np.ndarray, np.ndarray]:
        """Moments in ``[earliest, latest]`` a journey can leave at, each with the index
        (into ``starts``) of the walk: every departure from a stop minus each walk there
        that no shorter walk beats in cost. Unsorted, repeats possible."""
        start = self.starts
        useful = np.flatnonzero(~dominated(start.stop, start.time, start.cost,
                                           np.zeros(len(start.stop), dtype=bool)))  # fmt: skip
        leave, walk = _leaving_moments(self.tt, start.stop[useful], start.time[useful],
                                       self.opts, earliest, latest, owners=True)  # fmt: skip
        return leave, useful[walk]

    def beaten(self, time, cost, unknown, legs: int) -> np.ndarray:
        """Dominated by a journey already found with at most ``legs`` vehicles (costs and
        times only grow): the cheapest arriving no later, over all and over those without
        unknowns. Journeys of later departures count too (they also leave later)."""
        if len(self.t_arr) == 0 or len(time) == 0:
            return np.zeros(len(time), dtype=bool)
        key = (len(self.t_arr), legs)
        if self._bounds_key != key:  # targets only grow: their count tells them apart
            t_arr, t_cost, t_unk = self.t_arr, self.t_cost, self.t_unk
            if int(self.t_legs.max()) > legs:
                few = self.t_legs <= legs
                t_arr, t_cost, t_unk = t_arr[few], t_cost[few], t_unk[few]
            order = np.argsort(t_arr, kind="stable")
            self._bounds = (
                t_arr[order],
                np.minimum.accumulate(t_cost[order]),
                np.minimum.accumulate(np.where(t_unk[order], MAX_COST, t_cost[order])),
            )
            self._bounds_key = key
        arrivals, cheapest, known = self._bounds
        if len(arrivals) == 0:
            return np.zeros(len(time), dtype=bool)
        i = np.searchsorted(arrivals, time, side="right") - 1
        ok = i >= 0
        j = np.maximum(i, 0)
        bound = np.where(unknown, cheapest[j], known[j])
        return ok & (bound <= cost)

    def run(self, t0: int, walks: np.ndarray | None = None) -> list[Journey]:
        """The journeys leaving at or after ``t0`` that no journey of this or an earlier
        run (a later departure) dominates; ``walks``: only these of ``starts``."""
        if self.last_departure is not None and t0 > self.last_departure:
            raise ValueError("runs of one search must go from later to earlier departures")
        self.last_departure = t0
        tt, opts, c = self.tt, self.opts, self.c
        buffer = int(opts.min_transfer_seconds)
        trip_counts = np.diff(tt.pattern_trip_ptr)
        rides: list[_Labels | None] = [None]
        readies: list[_Labels] = []
        ride_bag, ready_bag, beaten = self.ride_bag, self.ready_bag, self.beaten
        targets: list[tuple[int, int, int, bool, int, int]] = []  # arr, cost, unk, k, ride, via

        # Round 0: the access walks, each perhaps followed by one footpath.
        start = self.starts if walks is None else self.starts.take(walks)
        first = _Labels.of(
            stop=start.stop, time=t0 + start.time, cost=start.cost,
            unknown=np.zeros(len(start.stop), dtype=bool), via=start.via, walk=start.walk,
        )  # fmt: skip
        fresh = first.take(
            ready_bag.admit(first.stop, first.time, first.cost, first.unknown, tt.n_stops, 0)
        )
        readies.append(fresh)
        n_rounds = opts.max_transfers + 1

        for k in range(1, n_rounds + 1):
            ready = readies[k - 1]
            live = np.flatnonzero(~beaten(ready.time, ready.cost, ready.unknown, k))
            if len(live) == 0:
                break
            checkpoint("a McRAPTOR round")
            # --- boardings: every pattern through the label's stop, earliest trip per class
            counts = tt.stop_ps_ptr[ready.stop[live] + 1] - tt.stop_ps_ptr[ready.stop[live]]
            owner = np.repeat(live, counts)
            lo = tt.stop_ps_ptr[ready.stop[live]]
            entries = tt.stop_ps[concat_ranges(lo, counts)].astype(np.int64)
            stop = ready.stop[owner]
            ok = tt.ps_can_board[entries]
            if self.board_ok is not None:
                ok &= self.board_ok[stop]
            owner, entries, stop = owner[ok], entries[ok], stop[ok]
            pattern = tt.ps_pattern[entries].astype(np.int64)
            shifted = np.clip(ready.time[owner] - tt.key_origin, 0, tt.key_span - 1)
            needles = entries * tt.key_span + shifted
            by_key = np.argsort(needles)  # sorted needles: far fewer cache misses
            first_event = np.empty(len(needles), dtype=np.int64)
            first_event[by_key] = np.searchsorted(tt.departure_key, needles[by_key])
            local0 = first_event - tt.ps_event_ptr[entries]
            offset = tt.pattern_trip_ptr[pattern]
            ev_owner, ev_entry, ev_trip = [], [], []
            for table in self.next_trips:
                local = local0 if table is None else table[offset + local0] - offset
                found = local < trip_counts[pattern]
                ev_owner.append(owner[found])
                ev_entry.append(entries[found])
                ev_trip.append(local[found])
            e_owner = np.concatenate(ev_owner)
            e_entry = np.concatenate(ev_entry)
            e_local = np.concatenate(ev_trip)
            if len(self.next_trips) > 1:  # one boarding per (label, entry, trip)
                first_seen = _first_of_each(e_owner, e_entry, e_local)
                e_owner, e_entry, e_local = (e_owner[first_seen], e_entry[first_seen],
                                             e_local[first_seen])  # fmt: skip
            if k == 1 and walks is not None:
                # Only the vehicles leaving right at the walk's end are new to this run;
                # later ones it boarded at the run before that included this walk.
                leaves = tt.event_departure[tt.ps_event_ptr[e_entry] + e_local]
                now = np.flatnonzero(leaves == ready.time[e_owner])
                e_owner, e_entry, e_local = e_owner[now], e_entry[now], e_local[now]
            e_pattern = tt.ps_pattern[e_entry].astype(np.int64)
            e_trip = tt.pattern_trip_ptr[e_pattern] + e_local
            e_stop = tt.ps_stop[e_entry].astype(np.int64)
            e_cost = (ready.cost[e_owner] + c.trip_penalty[e_trip] + c.stop_penalty[e_stop]
                      + (c.transfer_penalty if k > 1 else 0))  # fmt: skip
            e_unknown = ready.unknown[e_owner] | c.trip_unknown[e_trip] | c.stop_unknown[e_stop]
            # Route bag, per trip: a boarding no earlier on the pattern and no cheaper wins.
            keep = np.flatnonzero(
                ~dominated(e_trip, tt.ps_position[e_entry].astype(np.int64), e_cost, e_unknown)
            )
            e_owner, e_entry, e_trip, e_local = (e_owner[keep], e_entry[keep], e_trip[keep],
                                                 e_local[keep])  # fmt: skip
            e_cost, e_unknown, e_pattern = e_cost[keep], e_unknown[keep], e_pattern[keep]

            # --- ride to every later stop of the pattern
            ends = tt.pattern_stop_ptr[e_pattern + 1]
            at = concat_ranges(e_entry + 1, ends - e_entry - 1)
            ev = np.repeat(np.arange(len(e_entry)), ends - e_entry - 1)
            a_stop = tt.ps_stop[at].astype(np.int64)
            ok = tt.ps_can_alight[at]
            if self.alight_ok is not None:
                ok &= self.alight_ok[a_stop]
            at, ev, a_stop = at[ok], ev[ok], a_stop[ok]
            arrival = tt.event_arrival[tt.ps_event_ptr[at] + e_local[ev]].astype(np.int64)
            cost = e_cost[ev] + c.stop_penalty[a_stop]
            unknown = e_unknown[ev] | c.stop_unknown[a_stop]
            ok = np.flatnonzero(~beaten(arrival, cost, unknown, k))
            at, ev, a_stop, arrival, cost, unknown = (at[ok], ev[ok], a_stop[ok], arrival[ok],
                                                      cost[ok], unknown[ok])  # fmt: skip
            won = ride_bag.admit(a_stop, arrival, cost, unknown, tt.n_stops, k)
            ride = _Labels.of(
                stop=a_stop[won], time=arrival[won], cost=cost[won], unknown=unknown[won],
                parent=e_owner[ev[won]], via=e_entry[ev[won]], trip=e_trip[ev[won]],
                alight=at[won],
            )  # fmt: skip
            rides.append(ride)
            if len(ride) == 0:
                break

            # --- the destination: egress at the stop, or after one footpath
            r_idx = np.arange(len(ride))
            f_src, f_dst, f_walk, f_edge = _footpath_edges(tt, r_idx, ride.stop)
            direct = np.flatnonzero(self.egress_walk[ride.stop] < UNREACHED)
            walked = np.flatnonzero(self.egress_walk[f_dst] < UNREACHED)
            if opts.max_egress_walk_s is not None:
                walked = walked[f_walk[walked] + self.egress_walk[f_dst[walked]]
                                <= opts.max_egress_walk_s]  # fmt: skip
            g_ride = np.concatenate([direct, f_src[walked]])
            g_via = np.concatenate([np.full(len(direct), -1), f_dst[walked]])
            g_end = np.concatenate([ride.stop[direct], f_dst[walked]])
            g_walk = np.concatenate([np.zeros(len(direct), dtype=np.int64), f_walk[walked]])
            g_extra = np.concatenate([np.zeros(len(direct), dtype=np.int64),
                                      c.footpath_extra[f_edge[walked]]])  # fmt: skip
            g_arr = ride.time[g_ride] + g_walk + self.egress_walk[g_end]
            g_cost = ride.cost[g_ride] + g_extra + self.egress_extra[g_end]
            g_unk = ride.unknown[g_ride]
            fresh = ~beaten(g_arr, g_cost, g_unk, k)
            fresh[fresh] = ~dominated(np.zeros(int(fresh.sum()), dtype=np.int64), g_arr[fresh],
                                      g_cost[fresh], g_unk[fresh])  # fmt: skip
            for i in np.flatnonzero(fresh).tolist():
                targets.append((int(g_arr[i]), int(g_cost[i]), bool(g_unk[i]), k,
                                int(g_ride[i]), int(g_via[i])))  # fmt: skip
            self.t_arr = np.concatenate([self.t_arr, g_arr[fresh]])
            self.t_cost = np.concatenate([self.t_cost, g_cost[fresh]])
            self.t_unk = np.concatenate([self.t_unk, g_unk[fresh]])
            self.t_legs = np.concatenate([self.t_legs, np.full(int(fresh.sum()), k)])
            if k == n_rounds:
                break

            # --- changes: at the stop (its change time) or one footpath, plus the buffer
            change = tt.change_seconds[ride.stop].astype(np.int64)
            stay = np.flatnonzero(change < NO_TRANSFER)
            cand = _Labels.of(
                stop=np.concatenate([ride.stop[stay], f_dst]),
                time=np.concatenate([ride.time[stay] + change[stay],
                                     ride.time[f_src] + f_walk]) + buffer,
                cost=np.concatenate([ride.cost[stay],
                                     ride.cost[f_src] + c.footpath_extra[f_edge]]),
                unknown=np.concatenate([ride.unknown[stay], ride.unknown[f_src]]),
                parent=np.concatenate([stay, f_src]),
                via=np.concatenate([ride.stop[stay], ride.stop[f_src]]),
                walk=np.concatenate([np.zeros(len(stay), dtype=np.int64), f_walk]),
            )  # fmt: skip
            cand = cand.take(np.flatnonzero(~beaten(cand.time, cand.cost, cand.unknown, k)))
            readies.append(cand.take(ready_bag.admit(cand.stop, cand.time, cand.cost,
                                                     cand.unknown, tt.n_stops, k)))  # fmt: skip

        journeys = [self._rebuild(rides, readies, *t) for t in targets]
        journeys.sort(key=lambda j: (j.n_transit_legs, j.arrival_time, j.cost, j.has_unknowns))
        return journeys

    def _rebuild(self, rides, readies, arrival, cost, unknown, k, ride_index, via) -> Journey:
        tt = self.tt
        legs: list[Leg] = []
        ride = rides[k]
        at_stop = int(ride.time[ride_index])
        end = int(ride.stop[ride_index])
        if via >= 0:
            egress = int(self.egress_walk[via])
            seconds = arrival - at_stop - egress
            legs.append(EgressLeg(via, egress, at_stop + seconds, arrival))
            legs.append(TransferLeg(end, via, seconds, at_stop, at_stop + seconds))
        else:
            legs.append(EgressLeg(end, int(self.egress_walk[end]), at_stop, arrival))
        index = ride_index
        while True:
            ride = rides[k]
            trip, board = int(ride.trip[index]), int(ride.via[index])
            alight = int(ride.alight[index])
            local = trip - int(tt.pattern_trip_ptr[int(tt.trip_pattern[trip])])
            board_stop = int(tt.ps_stop[board])
            board_time = int(tt.event_departure[tt.ps_event_ptr[board] + local])
            legs.append(TransitLeg(
                trip=trip, board_stop=board_stop, alight_stop=int(ride.stop[index]),
                board_time=board_time, alight_time=int(ride.time[index]),
                board_position=int(tt.ps_position[board]),
                alight_position=int(tt.ps_position[alight]),
            ))  # fmt: skip
            ready = readies[k - 1]
            r = int(ride.parent[index])
            source, walk = int(ready.via[r]), int(ready.walk[r])
            if k - 1 == 0:
                break
            parent = int(ready.parent[r])
            if source != board_stop:
                alighted = int(rides[k - 1].time[parent])
                legs.append(TransferLeg(source, board_stop, walk, alighted, alighted + walk))
            index, k = parent, k - 1
        leave = board_time
        if source >= 0:
            legs.append(TransferLeg(source, board_stop, walk, leave - walk, leave))
            leave -= walk
            board_stop = source
        seconds = int(self.access_seconds[np.flatnonzero(self.access_stops == board_stop)[0]])
        legs.append(AccessLeg(board_stop, seconds, leave - seconds, leave))
        legs.reverse()
        return Journey(leave - seconds, arrival, tuple(legs), cost=cost, has_unknowns=unknown)


def _footpath_edges(
    tt: Timetable, owners: np.ndarray, stops: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(owner, to, seconds, edge)`` of all footpaths leaving each owner's stop."""
    lo, hi = tt.footpath_ptr[stops], tt.footpath_ptr[stops + 1]
    edge = concat_ranges(lo, hi - lo)
    owner = np.repeat(np.asarray(owners, dtype=np.int64), hi - lo)
    return (owner, tt.footpath_to[edge].astype(np.int64),
            tt.footpath_seconds[edge].astype(np.int64), edge)  # fmt: skip
