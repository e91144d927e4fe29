"""The issue-sized scenario transit figure: travel-time distributions for many origins.

``benchmarks/test_scenario_transit_speed.py`` keeps the pytest benchmark small; this script
runs the full figure by hand (500 origins x 500 destinations over a 2-hour window every
minute by default) and prints wall and CPU time::

    .venv/bin/python benchmarks/scenario_transit_run.py --origins 500 --workers 2

Points are seeded within ~50 m of stops that some trip serves on Tuesday 2026-12-08
(the same sampling as the pytest benchmark).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.test_scenario_transit_speed import START, WINDOW_S, sample_points  # noqa: E402
from datasets.almaty.cache import ensure_almaty_gtfs  # noqa: E402
from routing.cost import get_profile  # noqa: E402
from routing.graph.pipeline import load_graph  # noqa: E402
from routing.router import StreetRouter  # noqa: E402
from routing.scenario.transit import DepartureWindow, travel_times  # noqa: E402
from routing.transit.planner import TransitPlanner  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache", type=Path, default=REPO / ".cache" / "benchmarks")
    parser.add_argument("--origins", type=int, default=500)
    parser.add_argument("--destinations", type=int, default=500)
    parser.add_argument("--step", type=int, default=60, help="seconds between departures")
    parser.add_argument("--profile", default="walk")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    almaty = args.data / "almaty"
    dem = sorted((almaty / "dem").glob("*.hgt.zip"))
    graph = load_graph(almaty / "osm" / "almaty-2012.osm.pbf", dem=dem, cache_dir=args.cache)
    planner = TransitPlanner.from_gtfs(StreetRouter(graph),
                                       ensure_almaty_gtfs(almaty, args.cache))  # fmt: skip
    profile = get_profile(args.profile)
    points = sample_points(planner, max(args.origins, args.destinations))
    origins, destinations = points[: args.origins], points[: args.destinations]
    window = DepartureWindow(START, WINDOW_S, args.step)
    planner.search_inputs(points[0], points[0], START.date(), profile)  # warm the views

    wall, cpu = time.perf_counter(), time.process_time()
    result = travel_times(planner, origins, destinations, profile, window, workers=args.workers)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    p50 = result.p(50)
    off = ~np.eye(len(origins), len(destinations), dtype=bool)
    finite = np.isfinite(p50[off])
    print(
        f"{len(origins)} origins x {len(destinations)} destinations, {profile.name}, "
        f"window {WINDOW_S // 60} min every {args.step} s, workers {args.workers}: "
        f"wall {wall:.1f} s (this process's CPU {cpu:.1f} s); pairs with a journey "
        f"{finite.mean():.3f}, median of p50 {np.median(p50[off][finite]) / 60:.1f} min"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
