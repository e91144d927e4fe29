"""Extra time of the first route with a never-asked override value, on Almaty, one process.

Each round times the same route with the cached base profile, then with a new value of one
parameter (a value never asked before, so its search graph is built), interleaved; prints
min and median of both and of their difference, and the load average. With ``--profile-out``
a cProfile of further new-value routes is written (``python -m pstats`` reads it).

Run (from the repository root)::

    .venv/bin/python benchmarks/override_first_route.py  # max_uphill 0.06..0.11
    .venv/bin/python benchmarks/override_first_route.py --parameter speed_mps --low 0.7 --high 1.4

The pytest-benchmark form is ``test_network_speed.py::test_route_new_override_value``.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from routing.cost import get_profile
from routing.graph.pipeline import load_graph
from routing.router import StreetRouter

REPO = Path(__file__).resolve().parents[1]
A, B = (43.2380, 76.9455), (43.2497, 76.9454)  # Republic Square -> Abai Opera


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="wheelchair_manual")
    parser.add_argument("--parameter", default="max_uphill")
    parser.add_argument("--low", type=float, default=0.06)
    parser.add_argument("--high", type=float, default=0.11)
    parser.add_argument("--rounds", type=int, default=100, help="distinct new values timed")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "ir-graph")
    parser.add_argument("--profile-out", type=Path, help="write a cProfile of 40 more rounds")
    args = parser.parse_args()

    dem = sorted((args.data / "almaty" / "dem").glob("*.hgt.zip"))
    graph = load_graph(args.data / "almaty/osm/almaty-2012.osm.pbf", dem=dem,
                       cache_dir=args.cache_dir)  # fmt: skip
    router = StreetRouter(graph)
    base = get_profile(args.profile)
    for _ in range(5):  # the graph's facts, the base profile, the snapping index
        router.route(A, B, base)
    values = iter(np.linspace(args.low, args.high, args.rounds + 40).tolist())
    cached, new = [], []
    for _ in range(args.rounds):
        t = time.perf_counter()
        router.route(A, B, base)
        cached.append(time.perf_counter() - t)
        profile = get_profile(args.profile, {args.parameter: next(values)})
        t = time.perf_counter()
        router.route(A, B, profile)
        new.append(time.perf_counter() - t)
    extra = [n - c for n, c in zip(new, cached, strict=True)]
    print(f"{args.profile} new {args.parameter}, {args.rounds} values, load {os.getloadavg()}")
    for name, times in (("cached profile", cached), ("new value", new), ("extra (paired)", extra)):
        print(f"  {name:15s} min {1e3 * min(times):6.2f} ms   median "
              f"{1e3 * statistics.median(times):6.2f} ms")  # fmt: skip
    print(f"  min(new) - min(cached) {1e3 * (min(new) - min(cached)):.2f} ms; median(new) - "
          f"median(cached) {1e3 * (statistics.median(new) - statistics.median(cached)):.2f} ms")
    if args.profile_out:
        prof = cProfile.Profile()
        prof.enable()
        for value in values:
            router.route(A, B, get_profile(args.profile, {args.parameter: value}))
        prof.disable()
        prof.dump_stats(args.profile_out)


if __name__ == "__main__":
    main()
