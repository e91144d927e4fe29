"""Rules of the sidewalk-and-crossing network (routing.graph.sidewalks), one fixture each."""

from __future__ import annotations

import math

import numpy as np
import pytest
from routing_helpers import OSM_FIXTURES, router_for

from routing.cost import CostModel, get_profile
from routing.cost.model import BLOCK_CARRIAGEWAY, BLOCK_KERB, BLOCK_UPHILL
from routing.graph import attributes as at
from routing.graph.build import build_walk_graph, ramp_code
from routing.graph.compiled import CompiledGraph
from routing.graph.osm_import import read_osm
from routing.graph.pipeline import load_graph
from routing.tristate import NO, UNKNOWN, YES

CROSSING = at.WAY_KIND["crossing"]


@pytest.fixture(scope="module")
def junctions():
    return router_for("centreline_junctions.osm.xml")


@pytest.fixture(scope="module")
def mapped():
    return load_graph(OSM_FIXTURES / "mapped_sidewalks.osm.xml")


def _crossings(g, name):
    names = g.names[g.edge_name]
    return np.flatnonzero((g.edge["kind"] == CROSSING) & (names == name))


def test_centreline_becomes_two_offset_sidewalks(junctions):
    g = junctions.graph
    avenue = (g.names[g.edge_name] == "Abai Avenue") & (g.edge["kind"] == at.WAY_KIND["sidewalk"])
    # 3 pieces x 2 sides x 2 directions; no edge walks the centreline.
    assert avenue.sum() == 12
    assert g.edge["built"][avenue].all()
    assert (g.edge["sidewalk"][avenue] == at.SIDEWALK_UNKNOWN).all()  # assumed, not mapped
    assert set(g.edge["street_side"][avenue].tolist()) == {1, 3}  # north and south sides
    lats = np.concatenate([g.edge_geometry(e)[1:-1, 0] for e in np.flatnonzero(avenue)])
    # 4 lanes: 4 x 3 m / 2 + 1.5 m = 7.5 m from the centreline at lat 43.2400.
    offsets = np.abs(lats - 43.2400) * 111_195
    assert offsets == pytest.approx(np.full(len(offsets), 7.5), abs=0.3)


def test_junction_crossings_carry_road_facts_and_signals(junctions):
    g = junctions.graph
    avenue = _crossings(g, "Abai Avenue")
    # Junction A: two avenue arms; junction B: two avenue arms. 4 crossings x 2 directions.
    assert len(avenue) == 8
    assert (g.edge["crossing_road_class"][avenue] == 5).all()
    assert (g.edge["lanes"][avenue] == 4).all() and (g.edge["maxspeed"][avenue] == 60).all()
    at_a = avenue[g.edge["osmid"][avenue] == 2]
    at_b = avenue[g.edge["osmid"][avenue] == 3]
    assert (g.edge["crossing_kind"][at_a] == at.CROSSING_SIGNALS).all()
    assert (g.edge["crossing_kind"][at_b] == at.CROSSING_UNKNOWN).all()
    assert g.edge["crossing_built"][at_b].all()
    assert (g.edge["crossing_kerb"][avenue] == at.KERB_UNKNOWN).all()


def test_blind_prefers_the_signalled_junction(junctions):
    origin, destination = (43.24007, 76.9335), (43.23993, 76.9335)
    crossed_at = {}
    for name in ("walk", "blind"):
        route = junctions.route(origin, destination, get_profile(name))
        g = junctions.graph
        cross = [e for e in route.edges if g.edge["kind"][e] == CROSSING]
        assert len(cross) == 1
        crossed_at[name] = int(g.edge["osmid"][cross[0]])
        steps = [s for s in route.steps if s.code == "cross"]
        assert len(steps) == 1 and steps[0].params["road"] == "Abai Avenue"
    assert crossed_at == {"walk": 3, "blind": 2}


def test_separate_sidewalks_take_the_carriageway_from_blind_and_wheelchair(mapped):
    g = mapped
    park = (g.names[g.edge_name] == "Park Road") & (g.edge["kind"] == at.WAY_KIND["street"])
    assert park.sum() > 0 and (g.edge["sidewalk"][park] == at.SIDEWALK_SEPARATE).all()
    for name in ("blind", "wheelchair_manual", "low_vision"):
        costs = CostModel(get_profile(name)).evaluate(g)
        assert (costs.blocked[park] & BLOCK_CARRIAGEWAY).all()
    walk = CostModel(get_profile("walk")).evaluate(g)
    assert np.isfinite(walk.cost[park]).all()
    assert (walk.cost[park] > 1.5 * walk.seconds[park]).all()  # priced as carriageway


def test_sidewalk_mapped_beside_an_untagged_road_is_detected(mapped):
    g = mapped
    lake = (g.names[g.edge_name] == "Lake Road") & g.edge["built"]
    north = lake & (g.edge["street_side"] == 1)
    south = lake & (g.edge["street_side"] == 3)
    assert (g.edge["sidewalk"][north] == at.SIDEWALK_SEPARATE).all()
    assert (g.edge["kind"][north] == at.WAY_KIND["street"]).all()
    assert (g.edge["sidewalk"][south] == at.SIDEWALK_UNKNOWN).all()
    assert (g.edge["kind"][south] == at.WAY_KIND["sidewalk"]).all()


def test_crossing_no_builds_no_crossing(mapped):
    g = mapped
    crossing = g.edge["kind"] == CROSSING
    assert (crossing & (g.edge["osmid"] == 202)).sum() == 2  # signals: built
    assert (crossing & (g.edge["osmid"] == 220)).sum() == 0  # crossing=no on the road node
    assert (crossing & (g.edge["osmid"] == 13)).sum() == 0
    assert at.crossing_kind({"crossing": "no"}) == at.CROSSING_NONE


def test_raised_curb_blocks_wheelchairs_only(mapped):
    g = mapped
    c240 = (g.edge["kind"] == CROSSING) & (g.edge["osmid"] == 240)
    assert c240.sum() == 2 and (g.edge["crossing_kerb"][c240] == at.KERB_RAISED).all()
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    walk = CostModel(get_profile("walk")).evaluate(g)
    assert (chair.blocked[c240] & BLOCK_KERB).all()
    assert np.isfinite(walk.cost[c240]).all()
    assert at.kerb_code({"curb": "regular"})[0] == at.KERB_RAISED
    assert at.kerb_code({"curb": "flush;lowered"})[0] == at.KERB_LOWERED


def test_tram_crossing_is_a_priced_rail_crossing(mapped):
    g = mapped
    tram = (g.edge["kind"] == CROSSING) & g.edge["rails"]
    assert tram.sum() == 2
    assert (g.edge["crossing_road_class"][tram] == 0).all()
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    walk = CostModel(get_profile("walk")).evaluate(g)
    extra = chair.cost[tram] - walk.cost[tram] * 0  # the chair pays rail_crossing_s on top
    assert (extra >= get_profile("wheelchair_manual").rail_crossing_s).all()
    assert (walk.cost[tram] < 60).all()


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"highway": "steps", "ramp:wheelchair": "separate"}, NO),
        ({"highway": "steps", "ramp": "yes", "ramp:wheelchair": "no"}, NO),
        ({"highway": "steps", "ramp": "yes", "ramp:bicycle": "yes"}, UNKNOWN),
        ({"highway": "steps", "ramp": "yes"}, YES),
        ({"highway": "steps", "ramp:wheelchair": "yes"}, YES),
    ],
)
def test_ramp_rule(tags, expected):
    assert ramp_code(tags) == expected


class _HillInTheMiddle:
    """A synthetic DEM: flat, with one 100 m stretch rising 12 m (12 %) at 500..600 m."""

    def __init__(self, lon0: float):
        self.lon0 = lon0

    def sample(self, lat, lon):
        x = (np.asarray(lon) - self.lon0) * 111_195 * math.cos(math.radians(43.24))
        return np.clip(x - 500.0, 0.0, 100.0) * 0.12


def test_steep_stretch_inside_a_long_edge_decides(tmp_path):
    path = tmp_path / "long.osm"
    path.write_text(
        '<osm version="0.6">'
        '<node id="1" lat="43.24" lon="76.9"/><node id="2" lat="43.24" lon="76.9147"/>'
        '<way id="9"><nd ref="1"/><nd ref="2"/><tag k="highway" v="footway"/>'
        '<tag k="surface" v="asphalt"/></way></osm>'
    )
    g = CompiledGraph.from_networkx(
        build_walk_graph(read_osm(path), elevation=_HillInTheMiddle(76.9), grade_window_m=90.0)
    )
    forward = int(np.flatnonzero(g.node_osmid[g.edge_u] == 1)[0])
    # 1.2 km rising 12 m: 1 % on average, but 12 % over the steep 100 m.
    assert g.edge["grade"][forward] == pytest.approx(0.01, abs=0.002)
    assert g.edge["grade_max_up"][forward] == pytest.approx(0.12, abs=0.01)
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    assert chair.blocked[forward] & BLOCK_UPHILL


def test_crossing_way_without_a_shared_node_still_crosses_the_road(mapped):
    g = mapped
    c250 = g.edge["osmid"] == 250
    assert c250.any() and (g.edge["kind"][c250] == CROSSING).all()
    assert (g.edge["crossing_road_class"][c250] == 2).all()
    assert set(g.names[g.edge_name[c250]].tolist()) == {"Lake Road"}
    assert (g.edge["crossing_kind"][c250] == at.CROSSING_MARKED).all()


def _graph_from(tmp_path, xml: str) -> CompiledGraph:
    path = tmp_path / "rules.osm"
    path.write_text(f'<osm version="0.6">{xml}</osm>')
    return CompiledGraph.from_networkx(build_walk_graph(read_osm(path)))


# 0.0001 deg of latitude is 11.1 m; of longitude at 60 N, 5.6 m.
_TRAM_BESIDE_ROAD = (
    '<node id="1" lat="60.0000" lon="24.0000"/><node id="2" lat="60.0000" lon="24.0040"/>'
    '<node id="7" lat="60.0000" lon="24.0010"/><node id="8" lat="60.0000" lon="24.0030"/>'
    '<way id="10"><nd ref="1"/><nd ref="7"/><nd ref="8"/><nd ref="2"/>'
    '<tag k="highway" v="tertiary"/>'
    '<tag k="name" v="Tram Street"/></way>'
    # a tram line 5 m north of the centreline, where the sidewalk would be built
    '<node id="3" lat="60.000045" lon="24.0011"/><node id="4" lat="60.000045" lon="24.0029"/>'
    '<way id="11"><nd ref="3"/><nd ref="4"/><tag k="railway" v="tram"/></way>'
    # a footway from the north over the tram line to the road's end: no shared node
    '<node id="5" lat="60.0003" lon="24.0020"/><node id="6" lat="60.00002" lon="24.0020"/>'
    '<way id="12"><nd ref="5"/><nd ref="6"/><tag k="highway" v="footway"/></way>'
)


def test_walkway_over_a_tram_line_is_a_priced_announced_rail_crossing(tmp_path):
    g = _graph_from(tmp_path, _TRAM_BESIDE_ROAD)
    foot = g.edge["osmid"] == 12
    assert foot.any() and (g.edge["rail_crossings"][foot] == 1).all()
    walk = CostModel(get_profile("walk")).evaluate(g)
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    rail_s = get_profile("wheelchair_manual").rail_crossing_s
    assert (chair.cost[foot] - walk.cost[foot] * 1.6 >= rail_s - 1).all()
    from routing.instructions import render

    text = render("cross", {"road": "", "road_class": "path", "control": "unknown",
                            "rails": True, "tactile": "unknown", "kerb": "unknown"})  # fmt: skip
    assert text.startswith("Cross the tram or railway tracks")


def test_sidewalk_beside_off_centre_tracks_is_built_beyond_them(tmp_path):
    g = _graph_from(tmp_path, _TRAM_BESIDE_ROAD)
    side = (g.edge["osmid"] == 10) & g.edge["built"] & (g.edge["street_side"] == 1)  # north
    assert side.any()
    lat = np.concatenate([g.edge_geometry(e)[1:-1, 0] for e in np.flatnonzero(side)])
    # centreline 60.0, tracks 5 m north: the sidewalk lies 2.5 m beyond them (7.5 m).
    assert lat.size and (lat > 60.0 + 7.0 / 111_195).all()
    assert (g.edge["rail_crossings"][side] == 0).all()


def test_corner_never_lies_across_a_road_that_misses_the_node(tmp_path):
    g = _graph_from(
        tmp_path,
        # a T of residential streets 4 m north of a primary road they do not join: the
        # corner south of the T would be 5 m south of it, on the primary's centreline
        '<node id="1" lat="60.0000" lon="24.0000"/><node id="2" lat="60.0000" lon="24.0040"/>'
        '<way id="20"><nd ref="1"/><nd ref="2"/><tag k="highway" v="primary"/></way>'
        '<node id="3" lat="60.000036" lon="24.0020"/><node id="4" lat="60.0010" lon="24.0020"/>'
        '<node id="5" lat="60.000036" lon="24.0030"/>'
        '<way id="21"><nd ref="3"/><nd ref="4"/><tag k="highway" v="residential"/></way>'
        '<way id="22"><nd ref="3"/><nd ref="5"/><tag k="highway" v="residential"/></way>'
        '<node id="6" lat="60.000036" lon="24.0010"/>'
        '<way id="23"><nd ref="3"/><nd ref="6"/><tag k="highway" v="residential"/></way>',
    )
    side = np.isin(g.edge["osmid"], [21, 22, 23])
    lat = np.concatenate([g.edge_geometry(e)[:, 0] for e in np.flatnonzero(side)])
    assert (lat > 60.0).all()  # no walkway of the side street reaches across the primary


def test_curb_in_the_middle_of_a_footway_is_kept(tmp_path):
    g = _graph_from(
        tmp_path,
        '<node id="1" lat="60.0" lon="24.0"/><node id="2" lat="60.0" lon="24.0005">'
        '<tag k="curb" v="regular"/></node><node id="3" lat="60.0" lon="24.001"/>'
        '<way id="30"><nd ref="1"/><nd ref="2"/><nd ref="3"/><tag k="highway" v="footway"/>'
        "</way>",
    )
    kerb = np.flatnonzero(g.node_osmid == 2)
    assert kerb.size and g.node["kerb"][kerb[0]] == at.KERB_RAISED
    chair = CostModel(get_profile("wheelchair_manual")).evaluate(g)
    assert (chair.blocked[g.edge_v == kerb[0]] & BLOCK_KERB).all()
