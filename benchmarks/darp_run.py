"""Solve the Cordeau a-instances and print the gap to the best-known values.

``python benchmarks/darp_run.py --time-limit 30 [names...]`` prints one line per instance
(cost, best known, gap, seconds, validator verdict) and the averages. The best-known values
and where they come from are in ``benchmarks/data/darp/PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from routing.dispatch.darp import read_darp  # noqa: E402
from routing.dispatch.solver import SolveError, darp_options, solve  # noqa: E402
from routing.dispatch.validator import validate  # noqa: E402

DATA = Path(__file__).resolve().parent / "data" / "darp"
BEST_KNOWN: dict[str, float] = json.loads((DATA / "best_known.json").read_text())["a"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=sorted(BEST_KNOWN))
    parser.add_argument("--time-limit", type=float, default=30.0)
    args = parser.parse_args()
    gaps, seconds = [], []
    for name in args.names:
        problem = read_darp(DATA / f"{name}.txt")
        started = time.perf_counter()
        try:
            plan = solve(problem, darp_options(args.time_limit))
        except SolveError as exc:
            print(f"{name:6} no plan: {exc}", flush=True)
            continue
        took = time.perf_counter() - started
        violations = validate(problem, plan)
        gap = 100.0 * (plan.cost - BEST_KNOWN[name]) / BEST_KNOWN[name]
        gaps.append(gap)
        seconds.append(took)
        print(
            f"{name:6} cost {plan.cost:9.2f} best {BEST_KNOWN[name]:8.2f} gap {gap:6.2f} % "
            f"time {took:5.1f} s  validator: {'ok' if not violations else violations[:3]}",
            flush=True,
        )
    if gaps:
        print(
            f"mean gap {sum(gaps) / len(gaps):.2f} % over {len(gaps)}/{len(args.names)} "
            f"instances, max gap {max(gaps):.2f} %, mean time {sum(seconds) / len(seconds):.1f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
