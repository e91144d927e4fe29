"""Vehicle-hours freed by re-planning without the substitutable bookings, on a hand-made day."""

from __future__ import annotations

import pytest
from dispatch_helpers import line_problem

from routing.dispatch.solver import SolveOptions, solve
from routing.dispatch.substitution import Substitution, replanned_hours_freed

OPTIONS = SolveOptions(time_limit=0.5, time_scale=1000.0, distance_scale=1000.0, time_cost=1)


def test_replanning_without_substitutable_bookings_gives_the_vehicle_time_saved():
    # One vehicle at x=0. a: 1 -> 2; b: 10 -> 12 (service 1 each, travel = distance).
    # Alone, a takes 0 -> 1 (serve 1) -> 2 (serve 1) -> 0 = 2 + 1 + 1 + 2 = 6 units.
    points = [(0, 0), (1, 0), (2, 0), (10, 0), (12, 0)]
    requests = [
        {"id": "a", "pickup": 1, "dropoff": 2, "pickup_window": (0, 5)},
        {"id": "b", "pickup": 3, "dropoff": 4, "pickup_window": (20, 30)},
    ]
    problem = line_problem(points, requests, [{"id": "v1"}])
    plan = solve(problem, OPTIONS)
    before = sum(r.end_time - r.start_time for r in plan.routes)
    subs = [  # b has a known-accessible journey; a only one of unknown accessibility
        Substitution("a", "wheelchair_manual", 1.0, None, 5.0, 4.0),
        Substitution("b", "wheelchair_manual", 2.0, 6.0, 6.0, 4.0),
    ]
    freed = replanned_hours_freed(problem, plan, subs, OPTIONS, control=True)
    assert freed["known"].removed == ("b",)
    assert freed["known"].vehicle_time_after == pytest.approx(6.0)
    assert freed["known"].freed == pytest.approx(before - 6.0)
    assert (freed["known"].served_before, freed["known"].served_after) == (2, 1)
    # Both substitutable: nothing is left to drive.
    assert freed["allowing_unknowns"].removed == ("a", "b")
    assert freed["allowing_unknowns"].vehicle_time_after == 0.0
    assert freed["allowing_unknowns"].freed == pytest.approx(before)
    # The whole day re-planned: the same optimum on a day this small, nothing freed.
    assert freed["control"].removed == () and freed["control"].freed == pytest.approx(0.0)
    assert before > 6.0 + 20.0  # b comes after a wait: freeing b frees more than its ride
