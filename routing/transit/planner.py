"""Multimodal journeys: walk (by the profile's street costs), bus and metro, walk.

The planner joins the street router and RAPTOR:

1. **Stops on the street graph.** Every stop is snapped, per profile, to the nearest way
   the profile may use (at most ``max_stop_snap_m`` away). A stop farther away, up to
   ``max_stop_link_m``, gets a *straight link* to that way: walked at the profile's speed,
   priced one ``unknown_cost_s`` more (surface, kerbs and slope are unknown), and every
   walk using it carries a ``straight_link`` warning. Farther stops cannot be walked to.
2. **Access and egress.** One bounded Dijkstra from the origin and one on the reversed graph
   from the destination give, for every stop, the walking cost and the real seconds along
   the cheapest path (seconds are summed along the shortest-path tree by pointer jumping).
3. **Transfers.** For each profile, walks between stops less than ``max_transfer_m`` apart
   come from batched Dijkstra runs on the same street costs, so a blind traveller's transfer
   avoids unsignalled crossings like any other walk of theirs.
4. **Search.** McRAPTOR (:mod:`routing.transit.mcraptor`) over the service day's
   timetable, with the profile's filters (wheelchair profiles ride only trips not marked
   inaccessible and board/alight only at stops not marked inaccessible) and its
   generalised cost *inside* the search: the walks' extra profile cost, a penalty per
   change, per-unknown accessibility penalties and blind travellers' tactile preferences
   (:meth:`TransitPlanner.transit_costs`). The Pareto set is over arrival, transfers,
   that cost and "uses something of unknown accessibility", so a journey using only
   vehicles and stops *known* to be accessible is kept whenever one exists, without a
   second search. Arrive-by searches find their departure moments with plain RAPTOR and
   run McRAPTOR at each; window searches run range McRAPTOR
   (:func:`~routing.transit.mcraptor.range_mc_raptor`), the departure being one more
   criterion.
5. **Ranking.** Each journey's generalised cost is the travel time from the requested
   departure + the search's cost (see :class:`PlanOptions`). Itineraries are sorted by it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np

from routing.cost import get_profile
from routing.cost.profiles import Profile
from routing.deadline import accepts_deadline, checkpoint
from routing.errors import InvalidInputError, NoRouteError, OutsideServiceError, RoutingError
from routing.router import StreetRoute, StreetRouter
from routing.snapping import Snap
from routing.transit.accessibility import TransitAccessibility, thin_by_share
from routing.transit.gtfs import Feed
from routing.transit.mcraptor import TransitCosts, mc_raptor, range_mc_raptor
from routing.transit.raptor import (
    UNREACHED,
    AccessLeg,
    EgressLeg,
    Journey,
    RaptorOptions,
    TransferLeg,
    TransitLeg,
    latest_departure,
    range_raptor,
    raptor,
    stop_arrivals_by_departure,
)
from routing.transit.timetable import Timetable
from routing.tristate import CODES, NO, UNKNOWN, WORDS, YES

_MODE = {
    0: "tram",
    1: "metro",
    2: "rail",
    3: "bus",
    11: "trolleybus",
    700: "bus",
    800: "trolleybus",
}


@dataclass(frozen=True)
class PlanOptions:
    """Limits and penalties of a plan (defaults are assumptions, documented in the README).

    Attributes
    ----------
    max_transfers
        Vehicle changes allowed.
    max_access_s
        Longest walk (profile cost seconds) to the first stop and from the last stop.
    max_transfer_m
        Stops farther apart than this (straight line) are not linked by a transfer walk.
    max_stop_snap_m
        A stop within this of a way the profile may use is reached along that way.
    max_stop_link_m
        A stop farther than ``max_stop_snap_m`` but within this is joined to the nearest
        usable way by a straight link (see the module notes); farther ones cannot be
        walked to. Equal to ``max_stop_snap_m``: no links.
    min_transfer_s
        Time to change vehicles at one stop; None takes the profile's ``min_transfer_s``.
    transfer_penalty_s
        Generalised cost of each change; None takes the profile's ``transfer_penalty_s``.
    walk_only_max_s
        A walk-only itinerary is offered when it takes at most this long.
    max_itineraries
        How many itineraries to return when the request does not say.
    long_wait_s
        A wait longer than this (before the first vehicle, at a stop between rides, or
        before the requested arrival) is a ``long_wait`` warning naming it.
    arrive_by_horizon_s
        An arrive-by search looks for departures at most this long before the arrival.
    max_chained_walk_s
        A walk between two rides may chain several stop-to-stop walks (past other stops)
        up to this many seconds; see :meth:`Timetable.with_chained_footpaths`.
    """

    max_transfers: int = 3
    max_access_s: float = 1200.0
    max_transfer_m: float = 400.0
    max_stop_snap_m: float = 200.0
    max_stop_link_m: float = 1000.0
    min_transfer_s: int | None = None
    transfer_penalty_s: float | None = None
    walk_only_max_s: float = 3600.0
    max_itineraries: int = 4
    long_wait_s: int = 1800
    arrive_by_horizon_s: int = 86400
    max_chained_walk_s: int = 600


def parse_departure(text: str | None, *, tz: str | None) -> dt.datetime:
    """An ISO 8601 time; missing means now.

    A time without an offset is local time of ``tz`` (e.g. a planner's ``tz``, its feed's
    ``agency_timezone``); with ``tz=None`` it stays naive, and the planner reads it in its
    feed's ``agency_timezone`` (what the HTTP API does).
    """
    if not text:
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return now if tz is None else now.astimezone(ZoneInfo(tz))
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInputError(
            f"'time' {text!r} is not an ISO 8601 date-time (e.g. 2026-12-07T08:10 or "
            "2026-12-07T08:10:00+05:00)",
            field="time",
        ) from None
    if not 1900 <= when.year <= 2199:
        raise InvalidInputError(f"'time' {text!r} is outside the years 1900-2199", field="time")
    return _localize(when, tz, text) if tz is not None else when


def _localize(when: dt.datetime, tz: str, text: str = "") -> dt.datetime:
    """``when`` in zone ``tz`` (a naive time is taken as local time there)."""
    zone = ZoneInfo(tz)
    try:
        return when.replace(tzinfo=zone) if when.tzinfo is None else when.astimezone(zone)
    except OverflowError:
        raise InvalidInputError(f"'time' {text or when!r} is out of range",
                                field="time") from None  # fmt: skip


@dataclass
class _StopLinks:
    """Per profile: every stop's snap onto the street graph and the walks between stops."""

    snaps: list[Snap | None]
    transfers: dict[tuple[int, int], tuple[int, float]] = field(default_factory=dict)
    # Per stop: metres of straight link from the stop to its snap (0: on a usable way),
    # and that link's seconds and cost for the profile.
    link_m: np.ndarray | None = None
    link_s: np.ndarray | None = None
    link_cost: np.ndarray | None = None


class ServiceView(NamedTuple):
    """One service day as a profile sees it: timetable with its walks, and accessibility."""

    timetable: Timetable
    links: _StopLinks
    stop_wheelchair: np.ndarray  # per stop: a routing.tristate code (overlays applied)
    stop_tactile: np.ndarray  # per stop: tactile guidance, same codes
    trip_wheelchair: np.ndarray  # per trip, after low-floor shares


class SearchInputs(NamedTuple):
    """A request's RAPTOR inputs: see :meth:`TransitPlanner.search_inputs`."""

    view: ServiceView
    access: dict[int, int]  # stop -> walking seconds from the origin
    egress: dict[int, int]  # stop -> walking seconds to the destination
    access_cost: np.ndarray  # per stop: profile cost of the access walk (inf: none)
    egress_cost: np.ndarray
    searches: list[tuple[bool, RaptorOptions]]  # (only known-accessible, options)
    options: PlanOptions
    costs: TransitCosts | None = None  # the generalised cost of the McRAPTOR search


@dataclass
class Itinerary:
    """One journey with its legs, ready to serialise."""

    departure: dt.datetime
    arrival: dt.datetime
    legs: list[dict]
    walk_s: float
    wait_s: float
    ride_s: float
    transfers: int
    walk_m: float
    generalized_cost: float
    warnings: list[dict]
    only_known_accessible: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "departure": self.departure.isoformat(),
            "arrival": self.arrival.isoformat(),
            "duration_s": round((self.arrival - self.departure).total_seconds()),
            "walk_s": round(self.walk_s),
            "wait_s": round(self.wait_s),
            "ride_s": round(self.ride_s),
            "walk_distance_m": round(self.walk_m, 1),
            "transfers": self.transfers,
            "generalized_cost": round(self.generalized_cost),
            "legs": self.legs,
            "warnings": self.warnings,
        }


@dataclass
class Plan:
    """The itineraries of one request, and cursors to the earlier and later ones.

    ``earlier`` and ``later`` are the ``time`` and ``arrive_by`` of the request that pages
    on: ``later`` leaves one second after the latest departure shown, ``earlier`` arrives
    one second before the earliest arrival shown (None when nothing rides).
    """

    profile: str
    requested: dt.datetime
    itineraries: list[Itinerary]
    arrive_by: bool = False
    window_s: int = 0
    earlier: dict[str, Any] | None = None
    later: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "time": self.requested.isoformat(),
            "arrive_by": self.arrive_by,
            "window_s": self.window_s,
            "itineraries": [i.to_dict() for i in self.itineraries],
            "earlier": self.earlier,
            "later": self.later,
        }


class TransitPlanner:
    """Plans walk + bus + metro journeys for a profile on one feed.

    Parameters
    ----------
    router
        The street router (same city as the feed).
    feed
        A loaded GTFS feed.
    accessibility
        Transit overlays (low-floor shares, station facts); None means none.
    stop_extras
        Extra per-stop facts (e.g. ``tactile_paving`` from ``stop_accessibility.txt``).
    tz
        The IANA zone of the timetable; None takes the feed's ``agency_timezone``.
    """

    def __init__(
        self,
        router: StreetRouter,
        feed: Feed,
        *,
        accessibility: TransitAccessibility | None = None,
        stop_extras: dict[str, dict[str, str]] | None = None,
        tz: str | None = None,
        options: PlanOptions = PlanOptions(),
        cache_days: int = 3,
        cache_views: int = 12,
        cache_profiles: int = 8,
        cache_walks: int = 4096,
    ) -> None:
        # LRU bounds: timetables per service day, (day, profile) views, per-profile stop links.
        self.cache_days, self.cache_views, self.cache_profiles = (
            cache_days, cache_views, cache_profiles)  # fmt: skip
        self.router = router
        self.network = router.network
        self.feed = feed
        self.accessibility = accessibility or TransitAccessibility()
        self.stop_extras = stop_extras or {}
        self.tz = tz or feed.timezone
        self.options = options
        self._timetables: OrderedDict[dt.date, Timetable] = OrderedDict()
        self._profiled: OrderedDict[tuple, tuple] = OrderedDict()
        self._links: OrderedDict[Profile, _StopLinks] = OrderedDict()
        # Routed walks by (profile, from, to): itineraries of one plan share their first
        # and last walks, and plans share the walks between stops.
        self.cache_walks = cache_walks
        self._walks: OrderedDict[tuple, StreetRoute | None] = OrderedDict()
        self._costs: OrderedDict[tuple, TransitCosts] = OrderedDict()
        self._reach: OrderedDict[tuple, int] = OrderedDict()

    @classmethod
    def from_gtfs(cls, router: StreetRouter, path: str | Path, **kwargs) -> TransitPlanner:
        from routing.transit.gtfs import load_feed

        return cls(router, load_feed(path), stop_extras=read_stop_extras(path), **kwargs)

    def with_changes(
        self,
        *,
        feed: Feed | None = None,
        accessibility: TransitAccessibility | None = None,
        router: StreetRouter | None = None,
    ) -> TransitPlanner:
        """A planner on an edited copy of this one's feed, overlays or streets (scenarios).

        Same options and zone. With the same feed, the new planner shares this one's
        service-day timetables; with the same feed and router also its stop links and
        routed walks (they do not depend on the overlays), so only the per-profile
        accessibility views are computed again.
        """
        other = TransitPlanner(
            self.router if router is None else router,
            self.feed if feed is None else feed,
            accessibility=self.accessibility if accessibility is None else accessibility,
            stop_extras=self.stop_extras, tz=self.tz, options=self.options,
            cache_days=self.cache_days, cache_views=self.cache_views,
            cache_profiles=self.cache_profiles, cache_walks=self.cache_walks,
        )  # fmt: skip
        if other.feed is self.feed:
            other._timetables = self._timetables
            if other.router is self.router:
                other._links, other._walks = self._links, self._walks
        return other

    # -- per date / per profile preparation ---------------------------------------------
    def timetable(self, date: dt.date) -> Timetable:
        hit = self._timetables.get(date)
        if hit is None:
            # The next day's trips too: a late search finds the first morning vehicles.
            hit = Timetable.from_feed(self.feed, date, include_next_day=True)
            self._timetables[date] = hit
            while len(self._timetables) > self.cache_days:
                self._timetables.popitem(last=False)
        return hit

    def _stop_facts(self, tt: Timetable) -> tuple[np.ndarray, np.ndarray]:
        """Per stop: wheelchair boarding and tactile guidance (tristate), overlays applied."""
        wheel = tt.stop_wheelchair.astype(np.int8).copy()
        tactile = np.full(tt.n_stops, UNKNOWN, dtype=np.int8)
        for i, stop_id in enumerate(tt.stop_ids):
            extra = self.stop_extras.get(stop_id, {})
            tactile[i] = CODES.get(extra.get("tactile_paving", ""), UNKNOWN)
            parent = tt.stop_parent[i]
            for key in (stop_id, tt.stop_ids[parent] if parent >= 0 else None):
                facts = self.accessibility.stops.get(key) if key else None
                if facts is not None:
                    if facts.wheelchair != UNKNOWN:
                        wheel[i] = facts.wheelchair
                    if facts.tactile_navigation != UNKNOWN:
                        tactile[i] = facts.tactile_navigation
                    break
        return wheel, tactile

    def _trip_wheelchair(self, tt: Timetable) -> np.ndarray:
        """Per trip (tristate) after applying low-floor shares (see accessibility module)."""
        wheel = tt.trip_wheelchair.astype(np.int8).copy()
        for r, route_id in enumerate(tt.route_ids):
            share = self.accessibility.share_for(route_id, tt.route_short_names[r])
            if share is None:
                continue
            for direction in np.unique(tt.trip_direction[tt.trip_route == r]):
                trips = np.flatnonzero((tt.trip_route == r) & (tt.trip_direction == direction))
                first = np.array([tt.trip_stop_times(int(t))[2][0] for t in trips])
                accessible = thin_by_share(first, share)
                wheel[trips] = np.where(accessible, YES, NO)
        return wheel

    def _prepared(self, date: dt.date, profile: Profile) -> ServiceView:
        key = (date, profile)
        hit = self._profiled.get(key)
        if hit is not None:
            self._profiled.move_to_end(key)
            return hit
        tt = self.timetable(date)
        checkpoint("the day's timetable")
        links = self.links(profile, tt)
        checkpoint("the stop links")
        walks = [(a, b, s) for (a, b), (s, _) in links.transfers.items()]
        tt_p = tt.with_transfers(walks, replace_existing=False)
        checkpoint("the profile's footpaths")
        tt_p = tt_p.with_chained_footpaths(self.options.max_chained_walk_s)
        checkpoint("the chained footpaths")
        stop_wc, stop_tactile = self._stop_facts(tt)
        trip_wc = self._trip_wheelchair(tt)
        hit = ServiceView(tt_p, links, stop_wc, stop_tactile, trip_wc)
        self._profiled[key] = hit
        while len(self._profiled) > self.cache_views:
            self._profiled.popitem(last=False)
        return hit

    def links(self, profile: Profile, tt: Timetable) -> _StopLinks:
        """Stops snapped for ``profile`` and the transfer walks between them (cached)."""
        hit = self._links.get(profile)
        if hit is not None:
            return hit
        points = np.stack([tt.stop_lat, tt.stop_lon], axis=1)
        snaps = self.network.snap_many(points, profile,
                                       max_distance_m=self.options.max_stop_snap_m)  # fmt: skip
        link_m = np.zeros(len(snaps))
        far = [i for i, snap in enumerate(snaps) if snap is None]
        if far and self.options.max_stop_link_m > self.options.max_stop_snap_m:
            reach = self.options.max_stop_link_m
            linked = self.network.snap_many(points[far], profile, max_distance_m=reach)
            for i, snap in zip(far, linked, strict=True):
                if snap is not None:
                    snaps[i], link_m[i] = snap, snap.distance_m
        checkpoint("snapping the stops")
        link_s = link_m / profile.speed_mps
        link_cost = np.where(link_m > 0, link_s + profile.unknown_cost_s, 0.0)
        links = _StopLinks(snaps, link_m=link_m, link_s=link_s, link_cost=link_cost)
        links.transfers = self._transfer_walks(profile, tt, links)
        self._links[profile] = links
        while len(self._links) > self.cache_profiles:
            self._links.popitem(last=False)
        return links

    def _transfer_walks(self, profile: Profile, tt: Timetable, links: _StopLinks):
        """Walks between stops within max_transfer_m: {(a, b): (seconds, cost)}."""
        net = self.network
        idx = np.flatnonzero([s is not None for s in links.snaps])
        if len(idx) < 2:
            return {}
        from scipy.spatial import cKDTree  # here: a server without transit never loads it

        xy = net.projection.forward(tt.stop_lat[idx], tt.stop_lon[idx])
        pairs = cKDTree(xy).query_pairs(self.options.max_transfer_m, output_type="ndarray")
        if len(pairs) == 0:
            return {}
        pairs = np.concatenate([pairs, pairs[:, ::-1]])
        a, b = idx[pairs[:, 0]], idx[pairs[:, 1]]
        limit = self.options.max_transfer_m * 4 / profile.speed_mps + 600
        cost, seconds = np.full(len(a), np.inf), np.zeros(len(a))
        sources = np.unique(a)
        chunk = 64  # a few sources at a time: only their neighbours are targets
        for start in range(0, len(sources), chunk):
            checkpoint("the transfer walks")
            src = sources[start : start + chunk]
            mine = np.flatnonzero(np.isin(a, src))
            dst = np.unique(b[mine])
            m = net.matrix([links.snaps[i] for i in src.tolist()],
                           [links.snaps[j] for j in dst.tolist()], profile,
                           limit=limit)  # fmt: skip
            rows, cols = np.searchsorted(src, a[mine]), np.searchsorted(dst, b[mine])
            cost[mine], seconds[mine] = m.cost[rows, cols], m.seconds[rows, cols]
        if links.link_s is not None:  # straight links at either end
            seconds = seconds + links.link_s[a] + links.link_s[b]
            cost = cost + links.link_cost[a] + links.link_cost[b]
        keep = np.isfinite(cost)
        return {
            (int(x), int(y)): (int(round(sv)), float(cv))
            for x, y, sv, cv in zip(a[keep], b[keep], seconds[keep], cost[keep], strict=True)
        }

    def _walk_route(self, a: Snap, b: Snap, profile: Profile) -> StreetRoute | None:
        """The street route of a walk (None when there is none), from a bounded LRU cache."""
        key = (profile, a, b)
        if key in self._walks:
            self._walks.move_to_end(key)
            return self._walks[key]
        route = self._walks[key] = self.router.route_between(a, b, profile)
        while len(self._walks) > self.cache_walks:
            self._walks.popitem(last=False)
        return route

    # -- access and egress --------------------------------------------------------------
    def _access(self, snap: Snap, profile: Profile, links: _StopLinks, *, reverse: bool):
        """Per stop: walking (seconds, cost) from the origin (or to the destination)."""
        tree = self.network.tree([snap], profile, reverse=reverse,
                                 limit=self.options.max_access_s)  # fmt: skip
        at_stops = tree.at(links.snaps)
        seconds, cost = at_stops.seconds[0], at_stops.cost[0]
        # Street nodes within reach, for explaining an end the profile cannot leave.
        self._reach[(profile, snap, reverse)] = int(np.isfinite(tree.cost).sum())
        while len(self._reach) > 64:
            self._reach.popitem(last=False)
        if links.link_s is not None:  # straight links from the street to far stops
            seconds, cost = seconds + links.link_s, cost + links.link_cost
        return seconds, cost

    # -- planning -----------------------------------------------------------------------
    def service_dates(self) -> tuple[dt.date, dt.date] | None:
        """First and last date the feed's calendar covers (None for a feed without one)."""
        days = [d for c in self.feed.calendars.values() for d in (c.start_date, c.end_date)]
        days += [x.date for x in self.feed.calendar_dates if x.exception_type == 1]
        return (min(days), max(days)) if days else None

    def _check_calendar(self, date: dt.date, arrive_by: bool) -> None:
        span = self.service_dates()
        if span is None:
            return
        first, last = span
        # A departure the day before the first date can still ride that date's trips; an
        # arrival the day after the last can come from its late trips.
        low = first - dt.timedelta(days=1) if not arrive_by else first
        high = last + dt.timedelta(days=1) if arrive_by else last
        if not low <= date <= high:
            raise OutsideServiceError(
                f"'time': {date.isoformat()} is outside the transit feed's calendar, which covers "
                f"{first.isoformat()} to {last.isoformat()}",
                field="time",
                feed_start_date=first.isoformat(),
                feed_end_date=last.isoformat(),
            )

    @accepts_deadline
    def plan(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        when: dt.datetime,
        profile: Profile,
        *,
        max_transfers: int | None = None,
        arrive_by: bool = False,
        window_s: int = 0,
        num_itineraries: int | None = None,
    ) -> Plan:
        """Itineraries from ``origin`` to ``destination`` leaving at (or arriving by) ``when``.

        Parameters
        ----------
        origin, destination
            ``(lat, lon)``.
        when
            Departure, or the latest arrival when ``arrive_by``.
        profile
            The traveller's profile.
        max_transfers
            Vehicle changes allowed (default: the planner's options).
        arrive_by
            Find the latest departures that arrive by ``when`` (see
            :func:`~routing.transit.raptor.latest_departure`).
        window_s
            Also consider every departure moment in the ``window_s`` seconds after
            ``when`` (before the latest departure, when ``arrive_by``) and return the
            Pareto journeys of them, the departure being one more criterion (range
            McRAPTOR). 0: the Pareto set of one moment for a
            departure; for an arrival, successive latest departures, each arriving before
            the one before.
        num_itineraries
            How many itineraries to return (default ``options.max_itineraries``).

        Returns
        -------
        Plan
            Departures: best generalised cost first (by departure time when a window is
            given); arrivals: latest departure first.

        Raises
        ------
        OutsideServiceError
            The date lies outside the feed's calendar (422, naming the dates it covers).
        NoRouteError
            Nothing connects the points for this profile at this time (422).
        """
        opts = self.options
        if max_transfers is not None:
            opts = replace(opts, max_transfers=max_transfers)
        wanted = num_itineraries or opts.max_itineraries
        zone = ZoneInfo(self.tz)
        local = _localize(when, self.tz)
        src, dst = self._snap_ends(origin, destination, profile)
        self._check_calendar(local.date(), arrive_by)
        # An arrival too early in the day for today's trips may come from last night's.
        dates = [local.date()] + ([local.date() - dt.timedelta(days=1)] if arrive_by else [])
        for date in dates:
            midnight = dt.datetime.combine(date, dt.time(), tzinfo=zone)
            moment = round((local - midnight).total_seconds())
            inputs = self._search_inputs(src, dst, date, profile, opts)
            view, access, egress = inputs.view, inputs.access, inputs.egress
            acc_c, egr_c = inputs.access_cost, inputs.egress_cost
            journeys = self._journeys(inputs, moment, arrive_by=arrive_by, window_s=window_s,
                                      wanted=wanted)  # fmt: skip
            if journeys:
                break
        checkpoint("the journeys")
        walk = self._walk_route(src, dst, profile)
        if walk is not None and walk.duration_s > opts.walk_only_max_s:
            walk = None
        if inputs.costs is not None or not window_s:
            walk_s = None if walk is None else walk.duration_s
            journeys = self._shortlist(journeys, moment, wanted, arrive_by=arrive_by,
                                       walk_s=walk_s, window=window_s > 0)  # fmt: skip
        itineraries = [
            self._itinerary(
                view,
                j,
                known,
                src,
                dst,
                profile,
                midnight,
                moment,
                acc_c,
                egr_c,
                arrive_by=arrive_by,
                search_cost=None if inputs.costs is None else j.cost,
            )  # fmt: skip
            for j, known in journeys
        ]
        if walk is not None:
            walk_only = self._walk_only(walk, local, arrive_by=arrive_by)
            # A ride that arrives no earlier than walking there (or, arriving by a time,
            # leaves no later than walking would) is no help (from == to...).
            if arrive_by:
                itineraries = [i for i in itineraries if i.departure > walk_only.departure]
            else:
                itineraries = [i for i in itineraries if i.arrival < walk_only.arrival]
            itineraries.append(walk_only)
        if not itineraries:
            blocked = self._blocked_end((origin, destination), (src, dst), inputs, profile)
            if blocked is not None:
                raise blocked
            raise NoRouteError(
                f"no itinerary for profile '{profile.name}' "
                f"{'arriving by' if arrive_by else 'at'} {local.isoformat()}: "
                + self._why_none(access, egress),
                profile=profile.name,
                stops_within_walk_of_origin=len(access),
                stops_within_walk_of_destination=len(egress),
            )
        if arrive_by:
            itineraries.sort(key=lambda i: (-i.departure.timestamp(), i.generalized_cost))
        elif window_s > 0:
            itineraries.sort(key=lambda i: (i.departure, i.generalized_cost))
        else:
            itineraries.sort(key=lambda i: i.generalized_cost)
        shown = itineraries[:wanted]
        return Plan(
            profile=profile.name,
            requested=local,
            itineraries=shown,
            arrive_by=arrive_by,
            window_s=int(window_s),
            **self._cursors(shown),
        )

    @staticmethod
    def _shortlist(
        journeys: list[tuple[Journey, bool]],
        moment: int,
        wanted: int,
        *,
        arrive_by: bool,
        walk_s: float | None,
        window: bool = False,
    ) -> list[tuple[Journey, bool]]:
        """The journeys worth describing (each costs street searches for its walks).

        Drops rides no better than walking (as :meth:`plan` does for itineraries) and
        journeys another beats in time (with a ``window``: in departure and arrival),
        transfers, total generalised cost (time from the request + ``Journey.cost``) and
        known accessibility; orders them as :meth:`plan` shows them (by that cost; by
        departure first with a window or an arrival time) and keeps ``wanted``, plus the
        best journey known to be accessible when one exists.
        """
        def total(j: Journey) -> int:
            elapsed = moment - j.departure_time if arrive_by else j.arrival_time - moment
            return elapsed + j.cost

        if walk_s is not None:
            walked = round(walk_s)
            journeys = [
                (j, k) for j, k in journeys
                if (j.departure_time > moment - walked if arrive_by
                    else j.arrival_time < moment + walked)
            ]  # fmt: skip
        # The search keeps journeys that are better in *some* criterion, including cost
        # beyond time alone; show one only if no other is as good in time, transfers,
        # total generalised cost and known accessibility (OTP filters its itineraries
        # after the search likewise).
        def criteria(j: Journey) -> tuple[int, ...]:
            if window:
                return (-j.departure_time, j.arrival_time, j.n_transit_legs, total(j),
                        j.has_unknowns)  # fmt: skip
            when = -j.departure_time if arrive_by else j.arrival_time
            return when, j.n_transit_legs, total(j), j.has_unknowns

        keys = [criteria(j) for j, _ in journeys]
        journeys = [
            x for x, a in zip(journeys, keys, strict=True)
            if not any(b != a and all(p <= q for p, q in zip(b, a, strict=True)) for b in keys)
        ]  # fmt: skip
        if arrive_by:
            ranked = sorted(journeys, key=lambda x: (-x[0].departure_time, total(x[0])))
        elif window:
            ranked = sorted(journeys, key=lambda x: (x[0].departure_time, total(x[0])))
        else:
            ranked = sorted(journeys, key=lambda x: total(x[0]))
        shown = ranked[:wanted]
        known = [x for x in ranked if x[1]]
        if known and not any(k for _, k in shown):
            shown = shown[: max(0, wanted - 1)] + known[:1]
        return shown

    def _snap_ends(
        self, origin: tuple[float, float], destination: tuple[float, float], profile: Profile
    ) -> tuple[Snap, Snap]:
        """Both ends on the nearest ways the profile can leave (origin) and reach
        (destination) when one lies within the snap radius, else on the nearest usable way
        (a profile island, explained by :meth:`_blocked_end` when no journey leaves it)."""
        net = self.network
        return (net.snap(origin, profile, "from", leavable=True),
                net.snap(destination, profile, "to", leavable=True, reverse=True))  # fmt: skip

    def search_inputs(
        self,
        origin: tuple[float, float],
        destination: tuple[float, float],
        date: dt.date,
        profile: Profile,
        *,
        max_transfers: int | None = None,
    ) -> SearchInputs:
        """What RAPTOR is given for a request: the day's timetable with the profile's
        footpaths, the access and egress walks and the options of each search.

        For checking the planner against an independent search, and for callers that run
        many searches between the same two places (travel-time distributions).
        """
        opts = self.options
        if max_transfers is not None:
            opts = replace(opts, max_transfers=max_transfers)
        src, dst = self._snap_ends(origin, destination, profile)
        return self._search_inputs(src, dst, date, profile, opts)

    def _search_inputs(
        self, src: Snap, dst: Snap, date: dt.date, profile: Profile, opts: PlanOptions
    ) -> SearchInputs:
        view = self._prepared(date, profile)
        checkpoint("the service view")
        acc_s, acc_c = self._access(src, profile, view.links, reverse=False)
        checkpoint("the access walks")
        egr_s, egr_c = self._access(dst, profile, view.links, reverse=True)
        checkpoint("the egress walks")
        access = {int(i): int(round(acc_s[i])) for i in np.flatnonzero(np.isfinite(acc_c))}
        egress = {int(i): int(round(egr_s[i])) for i in np.flatnonzero(np.isfinite(egr_c))}
        return SearchInputs(view, access, egress, acc_c, egr_c,
                            self._searches(view, profile, opts), opts,
                            self.transit_costs(view, profile))  # fmt: skip

    def transit_costs(self, view: ServiceView, profile: Profile) -> TransitCosts:
        """The profile's generalised cost beyond time, per trip, stop and footpath (cached).

        Wheelchair profiles: ``unknown_cost_s`` for a vehicle, and for each boarding and
        alighting stop, whose step-free access is not known (these also mark the journey
        "with unknowns"). Tactile preferences (blind profiles): ``stop_no_tactile_s`` /
        ``stop_unknown_tactile_s`` per boarding and alighting stop. Every change:
        ``transfer_penalty_s``. Every walk between stops: its profile cost beyond its
        seconds (0 for walks the street graph did not price, e.g. chained ones).
        """
        key = (id(view), profile)
        hit = self._costs.get(key)
        if hit is not None and hit[0] is view:
            return hit[1]
        tt = view.timetable
        stop_pen = np.zeros(tt.n_stops, dtype=np.int64)
        stop_unknown = np.zeros(tt.n_stops, dtype=bool)
        trip_pen = np.zeros(tt.n_trips, dtype=np.int64)
        trip_unknown = np.zeros(tt.n_trips, dtype=bool)
        if profile.wheelchair:
            unknown = int(round(profile.unknown_cost_s))
            stop_unknown = view.stop_wheelchair == UNKNOWN
            trip_unknown = view.trip_wheelchair == UNKNOWN
            stop_pen += np.where(stop_unknown, unknown, 0)
            trip_pen += np.where(trip_unknown, unknown, 0)
        tactile = view.stop_tactile
        stop_pen += np.where(tactile == NO, int(round(profile.stop_no_tactile_s)), 0)
        stop_pen += np.where(tactile == UNKNOWN, int(round(profile.stop_unknown_tactile_s)), 0)
        change = self.options.transfer_penalty_s
        change = profile.transfer_penalty_s if change is None else change
        src = np.repeat(np.arange(tt.n_stops), np.diff(tt.footpath_ptr))
        walks = view.links.transfers
        extra = np.array([
            max(0, round(pair[1] - pair[0])) if (pair := walks.get((a, b))) else 0
            for a, b in zip(src.tolist(), tt.footpath_to.tolist(), strict=True)
        ], dtype=np.int64)  # fmt: skip
        costs = TransitCosts(trip_penalty=trip_pen, trip_unknown=trip_unknown,
                             stop_penalty=stop_pen, stop_unknown=stop_unknown,
                             transfer_penalty=int(round(change)), footpath_extra=extra)  # fmt: skip
        self._costs[key] = (view, costs)
        while len(self._costs) > self.cache_views:
            self._costs.popitem(last=False)
        return costs

    @staticmethod
    def _walk_extras(seconds: dict[int, int], cost: np.ndarray) -> dict[int, int]:
        """Per stop: the walk's profile cost beyond its seconds (whole seconds)."""
        return {s: max(0, round(float(cost[s])) - t) for s, t in seconds.items()}

    def _journeys(
        self, inputs: SearchInputs, moment: int, *, arrive_by: bool, window_s: int, wanted: int
    ) -> list[tuple[Journey, bool]]:
        """Journeys of every search the profile needs, each flagged "known accessible"."""
        access, egress = inputs.access, inputs.egress
        if not access or not egress:
            return []
        tt = inputs.view.timetable
        earliest = moment - inputs.options.arrive_by_horizon_s
        out: list[tuple[Journey, bool]] = []
        seen = set()
        wheelchair = len(inputs.searches) > 1
        costs = inputs.costs
        acc_x = self._walk_extras(access, inputs.access_cost)
        egr_x = self._walk_extras(egress, inputs.egress_cost)
        any_options = inputs.searches[0][1]

        def multi(t: int, by: int | None = None) -> list[Journey]:
            found = mc_raptor(tt, access, egress, t, any_options, costs,
                              access_cost=acc_x, egress_cost=egr_x)  # fmt: skip
            return [j for j in found if by is None or j.arrival_time <= by]

        def window(lo: int, hi: int, by: int | None = None) -> list[Journey]:
            found = range_mc_raptor(tt, access, egress, lo, hi, any_options, costs,
                                    access_cost=acc_x, egress_cost=egr_x)  # fmt: skip
            return [j for j in found if by is None or j.arrival_time <= by]

        searches = inputs.searches
        if costs is not None and (window_s > 0 or not arrive_by):
            # One McRAPTOR search keeps the known-only journeys too ("unknowns" is one of
            # its criteria); arrive-by without a window steps back from each latest
            # departure, which differs between any and known-only journeys.
            searches = searches[:1]
        for known, ro in searches:
            if arrive_by and window_s > 0:
                latest = latest_departure(tt, access, egress, moment, earliest, ro)
                leave = max((j.departure_time for j in latest), default=None)
                if leave is None:
                    found = []
                elif costs is None:
                    found = [
                        j for j in range_raptor(tt, access, egress, leave - window_s, leave, ro)
                        if j.arrival_time <= moment
                    ]  # fmt: skip
                else:
                    found = window(leave - window_s, leave, moment)
                    if wheelchair and all(j.has_unknowns for j in found):
                        # No known-only journey in the window: offer the latest one before.
                        step = latest_departure(tt, access, egress, moment, earliest,
                                                inputs.searches[1][1])  # fmt: skip
                        if step:
                            at = max(j.departure_time for j in step)
                            found += [j for j in multi(at, moment) if not j.has_unknowns]
            elif arrive_by:
                found, limit = [], moment
                while len(found) < wanted:
                    step = latest_departure(tt, access, egress, limit, earliest, ro)
                    if not step:
                        break
                    leave = max(j.departure_time for j in step)
                    found.extend(multi(leave, limit) if costs is not None else step)
                    limit = min(j.arrival_time for j in step) - 1
            elif window_s > 0:
                if costs is None:
                    found = range_raptor(tt, access, egress, moment, moment + window_s, ro)
                else:
                    found = window(moment, moment + window_s)
            elif costs is not None:
                found = multi(moment)
            else:
                found = raptor(tt, access, egress, moment, ro)
            by_cost = costs is not None
            for j in found:
                key = tuple(
                    (type(leg).__name__, getattr(leg, "trip", -1), leg.departure_time)
                    if not isinstance(leg, TransitLeg)
                    else ("ride", leg.trip, leg.board_stop, leg.alight_stop)
                    for leg in j.legs
                )
                if key not in seen:
                    seen.add(key)
                    out.append((j, (wheelchair and not j.has_unknowns) if by_cost else known))
        return out

    def _searches(
        self, view: ServiceView, profile: Profile, opts: PlanOptions
    ) -> list[tuple[bool, RaptorOptions]]:
        """RAPTOR options per search: wheelchair profiles search twice (any / known only)."""
        min_change = opts.min_transfer_s
        if min_change is None:
            min_change = profile.min_transfer_s
        walk = int(profile.max_access_walk_s)  # the whole first and last walks
        base = RaptorOptions(max_transfers=opts.max_transfers, min_transfer_seconds=min_change,
                             max_access_walk_s=walk, max_egress_walk_s=walk)  # fmt: skip
        if not profile.wheelchair:
            return [(False, base)]
        stop_wc, trip_wc = view.stop_wheelchair, view.trip_wheelchair
        return [
            (False, replace(base, allowed_trip=trip_wc != NO, allowed_board=stop_wc != NO,
                            allowed_alight=stop_wc != NO)),
            (True, replace(base, allowed_trip=trip_wc == YES, allowed_board=stop_wc == YES,
                           allowed_alight=stop_wc == YES)),
        ]  # fmt: skip

    @staticmethod
    def _cursors(shown: list[Itinerary]) -> dict[str, Any]:
        rides = [i for i in shown if i.ride_s > 0]
        if not rides:
            return {"earlier": None, "later": None}
        last = max(i.departure for i in rides) + dt.timedelta(seconds=1)
        first = min(i.arrival for i in rides) - dt.timedelta(seconds=1)
        return {
            "earlier": {"time": first.isoformat(), "arrive_by": True},
            "later": {"time": last.isoformat(), "arrive_by": False},
        }

    @accepts_deadline
    def travel_time_distribution(
        self,
        origin: tuple[float, float],
        targets: list[tuple[float, float]],
        when: dt.datetime,
        profile: Profile,
        *,
        window_s: int = 7200,
        step_s: int = 60,
        percentiles: tuple[int, ...] = (10, 50, 90),
        max_transfers: int | None = None,
    ) -> dict[str, Any]:
        """Travel time from ``origin`` to each target for every departure in a window.

        As Conveyal R5 reports accessibility: the journey is searched for each departure
        moment ``when``, ``when + step_s``, ... ``when + window_s`` (one-to-all range
        RAPTOR, labels shared between moments), and each target gets the travel time of
        each moment (earliest arrival minus the moment, waiting at the origin included)
        and their percentiles (nearest rank; ``None`` when that share of moments cannot
        reach the target). A target is reached by the profile's walk from any stop (within
        ``max_access_s``) or by walking all the way.

        Returns
        -------
        dict
            ``departures`` (ISO times), ``percentiles`` and per target ``lat``, ``lon``,
            ``travel_time_s`` (per moment, ``None`` = not reachable), ``reachable_share``
            and ``percentile_s`` (``{"p10": .., ...}``).
        """
        opts = self.options
        if max_transfers is not None:
            opts = replace(opts, max_transfers=max_transfers)
        zone = ZoneInfo(self.tz)
        local = _localize(when, self.tz)
        net = self.network
        src = net.snap(origin, profile, "from", leavable=True)
        snaps = [net.snap(p, profile, f"targets[{i}]", leavable=True, reverse=True)
                 for i, p in enumerate(targets)]  # fmt: skip
        self._check_calendar(local.date(), False)
        midnight = dt.datetime.combine(local.date(), dt.time(), tzinfo=zone)
        start = round((local - midnight).total_seconds())
        moments = np.arange(start, start + window_s + 1, step_s, dtype=np.int64)
        view = self._prepared(local.date(), profile)
        acc_s, acc_c = self._access(src, profile, view.links, reverse=False)
        access = {int(i): int(round(acc_s[i])) for i in np.flatnonzero(np.isfinite(acc_c))}
        (_, ro), *_ = self._searches(view, profile, opts)  # any vehicle the profile may use
        arrivals = stop_arrivals_by_departure(view.timetable, access, moments.tolist(), ro)
        reached = arrivals < UNREACHED
        out = []
        for point, snap in zip(targets, snaps, strict=True):
            checkpoint("a target's walks")
            egr_s, egr_c = self._access(snap, profile, view.links, reverse=True)
            near = np.flatnonzero(np.isfinite(egr_c))
            best = np.full(len(moments), np.inf)
            if len(near):
                via = np.where(reached[:, near], arrivals[:, near] + egr_s[near], np.inf)
                best = via.min(axis=1) - moments
            walk = self.router.route_between(src, snap, profile)
            if walk is not None:
                best = np.minimum(best, round(walk.duration_s))
            values = [None if not np.isfinite(b) else int(round(b)) for b in best]
            out.append({
                "lat": point[0], "lon": point[1],
                "travel_time_s": values,
                "reachable_share": round(float(np.isfinite(best).mean()), 4),
                "percentile_s": {
                    f"p{q}": _nearest_rank(best, q) for q in percentiles
                },
            })  # fmt: skip
        return {
            "profile": profile.name,
            "from": {"lat": origin[0], "lon": origin[1]},
            "time": local.isoformat(),
            "window_s": int(window_s),
            "step_s": int(step_s),
            "departures": [(midnight + dt.timedelta(seconds=int(m))).isoformat() for m in moments],
            "percentiles": list(percentiles),
            "targets": out,
        }

    def _blocked_end(
        self, ends: tuple[tuple[float, float], tuple[float, float]], snaps: tuple[Snap, Snap],
        inputs: SearchInputs, profile: Profile, *, tries: int = 3,
    ) -> NoRouteError | None:
        """Explain a plan without itineraries by an end the profile cannot leave.

        An end may snap onto a piece of way the profile can use that is cut off from the
        rest by steps, kerbs or slopes; then no stop is usable, or only stops on that
        piece, and "no trip connects" would mislead. An end counts as cut off when the
        profile reaches at most two stops and (within the access limit) at most a quarter
        of the street nodes walking reaches from there (at most 200), or at most 10. Then
        the profile's street route to the ``tries`` nearest stops it may use but does not
        reach is asked of the street router, whose 422 (the barriers on the walking route,
        or why the end is cut off) is the answer, naming the end. None when no end is cut
        off that way.
        """
        view = inputs.view
        tt, links, net = view.timetable, view.links, self.network
        limit, walk = self.options.max_access_s, get_profile("walk")
        usable = np.array([snap is not None for snap in links.snaps])
        if profile.wheelchair:
            usable &= view.stop_wheelchair != NO
        for name, point, snap, cost in (("origin", ends[0], snaps[0], inputs.access_cost),
                                        ("destination", ends[1], snaps[1], inputs.egress_cost)):
            if np.isfinite(cost).sum() > 2:  # reaches several stops: not cut off
                continue
            reverse = name == "destination"
            mine = self._reach.get((profile, snap, reverse))
            if mine is None:
                mine = np.isfinite(net.tree([snap], profile, reverse=reverse, limit=limit).cost)
                mine = int(mine.sum())
            if mine > 200:  # a cut-off piece is small; a city end reaches thousands
                continue
            try:
                on_foot = net.snap(point, walk, "point")
            except RoutingError:
                continue
            walking = np.isfinite(net.tree([on_foot], walk, reverse=reverse, limit=limit).cost)
            if mine * 4 > walking.sum() and mine > 10:
                continue
            stops = np.flatnonzero(usable & ~np.isfinite(cost))
            if len(stops) == 0:
                continue
            xy = net.projection.forward(tt.stop_lat[stops], tt.stop_lon[stops])
            here = net.projection.forward(np.array([point[0]]), np.array([point[1]]))[0]
            nearest = stops[np.argsort(np.hypot(*(xy - here).T))[:tries]]
            for stop in nearest.tolist():
                place = (links.snaps[stop].lat, links.snaps[stop].lon)  # on its way
                try:
                    self.router.route(*((point, place) if not reverse else (place, point)),
                                      profile)  # fmt: skip
                except NoRouteError as exc:
                    prefix = f"no route for profile '{profile.name}': "
                    return NoRouteError(
                        f"no itinerary for profile '{profile.name}': the {name} is on a piece "
                        f"of way this profile cannot leave ({mine} street nodes within reach, "
                        f"{int(walking.sum())} on foot); towards {tt.stop_names[stop]}: "
                        f"{exc.message.removeprefix(prefix)}",
                        profile=profile.name,
                        blocked_end=name,
                        **{k: v for k, v in exc.details.items() if k != "profile"},
                    )
                except RoutingError:
                    continue
            return NoRouteError(
                f"no itinerary for profile '{profile.name}': the {name} is on an isolated "
                f"piece of way ({mine} street nodes within reach with this profile, "
                f"{int(walking.sum())} on foot)",
                profile=profile.name,
                blocked_end=name,
            )
        return None

    def _why_none(self, access: dict, egress: dict) -> str:
        if not access:
            return "no stop usable with this profile lies within walking limits of the origin"
        if not egress:
            return "no stop usable with this profile lies within walking limits of the destination"
        return (
            "no trip connects the stops near the origin with those near the destination "
            "at this time with the vehicles and stops this profile can use"
        )

    # -- description --------------------------------------------------------------------
    def _stop_dict(self, view: ServiceView, s: int) -> dict:
        tt = view.timetable
        return {
            "stop_id": tt.stop_ids[s],
            "name": tt.stop_names[s],
            "lat": round(float(tt.stop_lat[s]), 6),
            "lon": round(float(tt.stop_lon[s]), 6),
            "wheelchair_boarding": WORDS[int(view.stop_wheelchair[s])],
            "tactile_guidance": WORDS[int(view.stop_tactile[s])],
        }

    def _walk_leg(
        self, route: StreetRoute | None, a: dict, b: dict, start: dt.datetime, seconds: float
    ) -> dict:
        leg = {
            "mode": "walk",
            "from": a,
            "to": b,
            "departure": start.isoformat(),
            "arrival": (start + dt.timedelta(seconds=round(seconds))).isoformat(),
            "duration_s": round(seconds),
        }
        if route is not None:
            body = route.to_dict()
            leg.update(
                distance_m=body["distance_m"],
                geometry=body["geometry"],
                steps=body["steps"],
                warnings=body["warnings"],
                confidence=body["confidence"],
            )
        return leg

    def _itinerary(
        self,
        view: ServiceView,
        journey: Journey,
        known: bool,
        src: Snap,
        dst: Snap,
        profile: Profile,
        midnight: dt.datetime,
        moment: int,
        acc_c: np.ndarray,
        egr_c: np.ndarray,
        *,
        arrive_by: bool = False,
        search_cost: int | None = None,
    ) -> Itinerary:
        """``search_cost``: the journey's cost beyond time from the McRAPTOR search; when
        given, the generalised cost is time + it (what the journeys were ranked by),
        otherwise it is added up here from the legs (the same terms, unrounded)."""
        checkpoint("an itinerary")
        links = view.links
        legs: list[dict] = []
        warnings: list[dict] = []
        walk_s = ride_s = walk_m = 0.0
        extra_cost = 0.0
        unknown_penalty = 0.0
        origin = {"name": "origin", "lat": round(src.lat, 6), "lon": round(src.lon, 6)}
        destination = {"name": "destination", "lat": round(dst.lat, 6), "lon": round(dst.lon, 6)}

        def at(seconds: int) -> dt.datetime:
            return midnight + dt.timedelta(seconds=int(seconds))

        # Consecutive walks (access then a footpath, a footpath then egress) are one walk
        # for the traveller: merge them and route the whole walk in one piece.
        walk_run: list = []

        def end_point(leg) -> tuple[Snap, dict]:
            if isinstance(leg, EgressLeg):
                return dst, destination
            stop = leg.stop if isinstance(leg, AccessLeg) else leg.to_stop
            return links.snaps[stop], self._stop_dict(view, stop)

        def start_point(leg) -> tuple[Snap, dict]:
            if isinstance(leg, AccessLeg):
                return src, origin
            stop = leg.stop if isinstance(leg, EgressLeg) else leg.from_stop
            return links.snaps[stop], self._stop_dict(view, stop)

        def flush() -> None:
            nonlocal walk_s, walk_m, extra_cost
            if not walk_run:
                return
            (a_snap, a), (b_snap, b) = start_point(walk_run[0]), end_point(walk_run[-1])
            seconds = sum(leg.seconds for leg in walk_run)
            walk = self._walk_route(a_snap, b_snap, profile)
            leg = self._walk_leg(walk, a, b, at(walk_run[0].departure_time), seconds)
            walk_m += self._straight_links(leg, view, walk_run, at_start=True)
            walk_m += self._straight_links(leg, view, walk_run, at_start=False)
            legs.append(leg)
            walk_s += seconds
            walk_m += walk.distance_m if walk else 0.0
            for leg in walk_run:
                if isinstance(leg, AccessLeg):
                    extra_cost += max(0.0, float(acc_c[leg.stop]) - leg.seconds)
                elif isinstance(leg, EgressLeg):
                    extra_cost += max(0.0, float(egr_c[leg.stop]) - leg.seconds)
                else:
                    pair = links.transfers.get((leg.from_stop, leg.to_stop))
                    extra_cost += max(0.0, pair[1] - pair[0]) if pair else 0.0
            walk_run.clear()

        for leg in journey.legs:
            if isinstance(leg, TransitLeg):
                flush()
                ride = self._ride_leg(view, leg, at)
                ride["warnings"] = []  # each ride's own, so a reader knows which leg they mean
                unknown_penalty += self._ride_penalty(profile, leg, view, ride["warnings"])
                legs.append(ride)
                ride_s += leg.alight_time - leg.board_time
            elif leg.seconds > 0 or not isinstance(leg, TransferLeg):
                walk_run.append(leg)
        flush()
        for leg in legs:
            for w in leg.get("warnings", []):
                if w not in warnings:
                    warnings.append(w)
        transfers = journey.n_transfers
        penalty = self.options.transfer_penalty_s
        if penalty is None:
            penalty = profile.transfer_penalty_s
        # Time is counted from the requested departure (to the requested arrival).
        if arrive_by:
            total = moment - journey.departure_time
        else:
            total = journey.arrival_time - moment
        generalized = total + extra_cost + transfers * penalty + unknown_penalty
        if search_cost is not None:
            generalized = total + search_cost
        warnings.extend(self._long_waits(view, journey, moment, arrive_by, at))
        dep, arr = at(journey.departure_time), at(journey.arrival_time)
        wait_s = max(0.0, (arr - dep).total_seconds() - walk_s - ride_s)
        return Itinerary(
            departure=dep,
            arrival=arr,
            legs=legs,
            walk_s=walk_s,
            wait_s=wait_s,
            ride_s=ride_s,
            transfers=transfers,
            walk_m=walk_m,
            generalized_cost=generalized,
            warnings=warnings,
            only_known_accessible=known,
        )

    def _straight_links(self, leg: dict, view: ServiceView, run: list, *, at_start: bool) -> float:
        """Add the straight link of a far stop at the start or end of a walk leg (its
        line and a ``straight_link`` warning); return its metres (0 when none)."""
        first, last = run[0], run[-1]
        if at_start:
            stop = None if isinstance(first, AccessLeg) else (
                first.stop if isinstance(first, EgressLeg) else first.from_stop)
        else:
            stop = None if isinstance(last, EgressLeg) else (
                last.stop if isinstance(last, AccessLeg) else last.to_stop)  # fmt: skip
        links = view.links
        if stop is None or links.link_m is None or links.link_m[stop] <= 0:
            return 0.0
        tt, metres = view.timetable, float(links.link_m[stop])
        leg["distance_m"] = round(leg.get("distance_m", 0.0) + metres, 1)
        point = [round(float(tt.stop_lon[stop]), 6), round(float(tt.stop_lat[stop]), 6)]
        line = leg.get("geometry", {}).get("coordinates")
        if line is not None and at_start:
            line.insert(0, point)
        elif line is not None:
            line.append(point)
        leg.setdefault("warnings", []).append({
            "code": "straight_link",
            "message": f"{tt.stop_names[stop]} is {round(metres)} m from the nearest mapped "
                       "way usable with this profile: that part is a straight line whose "
                       "surface, kerbs and slope are unknown.",
            "distance_m": round(metres, 1),
        })  # fmt: skip
        return metres

    def _long_waits(
        self, view: ServiceView, journey: Journey, moment: int, arrive_by: bool, at
    ) -> list[dict]:
        """``long_wait`` warnings: before leaving, between rides, before the arrival."""
        limit = self.options.long_wait_s
        tt = view.timetable
        out = []
        requested = at(moment)
        if not arrive_by and journey.departure_time - moment > limit:
            wait = journey.departure_time - moment
            leave = at(journey.departure_time)
            out.append({
                "code": "long_wait",
                "message": f"The first journey leaves at {_clock(leave, requested)}, "
                           f"{_duration(wait)} after the requested time.",
                "wait_s": int(wait),
            })  # fmt: skip
        if arrive_by and moment - journey.arrival_time > limit:
            early = moment - journey.arrival_time
            out.append({
                "code": "long_wait",
                "message": f"This journey arrives at {_clock(at(journey.arrival_time), requested)}"
                           f", {_duration(early)} before the requested time.",
                "wait_s": int(early),
            })  # fmt: skip
        ready: int | None = None
        for leg in journey.legs:
            if isinstance(leg, TransitLeg):
                if ready is not None and leg.board_time - ready > limit:
                    wait = leg.board_time - ready
                    out.append({
                        "code": "long_wait",
                        "message": f"You wait {_duration(wait)} at "
                                   f"{tt.stop_names[leg.board_stop]}, from "
                                   f"{_clock(at(ready), requested)} to "
                                   f"{_clock(at(leg.board_time), requested)}.",
                        "wait_s": int(wait),
                    })  # fmt: skip
                ready = leg.alight_time
            elif isinstance(leg, TransferLeg) and ready is not None:
                ready = leg.arrival_time
        return out

    def _ride_leg(self, view: ServiceView, leg: TransitLeg, at) -> dict:
        tt = view.timetable
        trip = leg.trip
        route = int(tt.trip_route[trip])
        stops = tt.pattern_stops(int(tt.trip_pattern[trip]))[
            leg.board_position : leg.alight_position + 1
        ]
        mode = _MODE.get(int(tt.route_types[route]), "bus")
        return {
            "mode": mode,
            "route": tt.route_short_names[route] or tt.route_long_names[route],
            "route_id": tt.route_ids[route],
            "route_long_name": tt.route_long_names[route],
            "headsign": tt.trip_headsigns[trip],
            "trip_id": tt.trip_ids[trip],
            "from": self._stop_dict(view, leg.board_stop),
            "to": self._stop_dict(view, leg.alight_stop),
            "departure": at(leg.board_time).isoformat(),
            "arrival": at(leg.alight_time).isoformat(),
            "duration_s": int(leg.alight_time - leg.board_time),
            "intermediate_stops": max(0, len(stops) - 2),
            "accessible_vehicle": WORDS[int(view.trip_wheelchair[trip])],
            "geometry": {
                "type": "LineString",
                "coordinates": [
                    [round(float(tt.stop_lon[s]), 6), round(float(tt.stop_lat[s]), 6)]
                    for s in stops.tolist()
                ],
            },
        }

    def _ride_penalty(
        self, profile: Profile, leg: TransitLeg, view: ServiceView, warnings: list[dict]
    ) -> float:
        """Generalised-cost penalties and warnings for one ride."""
        tt = view.timetable
        stop_wc, stop_tactile, trip_wc = (
            view.stop_wheelchair,
            view.stop_tactile,
            view.trip_wheelchair,
        )
        penalty = 0.0
        route = tt.route_short_names[int(tt.trip_route[leg.trip])] or "metro"
        if profile.wheelchair:
            if trip_wc[leg.trip] == UNKNOWN:
                penalty += profile.unknown_cost_s
                warnings.append(
                    {
                        "code": "unknown_vehicle_accessibility",
                        "message": f"Whether the {route} vehicle has a ramp or low "
                        "floor is not known.",
                    }
                )
            for s in (leg.board_stop, leg.alight_stop):
                if stop_wc[s] == UNKNOWN:
                    penalty += profile.unknown_cost_s
                    warnings.append(
                        {
                            "code": "unknown_stop_accessibility",
                            "message": f"Step-free boarding at {tt.stop_names[s]} is not known.",
                        }
                    )
        if profile.stop_no_tactile_s > 0 or profile.stop_unknown_tactile_s > 0:
            for s in (leg.board_stop, leg.alight_stop):
                if stop_tactile[s] == NO:
                    penalty += profile.stop_no_tactile_s
                elif stop_tactile[s] == UNKNOWN:
                    penalty += profile.stop_unknown_tactile_s
                    warnings.append(
                        {
                            "code": "unknown_tactile_guidance",
                            "message": f"Tactile guidance at {tt.stop_names[s]} is not known.",
                        }
                    )
        return penalty

    def _walk_only(
        self, walk: StreetRoute, local: dt.datetime, *, arrive_by: bool = False
    ) -> Itinerary:
        body = walk.to_dict()
        origin = {"name": "origin", **{k: body["snapped"]["from"][k] for k in ("lat", "lon")}}
        dest = {"name": "destination", **{k: body["snapped"]["to"][k] for k in ("lat", "lon")}}
        seconds = dt.timedelta(seconds=round(walk.duration_s))  # whole seconds, like rides
        departure = local - seconds if arrive_by else local
        leg = self._walk_leg(walk, origin, dest, departure, walk.duration_s)
        return Itinerary(
            departure=departure,
            arrival=departure + seconds,
            legs=[leg],
            walk_s=walk.duration_s,
            wait_s=0.0,
            ride_s=0.0,
            transfers=0,
            walk_m=walk.distance_m,
            generalized_cost=walk.cost,
            warnings=body["warnings"],
        )


def _nearest_rank(values: np.ndarray, q: float) -> int | None:
    """The ``q``-th percentile by nearest rank (inf counts as the slowest); None if inf."""
    ordered = np.sort(values)
    rank = max(1, int(np.ceil(q / 100 * len(ordered))))
    value = ordered[rank - 1]
    return int(round(value)) if np.isfinite(value) else None


def _duration(seconds: float) -> str:
    """``5 h 48 min``, ``12 min``."""
    minutes = round(seconds / 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def _clock(when: dt.datetime, requested: dt.datetime) -> str:
    """``06:20``, with the date when it is not the requested day."""
    text = when.strftime("%H:%M")
    return text if when.date() == requested.date() else f"{text} on {when.date().isoformat()}"


def read_stop_extras(path: str | Path) -> dict[str, dict[str, str]]:
    """Rows of the optional ``stop_accessibility.txt`` of a feed (zip or folder), by stop_id."""
    path = Path(path)
    text = None
    if path.is_dir():
        f = path / "stop_accessibility.txt"
        text = f.read_text(encoding="utf-8-sig") if f.is_file() else None
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            names = [n for n in z.namelist() if n.endswith("stop_accessibility.txt")]
            text = z.read(names[0]).decode("utf-8-sig") if names else None
    if not text:
        return {}
    return {row["stop_id"]: row for row in csv.DictReader(io.StringIO(text))}
