"""Import of real and hand-written OSM files."""

from __future__ import annotations

import bz2
import shutil

import numpy as np
import pytest
from routing_helpers import OSM_FIXTURES

from routing.errors import DataError
from routing.graph import attributes as at
from routing.graph.osm_import import read_osm
from routing.graph.pipeline import load_graph
from routing.tristate import UNKNOWN, YES


def test_almaty_import_reports_dangling_references(shared_data):
    data = read_osm(shared_data / "almaty/osm/almaty-2012.osm.pbf")
    report = data.report
    assert report["nodes_read"] == 75_288 and report["ways_read"] == 13_282
    # The bbox cut leaves references to absent nodes: counted, and the rest of each way kept.
    assert report["dangling_node_refs"] > 0
    assert report["ways_trimmed"] > 0
    assert report["walkable_ways"] == report["ways_dropped"] + len({w.id for w in data.ways})
    used = np.unique(np.concatenate([w.nodes for w in data.ways]))
    assert np.isin(used, data.node_ids).all()


def test_helsinki_accessibility_tags_reach_the_graph(helsinki_graph):
    g = helsinki_graph
    kind = g.edge["kind"]
    assert (kind == at.WAY_KIND["steps"]).sum() > 50
    assert (kind == at.WAY_KIND["crossing"]).sum() > 100
    # Crossing nodes on roads became crossing edges (two directions each).
    mapped = (kind == at.WAY_KIND["crossing"]) & ~g.edge["crossing_built"] & g.edge["built"]
    assert mapped.sum() > 2 * 300
    assert (g.edge["crossing_sound"][mapped] == YES).sum() > 2 * 10
    assert ((g.edge["crossing_sound"] == YES) & (kind == at.WAY_KIND["crossing"])).sum() > 10
    assert (g.edge["crossing_tactile"] != UNKNOWN).sum() > 0
    assert g.node["elevator"].sum() > 0
    assert (g.edge["wheelchair"] != UNKNOWN).sum() > 0


def test_osm_xml_and_bz2_give_the_same_graph(tmp_path):
    plain = OSM_FIXTURES / "crossings.osm.xml"
    packed = tmp_path / "crossings.osm.bz2"
    packed.write_bytes(bz2.compress(plain.read_bytes()))
    dot_osm = tmp_path / "crossings.osm"
    dot_osm.write_bytes(plain.read_bytes())
    a = load_graph(plain)
    for other in (load_graph(packed), load_graph(dot_osm)):
        assert a.n_edges == other.n_edges > 0
        assert np.array_equal(a.edge["osmid"], other.edge["osmid"])
        assert np.allclose(a.edge["length"], other.edge["length"])


def test_way_split_at_fact_nodes(tmp_path):
    g = load_graph(OSM_FIXTURES / "crossings.osm.xml")
    # Crossing way 301 is cut at both kerb nodes and at the road: 4 pieces, 2 directions,
    # plus the crossing edge built across the road where it meets it (2 directions).
    way = g.edge["osmid"] == 301
    assert way.sum() == 10
    crossing = way & (g.edge["kind"] == at.WAY_KIND["crossing"])
    assert crossing.sum() == 2 and g.edge["built"][crossing].all()
    assert g.edge["crossing_road_class"][crossing].tolist() == [5, 5]
    shares = g.edge["crossing_share"][way & ~crossing]
    assert shares.sum() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.osm.pbf", None, "not found"),
        ("roads.txt", b"x", "unsupported"),
        ("broken.osm", b"<osm><node id='1' lat='x'", "cannot read"),
    ],
)
def test_bad_osm_files_are_named(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_osm(path)
    assert str(path) in exc.value.message and message in exc.value.message


def test_fixture_copy_is_read_from_any_folder(tmp_path):
    target = tmp_path / "steps.osm.xml"
    shutil.copy(OSM_FIXTURES / "steps.osm.xml", target)
    assert read_osm(target).report["walkable_ways"] == 4
