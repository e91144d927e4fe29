"""The solver finds the optimum of small instances, checked by enumeration; every plan is
checked by the independent validator."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dispatch_helpers import brute_force, line_problem, random_small_problem

from routing.dispatch.solver import Lock, SolveError, SolveOptions, solve
from routing.dispatch.validator import validate

EXACT = SolveOptions(time_limit=0.5, time_scale=1000.0, distance_scale=1000.0, time_cost=0)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_small_random_instances_reach_the_enumerated_optimum(seed):
    problem = random_small_problem(seed)
    served, distance = brute_force(problem)
    plan = solve(problem, EXACT)
    assert validate(problem, plan) == []
    assert len(plan.served_ids()) == served
    assert plan.cost == pytest.approx(distance, rel=1e-6)


def test_ride_time_limit_binds():
    # Picking b up on a's way costs a a detour: allowed with a loose ride limit, not with 12.
    points = [(0, 0), (1, 0), (10, 0), (5, 3), (11, 3)]
    requests = [
        {"id": "a", "pickup": 1, "dropoff": 2, "max_ride": 12.0, "pickup_window": (1, 3)},
        {"id": "b", "pickup": 3, "dropoff": 4, "max_ride": 12.0, "pickup_window": (5, 12)},
    ]
    loose = line_problem(points, [dict(r, max_ride=100.0) for r in requests], [{"id": "v1"}])
    tight = line_problem(points, requests, [{"id": "v1"}])
    costs = []
    for problem in (loose, tight):
        plan = solve(problem, EXACT)
        assert validate(problem, plan) == []
        assert (len(plan.served_ids()), plan.cost) == pytest.approx(brute_force(problem))
        costs.append(plan.cost)
    assert costs[1] > costs[0] + 1.0


def test_wheelchair_places_are_a_separate_capacity():
    points = [(0, 0), (1, 0), (5, 0), (1.5, 0), (5.5, 0)]
    requests = [
        {"id": "a", "pickup": 1, "dropoff": 2, "load": {"wheelchair": 1}},
        {"id": "b", "pickup": 3, "dropoff": 4, "load": {"wheelchair": 1}},
    ]
    problem = line_problem(
        points, requests, [{"id": "v1", "capacity": {"seat": 4, "wheelchair": 1}}]
    )
    plan = solve(problem, EXACT)
    assert validate(problem, plan) == []
    stops = [(s.booking_id, s.action) for s in plan.routes[0].stops]
    # Never two wheelchairs on board: each is dropped before the other is picked up.
    assert stops in (
        [("a", "pickup"), ("a", "dropoff"), ("b", "pickup"), ("b", "dropoff")],
        [("b", "pickup"), ("b", "dropoff"), ("a", "pickup"), ("a", "dropoff")],
    )


def test_priorities_decide_which_booking_is_left_out():
    # One vehicle, two bookings at the same time far apart: only one fits.
    points = [(0, 0), (10, 0), (11, 0), (-10, 0), (-11, 0)]
    requests = [
        {"id": "low", "pickup": 1, "dropoff": 2, "pickup_window": (10, 11), "priority": 1},
        {"id": "high", "pickup": 3, "dropoff": 4, "pickup_window": (10, 11), "priority": 3},
    ]
    problem = line_problem(points, requests, [{"id": "v1"}])
    plan = solve(problem, EXACT)
    assert validate(problem, plan) == []
    assert plan.served_ids() == ["high"]
    assert [(u.booking_id, u.reason) for u in plan.unserved] == [("low", "fleet_busy")]


def test_unservable_booking_is_explained():
    points = [(0, 0), (1, 0), (2, 0)]
    requests = [{"id": "wc", "pickup": 1, "dropoff": 2, "load": {"wheelchair": 1}}]
    problem = line_problem(points, requests, [{"id": "v1", "capacity": {"seat": 4}}])
    plan = solve(problem, EXACT)
    assert validate(problem, plan) == []
    assert plan.unserved[0].reason == "no_vehicle_with_places"


def test_mandatory_booking_that_cannot_be_served_fails_loudly():
    points = [(0, 0), (50, 0), (51, 0)]
    requests = [
        {"id": "far", "pickup": 1, "dropoff": 2, "pickup_window": (0, 10), "mandatory": True}
    ]
    problem = line_problem(points, requests, [{"id": "v1"}])
    with pytest.raises(SolveError):
        solve(problem, EXACT)


def test_locked_stops_stay_first_on_their_vehicle_at_their_time():
    points = [(0, 0), (1, 0), (5, 0), (2, 0), (6, 0)]
    requests = [{"id": "a", "pickup": 1, "dropoff": 2}, {"id": "b", "pickup": 3, "dropoff": 4}]
    problem = line_problem(points, requests, [{"id": "v1"}, {"id": "v2"}])
    free = solve(problem, EXACT)
    # Unlocked, one vehicle picks a up late in the day; lock a's pickup on v2 at 50 instead.
    lock = Lock("v2", (("a", "pickup", 50.0),))
    plan = solve(problem, replace(EXACT, locks=(lock,), pinned=(("b", "v1"),), not_before=40.0))
    assert validate(problem, plan) == []
    v2 = plan.route_of("v2")
    assert (v2.stops[0].booking_id, v2.stops[0].action, v2.stops[0].start) == ("a", "pickup", 50.0)
    assert [s.booking_id for s in plan.route_of("v1").stops] == ["b", "b"]
    assert all(s.start >= 40.0 for r in plan.routes for s in r.stops)
    assert plan.cost > free.cost


def test_breaks_are_kept_off_the_stops_and_the_drive():
    """A 20-minute break starting in [4, 6]: after a's trip (done at 4) b's pickup window
    (5, 10) cannot be met around it, nor can anyone ride through it (ride limit 5), so b
    is left out; with a later window b is served and
    the break is placed between stops with the drive still fitting."""
    points = [(0, 0), (1, 0), (2, 0), (3, 0), (4, 0)]
    a = {"id": "a", "pickup": 1, "dropoff": 2, "pickup_window": (1, 2), "max_ride": 5.0}
    b = {"id": "b", "pickup": 3, "dropoff": 4, "pickup_window": (5, 10), "max_ride": 5.0}
    rest = {"id": "v1", "breaks": [(4.0, 6.0, 20.0)]}
    without = line_problem(points, [a, b], [{"id": "v1"}])
    assert sorted(solve(without, EXACT).served_ids()) == ["a", "b"]
    tight = line_problem(points, [a, b], [rest])
    plan = solve(tight, EXACT)
    assert validate(tight, plan) == []
    assert plan.served_ids() == ["a"] and [u.booking_id for u in plan.unserved] == ["b"]
    loose = line_problem(points, [a, dict(b, pickup_window=(5, 40))], [rest])
    plan = solve(loose, EXACT)
    assert validate(loose, plan) == []
    assert sorted(plan.served_ids()) == ["a", "b"]
    (start, end), = plan.routes[0].breaks
    assert 4.0 <= start <= 6.0 and end - start == pytest.approx(20.0)
    b_pickup = next(s for s in plan.routes[0].stops if s.booking_id == "b")
    assert b_pickup.start >= end  # a's drop-off ends at 4: the break comes before b


def test_replanning_keeps_a_begun_break_and_moves_the_others_after_now():
    points = [(0, 0), (1, 0), (2, 0)]
    requests = [{"id": "a", "pickup": 1, "dropoff": 2, "pickup_window": (1, 60)}]
    problem = line_problem(points, requests, [{"id": "v1", "breaks": [(4.0, 30.0, 5.0)]}])
    later = solve(problem, replace(EXACT, not_before=10.0))
    assert validate(problem, later) == [] and later.routes[0].breaks[0][0] >= 10.0
    begun = solve(problem, replace(EXACT, not_before=10.0, fixed_breaks=(("v1", 0, 6.0),)))
    assert validate(problem, begun) == [] and begun.routes[0].breaks == ((6.0, 11.0),)
