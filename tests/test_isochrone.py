"""Isochrones: every node reached in time is inside, nothing much farther is, holes exist."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from routing_helpers import router_for

from routing.cost import get_profile
from routing.isochrone import CELL_M, isochrone

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
    tree = net.tree([origin], profile)
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
