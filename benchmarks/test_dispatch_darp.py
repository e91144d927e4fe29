"""Cordeau (2006) a-instances: gap to the best-known cost, every plan validated.

Run: ``pytest benchmarks/test_dispatch_darp.py --benchmark-only`` (24 instances, each with
``DARP_TIME_LIMIT`` seconds, default 30; plus a second search from the fallback first
solution if the first leaves a request out). The gap and the validator's verdict are in
each benchmark's ``extra_info``; ``python benchmarks/darp_run.py`` prints the same table.
The best-known values and their source are in ``benchmarks/data/darp/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from routing.dispatch.darp import read_darp
from routing.dispatch.solver import darp_options, solve
from routing.dispatch.validator import validate

DATA = Path(__file__).resolve().parent / "data" / "darp"
BEST_KNOWN: dict[str, float] = json.loads((DATA / "best_known.json").read_text())["a"]
TIME_LIMIT = float(os.environ.get("DARP_TIME_LIMIT", "30"))


@pytest.mark.parametrize("name", sorted(BEST_KNOWN))
def test_darp_gap_to_best_known(benchmark, name):
    problem = read_darp(DATA / f"{name}.txt")
    plan = benchmark.pedantic(solve, args=(problem, darp_options(TIME_LIMIT)), rounds=1)
    assert validate(problem, plan) == []
    gap = 100.0 * (plan.cost - BEST_KNOWN[name]) / BEST_KNOWN[name]
    benchmark.extra_info.update(
        cost=round(plan.cost, 2), best_known=BEST_KNOWN[name], gap_percent=round(gap, 2)
    )
    assert plan.cost >= BEST_KNOWN[name] - 0.01  # never below a proven optimum
