"""Tests of routing.transit.raptor, against hand-made answers and a brute-force oracle."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from transit_oracle import (
    TimeExpandedOracle,
    check_journey,
    oracle_latest_departure,
    oracle_window,
    random_feed_tables,
    raptor_earliest_arrivals,
    write_tables,
)

from routing.clock import parse_time
from routing.errors import InvalidInputError
from routing.transit.gtfs import Feed, load_feed
from routing.transit.raptor import (
    UNREACHED,
    AccessLeg,
    EgressLeg,
    RaptorOptions,
    TransferLeg,
    TransitLeg,
    arrivals_by_departure,
    latest_departure,
    range_raptor,
    raptor,
    stop_arrivals_by_departure,
)
from routing.transit.timetable import Timetable
from routing.tristate import YES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"
TUESDAY = dt.date(2024, 3, 5)


def at(clock: str) -> int:
    return parse_time(clock)


def trip_named(tt: Timetable, trip: int) -> str:
    return tt.trip_ids[trip]


# --------------------------------------------------------------------------------------
# Hand-made answers on the fixture
# --------------------------------------------------------------------------------------


def test_two_pareto_optimal_journeys(tt: Timetable) -> None:
    s = tt.stop_index
    access = {s["B1"]: 120}
    egress = {s["B4"]: 60, s["M_RAIYM"]: 120}
    direct, fast = raptor(tt, access, egress, at("07:55:00"), RaptorOptions())

    # Slower, no transfer: bus 12 all the way.
    assert direct.n_transit_legs == 1 and direct.n_transfers == 0
    assert direct.arrival_time == at("08:51:00")
    assert direct.departure_time == at("07:58:00")  # leave just in time for the 08:00 bus
    assert direct.legs == (
        AccessLeg(s["B1"], 120, at("07:58:00"), at("08:00:00")),
        TransitLeg(direct.legs[1].trip, s["B1"], s["B4"], at("08:00:00"), at("08:50:00"), 0, 3),
        EgressLeg(s["B4"], 60, at("08:50:00"), at("08:51:00")),
    )
    assert trip_named(tt, direct.legs[1].trip) == "R12_0800"

    # Faster, one transfer: bus 32, a 3-minute walk to the metro (transfers.txt), metro.
    assert fast.n_transit_legs == 2 and fast.n_transfers == 1
    assert fast.arrival_time == at("08:23:00")
    bus, walk, metro = fast.legs[1:4]
    assert isinstance(bus, TransitLeg) and trip_named(tt, bus.trip) == "R32_0802"
    assert (bus.board_stop, bus.alight_stop) == (s["B1"], s["B5"])
    assert (bus.board_time, bus.alight_time) == (at("08:02:00"), at("08:12:00"))
    assert (bus.board_position, bus.alight_position) == (0, 2)
    assert walk == TransferLeg(s["B5"], s["M_ABAI"], 180, at("08:12:00"), at("08:15:00"))
    assert isinstance(metro, TransitLeg) and trip_named(tt, metro.trip) == "M1_FREQ"
    assert (metro.board_time, metro.alight_time) == (at("08:15:00"), at("08:21:00"))
    assert fast.egress == EgressLeg(s["M_RAIYM"], 120, at("08:21:00"), at("08:23:00"))
    assert fast.access.departure_time == fast.departure_time == at("08:00:00")
    assert fast.duration == 23 * 60
    for journey in (direct, fast):
        check_journey(tt, journey, access, egress, at("07:55:00"), RaptorOptions())


def test_min_transfer_seconds_and_max_transfers(tt: Timetable) -> None:
    s = tt.stop_index
    access, egress = {s["B1"]: 120}, {s["B4"]: 60, s["M_RAIYM"]: 120}
    buffered = raptor(tt, access, egress, at("07:55:00"), RaptorOptions(min_transfer_seconds=60))
    # Ready at the platform at 08:16, so the 08:20 train: arrive 08:26 + 2 min walk.
    assert [(j.n_transit_legs, j.arrival_time) for j in buffered] == [
        (1, at("08:51:00")), (2, at("08:28:00"))
    ]  # fmt: skip
    direct_only = raptor(tt, access, egress, at("07:55:00"), RaptorOptions(max_transfers=0))
    assert [(j.n_transit_legs, j.arrival_time) for j in direct_only] == [(1, at("08:51:00"))]


def test_allowed_trip_hides_trips_that_are_not_wheelchair_accessible(tt: Timetable) -> None:
    s = tt.stop_index
    access, egress = {s["B1"]: 120}, {s["B4"]: 60}
    everyone = raptor(tt, access, egress, at("08:55:00"))
    assert [trip_named(tt, leg.trip) for leg in everyone[0].transit_legs] == ["R12_0900"]
    assert everyone[0].arrival_time == at("09:51:00")
    wheelchair = RaptorOptions(allowed_trip=tt.trip_wheelchair == YES)
    assert raptor(tt, access, egress, at("08:55:00"), wheelchair) == []  # 09:00 bus: no ramp
    # Earlier, every vehicle of both journeys is accessible.
    both = raptor(tt, access, {**egress, s["M_RAIYM"]: 120}, at("07:55:00"), wheelchair)
    assert [j.arrival_time for j in both] == [at("08:51:00"), at("08:23:00")]


def test_allowed_board_and_alight_follow_stop_accessibility(tt: Timetable) -> None:
    s = tt.stop_index
    access, egress = {s["B1"]: 120}, {s["B4"]: 60, s["M_RAIYM"]: 120}
    step_free = tt.stop_wheelchair == YES  # B5 is unknown: not assumed accessible
    options = RaptorOptions(allowed_board=step_free, allowed_alight=step_free)
    journeys = raptor(tt, access, egress, at("07:55:00"), options)
    assert [(j.n_transit_legs, j.arrival_time) for j in journeys] == [(1, at("08:51:00"))]
    no_boarding = RaptorOptions(allowed_board=np.arange(tt.n_stops) != s["B1"])
    assert raptor(tt, access, egress, at("07:55:00"), no_boarding) == []


def test_egress_after_a_footpath(tt: Timetable) -> None:
    s = tt.stop_index
    options = RaptorOptions(allowed_alight=np.arange(tt.n_stops) != s["B4"])
    (journey,) = raptor(tt, {s["B1"]: 0}, {s["B4"]: 60}, at("07:59:00"), options)
    walk_seconds = int(tt.footpaths_from(s["B3"])[1][0])
    ride, walk, egress = journey.legs[1:]
    assert isinstance(ride, TransitLeg) and ride.alight_stop == s["B3"]
    assert walk == TransferLeg(s["B3"], s["B4"], walk_seconds, at("08:30:00"),
                               at("08:30:00") + walk_seconds)  # fmt: skip
    assert egress.departure_time == at("08:30:00") + walk_seconds
    assert journey.arrival_time == at("08:30:00") + walk_seconds + 60
    check_journey(tt, journey, {s["B1"]: 0}, {s["B4"]: 60}, at("07:59:00"), options)


def test_access_then_footpath_before_the_first_vehicle(tt: Timetable) -> None:
    s = tt.stop_index
    (journey,) = raptor(tt, {s["B5"]: 30}, {s["M_RAIYM"]: 0}, at("08:00:00"))
    access, walk, ride, _ = journey.legs
    assert walk == TransferLeg(s["B5"], s["M_ABAI"], 180, at("08:02:00"), at("08:05:00"))
    assert access == AccessLeg(s["B5"], 30, at("08:01:30"), at("08:02:00"))
    assert ride.board_time == at("08:05:00") and journey.arrival_time == at("08:11:00")
    assert journey.n_transfers == 0


def test_after_midnight_uses_the_previous_days_trips(feed: Feed) -> None:
    wednesday = Timetable.from_feed(feed, dt.date(2024, 3, 6))
    s = wednesday.stop_index
    (journey,) = raptor(wednesday, {s["B2"]: 0}, {s["B4"]: 0}, at("00:05:00"))
    (ride,) = journey.transit_legs
    assert (ride.board_time, ride.alight_time) == (at("00:10:00"), at("00:40:00"))
    assert wednesday.trip_day_offset[ride.trip] == -86400
    alone = Timetable.from_feed(feed, dt.date(2024, 3, 6), include_previous_day=False)
    (late,) = raptor(alone, {s["B2"]: 0}, {s["B4"]: 0}, at("00:05:00"))
    assert late.arrival_time == at("08:50:00")  # without it: wait for the morning bus


def test_unreachable_and_invalid_queries(tt: Timetable) -> None:
    s = tt.stop_index
    assert raptor(tt, {s["B4"]: 0}, {s["B1"]: 0}, at("08:00:00")) == []  # no trip goes back
    assert raptor(tt, {}, {s["B1"]: 0}, at("08:00:00")) == []
    assert raptor(tt, [(s["B1"], 0)], [], at("08:00:00")) == []
    with pytest.raises(InvalidInputError) as caught:
        raptor(tt, {tt.n_stops: 0}, {s["B4"]: 0}, 0)
    assert caught.value.field == "access"
    with pytest.raises(InvalidInputError):
        raptor(tt, {s["B1"]: 0}, [(s["B4"], -5)], 0)
    with pytest.raises(ValueError, match="allowed_trip"):
        raptor(tt, {s["B1"]: 0}, {s["B4"]: 0}, 0, RaptorOptions(allowed_trip=np.ones(3, bool)))
    # Repeated stops keep their shortest walk.
    (journey,) = raptor(tt, [(s["B1"], 300), (s["B1"], 60)], {s["B4"]: 0}, at("07:58:00"),
                        RaptorOptions(max_transfers=0))  # fmt: skip
    assert journey.access.seconds == 60


# --------------------------------------------------------------------------------------
# The oracle: a brute-force time-expanded graph must agree with RAPTOR
# --------------------------------------------------------------------------------------


def random_options(rng: np.random.Generator, tt: Timetable, variant: int) -> RaptorOptions:
    return RaptorOptions(
        max_transfers=int(rng.integers(0, 5)),
        min_transfer_seconds=int(rng.choice([0, 0, 60, 150])),
        allowed_trip=rng.random(tt.n_trips) < 0.75 if variant == 1 else None,
        allowed_board=rng.random(tt.n_stops) < 0.85 if variant == 2 else None,
        allowed_alight=rng.random(tt.n_stops) < 0.85 if variant == 2 else None,
        # The whole first and last walks (a walk plus a footpath) within a limit.
        max_access_walk_s=int(rng.integers(150, 500)) if variant == 2 else None,
        max_egress_walk_s=int(rng.integers(150, 500)) if variant == 1 else None,
    )


def random_walks(rng: np.random.Generator, n_stops: int) -> dict[int, int]:
    stops = rng.integers(0, n_stops, size=int(rng.integers(1, 4)))
    return {int(s): int(rng.integers(0, 600)) for s in stops}


def assert_matches_oracle(
    tt: Timetable,
    options: RaptorOptions,
    queries: list[tuple[dict[int, int], dict[int, int], int]],
) -> int:
    """Compare every query; return how many reached the destination."""
    oracle = TimeExpandedOracle(tt, options)
    legs = options.max_transfers + 1
    reached = 0
    for access, egress, departure in queries:
        journeys = raptor(tt, access, egress, departure, options)
        for journey in journeys:
            check_journey(tt, journey, access, egress, departure, options)
        arrivals = [j.arrival_time for j in journeys]
        assert arrivals == sorted(arrivals, reverse=True) and len(set(arrivals)) == len(arrivals)
        expected = oracle.earliest_arrivals(access, egress, departure)
        assert raptor_earliest_arrivals(journeys, legs) == expected, (access, egress, departure)
        reached += expected[-1] is not None
    return reached


@pytest.mark.parametrize("date", ["2024-03-05", "2024-03-06", "2024-03-08"])
def test_raptor_matches_the_oracle_on_the_fixture(feed: Feed, date: str) -> None:
    tt = Timetable.from_feed(feed, dt.date.fromisoformat(date))
    rng = np.random.default_rng(5)
    located = [i for i, s in enumerate(tt.stop_ids) if not s.startswith(("ST_", "E_"))]
    reached = 0
    for variant in range(3):
        options = random_options(rng, tt, variant)
        queries = []
        for _ in range(8):
            access = {int(s): int(rng.integers(0, 400)) for s in rng.choice(located, size=2)}
            egress = {int(s): int(rng.integers(0, 400)) for s in rng.choice(located, size=2)}
            queries.append((access, egress, int(rng.integers(0, 11 * 3600))))
        reached += assert_matches_oracle(tt, options, queries)
    assert reached > 0


NETWORKS = {
    # Many routes through few stops: lots of alternatives and transfers.
    "dense": dict(n_stops=20, n_routes=14, trips_per_route=(6, 20), stops_per_route=(2, 6),
                  n_transfers=40, frequency_routes=2, loop_share=0.3, untimed_share=0.2),
    # Longer routes over more stops: fewer, longer rides.
    "sparse": dict(n_stops=40, n_routes=12, trips_per_route=(5, 15), stops_per_route=(4, 10),
                   n_transfers=40, frequency_routes=1, night_routes=2),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(NETWORKS))
@pytest.mark.parametrize("seed", range(4))
def test_raptor_matches_the_oracle_on_random_networks(tmp_path: Path, kind: str, seed: int) -> None:
    rng = np.random.default_rng(1000 * seed + len(kind))
    feed = load_feed(write_tables(tmp_path / "feed", random_feed_tables(rng, **NETWORKS[kind])))
    tt = Timetable.from_feed(feed, TUESDAY)
    reached = 0
    for variant in range(3):
        options = random_options(rng, tt, variant)
        queries = [
            (random_walks(rng, tt.n_stops), random_walks(rng, tt.n_stops),
             int(rng.integers(0, 3600)) if q == 0 else int(rng.integers(5 * 3600, 11 * 3600)))
            for q in range(4)
        ]  # fmt: skip
        reached += assert_matches_oracle(tt, options, queries)
    assert reached > 0


# --------------------------------------------------------------------------------------
# Overnight, arrive-by and departure windows, against the same oracle
# --------------------------------------------------------------------------------------


def test_overnight_search_finds_the_next_mornings_first_trip(feed: Feed) -> None:
    tuesday = Timetable.from_feed(feed, TUESDAY, include_next_day=True)
    s = tuesday.stop_index
    (journey,) = raptor(tuesday, {s["B2"]: 0}, {s["B3"]: 0}, at("23:50:00"))
    (ride,) = journey.transit_legs
    assert tuesday.trip_ids[ride.trip] == "R12_0800"
    assert tuesday.trip_day_offset[ride.trip] == 86400
    assert (ride.board_time, ride.alight_time) == (at("32:10:00"), at("32:30:00"))
    assert tuesday.report["trips_from_next_day"] > 0
    # Without the next day the same query has no answer at all.
    assert (
        raptor(Timetable.from_feed(feed, TUESDAY), {s["B2"]: 0}, {s["B3"]: 0}, at("23:50:00")) == []
    )


def window_queries(rng: np.random.Generator, tt: Timetable, located: list[int], n: int):
    for _ in range(n):
        access = {int(s): int(rng.integers(0, 400)) for s in rng.choice(located, size=2)}
        egress = {int(s): int(rng.integers(0, 400)) for s in rng.choice(located, size=2)}
        yield access, egress


def assert_windows_match_the_oracle(
    tt: Timetable, options: RaptorOptions, queries, starts: list[int], span: int
) -> int:
    """range_raptor and latest_departure against the oracle; return how many found any."""
    oracle = TimeExpandedOracle(tt, options)
    found = 0
    for (access, egress), start in zip(queries, starts, strict=True):
        journeys = range_raptor(tt, access, egress, start, start + span, options)
        for journey in journeys:
            check_journey(tt, journey, access, egress, start, options)
            if journey.departure_time > start + span:
                continue  # the best for leaving at the window's end, leaving after it
            # It leaves as late as possible: one second later, no journey is as good.
            later = oracle.earliest_arrivals(access, egress, journey.departure_time + 1)
            best_later = later[journey.n_transit_legs - 1]
            assert best_later is None or best_later > journey.arrival_time
        got = {(j.arrival_time, j.n_transit_legs) for j in journeys}
        assert got == oracle_window(oracle, access, egress, start, start + span)
        arrive_by = start + span
        latest = latest_departure(tt, access, egress, arrive_by, start - span, options)
        moment, arrivals = oracle_latest_departure(oracle, access, egress, arrive_by, start - span)
        if moment is None:
            assert latest == []
            continue
        found += 1
        assert {j.departure_time for j in latest} == {moment}
        pareto = set()
        for legs, arrival in enumerate(arrivals, 1):
            if arrival is not None and arrival <= arrive_by and all(a > arrival for a, _ in pareto):
                pareto.add((arrival, legs))
        assert {(j.arrival_time, j.n_transit_legs) for j in latest} == pareto
        for journey in latest:
            check_journey(tt, journey, access, egress, start - span, options)
    return found


@pytest.mark.parametrize("date", ["2024-03-05", "2024-03-09"])
def test_window_and_arrive_by_match_the_oracle_on_the_fixture(feed: Feed, date: str) -> None:
    tt = Timetable.from_feed(feed, dt.date.fromisoformat(date), include_next_day=True)
    rng = np.random.default_rng(11)
    located = [i for i, s in enumerate(tt.stop_ids) if not s.startswith(("ST_", "E_"))]
    found = 0
    for variant in range(3):
        options = random_options(rng, tt, variant)
        queries = list(window_queries(rng, tt, located, 6))
        starts = [int(rng.integers(5 * 3600, 30 * 3600)) for _ in queries]
        found += assert_windows_match_the_oracle(tt, options, queries, starts, 3 * 3600)
    assert found > 0


@pytest.mark.parametrize("seed", range(2))
def test_window_and_arrive_by_match_the_oracle_on_random_networks(
    tmp_path: Path, seed: int
) -> None:
    rng = np.random.default_rng(77 + seed)
    network = dict(NETWORKS["dense"], n_routes=8, trips_per_route=(4, 10))
    tables = random_feed_tables(rng, **network)
    tt = Timetable.from_feed(load_feed(write_tables(tmp_path / "feed", tables)), TUESDAY)
    found = 0
    for variant in range(3):
        options = replace(random_options(rng, tt, variant), max_transfers=int(rng.integers(0, 3)))
        queries = list(window_queries(rng, tt, list(range(1, tt.n_stops)), 3))
        starts = [int(rng.integers(5 * 3600, 9 * 3600)) for _ in queries]
        found += assert_windows_match_the_oracle(tt, options, queries, starts, 3600)
    assert found > 0


def test_runs_of_one_range_search_go_backwards_in_time(tt: Timetable) -> None:
    s = tt.stop_index
    walks = ({s["B1"]: 0}, {s["B4"]: 0})
    # Stepping by minute agrees with the exact moments wherever a moment is hit.
    exact = range_raptor(tt, *walks, at("07:00:00"), at("09:30:00"))
    assert [(j.departure_time, j.arrival_time, j.n_transit_legs) for j in exact] == [
        (at("08:00:00"), at("08:50:00"), 1),
        (at("08:02:00"), at("08:50:00"), 2),  # bus 32 to B2 catches the same R12 later
        (at("09:00:00"), at("09:50:00"), 1),
        (at("23:40:00"), at("24:40:00"), 1),  # the best for leaving at 09:30, the window's end
    ]
    minutes = range(at("07:00:00"), at("09:30:00") + 1, 60)
    arrivals = arrivals_by_departure(tt, *walks, minutes)
    assert arrivals[0] == at("08:50:00") and arrivals[-1] == at("24:40:00")
    assert arrivals[list(minutes).index(at("08:02:00"))] == at("08:50:00")
    assert arrivals[list(minutes).index(at("08:03:00"))] == at("09:50:00")
    (by_nine,) = latest_departure(tt, *walks, at("09:00:00"), at("06:00:00"))
    assert (by_nine.departure_time, by_nine.arrival_time) == (at("08:02:00"), at("08:50:00"))
    assert latest_departure(tt, *walks, at("08:49:59"), at("06:00:00")) == []
    assert arrivals_by_departure(tt, *walks, [at("24:00:00")])[0] == UNREACHED


def test_one_to_all_arrivals_match_the_oracle_at_every_moment(feed: Feed) -> None:
    tt = Timetable.from_feed(feed, TUESDAY)
    options = RaptorOptions(max_transfers=2, min_transfer_seconds=60)
    oracle = TimeExpandedOracle(tt, options)
    located = [i for i, s in enumerate(tt.stop_ids) if not s.startswith(("ST_", "E_"))]
    access = {tt.stop_index["B1"]: 120, tt.stop_index["M_ABAI"]: 300}
    moments = list(range(at("07:30:00"), at("10:00:00"), 1800))
    arrivals = stop_arrivals_by_departure(tt, access, moments, options)
    reached = 0
    for i, moment in enumerate(moments):
        for stop in located:
            expected = oracle.earliest_arrivals(access, {stop: 0}, moment)[-1]
            if stop in access:  # walking there is a way to arrive too
                walked = moment + access[stop]
                expected = walked if expected is None else min(expected, walked)
            got = int(arrivals[i, stop])
            assert (got == UNREACHED) if expected is None else (got == expected), (moment, stop)
            reached += expected is not None
    assert reached > len(moments) * 2 and (arrivals == UNREACHED).any()
