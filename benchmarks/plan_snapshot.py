"""Dump the planner's itineraries for a seeded Almaty sample, to compare two commits.

Run at each commit and diff the outputs (the refactor proof of issue 7)::

    .venv/bin/python benchmarks/plan_snapshot.py > /tmp/plans-after.json
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def main(pairs: int = 40, seed: int = 7) -> None:
    from datasets.almaty.cache import ensure_almaty_gtfs
    from routing.cost import get_profile
    from routing.errors import RoutingError
    from routing.graph.pipeline import load_graph
    from routing.router import StreetRouter
    from routing.transit.planner import TransitPlanner
    from server.defaults import resolve_defaults

    data = resolve_defaults(SHARED)  # the Almaty extract, its DEM tiles, the feed's sources
    graph = load_graph(data.osm, dem=list(data.dem), cache_dir=data.cache_dir)
    planner = TransitPlanner.from_gtfs(
        StreetRouter(graph), ensure_almaty_gtfs(data.transit_dir, data.cache_dir)
    )
    rng = np.random.default_rng(seed)
    nodes = rng.choice(graph.n_nodes, size=(pairs, 2))
    when = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))
    out = []
    for name in ("walk", "wheelchair_manual", "blind", "reduced_mobility"):
        profile = get_profile(name)
        for a, b in nodes.tolist():
            origin = (float(graph.node_lat[a]), float(graph.node_lon[a]))
            dest = (float(graph.node_lat[b]), float(graph.node_lon[b]))
            try:
                body = planner.plan(origin, dest, when, profile).to_dict()
            except RoutingError as exc:
                body = {"error": type(exc).__name__, "message": str(exc)}
            out.append({"profile": name, "from": origin, "to": dest, "plan": body})
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
