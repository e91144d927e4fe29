"""The cost model's vectorised rules, read straight off the arrays."""

from __future__ import annotations

import numpy as np
import pytest
from routing_helpers import OSM_FIXTURES

from routing.cost import CostModel, get_profile
from routing.cost.model import BLOCK_KERB, BLOCK_STEPS, BLOCK_UPHILL, UNKNOWN_KERB
from routing.graph import attributes as at
from routing.graph.pipeline import load_graph


@pytest.fixture(scope="module")
def crossings():
    return load_graph(OSM_FIXTURES / "crossings.osm.xml")


def test_seconds_stay_real_while_cost_carries_penalties(crossings):
    walk = CostModel(get_profile("walk")).evaluate(crossings)
    blind = CostModel(get_profile("blind")).evaluate(crossings)
    c1 = crossings.edge["osmid"] == 301
    # The same unmarked crossing takes about the same real time, but costs the blind far more.
    assert blind.cost[c1].sum() > 10 * walk.cost[c1].sum()
    assert np.all(np.isfinite(blind.seconds)) and np.all(blind.seconds > 0)


def test_raised_kerb_blocks_only_wheelchairs(crossings):
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(crossings)
    walk = CostModel(get_profile("walk")).evaluate(crossings)
    c1 = crossings.edge["osmid"] == 301
    assert np.all(chair.blocked[c1] & BLOCK_KERB)
    assert np.all(np.isinf(chair.cost[c1]))
    assert np.all(np.isfinite(walk.cost[c1]))


def test_known_kerb_height_within_limit_passes(tmp_path):
    text = (OSM_FIXTURES / "crossings.osm.xml").read_text()
    text = text.replace(
        '<tag k="kerb" v="raised"/>', '<tag k="kerb" v="raised"/><tag k="kerb:height" v="0.02"/>'
    )
    path = tmp_path / "low_raised.osm"
    path.write_text(text)
    g = load_graph(path)
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    c1 = g.edge["osmid"] == 301
    assert np.all(np.isfinite(chair.cost[c1]))
    strict = CostModel(get_profile("wheelchair_manual", {"max_kerb_height": 0.01})).evaluate(g)
    assert np.all(np.isinf(strict.cost[c1]))


def test_unknown_kerb_flagged_on_crossing_without_kerb_tags(crossings):
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(crossings)
    c2 = (crossings.edge["osmid"] == 302) & (crossings.edge["kind"] == at.WAY_KIND["crossing"])
    assert c2.sum() == 2
    assert np.all(chair.unknown[c2] & UNKNOWN_KERB)


def test_steps_and_grades(tmp_path):
    steps = load_graph(OSM_FIXTURES / "steps.osm.xml")
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(steps)
    assert np.all(chair.blocked[steps.edge["osmid"] == 101] & BLOCK_STEPS)
    ramp = load_graph(OSM_FIXTURES / "ramp.osm.xml")
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(ramp)
    up = (ramp.edge["osmid"] == 400) & (ramp.edge["grade"] > 0)
    down = (ramp.edge["osmid"] == 400) & (ramp.edge["grade"] < 0)
    assert np.all(chair.blocked[up] & BLOCK_UPHILL) and np.all(chair.blocked[down] == 0)


def test_wheelchair_speed_falls_with_uphill_grade():
    model = CostModel(get_profile("wheelchair_manual"))
    speeds = model.speed(np.array([-0.02, 0.0, 0.04, 0.08]))
    assert speeds[1] == pytest.approx(0.9)
    assert speeds[3] == pytest.approx(0.9 * 0.4)
    assert speeds[0] >= speeds[2] > speeds[3]


def test_walk_speed_is_tobler_scaled_to_flat():
    model = CostModel(get_profile("walk"))
    flat, down5, up10 = model.speed(np.array([0.0, -0.05, 0.10]))
    assert flat == pytest.approx(1.33)
    assert down5 > flat > up10
