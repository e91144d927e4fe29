"""The table-driven cost model gives bit-identical arrays to the whole-array form it replaced.

``reference_model.py`` keeps the earlier evaluation; both run on the real Almaty and
Helsinki graphs and on every hand-written fixture, for every profile and for overrides that
switch each rule on, off or to a new threshold (set on the profile value directly, so a
rule can be tried on a profile that does not expose it as a request parameter).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from reference_model import ReferenceCostModel
from routing_helpers import OSM_FIXTURES

from routing.cost import PROFILE_NAMES, CostModel, get_profile
from routing.cost.profiles import PROFILES
from routing.graph.pipeline import load_graph

OVERRIDES = [
    ("wheelchair_manual", {"max_uphill": 0.07, "max_kerb_height": 0.05, "min_width": 1.2}),
    ("wheelchair_electric", {"speed_mps": 1.4, "allow_loose_surface": True}),
    ("walk", {"allow_steps": False, "max_step_count": 10, "max_downhill": 0.1}),
    ("walk", {"max_uphill": 0.05, "rough_surface_reluctance": 3.0}),
    ("reduced_mobility", {"speed_mps": 0.6, "stairs_reluctance": 20.0}),
    ("blind", {"speed_mps": 0.9}),
]
CASES = [(name, {}) for name in PROFILE_NAMES] + OVERRIDES


def _assert_same(graph):
    for name, overrides in CASES:
        profile = replace(PROFILES[name], **overrides)
        new = CostModel(profile).evaluate(graph)
        old = ReferenceCostModel(profile).evaluate(graph)
        for field in ("seconds", "cost", "blocked", "unknown", "node_usable"):
            a, b = getattr(new, field), getattr(old, field)
            assert a.dtype == b.dtype, (name, overrides, field)
            assert np.array_equal(a, b), (name, overrides, field)


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_tables_equal_the_whole_array_model_on_real_graphs(request, city):
    graph = request.getfixturevalue(f"{city}_graph")
    _assert_same(graph)
    # The overrides are not idle: each changes some costs against its base profile.
    for name, overrides in OVERRIDES:
        base = CostModel(get_profile(name)).evaluate(graph).cost
        changed = CostModel(replace(PROFILES[name], **overrides)).evaluate(graph).cost
        assert not np.array_equal(base, changed), (name, overrides)


@pytest.mark.parametrize("fixture", sorted(p.name for p in OSM_FIXTURES.glob("*.osm.xml")))
def test_tables_equal_the_whole_array_model_on_fixtures(fixture):
    _assert_same(load_graph(OSM_FIXTURES / fixture))
