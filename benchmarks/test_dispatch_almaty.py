"""An Almaty day planned on the car network: 300 bookings / 40 vehicles, and the full fleet
(145 vehicles / 800 bookings). Every plan passes the validator (KPIs included).

Run: ``pytest benchmarks/test_dispatch_almaty.py --benchmark-only``. The timed part is the
whole planning step a dispatcher waits for: snapping, the travel-time matrices and the
solve (time limit 35 s for the 300-booking day, 200 s for the full fleet, so that the
matrices fit in the 60 s and 5 min budgets). Served bookings, vehicle-hours, km and the
ride-time ratios are in ``extra_info``.
"""

from __future__ import annotations

import pytest

from routing.dispatch.carnet import load_car_network
from routing.dispatch.city import build_city_problem
from routing.dispatch.day import generate_day
from routing.dispatch.kpis import plan_kpis
from routing.dispatch.solver import SolveOptions, solve
from routing.dispatch.validator import validate

CASES = {"day-300x40": (300, 40, 35.0), "fleet-800x145": (800, 145, 200.0)}


@pytest.fixture(scope="module")
def almaty(shared_data, tmp_path_factory):
    osm = shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"
    return osm, load_car_network(osm, cache_dir=tmp_path_factory.mktemp("car-cache"))


@pytest.mark.parametrize("case", sorted(CASES))
def test_plan_an_almaty_day(benchmark, almaty, case):
    osm, network = almaty
    bookings, vehicles, time_limit = CASES[case]
    day = generate_day(osm, network, bookings=bookings, vehicles=vehicles, seed=2026)

    def plan_day():
        city = build_city_problem(day, network)
        return city, solve(city.problem, SolveOptions(time_limit=time_limit))

    city, plan = benchmark.pedantic(plan_day, rounds=1)
    kpis = plan_kpis(city.problem, plan)
    assert validate(city.problem, plan, kpis=kpis) == []
    benchmark.extra_info.update(
        {k: (round(v, 3) if isinstance(v, float) else v) for k, v in kpis.items()}
    )
