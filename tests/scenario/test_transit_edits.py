"""Transit edits of scenarios on a small hand-made feed laid on the real Almaty streets.

The feed (written by :func:`_write_feed`): metro stations Raiymbek batyr -> Zhibek Zholy ->
Almaly (real coordinates), a train every 10 min each way, 120 s between stations; bus "B"
Abai -> Baikonur -> Auezov theatre (metro station coordinates, along Abai Ave), every 10 min,
300 s between stops, its buses NOT accessible. Every stop has step-free boarding.
"""

from __future__ import annotations

import datetime as dt
import os
import threading

import numpy as np
import pytest

from routing.clock import format_time
from routing.cost import get_profile
from routing.errors import InvalidInputError, NoRouteError
from routing.scenario.transit import (
    TRANSIT_EDIT_SCHEMA,
    DepartureWindow,
    LowFloorShare,
    NewStation,
    StationAccess,
    apply_transit_edits,
    parse_transit_edit,
    transit_metrics,
    travel_times,
)
from routing.transit.planner import TransitPlanner
from routing.tristate import NO, UNKNOWN, YES

STOPS = {
    "RMBK": ("Raiymbek batyr", 43.27111, 76.94466),
    "ZZ": ("Zhibek Zholy", 43.2605, 76.94603),
    "ALM": ("Almaly", 43.25204, 76.94709),
    "ABA": ("Abai", 43.24255, 76.94845),
    "BKNR": ("Baikonur", 43.24124, 76.92882),
    "TEATR": ("Auezov theatre", 43.24026, 76.91702),
}
DAY = dt.date(2026, 12, 7)
AT_8 = dt.datetime(2026, 12, 7, 8, 0)
WHEELCHAIR = get_profile("wheelchair_manual")
WALK = get_profile("walk")


def _near(stop: str, dlat: float = 0.0004) -> tuple[float, float]:
    _, lat, lon = STOPS[stop]
    return (lat + dlat, lon)


def _write_feed(folder) -> None:
    folder.mkdir()
    (folder / "agency.txt").write_text(
        "agency_id,agency_name,agency_url,agency_timezone\nA,Test,https://example.kz,Asia/Almaty\n"
    )
    (folder / "calendar.txt").write_text(
        "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date\n"
        "ALL,1,1,1,1,1,1,1,20260101,20271231\n"
    )
    (folder / "routes.txt").write_text(
        "route_id,agency_id,route_short_name,route_long_name,route_type\n"
        "M,A,M1,Metro,1\nB,A,B,Abai bus,3\n"
    )
    (folder / "stops.txt").write_text(
        "stop_id,stop_name,stop_lat,stop_lon,wheelchair_boarding\n"
        + "".join(f"{k},{n},{lat},{lon},1\n" for k, (n, lat, lon) in STOPS.items())
    )
    trips, times = (
        ["route_id,service_id,trip_id,direction_id,wheelchair_accessible"],
        ["trip_id,arrival_time,departure_time,stop_id,stop_sequence"],
    )
    lines = {("M", 1, 120): ["RMBK", "ZZ", "ALM"], ("B", 2, 300): ["ABA", "BKNR", "TEATR"]}
    for (route, access, run), stops in lines.items():
        for direction, seq in ((0, stops), (1, stops[::-1])):
            for start in range(7 * 3600, 10 * 3600, 600):
                trip = f"{route}{direction}_{start}"
                trips.append(f"{route},ALL,{trip},{direction},{access}")
                for i, stop in enumerate(seq):
                    t = format_time(start + i * run)
                    times.append(f"{trip},{t},{t},{stop},{i + 1}")
    (folder / "trips.txt").write_text("\n".join(trips) + "\n")
    (folder / "stop_times.txt").write_text("\n".join(times) + "\n")


@pytest.fixture(scope="module")
def planner(almaty_router, tmp_path_factory) -> TransitPlanner:
    folder = tmp_path_factory.mktemp("scenario-feed") / "feed"
    _write_feed(folder)
    return TransitPlanner.from_gtfs(almaty_router, folder)


def _rides(plan) -> list[dict]:
    return [leg for it in plan.itineraries for leg in it.legs if leg["mode"] != "walk"]


def _plan(planner, a, b, profile):
    try:
        return _rides(planner.plan(a, b, AT_8, profile))
    except NoRouteError:
        return []


# -- parsing ----------------------------------------------------------------------------


def test_parse_errors_name_the_path_and_field():
    cases = [
        ({"type": "low_floor_share", "routes": ["32"], "share": 1.5}, "$.transit[0].share"),
        ({"type": "low_floor", "routes": ["32"]}, "$.transit[0].type"),
        ({"type": "station_access", "station": "metro:ALM"}, "$.transit[0].elevator"),
        ({"type": "station_access", "station": "x", "elevator": "broken"}, "$.transit[0].elevator"),
        ({"type": "low_floor_share", "routes": ["32"], "share": 1, "colour": 1},
         "$.transit[0].colour"),
        ({"type": "new_bus_route", "route_id": "N", "headway_s": 600, "start": "07:00",
          "end": "09:00", "speed_kmh": 18, "stops": [{"stop_id": "A"}, {"name": "x"}]},
         "$.transit[0].stops[1].lat"),
        ({"type": "new_bus_route", "route_id": "N", "headway_s": 600, "start": "07:00",
          "end": "09:00", "run_times_s": [60, 60], "stops": [{"stop_id": "A"}, {"stop_id": "B"}]},
         "$.transit[0].run_times_s"),
        ({"type": "new_station", "route": "M1", "stop_id": "S", "name": "S", "lat": 43.2,
          "lon": 76.9, "after": "ZZ", "before": "ALM", "run_from_previous_s": 60},
         "$.transit[0].run_to_next_s"),
    ]  # fmt: skip
    for obj, field in cases:
        with pytest.raises(InvalidInputError) as exc:
            parse_transit_edit(obj, "$.transit[0]")
        assert exc.value.json_path == field, (obj, exc.value.message)
        assert exc.value.message.startswith(field)
        assert exc.value.field == field.rsplit(".", 1)[1].split("[")[0]


EXAMPLES = [
    {"type": "low_floor_share", "routes": ["*"], "share": 1},
    {"type": "station_access", "station": "ALM", "elevator": "out_of_service"},
    {"type": "station_access", "station": "ALM", "step_free": True},
    {"type": "new_station", "route": "M1", "stop_id": "S", "name": "S", "lat": 43.25,
     "lon": 76.94, "after": "ZZ", "before": "ALM", "run_from_previous_s": 60,
     "run_to_next_s": 70, "dwell_s": 20, "wheelchair_boarding": "yes"},
    {"type": "new_bus_route", "route_id": "N", "headway_s": 600, "start": "06:30",
     "end": "22:00", "run_times_s": [90], "low_floor": False,
     "stops": [{"stop_id": "ABA"}, {"lat": 43.24, "lon": 76.93, "name": "x"}]},
]  # fmt: skip


def test_schema_and_parser_agree_and_edits_round_trip():
    import jsonschema

    validator = jsonschema.Draft202012Validator(TRANSIT_EDIT_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(TRANSIT_EDIT_SCHEMA)
    for obj in EXAMPLES:
        assert not list(validator.iter_errors(obj)), obj
        edit = parse_transit_edit(obj, "$.transit[0]")
        again = edit.to_dict()
        assert not list(validator.iter_errors(again)), again
        assert parse_transit_edit(again, "$.transit[0]") == edit
    bad = dict(EXAMPLES[0], share=2)
    assert list(validator.iter_errors(bad))


def test_edits_naming_what_the_feed_lacks_are_errors(planner):
    bad = [
        (parse_transit_edit({"type": "low_floor_share", "routes": ["B", "99"], "share": 1},
                            "$.transit[3]"), "$.transit[3].routes[1]"),
        (parse_transit_edit({"type": "station_access", "station": "NOPE",
                             "elevator": "out_of_service"}, "$.transit[0]"),
         "$.transit[0].station"),
        (parse_transit_edit({"type": "new_station", "route": "M1", "stop_id": "S", "name": "S",
                             "lat": 43.25, "lon": 76.94, "after": "RMBK", "before": "ALM",
                             "run_from_previous_s": 60, "run_to_next_s": 60}, "$.transit[1]"),
         "$.transit[1].after"),  # not consecutive stations
        (parse_transit_edit({"type": "new_station", "route": "M1", "stop_id": "ZZ", "name": "S",
                             "lat": 43.25, "lon": 76.94, "after": "ZZ", "before": "ALM",
                             "run_from_previous_s": 60, "run_to_next_s": 60}, "$.transit[1]"),
         "$.transit[1].stop_id"),  # the id exists
    ]  # fmt: skip
    for edit, field in bad:
        with pytest.raises(InvalidInputError) as exc:
            apply_transit_edits(planner, [edit])
        assert exc.value.json_path == field


# -- applying ---------------------------------------------------------------------------


def test_no_edits_change_nothing(planner):
    assert apply_transit_edits(planner, []) is planner
    origins, targets = [_near("RMBK"), _near("ABA")], [_near("ALM"), _near("TEATR")]
    window = DepartureWindow(AT_8, window_s=1200, step_s=300)
    report = transit_metrics(planner, apply_transit_edits(planner, []), origins, targets,
                             [WALK], window)  # fmt: skip
    walk = report["profiles"]["walk"]
    assert walk["before"] == walk["after"]
    assert walk["change"]["faster_pairs"] == walk["change"]["slower_pairs"] == 0


def test_low_floor_route_lets_a_wheelchair_journey_use_it(planner):
    a, b = _near("ABA"), _near("TEATR")
    assert not [r for r in _plan(planner, a, b, WHEELCHAIR) if r["route"] == "B"]
    assert [r for r in _plan(planner, a, b, WALK) if r["route"] == "B"]  # the bus does run
    edited = apply_transit_edits(planner, [LowFloorShare(("B",), 1.0)])
    rides = [r for r in _plan(edited, a, b, WHEELCHAIR) if r["route"] == "B"]
    assert rides and all(r["accessible_vehicle"] == "yes" for r in rides)
    # The metrics see it: wheelchair trips from Abai to the theatre get faster.
    window = DepartureWindow(AT_8, window_s=1200, step_s=600)
    figures = transit_metrics(planner, edited, [a], [b], [WHEELCHAIR], window)
    chair = figures["profiles"]["wheelchair_manual"]
    for rule in (chair, chair["known_accessible"]):
        assert rule["change"]["faster_pairs"] == 1 and rule["change"]["slower_pairs"] == 0
        assert rule["after"]["median_s"]["p50"] < rule["before"]["median_s"]["p50"]
    # The base planner is untouched and shares the compiled timetable.
    assert not [r for r in _plan(planner, a, b, WHEELCHAIR) if r["route"] == "B"]
    assert edited.feed is planner.feed and edited.timetable(DAY) is planner.timetable(DAY)


def test_a_share_marks_trips_evenly_by_departure(planner):
    edited = apply_transit_edits(planner, [LowFloorShare(("*",), 0.5)])
    view = edited.search_inputs(_near("ABA"), _near("TEATR"), DAY, WHEELCHAIR).view
    tt = view.timetable
    for direction in (0, 1):
        trips = np.flatnonzero((tt.trip_route == tt.route_ids.index("B"))
                               & (tt.trip_direction == direction))  # fmt: skip
        first = np.array([tt.trip_stop_times(int(t))[2][0] for t in trips])
        flags = view.trip_wheelchair[trips[np.argsort(first)]]
        assert flags.tolist() == [NO, YES] * (len(trips) // 2)  # every second bus, in order
    metro = np.flatnonzero(tt.trip_route == tt.route_ids.index("M"))
    assert (view.trip_wheelchair[metro] == YES).all()  # '*' means buses, not the metro


def test_elevator_out_of_service_removes_the_station_for_wheelchair_users(planner):
    a, b = _near("RMBK"), _near("ALM")
    assert any(r["to"]["stop_id"] == "ALM" for r in _plan(planner, a, b, WHEELCHAIR))
    edited = apply_transit_edits(
        planner,
        [
            parse_transit_edit(
                {"type": "station_access", "station": "ALM", "elevator": "out_of_service"},
                "$.transit[0]",
            )
        ],  # fmt: skip
    )
    for ride in _plan(edited, a, b, WHEELCHAIR):
        assert "ALM" not in (ride["from"]["stop_id"], ride["to"]["stop_id"])
    assert any(r["to"]["stop_id"] == "ALM" for r in _plan(edited, a, b, WALK))
    # A lift back in service restores it.
    fixed = apply_transit_edits(edited, [StationAccess("ALM", elevator="in_service")])
    assert any(r["to"]["stop_id"] == "ALM" for r in _plan(fixed, a, b, WHEELCHAIR))


def test_new_station_appears_in_journeys_with_the_given_run_times(planner):
    lat, lon = 43.2563, 76.9466  # between Zhibek Zholy and Almaly
    edit = NewStation("M1", "NEW", "New station", lat, lon, after="ZZ", before="ALM",
                      run_from_previous_s=60, run_to_next_s=70, dwell_s=20,
                      wheelchair_boarding=YES)  # fmt: skip
    edited = apply_transit_edits(planner, [edit])
    assert "NEW" not in planner.feed.stops and len(planner.timetable(DAY).stop_ids) == 6
    tt = edited.timetable(DAY)
    new, zz, alm = (tt.stop_index[s] for s in ("NEW", "ZZ", "ALM"))
    seen = 0
    today = tt.trip_day_offset == 0
    for trip in np.flatnonzero((tt.trip_route == tt.route_ids.index("M")) & today):
        stops, arr, dep = tt.trip_stop_times(int(trip))
        order = stops.tolist()
        assert new in order
        i = order.index(new)
        before, after = order[i - 1], order[i + 1]
        run_in, run_out = (60, 70) if before == zz else (70, 60)
        assert {before, after} == {zz, alm}
        assert arr[i] - dep[i - 1] == run_in and dep[i] - arr[i] == 20
        assert arr[i + 1] - dep[i] == run_out
        seen += 1
    assert seen == 36
    rides = _plan(edited, (lat, lon), _near("RMBK"), WHEELCHAIR)
    assert any(r["from"]["stop_id"] == "NEW" and r["mode"] == "metro" for r in rides)
    # Extending the line past its terminal: trips ending at Almaly run on.
    ext = {"type": "new_station", "route": "M1", "stop_id": "EXT", "name": "Abai ext",
           "lat": 43.2426, "lon": 76.9485, "after": "ALM", "run_from_previous_s": 150}  # fmt: skip
    ext = parse_transit_edit(ext, "$.transit[0]")
    tt2 = apply_transit_edits(planner, [ext]).timetable(DAY)
    ends = {tt2.trip_stop_times(int(t))[0][-1] for t in np.flatnonzero(tt2.trip_direction == 0)
            if tt2.trip_route[t] == tt2.route_ids.index("M")}  # fmt: skip
    assert ends == {tt2.stop_index["EXT"]}


def test_new_bus_route_runs_its_headway_and_carries_wheelchair_users(planner):
    edit = parse_transit_edit({
        "type": "new_bus_route", "route_id": "N1", "short_name": "N1",
        "stops": [{"stop_id": "RMBK"}, {"lat": 43.2575, "lon": 76.9270, "name": "West"},
                  {"stop_id": "TEATR"}],
        "headway_s": 600, "start": "07:00", "end": "09:00", "speed_kmh": 18,
        "low_floor": True,
    }, "$.transit[0]")  # fmt: skip
    edited = apply_transit_edits(planner, [edit])
    tt = edited.timetable(DAY)
    trips = np.flatnonzero((tt.trip_route == tt.route_ids.index("N1")) & (tt.trip_day_offset == 0))
    assert len(trips) == 24  # 12 departures 07:00..08:50, both directions
    stops, arr, _ = tt.trip_stop_times(int(trips[0]))
    assert len(stops) == 3 and tt.stop_ids[int(stops[1])] == "N1:2"
    from routing.geo import haversine_m

    metres = haversine_m(STOPS["RMBK"][1], STOPS["RMBK"][2], 43.2575, 76.9270)
    hop = arr[1] - arr[0]
    assert abs(hop - metres / 5.0) <= 1 or abs(arr[2] - arr[1] - metres / 5.0) <= 1
    rides = _plan(edited, _near("RMBK"), _near("TEATR"), WHEELCHAIR)
    assert any(r["route"] == "N1" for r in rides)
    assert "N1" not in planner.feed.routes


# -- metrics ----------------------------------------------------------------------------


_FORKS: list[int] = []  # pids of this process forked while a test counts (see below)
_COUNTING_FORKS = threading.Event()
os.register_at_fork(before=lambda: _COUNTING_FORKS.is_set() and _FORKS.append(os.getpid()))


def _in_threaded_process(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` run in a non-main thread while another thread holds a lock
    (as in a web server's job thread): fails on a hang, and if this process was forked."""
    held, stop, result = threading.Lock(), threading.Event(), {}

    def busy() -> None:  # holds the lock most of the time, as a heartbeat or a pool might
        while not stop.is_set():
            with held:
                stop.wait(0.01)

    def call() -> None:
        try:
            result["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # re-raised below, in the test's thread
            result["error"] = exc

    busy_thread, caller = threading.Thread(target=busy), threading.Thread(target=call)
    _FORKS.clear()
    _COUNTING_FORKS.set()
    busy_thread.start()
    try:
        caller.start()
        caller.join(timeout=600)  # a deadlocked child would hang the caller for ever
        assert not caller.is_alive(), "hung: a worker process is blocked"
    finally:
        _COUNTING_FORKS.clear()
        stop.set()
        busy_thread.join()
    assert _FORKS == [], "a process with threads was forked"
    if "error" in result:
        raise result["error"]
    return result["value"]


def test_travel_times_match_the_planners_distribution(almaty_planner):
    origins = [(43.2725, 76.9440), (43.2400, 76.9150)]
    targets = [(43.2150, 76.8390), (43.2605, 76.9460)]
    window = DepartureWindow(AT_8, window_s=1800, step_s=300)
    profile = get_profile("walk")
    got = travel_times(almaty_planner, origins, targets, profile, window)
    # Two worker processes, started from a thread of a process with other threads (as in a
    # web server): identical figures, no fork of this process, no hang.
    steps = []
    parallel = _in_threaded_process(
        travel_times, almaty_planner, origins, targets, profile, window, workers=2,
        progress=lambda done, total: steps.append((done, total)),
    )  # fmt: skip
    assert np.array_equal(got.percentile_s, parallel.percentile_s)
    assert np.array_equal(got.reachable_share, parallel.reachable_share)
    assert sorted(steps) == [(1, 2), (2, 2)]
    for i, origin in enumerate(origins):
        want = almaty_planner.travel_time_distribution(
            origin, targets, AT_8, profile, window_s=1800, step_s=300
        )
        for j, target in enumerate(want["targets"]):
            for k, q in enumerate((10, 50, 90)):
                expected = target["percentile_s"][f"p{q}"]
                value = got.percentile_s[i, j, k]
                if expected is not None and expected < almaty_planner.options.walk_only_max_s:
                    assert value == expected, (i, j, q)
                elif expected is None:
                    assert not np.isfinite(value)


def test_the_example_scenarios_apply_to_the_almaty_feed(almaty_planner):
    from pathlib import Path

    from routing.scenario.spec import load_scenario

    folder = Path(__file__).resolve().parents[2] / "scenarios"
    buses = load_scenario(folder / "all-buses-low-floor.yaml")
    almaly = load_scenario(folder / "almaly-elevator-out-of-service.yaml")
    near = (43.2513, 76.9480)  # beside Almaly station
    before = almaty_planner.search_inputs(near, near, DAY, WHEELCHAIR).view
    after_buses = apply_transit_edits(almaty_planner, buses.transit)
    view = after_buses.search_inputs(near, near, DAY, WHEELCHAIR).view
    tt = view.timetable
    bus = np.isin(tt.route_types[tt.trip_route], [3, 11])
    assert bus.sum() > 1000 and (view.trip_wheelchair[bus] == YES).all()
    assert (before.trip_wheelchair[bus] == UNKNOWN).all()  # unknown in the base feed
    assert (view.trip_wheelchair[~bus] == before.trip_wheelchair[~bus]).all()  # metro as was
    alm = tt.stop_index["metro:ALM"]
    view = (
        apply_transit_edits(almaty_planner, almaly.transit)
        .search_inputs(near, near, DAY, WHEELCHAIR)
        .view
    )
    assert before.stop_wheelchair[alm] == UNKNOWN and view.stop_wheelchair[alm] == NO
    changed = np.flatnonzero(view.stop_wheelchair != before.stop_wheelchair)
    assert changed.tolist() == [alm]
