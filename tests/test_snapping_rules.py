"""Snapping rules: never onto a fragment; beside a road, onto the sidewalk on the point's side."""

from __future__ import annotations

import numpy as np
from routing_helpers import router_for

from routing.cost import get_profile
from routing.errors import NoRouteError
from routing.graph import attributes as at
from routing.snapping import fragment_edges


def test_point_beside_a_road_snaps_to_the_sidewalk_on_its_side():
    r = router_for("centreline_junctions.osm.xml")
    g = r.graph
    walk = get_profile("walk")
    for lat, side in ((43.24004, 1), (43.23996, 3)):  # 4.4 m north / south of the centreline
        snap = r.network.snap((lat, 76.9332), walk, "from")
        assert g.edge["street_side"][snap.edge] == side
        assert g.names[g.edge_name[snap.edge]] == "Abai Avenue"
    # A point on the centreline at a junction lands on a sidewalk, never on a crossing.
    snap = r.network.snap((43.2400, 76.9340), walk, "from")
    assert g.edge["kind"][snap.edge] == at.WAY_KIND["sidewalk"]


def test_no_snap_onto_fragments_on_real_data(helsinki_router):
    r = helsinki_router
    g = r.graph
    walk = get_profile("walk")
    fragments = fragment_edges(g, np.ones(g.n_edges, dtype=bool))
    assert (r.network.unsnappable[fragments]).all()
    assert fragments.any()  # Helsinki has cut-off pieces (courtyards, tunnel stubs)
    rng = np.random.default_rng(3)
    checked = 0
    candidates = np.flatnonzero(fragments)
    for e in rng.choice(candidates, size=min(40, len(candidates)), replace=False):
        lat, lon = g.edge_geometry(int(e)).mean(axis=0)
        try:
            snap = r.network.snap((float(lat), float(lon)), walk, "from")
        except NoRouteError:
            continue  # too far from any usable way: said, not silently misplaced
        checked += 1
        assert not fragments[snap.edge]
    assert checked >= 10
