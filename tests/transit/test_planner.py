"""Multimodal plans on the real Almaty data: metro timetable, filters, coverage."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from transit_oracle import TimeExpandedOracle

from routing.cost import get_profile
from routing.errors import InvalidInputError, NoRouteError
from routing.transit.accessibility import read_transit_overlays
from routing.transit.planner import TransitPlanner, parse_departure
from routing.tristate import NO

NEAR_RAIYMBEK = (43.2725, 76.9440)
NEAR_MOMYSHULY = (43.2150, 76.8390)
WEEKDAY_8 = "2026-12-07T08:00"  # a Monday


def _local(text: str) -> dt.datetime:
    """``text`` as the Almaty feed's local time (its agency_timezone)."""
    return parse_departure(text, tz="Asia/Almaty")


OVERLAYS = Path(__file__).resolve().parents[1] / "fixtures" / "transit_overlays"


def _metro_legs(plan):
    return [leg for it in plan.itineraries for leg in it.legs if leg["mode"] == "metro"]


def _schedule(shared_data, slug, day, direction):
    data = json.loads((shared_data / "almaty/metro/schedule.json").read_text())
    return data["stations"][slug][day][direction]


def test_weekday_morning_rides_the_metro_on_the_real_timetable(almaty_planner, shared_data):
    plan = almaty_planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, _local(WEEKDAY_8), get_profile("walk")
    )
    legs = _metro_legs(plan)
    assert legs, [leg["mode"] for it in plan.itineraries for leg in it.legs]
    leg = legs[0]
    assert leg["from"]["stop_id"] == "metro:RMBK" and leg["to"]["stop_id"] == "metro:BM"
    board = leg["departure"][11:19]
    forward = _schedule(shared_data, "RMBK", "weekday", "forward")
    assert board in forward
    # The first train the traveller can reach: no earlier listed train after they arrive.
    walk_arrival = plan.itineraries[0].legs[0]["arrival"][11:19]
    assert all(not (walk_arrival <= t < board) for t in forward)
    # Arrival at Momyshuly: this train's listed departure at Saryarqa (the station before)
    # plus one inter-station run (a few minutes at most).
    sa = _schedule(shared_data, "SA", "weekday", "forward")
    alight = leg["arrival"][11:19]
    at_sa = max(t for t in sa if board < t < alight)
    run = dt.datetime.strptime(alight, "%H:%M:%S") - dt.datetime.strptime(at_sa, "%H:%M:%S")
    assert dt.timedelta(seconds=60) <= run <= dt.timedelta(seconds=300)


def test_itinerary_times_are_consistent(almaty_planner):
    plan = almaty_planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, _local(WEEKDAY_8), get_profile("blind")
    )
    for it in plan.itineraries:
        times = [(leg["departure"], leg["arrival"]) for leg in it.legs]
        for (dep, arr), (next_dep, _) in zip(times, times[1:], strict=False):
            assert dep <= arr <= next_dep
        assert it.to_dict()["duration_s"] >= it.walk_s + it.ride_s - 1


def test_cached_walks_give_the_same_plan_as_fresh_searches(almaty_planner):
    planner, profile = almaty_planner, get_profile("blind")
    when = _local(WEEKDAY_8)
    cached = planner.plan(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when, profile)
    assert any(key[0] == profile for key in planner._walks)
    kept = planner.cache_walks
    try:  # no cache: every walk is routed again
        planner.cache_walks = 0
        planner._walks.clear()
        fresh = planner.plan(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when, profile)
        assert not planner._walks
    finally:
        planner.cache_walks = kept
    assert cached.to_dict() == fresh.to_dict()


def test_a_feed_in_another_zone_reads_local_times_there(almaty_router, tmp_path):
    import shutil

    feed = tmp_path / "feed"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures/gtfs/almaty_mini", feed)
    agency = feed / "agency.txt"
    agency.write_text(agency.read_text().replace("Asia/Almaty", "Europe/Helsinki"))
    planner = TransitPlanner.from_gtfs(almaty_router, feed)
    assert planner.tz == "Europe/Helsinki"
    near = (NEAR_RAIYMBEK[0] + 0.002, NEAR_RAIYMBEK[1])  # a short walk: always an answer
    when = parse_departure("2024-01-08T08:00", tz=None)  # a Monday in the fixture's calendar
    plan = planner.plan(NEAR_RAIYMBEK, near, when, get_profile("walk"))
    assert plan.to_dict()["time"] == "2024-01-08T08:00:00+02:00"


def test_holiday_runs_the_weekend_timetable(almaty_planner, shared_data):
    plan = almaty_planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, _local("2026-12-16T08:00"), get_profile("walk")
    )
    board = _metro_legs(plan)[0]["departure"][11:19]
    assert board in _schedule(shared_data, "RMBK", "weekend", "forward")


def test_time_zone_is_the_feeds_agency_timezone(almaty_planner):
    assert almaty_planner.tz == "Asia/Almaty"  # agency.txt of the Almaty feed
    local = parse_departure("2026-12-07T03:00:00Z", tz=almaty_planner.tz)
    assert local.isoformat() == "2026-12-07T08:00:00+05:00"
    assert parse_departure(WEEKDAY_8, tz=almaty_planner.tz).utcoffset() == dt.timedelta(hours=5)
    # With tz=None (the HTTP API) a time without offset stays naive: the planner reads it
    # in its feed's zone.
    assert parse_departure(WEEKDAY_8, tz=None).tzinfo is None
    with pytest.raises(InvalidInputError) as exc:
        _local("next monday")
    assert exc.value.field == "time"


def test_wheelchair_never_boards_inaccessible_trips_or_stops(almaty_router, almaty_gtfs):
    acc = read_transit_overlays(
        [OVERLAYS / "no_low_floor_55.csv", OVERLAYS / "rmbk_not_accessible.csv"]
    )
    planner = TransitPlanner.from_gtfs(almaty_router, almaty_gtfs, accessibility=acc)
    plan = planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, _local(WEEKDAY_8), get_profile("wheelchair_manual")
    )
    for it in plan.itineraries:
        for leg in it.legs:
            if leg["mode"] == "walk":
                continue
            assert leg["route"] != "55"
            assert leg["accessible_vehicle"] != "no"
            assert leg["from"]["wheelchair_boarding"] != "no"
            assert leg["to"]["wheelchair_boarding"] != "no"
            assert leg["from"]["stop_id"] != "metro:RMBK"
    # The walking profile is not bound by those facts and still boards at Raiymbek batyr.
    walk = planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, _local(WEEKDAY_8), get_profile("walk")
    )
    assert any(leg["from"]["stop_id"] == "metro:RMBK" for leg in _metro_legs(walk))


def test_wheelchair_skips_stops_tagged_wheelchair_no(almaty_planner):
    tt, _, stop_wc, _, _ = almaty_planner._prepared(
        dt.date(2026, 12, 7), get_profile("wheelchair_manual")
    )
    blocked = {tt.stop_ids[i] for i in np.flatnonzero(stop_wc == NO)}
    assert len(blocked) >= 5  # the real OSM stops tagged wheelchair=no
    for stop_id in sorted(blocked)[:3]:
        s = tt.stop_index[stop_id]
        here = (float(tt.stop_lat[s]) + 0.0003, float(tt.stop_lon[s]))
        try:
            plan = almaty_planner.plan(
                here, NEAR_MOMYSHULY, _local(WEEKDAY_8), get_profile("wheelchair_manual")
            )
        except NoRouteError:
            continue
        used = {
            leg[k]["stop_id"]
            for it in plan.itineraries
            for leg in it.legs
            if leg["mode"] != "walk"
            for k in ("from", "to")
        }
        assert not used & blocked


def test_unknown_accessibility_is_warned_and_priced(almaty_planner):
    when = _local(WEEKDAY_8)
    chair = almaty_planner.plan(
        NEAR_RAIYMBEK, NEAR_MOMYSHULY, when, get_profile("wheelchair_manual")
    )
    walk = almaty_planner.plan(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when, get_profile("walk"))
    transit = [it for it in chair.itineraries if any(leg["mode"] != "walk" for leg in it.legs)]
    assert transit
    codes = {w["code"] for w in transit[0].warnings}
    # Almaty's feed knows nothing of the metro's step-free access: it must say so.
    assert "unknown_stop_accessibility" in codes
    walk_transit = [it for it in walk.itineraries if any(leg["mode"] != "walk" for leg in it.legs)]
    assert transit[0].generalized_cost > walk_transit[0].generalized_cost


def test_plans_exist_for_real_stop_pairs_across_the_city(almaty_planner):
    tt, links, *_ = almaty_planner._prepared(dt.date(2026, 12, 7), get_profile("walk"))
    served = np.unique(tt.ps_stop)
    # Stops on a usable way (not joined by a straight link: their points may lie off the map).
    snapped = [s for s in served.tolist() if links.snaps[s] is not None and links.link_m[s] == 0]
    rng = np.random.default_rng(11)
    found = tried = 0
    while tried < 25:
        a, b = rng.choice(snapped, size=2, replace=False)
        pa = (float(tt.stop_lat[a]), float(tt.stop_lon[a]))
        pb = (float(tt.stop_lat[b]), float(tt.stop_lon[b]))
        if np.hypot(pa[0] - pb[0], (pa[1] - pb[1]) * 0.73) < 0.02:  # under ~2 km: skip
            continue
        tried += 1
        try:
            plan = almaty_planner.plan(pa, pb, _local(WEEKDAY_8), get_profile("walk"))
        except NoRouteError:
            continue
        if any(leg["mode"] != "walk" for it in plan.itineraries for leg in it.legs):
            found += 1
    assert found >= 20, found


def test_transfer_between_stops_on_one_edge_walks_along_it(almaty_planner):
    """Two stops snapped onto one street edge: the transfer is the short walk between them."""
    view = almaty_planner._prepared(dt.date(2026, 12, 7), get_profile("wheelchair_manual"))
    links = view.links
    r = almaty_planner.router
    checked = 0
    for (a, b), (seconds, _) in links.transfers.items():
        sa, sb = links.snaps[a], links.snaps[b]
        if sa.edge != sb.edge or abs(sa.t - sb.t) > 0.5:
            continue
        walk = r.route_between(sa, sb, get_profile("wheelchair_manual"))
        assert walk is not None
        assert seconds <= walk.duration_s + 1
        checked += 1
        if checked >= 10:
            break
    assert checked > 0


def test_from_equal_to_gives_no_pointless_ride(almaty_planner):
    plan = almaty_planner.plan(
        NEAR_RAIYMBEK, NEAR_RAIYMBEK, _local(WEEKDAY_8), get_profile("walk")
    )
    assert [leg["mode"] for it in plan.itineraries for leg in it.legs] == ["walk"]


@pytest.mark.parametrize("text", ["0001-01-01T00:00+05:00", "9999-12-31T23:59-05:00"])
def test_far_dates_are_a_clear_400(text):
    with pytest.raises(InvalidInputError) as exc:
        _local(text)
    assert exc.value.field == "time"


# -- overnight, arrive-by and windows on the real timetable ----------------------------


def test_late_evening_finds_the_first_morning_train_and_names_the_wait(almaty_planner, shared_data):
    # At the stations themselves: 23:50 on a Monday, after the last train to Momyshuly.
    rmbk, bm = (43.27111, 76.94466), (43.2164, 76.83784)
    when = _local("2026-12-07T23:50")
    plan = almaty_planner.plan(rmbk, bm, when, get_profile("wheelchair_manual"))
    first_train = min(t for t in _schedule(shared_data, "RMBK", "weekday", "forward")
                      if t >= "04:00:00")  # fmt: skip
    morning = [
        it for it in plan.itineraries
        if any(leg["mode"] == "metro" and leg["from"]["stop_id"] == "metro:RMBK"
               and leg["to"]["stop_id"] == "metro:BM"
               and leg["departure"] == f"2026-12-08T{first_train}+05:00" for leg in it.legs)
    ]  # fmt: skip
    assert morning, [it.to_dict()["legs"] for it in plan.itineraries]
    (wait,) = [w for w in morning[0].warnings if w["code"] == "long_wait"]
    assert wait["wait_s"] == (morning[0].departure - when).total_seconds() > 6 * 3600
    assert "6 h" in wait["message"] and "2026-12-08" in wait["message"]


def test_arrive_by_nine_is_the_latest_departure_by_the_oracle(almaty_planner):
    profile = get_profile("walk")
    by = _local("2026-12-08T09:00")
    plan = almaty_planner.plan(NEAR_RAIYMBEK, NEAR_MOMYSHULY, by, profile, arrive_by=True,
                               max_transfers=1)  # fmt: skip
    assert plan.arrive_by and all(it.arrival <= by for it in plan.itineraries)
    departures = [it.departure for it in plan.itineraries]
    assert departures == sorted(departures, reverse=True)
    first = plan.itineraries[0]
    assert first.ride_s > 0
    # The independent check: a time-expanded graph of every trip that can be part of a
    # journey leaving then and arriving by 09:00. With at most two rides, each ride is the
    # first (it boards, in that span, where the access walk plus at most one footpath
    # leads) or the last (it alights, in that span, where one footpath then the egress
    # walk leaves from); no other trip can take part, so the oracle is exact.
    inputs = almaty_planner.search_inputs(NEAR_RAIYMBEK, NEAR_MOMYSHULY, by.date(), profile,
                                          max_transfers=1)  # fmt: skip
    tt = inputs.view.timetable
    nine, leave = 9 * 3600, int(first.departure.timestamp() - by.timestamp()) + 9 * 3600
    path_from = np.repeat(np.arange(tt.n_stops), np.diff(tt.footpath_ptr))
    access, egress = list(inputs.access), list(inputs.egress)
    boards = np.concatenate([access, tt.footpath_to[np.isin(path_from, access)]])
    alights = np.concatenate([egress, path_from[np.isin(tt.footpath_to, egress)]])
    running = np.union1d(_trips_at(tt, boards, tt.event_departure, leave, nine),
                         _trips_at(tt, alights, tt.event_arrival, leave, nine))  # fmt: skip
    _, options = inputs.searches[0]
    oracle = TimeExpandedOracle(tt, options, trips=running.tolist())
    assert oracle.earliest_arrivals(inputs.access, inputs.egress, leave)[-1] <= nine
    later = oracle.earliest_arrivals(inputs.access, inputs.egress, leave + 1)[-1]
    assert later is None or later > nine  # no later departure arrives in time
    # Paging: "earlier" asks for the latest journey arriving before the first shown arrival.
    assert plan.earlier == {"time": (min(it.arrival for it in plan.itineraries)
                                     - dt.timedelta(seconds=1)).isoformat(), "arrive_by": True}


def _trips_at(tt, stops, times, lo: int, hi: int) -> np.ndarray:
    """Trips with an event at one of ``stops`` whose ``times`` (departure or arrival
    array of the timetable's events) lies in ``[lo, hi]``."""
    entries = np.flatnonzero(np.isin(tt.ps_stop, stops))
    pattern = tt.ps_pattern[entries].astype(np.int64)
    counts = np.diff(tt.pattern_trip_ptr)[pattern]
    local = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    events = np.repeat(tt.ps_event_ptr[entries], counts) + local
    trips = np.repeat(tt.pattern_trip_ptr[pattern], counts) + local
    return np.unique(trips[(times[events] >= lo) & (times[events] <= hi)])


@pytest.mark.parametrize("name", ["wheelchair_manual", "blind"])
def test_generalised_cost_is_searched_and_keeps_the_known_only_journey(almaty_planner, name):
    """One McRAPTOR run (cost inside the search) against the searches it replaces: the
    earliest arrival per leg count is plain RAPTOR's, the earliest journey without unknowns
    is the known-only search's, and every journey's search cost is what its itinerary
    reports (up to rounding of the walks' costs)."""
    from routing.transit.raptor import raptor

    planner, profile = almaty_planner, get_profile(name)
    when = _local(WEEKDAY_8)
    midnight = when.replace(hour=0, minute=0)
    moment = round((when - midnight).total_seconds())
    inputs = planner.search_inputs(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when.date(), profile)
    tt = inputs.view.timetable
    found = planner._journeys(inputs, moment, arrive_by=False, window_s=0, wanted=4)
    journeys = [j for j, _ in found]
    assert journeys
    _, any_options = inputs.searches[0]
    plain = raptor(tt, inputs.access, inputs.egress, moment, any_options)
    for legs in range(1, any_options.max_transfers + 2):
        best = [j.arrival_time for j in plain if j.n_transit_legs <= legs]
        mine = [j.arrival_time for j in journeys if j.n_transit_legs <= legs]
        assert min(best, default=None) == min(mine, default=None)
    if profile.wheelchair:
        _, known_options = inputs.searches[1]
        only_known = raptor(tt, inputs.access, inputs.egress, moment, known_options)
        known = [j.arrival_time for j, k in found if k]
        assert min(known, default=None) == min((j.arrival_time for j in only_known), default=None)
        assert all(k == (not j.has_unknowns) for j, k in found)
    src = planner.network.snap(NEAR_RAIYMBEK, profile, "from")
    dst = planner.network.snap(NEAR_MOMYSHULY, profile, "to")
    for j, k in found:
        it = planner._itinerary(inputs.view, j, k, src, dst, profile, midnight, moment,
                                inputs.access_cost, inputs.egress_cost)  # fmt: skip
        walks = sum(1 for leg in it.legs if leg["mode"] == "walk")
        assert abs(it.generalized_cost - (j.arrival_time - moment + j.cost)) <= walks + 1


@pytest.mark.parametrize("name", ["wheelchair_manual", "blind"])
def test_window_journeys_are_costed_in_the_search(almaty_planner, name):
    """A 30-minute window: one range McRAPTOR search. Its journeys cover plain range
    RAPTOR's (departure, arrival, transfers) and, for a wheelchair, the known-only
    search's; none dominates another with the departure as a criterion; each journey's
    search cost is what its itinerary adds up leg by leg; the plan shows those costs."""
    from routing.transit.raptor import range_raptor

    planner, profile = almaty_planner, get_profile(name)
    when = _local(WEEKDAY_8)
    midnight = when.replace(hour=0, minute=0)
    moment, span = round((when - midnight).total_seconds()), 1800
    end = moment + span
    inputs = planner.search_inputs(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when.date(), profile)
    tt = inputs.view.timetable
    found = planner._journeys(inputs, moment, arrive_by=False, window_s=span, wanted=4)
    journeys = [j for j, _ in found]

    def crit(j):
        return (min(j.departure_time, end), j.arrival_time, j.n_transit_legs)

    mine = {crit(j) for j in journeys}
    assert len(mine) > 1  # several departures or trade-offs
    for a in journeys:
        assert a.departure_time >= moment
        rest = (a.arrival_time, a.n_transit_legs, a.cost, a.has_unknowns)
        assert not any(
            b is not a and crit(b)[0] >= crit(a)[0]
            and all(x <= y for x, y in zip((b.arrival_time, b.n_transit_legs, b.cost,
                                            b.has_unknowns), rest, strict=True))
            for b in journeys
        )  # fmt: skip
    for known, options in inputs.searches:
        plain = range_raptor(tt, inputs.access, inputs.egress, moment, end, options)
        assert plain or known  # a wheelchair may have no known-only journey then
        for p in plain:  # matched, or beaten with a later departure, by one of ours
            assert any(crit(j)[0] >= crit(p)[0] and j.arrival_time <= p.arrival_time
                       and j.n_transit_legs <= p.n_transit_legs
                       and not (known and j.has_unknowns) for j in journeys)  # fmt: skip
        if not known:
            assert {crit(p) for p in plain} <= mine
    assert all(k == (profile.wheelchair and not j.has_unknowns) for j, k in found)
    src = planner.network.snap(NEAR_RAIYMBEK, profile, "from")
    dst = planner.network.snap(NEAR_MOMYSHULY, profile, "to")
    for j, k in found[:6]:
        it = planner._itinerary(inputs.view, j, k, src, dst, profile, midnight, moment,
                                inputs.access_cost, inputs.egress_cost)  # fmt: skip
        walks = sum(1 for leg in it.legs if leg["mode"] == "walk")
        assert abs(it.generalized_cost - (j.arrival_time - moment + j.cost)) <= walks + 1
    plan = planner.plan(NEAR_RAIYMBEK, NEAR_MOMYSHULY, when, profile, window_s=span,
                        num_itineraries=4)  # fmt: skip
    searched = {(j.departure_time, j.arrival_time - moment + j.cost) for j in journeys}
    rides = [i for i in plan.itineraries if i.ride_s > 0]
    assert rides
    for it in rides:
        leave = round((it.departure - midnight).total_seconds())
        assert (leave, round(it.generalized_cost)) in searched


def test_stops_far_from_any_usable_way_get_a_warned_straight_link(almaty_planner):
    """Stops more than max_stop_snap_m from a usable way (the 2012 streets miss some) are
    reached by a straight link priced at the profile's speed, and a walk to one says so."""
    from routing.transit.raptor import AccessLeg, EgressLeg, Journey, TransitLeg

    planner, profile = almaty_planner, get_profile("walk")
    date = dt.date(2026, 12, 7)
    view = planner._prepared(date, profile)
    tt, links = view.timetable, view.links
    served = np.unique(tt.ps_stop)
    linked = served[links.link_m[served] > 0]
    assert len(linked) > 50  # ~100 on Almaty; they vanished before
    assert (links.link_m[linked] > planner.options.max_stop_snap_m).all()
    assert (links.link_m[linked] <= planner.options.max_stop_link_m).all()
    # A linked stop that is the first of a pattern with a later stop on a way.
    entry = next(
        e for e in range(len(tt.ps_stop))
        if links.link_m[tt.ps_stop[e]] > 0 and tt.ps_can_board[e]
        and e + 1 < len(tt.ps_stop) and tt.ps_pattern[e + 1] == tt.ps_pattern[e]
        and links.link_m[tt.ps_stop[e + 1]] == 0 and links.snaps[tt.ps_stop[e + 1]] is not None
    )  # fmt: skip
    far, near = int(tt.ps_stop[entry]), int(tt.ps_stop[entry + 1])
    snap = links.snaps[far]
    origin = (snap.lat, snap.lon)  # on the street where the link starts
    src = planner.network.snap(origin, profile, "from")
    seconds, cost = planner._access(src, profile, links, reverse=False)
    tree = planner.network.tree([src], profile, limit=planner.options.max_access_s)
    street = tree.at(links.snaps).seconds[0]
    link_s = links.link_m[far] / profile.speed_mps
    assert seconds[far] == pytest.approx(street[far] + link_s)
    assert cost[far] >= seconds[far]
    # An itinerary boarding there: its first walk ends with the straight line and a warning.
    pattern = int(tt.ps_pattern[entry])
    trip = int(tt.pattern_trip_ptr[pattern])
    board = int(tt.event_departure[tt.ps_event_ptr[entry]])
    alight = int(tt.event_arrival[tt.ps_event_ptr[entry + 1]])
    walk_in = round(seconds[far])
    position = int(tt.ps_position[entry])
    journey = Journey(board - walk_in, alight, (
        AccessLeg(far, walk_in, board - walk_in, board),
        TransitLeg(trip, far, near, board, alight, position, position + 1),
        EgressLeg(near, 0, alight, alight),
    ))  # fmt: skip
    midnight = dt.datetime(2026, 12, 7, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    dst = links.snaps[near]
    it = planner._itinerary(view, journey, False, src, dst, profile, midnight, board - walk_in,
                            np.asarray(cost), np.zeros(tt.n_stops))  # fmt: skip
    first = it.legs[0]
    warning = next(w for w in first["warnings"] if w["code"] == "straight_link")
    assert warning["distance_m"] == pytest.approx(links.link_m[far], abs=0.1)
    assert first["geometry"]["coordinates"][-1] == [round(float(tt.stop_lon[far]), 6),
                                                    round(float(tt.stop_lat[far]), 6)]
    assert first["distance_m"] >= links.link_m[far]


def test_an_origin_on_a_wheelchair_island_is_explained_like_route(almaty_planner):
    """An origin on a small piece of way a wheelchair can use, cut off by slopes, steps
    or kerbs: the 422 names the origin and the barriers on the walking route to the
    nearest stop (as /route does), not "no trip connects"."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    planner, profile = almaty_planner, get_profile("wheelchair_manual")
    net, graph = planner.network, planner.network.graph
    usable = np.isfinite(net.costs(profile).costs.cost)
    u, v, n = graph.edge_u[usable], graph.edge_v[usable], graph.n_nodes
    _, part = connected_components(coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)),
                                   directed=True, connection="weak")  # fmt: skip
    size = np.bincount(part)[part[graph.edge_u]]
    islands = np.flatnonzero(net.usable_edges(profile) & (size >= 2) & (size <= 6))
    assert len(islands) > 10
    # The planner snaps an end off an island when a leavable way lies within the snap
    # radius; these origins have none.
    leavable = net.leavable_edges(profile)
    assert not leavable[islands].any()

    def midpoint(edge: int) -> tuple[float, float]:
        a, b = int(graph.edge_u[edge]), int(graph.edge_v[edge])
        return ((graph.node_lat[a] + graph.node_lat[b]) / 2,
                (graph.node_lon[a] + graph.node_lon[b]) / 2)  # fmt: skip

    stuck = [e for e in islands.tolist()
             if not leavable[net.snap(midpoint(e), profile, leavable=True).edge]]  # fmt: skip
    explained = 0
    for edge in stuck[:: max(1, len(stuck) // 4)][:4]:
        origin = midpoint(edge)
        with pytest.raises(NoRouteError) as caught:
            almaty_planner.plan(origin, NEAR_MOMYSHULY, _local(WEEKDAY_8), profile)
        body = caught.value.to_dict()
        assert body.get("blocked_end") == "origin", body["message"]
        assert "no trip connects" not in body["message"]
        explained += bool(body.get("barriers")) and "walking_route" in body
    assert explained >= 2
