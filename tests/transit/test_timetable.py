"""Tests of routing.transit.timetable: compiling one service date into RAPTOR arrays."""

from __future__ import annotations

import datetime as dt
import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from transit_oracle import random_feed_tables, write_tables

from routing.clock import parse_time
from routing.transit.gtfs import Feed, load_feed
from routing.transit.timetable import DAY, NO_TRANSFER, Timetable
from routing.tristate import NO, UNKNOWN, YES

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"
TUESDAY = dt.date(2024, 3, 5)
WEDNESDAY = dt.date(2024, 3, 6)
HOLIDAY_FRIDAY = dt.date(2024, 3, 8)  # weekday service removed, weekend service added
SATURDAY = dt.date(2024, 3, 9)


@pytest.fixture(scope="module")
def tuesday(feed: Feed) -> Timetable:
    return Timetable.from_feed(feed, TUESDAY)


def trips_of(tt: Timetable, trip_id: str) -> list[int]:
    return [t for t, name in enumerate(tt.trip_ids) if name == trip_id]


def stop_names(tt: Timetable, stops: np.ndarray) -> list[str]:
    return [tt.stop_ids[s] for s in stops]


def edited_fixture(tmp_path: Path, name: str, replacements: dict[str, str]) -> Feed:
    folder = tmp_path / "feed"
    shutil.copytree(FIXTURE, folder)
    text = (folder / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new)
    (folder / name).write_text(text, encoding="utf-8")
    return load_feed(folder)


def assert_fifo(tt: Timetable) -> None:
    """Every departure and arrival column is sorted: no trip overtakes another."""
    for p in range(tt.n_patterns):
        first, last = tt.pattern_trip_ptr[p], tt.pattern_trip_ptr[p + 1]
        for c in range(tt.pattern_stop_ptr[p], tt.pattern_stop_ptr[p + 1]):
            events = slice(tt.ps_event_ptr[c], tt.ps_event_ptr[c] + (last - first))
            assert np.all(np.diff(tt.event_departure[events]) >= 0)
            assert np.all(np.diff(tt.event_arrival[events]) >= 0)


# --------------------------------------------------------------------------------------
# Times
# --------------------------------------------------------------------------------------


def test_scheduled_trip_times_are_seconds_since_midnight(tuesday: Timetable) -> None:
    (trip,) = trips_of(tuesday, "R12_0800")
    stops, arrivals, departures = tuesday.trip_stop_times(trip)
    assert stop_names(tuesday, stops) == ["B1", "B2", "B3", "B4"]
    assert departures.tolist() == [28800, 29400, 30600, 31800]
    assert tuesday.trip_day_offset[trip] == 0


def test_untimed_stops_are_interpolated(tuesday: Timetable, tmp_path: Path) -> None:
    (trip,) = trips_of(tuesday, "R32_0802")
    _, arrivals, departures = tuesday.trip_stop_times(trip)
    assert arrivals.tolist() == departures.tolist() == [28920, 29220, 29520]  # by stop count
    # With shape_dist_traveled on every stop, by distance: 700 and 1400 of 2900 m.
    feed = edited_fixture(tmp_path, "stop_times.txt", {
        "R12_0800,08:10:00,08:10:00,B2": "R12_0800,,,B2",
        "R12_0800,08:30:00,08:30:00,B3": "R12_0800,,,B3",
    })  # fmt: skip
    tt = Timetable.from_feed(feed, TUESDAY)
    (trip,) = trips_of(tt, "R12_0800")
    _, arrivals, _ = tt.trip_stop_times(trip)
    expected = [28800 + round(3000 * d / 2900) for d in (0, 700, 1400, 2900)]
    assert arrivals.tolist() == expected


def test_frequencies_expand_into_trips(feed: Feed, tuesday: Timetable) -> None:
    metro = trips_of(tuesday, "M1_FREQ")
    starts = list(range(parse_time("06:00:00"), parse_time("10:00:00"), 300))
    starts += list(range(parse_time("10:00:00"), parse_time("23:00:00"), 600))
    assert len(metro) == len(starts) == 126
    departures = sorted(int(tuesday.trip_stop_times(t)[2][0]) for t in metro)
    assert departures == starts  # exact_times 1 and 0 alike: every headway from start_time
    for t in metro:
        stops, arrivals, deps = tuesday.trip_stop_times(t)
        assert stop_names(tuesday, stops) == ["M_ABAI", "M_ALMALY", "M_RAIYM"]
        assert (arrivals - deps[0]).tolist() == [0, 180, 360]
        assert deps[1] - arrivals[1] == 30
        assert tuesday.trip_from_frequency[t]
    assert trips_of(tuesday, "M1_WE") == []
    saturday = Timetable.from_feed(feed, SATURDAY)
    weekend = trips_of(saturday, "M1_WE")
    assert len(weekend) == 90
    assert min(saturday.trip_stop_times(t)[2][0] for t in weekend) == parse_time("07:00:00")
    assert tuesday.report["trips_from_frequencies"] == 126


def test_previous_day_trips_run_after_midnight(feed: Feed) -> None:
    wednesday = Timetable.from_feed(feed, WEDNESDAY)
    night = trips_of(wednesday, "N1_2340")
    by_offset = {int(wednesday.trip_day_offset[t]): t for t in night}
    assert sorted(by_offset) == [-DAY, 0]
    _, arrivals, _ = wednesday.trip_stop_times(by_offset[-DAY])
    assert arrivals.tolist() == [-1200, 600, 2400]  # Tuesday's 23:40, 24:10, 24:40
    _, arrivals, _ = wednesday.trip_stop_times(by_offset[0])
    assert arrivals.tolist() == [85200, 87000, 88800]
    # Only runs still going after midnight come from the day before.
    assert (wednesday.trip_day_offset == -DAY).sum() == 1
    assert wednesday.report["trips_from_previous_day"] == 1

    alone = Timetable.from_feed(feed, WEDNESDAY, include_previous_day=False)
    assert [int(alone.trip_day_offset[t]) for t in trips_of(alone, "N1_2340")] == [0]


def test_calendar_exceptions_choose_the_trips(feed: Feed) -> None:
    holiday = Timetable.from_feed(feed, HOLIDAY_FRIDAY)
    # Weekday service is removed on the holiday, but Thursday's night bus still runs into it.
    assert trips_of(holiday, "R12_0800") == []
    assert [int(holiday.trip_day_offset[t]) for t in trips_of(holiday, "N1_2340")] == [-DAY]
    assert len(trips_of(holiday, "M1_WE")) == 90
    saturday = Timetable.from_feed(feed, SATURDAY)
    assert trips_of(saturday, "N1_2340") == []  # Friday's weekday service did not run
    nauryz = Timetable.from_feed(feed, dt.date(2024, 3, 22))
    assert len(trips_of(nauryz, "X9_1000")) == 1
    assert trips_of(Timetable.from_feed(feed, dt.date(2024, 3, 21)), "X9_1000") == []


def test_compiled_times_match_the_feed_on_a_random_network(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    tables = random_feed_tables(rng, n_stops=30, n_routes=12, untimed_share=0.0)
    feed = load_feed(write_tables(tmp_path / "random", tables))
    tt = Timetable.from_feed(feed, TUESDAY)
    st = feed.stop_times
    scheduled = 0
    for t in range(tt.n_trips):
        if tt.trip_from_frequency[t]:
            continue
        rows = st.rows_of(feed.trip_index[tt.trip_ids[t]])
        stops, arrivals, departures = tt.trip_stop_times(t)
        offset = int(tt.trip_day_offset[t])
        assert stops.tolist() == st.stop[rows].tolist()
        assert arrivals.tolist() == (st.arrival[rows] + offset).tolist()
        assert departures.tolist() == (st.departure[rows] + offset).tolist()
        scheduled += 1
    assert scheduled == sum(1 for t in tt.trip_from_frequency if not t)
    assert scheduled > 50
    assert (tt.trip_day_offset == -DAY).any()
    assert_fifo(tt)
    assert tt.n_patterns > 13  # overtaking trips were split off their route's pattern


# --------------------------------------------------------------------------------------
# Patterns
# --------------------------------------------------------------------------------------


def test_patterns_group_trips_with_the_same_stops(tuesday: Timetable) -> None:
    r12 = trips_of(tuesday, "R12_0800") + trips_of(tuesday, "R12_0900")
    assert tuesday.trip_pattern[r12[0]] == tuesday.trip_pattern[r12[1]]
    pattern = int(tuesday.trip_pattern[r12[0]])
    assert stop_names(tuesday, tuesday.pattern_stops(pattern)) == ["B1", "B2", "B3", "B4"]
    assert r12[1] == r12[0] + 1  # consecutive, earliest first
    assert tuesday.route_ids[tuesday.pattern_route[pattern]] == "R12"
    # Patterns: R12, R32, M1, N1 (the Monday and Tuesday night runs share one pattern).
    assert tuesday.n_patterns == 4
    assert tuesday.n_trips == 2 + 1 + 126 + 2
    assert_fifo(tuesday)


def test_overtaking_trips_go_to_separate_patterns(tmp_path: Path) -> None:
    # An express leaves after R12_0800 but passes it before B2.
    feed = edited_fixture(tmp_path, "stop_times.txt", {
        "R12_0900,09:00:00,09:00:00,B1,1,0,1,0\n": "R12_0900,08:05:00,08:05:00,B1,1,0,1,0\n",
        "R12_0900,09:10:00,09:10:00,B2,2,0,0,700\n": "R12_0900,08:08:00,08:08:00,B2,2,0,0,700\n",
        "R12_0900,09:30:00,09:30:00,B3": "R12_0900,08:15:00,08:15:00,B3",
        "R12_0900,09:50:00,09:50:00,B4": "R12_0900,08:25:00,08:25:00,B4",
    })  # fmt: skip
    tt = Timetable.from_feed(feed, TUESDAY)
    (slow,) = trips_of(tt, "R12_0800")
    (express,) = trips_of(tt, "R12_0900")
    assert tt.trip_pattern[slow] != tt.trip_pattern[express]
    assert tt.pattern_route[tt.trip_pattern[slow]] == tt.pattern_route[tt.trip_pattern[express]]
    assert_fifo(tt)


def test_pickup_and_drop_off_rules(tuesday: Timetable, tmp_path: Path) -> None:
    (trip,) = trips_of(tuesday, "R12_0800")
    p = int(tuesday.trip_pattern[trip])
    entries = slice(tuesday.pattern_stop_ptr[p], tuesday.pattern_stop_ptr[p + 1])
    assert tuesday.ps_can_board[entries].tolist() == [True, True, True, False]
    assert tuesday.ps_can_alight[entries].tolist() == [False, True, True, True]
    # No pickup at B2 for one trip: it cannot share the pattern of the other.
    feed = edited_fixture(tmp_path, "stop_times.txt", {
        "R12_0800,08:10:00,08:10:00,B2,2,0,0,700": "R12_0800,08:10:00,08:10:00,B2,2,1,0,700",
    })  # fmt: skip
    tt = Timetable.from_feed(feed, TUESDAY)
    (a,) = trips_of(tt, "R12_0800")
    (b,) = trips_of(tt, "R12_0900")
    assert tt.trip_pattern[a] != tt.trip_pattern[b]
    p = int(tt.trip_pattern[a])
    entries = slice(tt.pattern_stop_ptr[p], tt.pattern_stop_ptr[p + 1])
    assert tt.ps_can_board[entries].tolist() == [True, False, True, False]


def test_stop_index_of_patterns_and_events(tuesday: Timetable) -> None:
    b1 = tuesday.stop_index["B1"]
    routes = {tuesday.route_ids[tuesday.pattern_route[p]] for p in tuesday.patterns_at(b1)}
    assert routes == {"R12", "R32", "N1"}
    assert tuesday.patterns_at(tuesday.stop_index["ST_ABAI"]).tolist() == []  # stations: none
    for s in range(tuesday.n_stops):
        entries = tuesday.stop_ps[tuesday.stop_ps_ptr[s] : tuesday.stop_ps_ptr[s + 1]]
        assert np.all(tuesday.ps_stop[entries] == s)
    key = tuesday.departure_key
    assert np.all(np.diff(key) >= 0)
    column = key // tuesday.key_span
    assert np.array_equal(key - column * tuesday.key_span + tuesday.key_origin,
                          tuesday.event_departure)  # fmt: skip
    with pytest.raises(ValueError):
        tuesday.event_departure[0] = 0


# --------------------------------------------------------------------------------------
# Accessibility and descriptions
# --------------------------------------------------------------------------------------


def test_stop_wheelchair_inherits_from_the_parent_station(tuesday: Timetable) -> None:
    value = {s: int(tuesday.stop_wheelchair[tuesday.stop_index[s]]) for s in tuesday.stop_ids}
    assert value["M_ABAI"] == YES  # unknown on the platform, yes on its station
    assert value["M_ALMALY"] == NO  # unknown on the platform, no on its station
    assert value["M_RAIYM"] == YES  # its own value wins over the station's unknown
    assert value["B5"] == UNKNOWN  # no parent: stays unknown
    assert value["B3"] == NO
    assert tuesday.stop_parent[tuesday.stop_index["M_ABAI"]] == tuesday.stop_index["ST_ABAI"]
    assert tuesday.stop_parent[tuesday.stop_index["B1"]] == -1


def test_trips_describe_themselves(tuesday: Timetable) -> None:
    (early,) = trips_of(tuesday, "R12_0800")
    (late,) = trips_of(tuesday, "R12_0900")
    (night,) = [t for t in trips_of(tuesday, "N1_2340") if tuesday.trip_day_offset[t] == 0]
    assert tuesday.trip_wheelchair[[early, late, night]].tolist() == [YES, NO, UNKNOWN]
    assert tuesday.trip_label(early) == "12 → Raiymbek"
    assert tuesday.route_short_names[tuesday.trip_route[early]] == "12"
    assert tuesday.route_long_names[tuesday.trip_route[early]] == "Dostyk - Raiymbek"
    assert tuesday.route_types[tuesday.trip_route[trips_of(tuesday, "M1_FREQ")[0]]] == 1
    assert tuesday.trip_headsigns[night] == "Raiymbek"
    assert tuesday.trip_direction[early] == 0
    assert tuesday.stop_names[tuesday.stop_index["B5"]] == "Abai, metro bus"


# --------------------------------------------------------------------------------------
# Footpaths
# --------------------------------------------------------------------------------------


def footpaths(tt: Timetable) -> dict[tuple[str, str], int]:
    out = {}
    for s in range(tt.n_stops):
        for to, seconds in zip(*tt.footpaths_from(s), strict=True):
            out[(tt.stop_ids[s], tt.stop_ids[to])] = int(seconds)
    return out


def test_transfers_txt_gives_footpaths_and_change_times(tuesday: Timetable) -> None:
    # B3 -> B4 is type 0 without a time: straight-line metres at 1 m/s.
    (lat1, lon1), (lat2, lon2) = (43.2500, 76.9400), (43.2600, 76.9300)
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    metres = 2 * 6_371_008.8 * math.asin(math.sqrt(h))
    assert footpaths(tuesday) == {
        ("B5", "M_ABAI"): 180,
        ("M_ABAI", "B5"): 240,
        ("B3", "B4"): math.ceil(metres / 1.0),
    }
    change = {s: int(tuesday.change_seconds[i]) for i, s in enumerate(tuesday.stop_ids)}
    assert change["B2"] == 120
    assert change["M_ALMALY"] == NO_TRANSFER  # the station's "not possible" reaches its platform
    assert change["B1"] == 0
    b1, b5 = tuesday.stop_index["B1"], tuesday.stop_index["B5"]
    assert tuesday.forbidden_footpaths == {(b1, b5)}


def test_with_transfers_adds_walks_from_the_street_graph(tuesday: Timetable) -> None:
    i = tuesday.stop_index
    extra = tuesday.with_transfers({
        (i["B1"], i["B2"]): 300,
        (i["B5"], i["M_ABAI"]): 100,  # lower than transfers.txt's 180: the larger stays
        (i["M_ABAI"], i["B5"]): 400,  # higher: it wins
        (i["B1"], i["B5"]): 60,  # forbidden by transfers.txt
        (i["B4"], i["B4"]): 45,  # same stop: a change time
        (i["M_ALMALY"], i["M_ALMALY"]): 10,  # changing stays impossible there
    })  # fmt: skip
    walks = footpaths(extra)
    assert walks[("B1", "B2")] == 300
    assert walks[("B5", "M_ABAI")] == 180
    assert walks[("M_ABAI", "B5")] == 400
    assert ("B1", "B5") not in walks
    assert extra.change_seconds[i["B4"]] == 45
    assert extra.change_seconds[i["M_ALMALY"]] == NO_TRANSFER
    assert footpaths(tuesday)[("M_ABAI", "B5")] == 240  # the original is unchanged
    assert extra.event_departure is tuesday.event_departure  # arrays are shared, not copied

    replaced = tuesday.with_transfers([(i["B5"], i["M_ABAI"], 100)], replace_existing=True)
    assert footpaths(replaced) == {("B5", "M_ABAI"): 100}
    assert replaced.change_seconds[i["B2"]] == 120
    with pytest.raises(ValueError):
        tuesday.with_transfers([(0, tuesday.n_stops, 10)])
    with pytest.raises(ValueError):
        tuesday.with_transfers([(0, 1, -1)])


def test_a_date_without_service_gives_an_empty_timetable(feed: Feed) -> None:
    empty = Timetable.from_feed(feed, dt.date(2030, 1, 1))
    assert empty.n_trips == empty.n_patterns == 0
    assert empty.report["trips_not_running"] == len(feed.trips)
    assert empty.n_stops == len(feed.stops)
    assert empty.patterns_at(0).tolist() == []


def test_platform_rules_override_station_rules(tmp_path: Path) -> None:
    feed = edited_fixture(tmp_path, "transfers.txt", {
        "from_stop_id,to_stop_id,transfer_type,min_transfer_time\n":
            "from_stop_id,to_stop_id,transfer_type,min_transfer_time,from_route_id\n"
            "M_ALMALY,M_ALMALY,2,150,\n",  # before the station rule in the file, still wins
        "B5,M_ABAI,2,180": "B5,M_ABAI,2,180,",
        "M_ABAI,B5,2,240": "M_ABAI,B5,2,240,",
        "B2,B2,2,120": "B2,B2,2,120,R12",  # only after route 12: not modelled, ignored
        "ST_ALMALY,ST_ALMALY,3,": "ST_ALMALY,ST_ALMALY,3,,",
        "B3,B4,0,": "B3,B4,0,,",
        "B1,B5,3,": "B1,B5,3,,",
    })  # fmt: skip
    tt = Timetable.from_feed(feed, TUESDAY)
    assert tt.change_seconds[tt.stop_index["M_ALMALY"]] == 150
    assert tt.change_seconds[tt.stop_index["B2"]] == 0
    assert tt.report["transfers_ignored"] == 1


def test_chained_footpaths_become_one_walk_within_the_limit(tuesday: Timetable) -> None:
    tt = tuesday
    s = tt.stop_index
    base = tt.with_transfers({(s["B1"], s["B2"]): 100, (s["B2"], s["B3"]): 120},
                             replace_existing=True)  # fmt: skip
    chained = base.with_chained_footpaths(300)
    to, seconds = chained.footpaths_from(s["B1"])
    walks = dict(zip(to.tolist(), seconds.tolist(), strict=True))
    assert walks == {s["B2"]: 100, s["B3"]: 220}
    short = dict(zip(*(a.tolist() for a in base.with_chained_footpaths(200).footpaths_from(
        s["B1"])), strict=True))  # fmt: skip
    assert short == {s["B2"]: 100}  # 220 s is over the limit
