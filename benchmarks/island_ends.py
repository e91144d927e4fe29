"""Count journey ends snapped onto profile islands, without and with the leavable rule.

For ``points`` seeded points (graph nodes moved up to 25 m in a random direction) and each
profile: how many origins (destinations) the plain snap puts on an edge from which the
profile cannot reach (be reached from) the main network, and how many the planner's snap
(``leavable=True``) still does::

    .venv/bin/python benchmarks/island_ends.py 200
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def main(points: int = 200, seed: int = 7) -> None:
    from routing.cost import get_profile
    from routing.errors import RoutingError
    from routing.graph.pipeline import load_graph
    from routing.network import StreetNetwork

    dem = sorted((SHARED / "almaty" / "dem").glob("*.hgt.zip"))
    graph = load_graph(SHARED / "almaty/osm/almaty-2012.osm.pbf", dem=dem,
                       cache_dir=REPO / "data" / "cache")  # fmt: skip
    net = StreetNetwork(graph)
    rng = np.random.default_rng(seed)
    nodes = rng.choice(graph.n_nodes, size=points)
    angle, metres = rng.uniform(0, 2 * np.pi, points), rng.uniform(0, 25, points)
    lat = graph.node_lat[nodes] + metres * np.sin(angle) / 111_320
    lon = graph.node_lon[nodes] + metres * np.cos(angle) / (111_320 * np.cos(np.radians(lat)))
    for name in ("walk", "wheelchair_manual", "blind", "reduced_mobility"):
        profile = get_profile(name)
        for reverse in (False, True):
            ok = net.leavable_edges(profile, reverse=reverse)
            before = after = errors = 0
            for point in zip(lat.tolist(), lon.tolist(), strict=True):
                try:
                    plain = net.snap(point, profile)
                    ruled = net.snap(point, profile, leavable=True, reverse=reverse)
                except RoutingError:
                    errors += 1
                    continue
                before += not ok[plain.edge]
                after += not ok[ruled.edge]
            end = "destinations" if reverse else "origins"
            print(f"{name:18s} {end:12s} on islands: plain snap {before:3d}, leavable snap "
                  f"{after:3d} (of {points - errors} snapped; {errors} refused)")  # fmt: skip


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:]))
