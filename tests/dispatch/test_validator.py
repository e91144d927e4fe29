"""The validator accepts a hand-checked plan and rejects each kind of violation."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dispatch_helpers import line_problem

from routing.dispatch.kpis import plan_kpis
from routing.dispatch.model import Plan, Stop, Unserved, VehicleRoute
from routing.dispatch.validator import validate

POINTS = [(0, 0), (1, 0), (3, 0), (2, 0), (4, 0)]
REQUESTS = [
    {"id": "a", "pickup": 1, "dropoff": 2, "max_ride": 5.0},
    {"id": "b", "pickup": 3, "dropoff": 4, "max_ride": 5.0},
]


def problem(requests=REQUESTS, **vehicle):
    return line_problem(POINTS, requests, [dict({"id": "v1", "capacity": {"seat": 2}}, **vehicle)])


def stop(bid, action, loc, arrival, start, departure, seats):
    return Stop(bid, action, loc, arrival, start, departure, {"seat": seats})


# Depot 0 -> a up (x=1) -> b up (x=2) -> a down (x=3) -> b down (x=4) -> depot: 8 units.
STOPS = (
    stop("a", "pickup", 1, 1.0, 1.0, 2.0, 1),
    stop("b", "pickup", 3, 3.0, 3.0, 4.0, 2),
    stop("a", "dropoff", 2, 5.0, 5.0, 6.0, 1),
    stop("b", "dropoff", 4, 7.0, 7.0, 8.0, 0),
)
PLAN = Plan((VehicleRoute("v1", 0.0, 12.0, STOPS, 8.0),), (), 8.0)


def with_stops(*changes: tuple[int, dict]) -> Plan:
    stops = list(STOPS)
    for k, fields in changes:
        stops[k] = replace(stops[k], **fields)
    return replace(PLAN, routes=(replace(PLAN.routes[0], stops=tuple(stops)),))


def codes(violations):
    return {v.code for v in violations}


def test_the_hand_checked_plan_is_valid_with_its_kpis():
    p = problem()
    kpis = plan_kpis(p, PLAN)
    assert validate(p, PLAN, kpis=kpis) == []
    assert kpis["empty_distance"] == pytest.approx(1.0 + 4.0)
    assert kpis["max_ride_ratio"] == pytest.approx(3.0 / 2.0)


def test_capacity():
    assert codes(validate(problem(capacity={"seat": 1}), PLAN)) == {"capacity"}


def test_time_window():
    requests = [dict(REQUESTS[0], pickup_window=(0.0, 0.5)), REQUESTS[1]]
    assert codes(validate(problem(requests), PLAN)) == {"time_window"}


def test_ride_time():
    requests = [dict(REQUESTS[0], max_ride=2.5), REQUESTS[1]]
    assert codes(validate(problem(requests), PLAN)) == {"ride_time"}


def test_shift():
    assert codes(validate(problem(shift=(0.0, 10.0)), PLAN)) == {"shift"}


def test_route_duration():
    assert codes(validate(problem(max_duration=11.0), PLAN)) == {"route_duration"}


def test_travel_time():
    assert "travel_time" in codes(validate(problem(), with_stops((2, {"arrival": 4.5}))))


def test_service_start_before_arrival():
    bad = with_stops((2, {"arrival": 5.0, "start": 4.9}))
    assert "service_start" in codes(validate(problem(), bad))


def test_service_time():
    assert codes(validate(problem(), with_stops((2, {"departure": 5.5})))) == {"service_time"}


def test_pairing():
    stops = STOPS[:2] + STOPS[3:]
    bad = replace(PLAN, routes=(replace(PLAN.routes[0], stops=stops),))
    assert "pairing" in codes(validate(problem(), bad))


def test_precedence():
    order = (STOPS[2], STOPS[1], STOPS[0], STOPS[3])
    bad = replace(PLAN, routes=(replace(PLAN.routes[0], stops=order),))
    assert "precedence" in codes(validate(problem(), bad))


def test_coverage():
    bad = replace(PLAN, unserved=(Unserved("a", "fleet_busy", ""),))
    assert codes(validate(problem(), bad)) == {"coverage"}


def test_mandatory():
    requests = [REQUESTS[0], dict(REQUESTS[1], mandatory=True)]
    p = problem(requests)
    stops = (stop("a", "pickup", 1, 1.0, 1.0, 2.0, 1), stop("a", "dropoff", 2, 4.0, 4.0, 5.0, 0))
    plan = Plan(
        (VehicleRoute("v1", 0.0, 8.0, stops, 6.0),), (Unserved("b", "fleet_busy", ""),), 6.0
    )
    assert codes(validate(p, plan)) == {"mandatory"}


def test_location():
    assert "location" in codes(validate(problem(), with_stops((0, {"location": 3}))))


def test_reported_load():
    assert codes(validate(problem(), with_stops((1, {"load": {"seat": 1}})))) == {"reported_load"}


def test_reported_distance_and_cost():
    bad = replace(PLAN, routes=(replace(PLAN.routes[0], distance=7.0),))
    assert codes(validate(problem(), bad)) == {"reported_distance"}
    assert codes(validate(problem(), replace(PLAN, cost=7.5))) == {"reported_cost"}


def test_reported_kpi():
    p = problem()
    kpis = dict(plan_kpis(p, PLAN), empty_distance=3.0)
    assert codes(validate(p, PLAN, kpis=kpis)) == {"reported_kpi"}


def test_unknown_booking_and_vehicle():
    bad = with_stops((0, {"booking_id": "zz"}))
    assert "unknown_booking" in codes(validate(problem(), bad))
    other = replace(PLAN, routes=(replace(PLAN.routes[0], vehicle_id="v9"),))
    assert "unknown_vehicle" in codes(validate(problem(), other))


def test_break():
    # The vehicle is back at 12 after an 8 to 12 drive home: a 2-unit break fits there only
    # if it comes back at 14 or later; never during a stop's service; never missing.
    p = problem(breaks=[(5.0, 9.0, 2.0)])
    route = replace(PLAN.routes[0], end_time=14.0, breaks=((8.0, 10.0),))
    assert validate(p, replace(PLAN, routes=(route,))) == []
    squeezed = replace(route, end_time=12.0)
    overlapping = replace(route, breaks=((5.5, 7.5),))  # over a's drop-off (5 to 6)
    short = replace(route, breaks=((8.0, 9.0),))
    late = replace(route, breaks=((9.5, 11.5),))
    missing = replace(route, breaks=())
    for bad in (squeezed, overlapping, short, late, missing):
        assert codes(validate(p, replace(PLAN, routes=(bad,)))) == {"break"}, bad.breaks
