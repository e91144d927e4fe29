"""Journey ends never snap onto a profile island when a way off islands is within reach."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from routing_helpers import router_for

from routing.cost import get_profile
from routing.errors import NoRouteError
from routing.snapping import main_reach
from routing.transit.planner import TransitPlanner, parse_departure

MINI_FEED = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"
NEAR_ISLAND = (43.24016, 76.9490)  # 4 m from island way 610, 18 m from the sidewalk
FAR_ISLAND = (43.24064, 76.9508)  # 4 m from island way 620, 71 m from the sidewalk
NEAR_B2 = (43.2449, 76.9451)
MONDAY_0758 = "2024-01-08T07:58"


@pytest.fixture(scope="module")
def planner() -> TransitPlanner:
    return TransitPlanner.from_gtfs(router_for("island_footway.osm.xml"), MINI_FEED)


def _way(planner: TransitPlanner, snap) -> int:
    return int(planner.network.graph.edge["osmid"][snap.edge])


def test_main_reach_follows_edge_directions():
    from scipy.sparse import csr_matrix

    # 0 <-> 1 <-> 2 is the main piece; 3 -> 0 only leaves it, 0 -> 4 only enters; 5 alone.
    rows, cols = [0, 1, 1, 2, 3, 0], [1, 0, 2, 1, 0, 4]
    m = csr_matrix((np.zeros(len(rows)), (rows, cols)), shape=(6, 6))  # zero costs: edges
    leaves, enters = main_reach(m, min_nodes=3)
    assert leaves.tolist() == [True, True, True, True, False, False]
    assert enters.tolist() == [True, True, True, False, True, False]


def test_a_wheelchair_end_skips_an_island_when_a_leavable_way_is_within_reach(planner):
    net, chair, walk = planner.network, get_profile("wheelchair_manual"), get_profile("walk")
    assert _way(planner, net.snap(NEAR_ISLAND, chair, "from")) == 610  # the nearest usable way
    for reverse in (False, True):
        assert _way(planner, net.snap(NEAR_ISLAND, chair, "from", leavable=True,
                                      reverse=reverse)) == 600  # fmt: skip
        # Walkers leave the island over the steps: it is no island for them.
        assert _way(planner, net.snap(NEAR_ISLAND, walk, "from", leavable=True,
                                      reverse=reverse)) == 610  # fmt: skip
        # No leavable way within the snap radius: the island's point, as before.
        assert _way(planner, net.snap(FAR_ISLAND, chair, "from", leavable=True,
                                      reverse=reverse)) == 620  # fmt: skip

    plan = planner.plan(NEAR_ISLAND, NEAR_B2, parse_departure(MONDAY_0758, tz=None), chair)
    assert plan.itineraries
    first = plan.itineraries[0].to_dict()["legs"][0]
    assert first["from"]["lat"] == pytest.approx(43.2400, abs=1e-6)  # on the sidewalk


def test_a_wheelchair_end_with_only_islands_within_reach_is_explained(planner):
    chair, when = get_profile("wheelchair_manual"), parse_departure(MONDAY_0758, tz=None)
    for origin, destination, end in ((FAR_ISLAND, NEAR_B2, "origin"),
                                     (NEAR_B2, FAR_ISLAND, "destination")):  # fmt: skip
        with pytest.raises(NoRouteError) as caught:
            planner.plan(origin, destination, when, chair)
        body = caught.value.to_dict()
        assert body.get("blocked_end") == end, body["message"]
        assert "steps" in body["message"], body["message"]
