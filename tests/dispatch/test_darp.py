"""The Cordeau DARP reader, on hand-made files in the format and on a2-16."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from routing.dispatch.darp import darp_answer, read_darp
from routing.dispatch.solver import darp_options, solve
from routing.dispatch.validator import validate
from routing.errors import DataError

DARP = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "darp"

# Two requests; the header's second field is 2n here (most copies) ...
TWO_N = """2 4 480 3 30
0 0.000 0.000 0 0 0 1440
1 1.000 0.000 3 1 0 1440
2 0.000 2.000 3 2 10 25
3 4.000 0.000 3 -1 50 65
4 0.000 5.000 3 -2 0 1440
"""
# ... and n with the end depot 2n+1 in the original files.
ONE_N = TWO_N.replace("2 4 480", "2 2 480", 1) + "5 0.000 0.000 0 0 0 600\n"


@pytest.mark.parametrize("text", [TWO_N, ONE_N])
def test_reader_reads_both_header_variants(tmp_path, text):
    path = tmp_path / "tiny.txt"
    path.write_text(text)
    problem = read_darp(path)
    assert [b.id for b in problem.bookings] == ["1", "2"]
    first, second = problem.bookings
    assert (first.pickup, first.dropoff, second.pickup, second.dropoff) == (1, 3, 2, 4)
    assert first.dropoff_window == (50.0, 65.0) and second.pickup_window == (10.0, 25.0)
    assert second.load == {"seat": 2} and first.max_ride == 30.0 and first.pickup_service == 3.0
    assert [v.capacity for v in problem.vehicles] == [{"seat": 3}] * 2
    assert problem.vehicles[0].max_duration == 480.0
    assert problem.vehicles[0].shift == ((0.0, 600.0) if text is ONE_N else (0.0, 1440.0))
    assert problem.travel_time[1, 3] == pytest.approx(3.0)
    assert problem.travel_time[2, 4] == pytest.approx(3.0)
    plan = solve(problem, darp_options(0.5))
    assert validate(problem, plan) == []
    answer = darp_answer(plan)
    assert sorted(n for r in answer["routes"] for n in r) == [1, 2, 3, 4]


def test_reader_rejects_a_broken_file(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_text("2 4 480 3 30\n0 0 0 0 0 0 1440\n1 1 0 3 1 0 1440\n2 1 1 3 -2 0 1440\n")
    with pytest.raises(DataError):
        read_darp(path)


def test_a2_16_plan_is_valid_and_never_beats_the_proven_optimum():
    problem = read_darp(DARP / "a2-16.txt")
    best = json.loads((DARP / "best_known.json").read_text())["a"]["a2-16"]
    plan = solve(problem, darp_options(2.0))
    assert validate(problem, plan) == []
    assert plan.cost >= best - 0.01


def test_an_end_depot_elsewhere_is_where_routes_end(tmp_path):
    path = tmp_path / "end.txt"
    path.write_text(ONE_N.replace("5 0.000 0.000 0 0 0 600", "5 3.000 4.000 0 0 0 600"))
    problem = read_darp(path)
    assert {v.end for v in problem.vehicles} == {5}
    assert problem.distance[0, 5] == pytest.approx(5.0)
    plan = solve(problem, darp_options(0.5))
    assert validate(problem, plan) == []
