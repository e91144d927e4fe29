"""Isochrones: every node reached in time is inside, nothing much farther is, holes exist;
the bounded search equals the unbounded one within the limit; the cells of every edge hold
where it runs; the GeoJSON text equals the GeoJSON."""

from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from routing_helpers import router_for

from routing.cost import get_profile
from routing.isochrone import (
    CELL_M,
    Contour,
    Isochrone,
    _bound_needed,
    _search_state,
    cell_index,
    isochrone,
    reach_tree,
)
from routing.snapping import EdgeSampler, Snap

# How far the area may reach beyond a reached street: a sample lies up to half a cell
# diagonal from its cell's centre, the spread adds one cell diagonal, and the contour may
# pass up to half a cell diagonal beyond that: 2 cell diagonals in all.
BAND_M = 2 * CELL_M * np.sqrt(2)


def _shape(contour):
    return shapely.MultiPolygon([shapely.Polygon(r[0], r[1:]) for r in contour.polygons])


def _check_contour(net, profile, tree, contour):
    g = net.graph
    limit = contour.minutes * 60
    area = _shape(contour)
    assert area.is_valid
    lonlat = np.stack([g.node_lon, g.node_lat], axis=1)
    inside = shapely.covers(area, shapely.points(lonlat))
    reached = tree.seconds <= limit
    # Every node reached within the limit is inside.
    assert inside[reached].all()
    # A node inside is reached within one more edge, or lies in the band of such an edge
    # (an unconnected fragment a few metres beside a reached street).
    cost = net.costs(profile).costs.cost
    leaving = np.flatnonzero(np.isfinite(cost) & reached[g.edge_u])
    one_more = np.zeros(g.n_nodes, dtype=bool)
    one_more[g.edge_v[leaving]] = True
    suspects = np.flatnonzero(inside & ~reached & ~one_more)
    if len(suspects):
        lines = shapely.MultiLineString([net.projection.forward(*g.edge_geometry(e).T)
                                         for e in leaving.tolist()])  # fmt: skip
        xy = net.projection.forward(g.node_lat[suspects], g.node_lon[suspects])
        distance = shapely.distance(lines, shapely.points(xy))
        assert (distance <= BAND_M).all(), (suspects[distance > BAND_M], distance.max())
    return area, int(reached.sum())


@pytest.mark.parametrize(("city", "point"), [("almaty", (43.2380, 76.9455)),
                                             ("helsinki", (60.1699, 24.9384))])  # fmt: skip
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_contours_hold_what_is_reached_and_little_else(request, city, point, profile_name):
    net = request.getfixturevalue(f"{city}_router").network
    profile = get_profile(profile_name)
    origin = net.snap(point, profile)
    found = isochrone(net, origin, profile, [5, 10, 20])
    assert [c.minutes for c in found.contours] == [20, 10, 5]
    tree = net.tree([origin], profile, parents=False)  # the isochrone's own search
    areas = []
    for contour in found.contours:
        area, reached = _check_contour(net, profile, tree, contour)
        assert reached > 0
        areas.append(area)
    # Nested: a longer limit covers a shorter one's area.
    assert areas[0].buffer(1e-9).covers(areas[1]) and areas[1].buffer(1e-9).covers(areas[2])


def test_walk_contour_has_holes_and_is_no_hull(almaty_router):
    net = almaty_router.network
    profile = get_profile("walk")
    found = isochrone(net, net.snap((43.2380, 76.9455), profile), profile, [30])
    area = _shape(found.contours[0])
    holes = sum(len(p.interiors) for p in area.geoms)
    assert holes > 0
    assert area.area < 0.8 * area.convex_hull.area


def test_uphill_ramp_is_out_of_reach_but_downhill_is_not():
    net = router_for("ramp_island.osm.xml").network
    profile = get_profile("wheelchair_manual")
    low, high = (43.2400, 76.9391), (43.2400, 76.9421)
    top = shapely.Point(76.9412, 43.2400)  # node 2, the top of the ramp
    bottom = shapely.Point(76.9400, 43.2400)  # node 1
    up = _shape(isochrone(net, net.snap(low, profile), profile, [30]).contours[0])
    down = _shape(isochrone(net, net.snap(high, profile), profile, [30]).contours[0])
    assert up.covers(bottom) and not up.covers(top)
    assert down.covers(top) and down.covers(bottom)
    island = shapely.Point(76.9406, 43.2430)
    assert not up.covers(island) and not down.covers(island)


def test_geojson_rings_are_closed_and_oriented(almaty_router):
    net = almaty_router.network
    profile = get_profile("blind")
    body = isochrone(net, net.snap((43.2380, 76.9455), profile), profile, [15]).to_geojson()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 1
    feature = body["features"][0]
    assert feature["properties"] == {"minutes": 15.0, "profile": "blind", "mode": "walk"}
    for polygon in feature["geometry"]["coordinates"]:
        for k, ring in enumerate(polygon):
            ring = np.array(ring)
            assert np.array_equal(ring[0], ring[-1]) and len(ring) >= 4
            x, y = ring[:, 0], ring[:, 1]
            signed = np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1])
            assert (signed > 0) == (k == 0)  # RFC 7946: outer counter-clockwise


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_bounded_search_is_the_unbounded_one_within_the_limit(request, city, profile_name):
    net = request.getfixturevalue(f"{city}_router").network
    profile = get_profile(profile_name)
    pg = net.costs(profile)
    nodes = np.flatnonzero(pg.costs.node_usable)
    grew = False
    for node in np.random.default_rng(11).choice(nodes, 5, replace=False).tolist():
        origin = net.at_node(node)
        full = net.tree([origin], profile, parents=False)
        scipy_cost = net.tree([origin], profile).cost
        assert np.allclose(full.cost, scipy_cost, rtol=1e-12, atol=0, equal_nan=True)
        links = [(o.node, o.seconds) for o in net.offsets(profile, origin)]
        for limit in (300.0, 1200.0):
            _search_state(pg).factor = 1.0  # from the tightest bound: it has to grow
            tree = reach_tree(net, [origin], profile, limit)
            grew |= tree.limit > limit
            within = full.seconds <= limit
            assert np.array_equal(tree.seconds <= limit, within)
            for got, want in ((tree.cost, full.cost), (tree.seconds, full.seconds),
                              (tree.metres, full.metres)):  # fmt: skip
                assert np.array_equal(got[within], want[within])
            # The bound it says it needs is the smallest complete one.
            needed = _bound_needed(pg, tree, links, limit)
            assert np.isfinite(needed) and needed <= tree.limit
            at = net.tree([origin], profile, limit=needed, parents=False)
            assert np.isfinite(_bound_needed(pg, at, links, limit))
            if needed > 0:
                below = net.tree([origin], profile, limit=needed * (1 - 1e-9), parents=False)
                assert not np.isfinite(_bound_needed(pg, below, links, limit))
    if profile_name == "wheelchair_manual":
        assert grew  # penalties make cost outgrow seconds: the bound was raised


def test_cells_of_each_edge_are_those_it_passes_through(helsinki_router):
    """Against points every metre: each run's cell holds a point of its edge, no earlier
    along the edge (either way) than the run says; every cell the edge passes through is
    a run's cell or beside one (the spread covers it)."""
    net = helsinki_router.network
    index, sampler = cell_index(net), net.sampler
    edges = np.flatnonzero(sampler.sampled)
    dense = EdgeSampler(net.graph, net.projection, step_m=1.0, sampled=sampler.sampled)
    pts, seg, which = dense.samples(edges)
    edge = edges[which]
    frac = (dense.seg_along[seg] + np.hypot(*(pts - dense.seg_a[seg]).T)) / dense.edge_len[edge]
    key = edge * 2**32 + index.cell_of(pts[:, 0], pts[:, 1])
    keys, inverse = np.unique(key, return_inverse=True)
    first, last = np.full(len(keys), 2.0), np.full(len(keys), -1.0)
    np.minimum.at(first, inverse, frac)
    np.maximum.at(last, inverse, frac)
    counts = index.run_count[edges]
    run_edge = np.repeat(edges, counts)
    runs = np.repeat(index.run_start[edges] - np.cumsum(counts) + counts, counts)
    runs += np.arange(len(runs))
    run_key = run_edge * 2**32 + index.run_cell[runs]
    at = np.minimum(np.searchsorted(keys, run_key), len(keys) - 1)
    found = keys[at] == run_key
    # A run no metre point falls in clips its cell's corner: the cell and the line meet.
    for e, cell in zip(run_edge[~found].tolist(), index.run_cell[runs[~found]].tolist(),
                       strict=True):  # fmt: skip
        row, col = divmod(cell, index.width)
        x, y = index.x0 + col * CELL_M, index.y0 + row * CELL_M
        line = shapely.LineString(net.projection.forward(*net.graph.edge_geometry(e).T))
        assert line.intersects(shapely.box(x, y, x + CELL_M, y + CELL_M))
    assert found.mean() > 0.99
    runs, at = runs[found], at[found]
    slack = 1.5 / dense.edge_len[run_edge[found]]  # the metre points' own step
    assert (index.enter[2 * runs] / 65535 >= first[at] - slack).all()
    assert (index.enter[2 * runs + 1] / 65535 >= 1.0 - last[at] - slack).all()
    run_keys = np.unique(run_key)
    beside = np.zeros(len(keys), dtype=bool)
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            moved = keys + dy * index.width + dx
            hit = np.minimum(np.searchsorted(run_keys, moved), len(run_keys) - 1)
            beside |= run_keys[hit] == moved
    assert beside.all()


def test_geojson_text_is_the_geojson(helsinki_router):
    ring = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    hole = np.array([[0.2, 0.1], [0.5, 0.5], [0.6, 0.1], [0.2, 0.1]])
    far = np.array([[-179.9999996, -0.0000004], [-179.5, -89.25], [-178.0, 1e-7],
                    [-179.9999996, -0.0000004]])  # fmt: skip
    # Two polygons (the first with a hole), one polygon, and none.
    points = np.concatenate([ring + [76.9, 43.2], hole + [76.9, 43.2], far])
    contours = [Contour(20.0, points, np.array([0, 4, 8, 12]), np.array([0, 2, 3])),
                Contour(10.0, far, np.array([0, 4]), np.array([0, 1])),
                Contour(5.0, np.zeros((0, 2)), np.zeros(1, dtype=np.int64),
                        np.zeros(1, dtype=np.int64))]  # fmt: skip
    origin = Snap(edge=0, t=0.5, lat=43.2, lon=76.9, distance_m=1.25)
    found = Isochrone(get_profile("walk"), origin, "walk", contours)
    text = found.to_json()
    assert json.loads(text) == found.to_geojson()
    # Rounded to 6 decimals, carried into the whole degrees; no negative zero.
    assert "[-180.000000,0.000000],[-179.500000,-89.250000],[-178.000000,0.000000]" in text
    # And on a real answer, with all its rings.
    net = helsinki_router.network
    profile = get_profile("walk")
    real = isochrone(net, net.snap((60.1699, 24.9384), profile), profile, [5, 15])
    assert json.loads(real.to_json()) == real.to_geojson()
