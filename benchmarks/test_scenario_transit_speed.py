"""Scenario transit metrics: travel-time distributions for many origins over a window.

Run: ``pytest benchmarks/test_scenario_transit_speed.py --benchmark-only``, then
``python benchmarks/ratios.py <json>`` for the ratio against the peer.

Ours (:func:`routing.scenario.transit.travel_times`) answers all origin-destination pairs
at once: one one-to-all range RAPTOR per origin, the destinations' walks from stops found
once. The peer is the planner's own ``travel_time_distribution`` (behind
``/plan/distribution``) called once per origin for the same destinations, which searches
the destinations' walks again for every origin. Both give the same percentiles (see
``tests/scenario/test_transit_edits.py``).

The issue's figure -- 500 origins (x 500 destinations) over a 2-hour window every minute
-- takes minutes; it is run by hand (the command is in the closing note of issue 9) and
kept small here: ``ORIGINS`` origins, every ``STEP_S`` seconds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from datasets.almaty.cache import ensure_almaty_gtfs
from routing.cost import get_profile
from routing.scenario.transit import DepartureWindow, travel_times
from routing.transit.planner import TransitPlanner

ORIGINS = 12
STEP_S = 600
WINDOW_S = 7200
START = dt.datetime(2026, 12, 8, 7, 0)  # a Tuesday, 07:00 local
SEED = 2026


@pytest.fixture(scope="module")
def planner(almaty_router, shared_data, tmp_path_factory) -> TransitPlanner:
    gtfs = ensure_almaty_gtfs(shared_data / "almaty", tmp_path_factory.mktemp("gtfs-cache"))
    return TransitPlanner.from_gtfs(almaty_router, gtfs)


def sample_points(planner: TransitPlanner, n: int, seed: int = SEED) -> list[tuple[float, float]]:
    """``n`` seeded points within ~50 m of stops that some trip serves."""
    tt = planner.timetable(START.date())
    rng = np.random.default_rng(seed)
    stops = rng.choice(np.unique(tt.ps_stop), size=n, replace=False)
    return [(float(tt.stop_lat[s]) + rng.uniform(-4e-4, 4e-4),
             float(tt.stop_lon[s]) + rng.uniform(-5e-4, 5e-4)) for s in stops]  # fmt: skip


@pytest.fixture(scope="module")
def points(planner):
    pts = sample_points(planner, ORIGINS)
    planner.search_inputs(pts[0], pts[0], START.date(), get_profile("walk"))  # warm views
    return pts


@pytest.mark.benchmark(group="scenario-transit")
def test_all_pairs_at_once(benchmark, planner, points):
    benchmark.extra_info.update(kind="ours_scenario_transit", city="almaty", profile="walk")
    window = DepartureWindow(START, WINDOW_S, STEP_S)
    result = benchmark.pedantic(
        travel_times, args=(planner, points, points, get_profile("walk"), window),
        rounds=3, iterations=1,
    )  # fmt: skip
    assert result.percentile_s.shape == (ORIGINS, ORIGINS, 3)
    assert np.isfinite(result.p(50)).mean() > 0.5


@pytest.mark.benchmark(group="scenario-transit")
def test_peer_distribution_per_origin(benchmark, planner, points):
    benchmark.extra_info.update(kind="distribution_per_origin", city="almaty", profile="walk")
    profile = get_profile("walk")

    def per_origin():
        return [planner.travel_time_distribution(o, points, START, profile,
                                                 window_s=WINDOW_S, step_s=STEP_S)
                for o in points]  # fmt: skip

    result = benchmark.pedantic(per_origin, rounds=3, iterations=1)
    assert len(result) == ORIGINS
