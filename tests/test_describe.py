"""Describing a route: the plain-Python look-ups of ``routing.instructions`` against the
numpy ones they stand in for, on the real extracts and on hand-placed points."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routing.confidence import (
    _CROSSING,
    _FIELDS,
    _FIELDS_SHIFT,
    _HEAD_KERB,
    _RAILS,
    EdgeFacts,
    _unpack,
)
from routing.graph import attributes as at
from routing.instructions import LANDMARK_RADIUS_M, LandmarkCells, StepTables


def _brute_answer(graph, lats, lons):
    """Per point, (metres, index) of the nearest landmark strictly within the radius (the
    lowest index of equally near ones) or None, by measuring every landmark."""
    points = graph.landmark_xy(graph.landmark_lat, graph.landmark_lon)
    diff = points[None] - graph.landmark_xy(lats, lons)[:, None]
    squared = (diff * diff).sum(axis=2)
    best = squared.argmin(axis=1)  # the first of equal minima: the lowest index
    least = squared[np.arange(len(best)), best]
    return [(float(np.sqrt(d)), int(i)) if d < LANDMARK_RADIUS_M**2 else None
            for d, i in zip(least.tolist(), best.tolist(), strict=True)]  # fmt: skip


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_landmark_cells_answer_as_measuring_every_landmark(city, request):
    graph = request.getfixturevalue(f"{city}_graph")
    cells = LandmarkCells(graph)
    rng = np.random.default_rng(3)
    n = 4000
    # Points 0-45 m from a landmark in every direction (many near the 30 m edge), and
    # points anywhere in the graph's extent.
    which = rng.integers(0, len(graph.landmark_lat), n)
    metres = np.concatenate([rng.uniform(0, 45, n // 2), rng.uniform(29.5, 30.5, n // 2)])
    angle = rng.uniform(0, 2 * np.pi, n)
    lat = graph.landmark_lat[which] + metres * np.cos(angle) / 111_195.0
    lon = graph.landmark_lon[which] + metres * np.sin(angle) / (
        111_195.0 * np.cos(np.radians(graph.landmark_lat[which])))
    lat = np.concatenate([lat, rng.uniform(graph.node_lat.min(), graph.node_lat.max(), n)])
    lon = np.concatenate([lon, rng.uniform(graph.node_lon.min(), graph.node_lon.max(), n)])
    got = cells.nearest(lat.tolist(), lon.tolist())
    want = _brute_answer(graph, lat, lon)
    assert got == want
    found = sum(a is not None for a in got)
    assert n // 2 < found < len(got)  # both kinds of answer are exercised


def test_landmark_cells_take_the_nearest_and_of_equals_the_first(helsinki_graph):
    g = helsinki_graph
    lat0, lon0 = float(np.mean(g.node_lat)), float(np.mean(g.node_lon))
    dy = 1.0 / 111_195.08  # degrees per metre north, and east (below)
    dx = dy / np.cos(np.radians(lat0))
    p, q = (lat0, lon0), (lat0, lon0 - 200 * dx)  # two places 200 m apart
    # Two landmarks on one spot 20 m north of p, one 15 m east of p; 29.99 m north of q
    # (in reach) and 30.01 m south of it (out of reach).
    marks = [(p[0] + 20 * dy, p[1]), (p[0] + 20 * dy, p[1]), (p[0], p[1] + 15 * dx),
             (q[0] + 29.99 * dy, q[1]), (q[0] - 30.01 * dy, q[1])]  # fmt: skip
    graph = dataclasses.replace(
        g, landmark_lat=np.array([m[0] for m in marks]),
        landmark_lon=np.array([m[1] for m in marks]),
        landmark_kind=np.array(["bus_stop"] * 5),
        landmark_name=np.array(list("abcde")))  # fmt: skip
    cells = LandmarkCells(graph)
    asked = [p, (p[0] + 5 * dy, p[1]), q, (q[0] - 0.02 * dy, q[1]), (q[0], q[1] + 100 * dx)]
    got = cells.nearest([a[0] for a in asked], [a[1] for a in asked])
    # p: east (15 m) before the pair (20 m); 5 m north of p: the pair (15 m; the first of
    # it) before east (15.8 m); q: the one 29.99 m north; 2 cm south of q: the one then
    # 29.99 m south; 100 m east of q: none.
    assert [None if a is None else a[1] for a in got] == [2, 0, 3, 4, None]
    assert [round(a[0], 2) for a in got[:4]] == [15.0, 15.0, 29.99, 29.99]
    assert got == _brute_answer(graph, np.array([a[0] for a in asked]),
                                np.array([a[1] for a in asked]))  # fmt: skip


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_edge_facts_keep_every_edges_crossing_and_kerb_facts(city, request):
    assert _FIELDS_SHIFT + sum(width for _, width, _ in _FIELDS) <= 32  # fits EdgeFacts.bits

    g = request.getfixturevalue(f"{city}_graph")
    table = EdgeFacts(g)
    e, head = g.edge, g.edge_v
    columns = [g.node["kerb"][head]] + [e[k] for k in (
        "crossing_kind", "crossing_built", "crossing_sound", "crossing_tactile",
        "crossing_kerb", "crossing_road_class")]  # fmt: skip
    want = np.stack([c.astype(np.int64) for c in columns], axis=1).tolist()
    bits = table.bits.tolist()
    assert [_unpack(b) for b in bits] == want
    assert [bool(b & _RAILS) for b in bits] == (e["rail_crossings"] > 0).tolist()
    assert [bool(b & _HEAD_KERB) for b in bits] == g.node["has_kerb"][head].tolist()
    whole = (e["kind"] == at.WAY_KIND["crossing"]) & (e["built"] | (e["crossing_share"] >= 0.999))
    assert [bool(b & _CROSSING) for b in bits] == whole.tolist()
    assert len({row[1] for row in want}) >= 4  # the check compares varied values


def test_wheelchair_limited_ways_are_warned_for_wheelchairs_only(helsinki_router):
    """Neither extract tags wheelchair=limited, so two of a route's ways are marked here."""
    import copy

    from routing.cost import get_profile

    g = helsinki_router.graph
    route = helsinki_router.route((60.1710, 24.9414), (60.1688, 24.9320),
                                  get_profile("wheelchair_manual"))  # fmt: skip
    pieces = helsinki_router.network.path(
        helsinki_router.network.snap((60.1710, 24.9414), get_profile("wheelchair_manual"), "from"),
        helsinki_router.network.snap((60.1688, 24.9320), get_profile("wheelchair_manual"), "to"),
        get_profile("wheelchair_manual")).pieces  # fmt: skip
    assert [p.edge for p in pieces] == route.edges and len(pieces) > 6
    limited = g.edge["wheelchair_limited"].copy()
    limited[[pieces[2].edge, pieces[5].edge]] = True
    marked = copy.copy(helsinki_router)
    marked.graph = dataclasses.replace(g, edge={**g.edge, "wheelchair_limited": limited})
    for name, warned in (("wheelchair_manual", True), ("walk", False)):
        pg = helsinki_router.network.costs(get_profile(name))
        got = [w for w in marked._warnings(pg, pieces) if w["code"] == "wheelchair_limited"]
        if not warned:
            assert got == []
            continue
        first = pieces[2].geometry[0]
        assert got == [{"code": "wheelchair_limited",
                        "message": "2 way(s) are marked wheelchair=limited.",
                        "location": [float(np.round(first[0], 6)),
                                     float(np.round(first[1], 6))]}]  # fmt: skip


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_step_tables_keep_every_edges_step_facts(city, request):
    g = request.getfixturevalue(f"{city}_graph")
    e, n, tail, head = g.edge, g.node, g.edge_u, g.edge_v
    edges = np.arange(g.n_edges)
    want = [e["kind"], e["street_side"], e["built"], e["rail_crossings"] > 0,
            n["crossing_kind"][tail], np.where(n["has_kerb"][head], n["kerb"][head], 0),
            n["elevator"][head]]  # fmt: skip
    got = StepTables(g).unpack(edges)
    assert got == [column.astype(np.int64).tolist() for column in want]
    assert len(set(got[0])) >= 7 and len(set(got[1])) == 5  # varied values compared


@pytest.mark.parametrize(("table", "column", "too_big"), [
    ("EdgeFacts", "crossing_road_class", 16),  # four bits are kept for it
    ("StepTables", "street_side", 8),  # three bits are kept for it
])  # fmt: skip
def test_packed_tables_refuse_a_value_they_cannot_keep(helsinki_graph, table, column, too_big):
    edge = dict(helsinki_graph.edge)
    edge[column] = edge[column].copy()
    edge[column][3] = too_big
    make = {"EdgeFacts": EdgeFacts, "StepTables": StepTables}[table]
    with pytest.raises(ValueError, match=column):
        make(dataclasses.replace(helsinki_graph, edge=edge))
