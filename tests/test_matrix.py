"""Travel matrices: values from the street search, and a reason for every blocked pair."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import router_for

from routing.cost import get_profile
from routing.matrix import REASONS, travel_matrix

LOW, HIGH = (43.2400, 76.9391), (43.2400, 76.9421)  # below and above the ramp
ISLAND = (43.2430, 76.9406)
FAR = (43.3000, 76.9400)  # ~6.7 km north: off the graph's area


@pytest.fixture(scope="module")
def network():
    return router_for("ramp_island.osm.xml").network


def _reasons(found):
    return [[REASONS[r] if r >= 0 else None for r in row] for row in found.reason.tolist()]


def test_every_blocked_pair_says_why(network):
    points = [LOW, HIGH, ISLAND, FAR]
    found = travel_matrix(network, points, points, get_profile("wheelchair_manual"))
    assert _reasons(found) == [
        [None, "blocked_for_profile", "not_connected", "outside_area"],
        [None, None, "not_connected", "outside_area"],
        ["not_connected", "not_connected", None, "outside_area"],
        ["outside_area"] * 4,
    ]
    assert found.usable[1, 0] and found.values.seconds[1, 0] > 0
    assert found.sources[3].reason == "outside_area" and found.sources[3].snap is None


def test_walking_uses_the_ramp_both_ways(network):
    found = travel_matrix(network, [LOW, HIGH], [LOW, HIGH], get_profile("walk"))
    assert found.usable.all()
    assert found.values.metres[0, 1] == pytest.approx(found.values.metres[1, 0])
    # Tobler: walking up a 9% grade is slower than walking down it.
    assert found.values.seconds[0, 1] > found.values.seconds[1, 0]


def test_an_override_changes_the_answer(network):
    strict = travel_matrix(network, [LOW], [HIGH], get_profile("wheelchair_manual"))
    loose = travel_matrix(network, [LOW], [HIGH],
                          get_profile("wheelchair_manual", {"max_uphill": 0.1}))  # fmt: skip
    assert not strict.usable[0, 0] and loose.usable[0, 0]


def test_body_has_nulls_where_blocked(network):
    body = travel_matrix(network, [LOW, HIGH], [HIGH], get_profile("wheelchair_manual")).to_dict()
    assert body["seconds"][0] == [None] and body["reason"][0] == ["blocked_for_profile"]
    assert isinstance(body["seconds"][1][0], float) and body["usable"] == [[False], [True]]
    assert np.isclose(body["targets"][0]["snapped"]["lat"], HIGH[0], atol=1e-4)
