"""Dump ``/route`` bodies for a seeded Almaty sample, to compare two commits byte for byte.

Every profile, seeded pairs of points near random nodes (a few metres to ~5 km apart,
some off the network), each answered as the server answers it: the JSON body (default
and GeoJSON) or the no-route error with its walking route. Run at each commit and diff::

    .venv/bin/python benchmarks/route_snapshot.py > /tmp/routes-after.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"


def main(pairs: int = 120, seed: int = 5) -> None:
    from routing.cost import PROFILE_NAMES, get_profile
    from routing.errors import RoutingError
    from routing.graph.pipeline import load_graph
    from routing.router import StreetRouter
    from server.defaults import resolve_defaults
    from server.jsonio import encode

    data = resolve_defaults(SHARED)  # the Almaty extract, its DEM tiles, the feed's sources
    graph = load_graph(data.osm, dem=list(data.dem), cache_dir=data.cache_dir)
    router = StreetRouter(graph)
    rng = np.random.default_rng(seed)
    nodes = rng.choice(graph.n_nodes, size=(pairs, 2))
    for row, (a, b) in enumerate(nodes.tolist()):
        if row % 3 == 0:  # a short walk: b near a
            near = np.flatnonzero(np.hypot(graph.node_lat - graph.node_lat[a],
                                           graph.node_lon - graph.node_lon[a]) < 0.004)
            b = int(rng.choice(near))
        jitter = rng.normal(0, 1e-4, 4)
        origin = (float(graph.node_lat[a] + jitter[0]), float(graph.node_lon[a] + jitter[1]))
        dest = (float(graph.node_lat[b] + jitter[2]), float(graph.node_lon[b] + jitter[3]))
        for name in PROFILE_NAMES:
            try:
                route = router.route(origin, dest, get_profile(name))
                body = {"route": route.to_dict(), "geojson": route.to_geojson()}
            except RoutingError as exc:
                body = {"error": exc.to_dict()}
            sys.stdout.write(encode({"profile": name, "from": origin, "to": dest, **body}))
            sys.stdout.write("\n")


if __name__ == "__main__":
    main()
