"""Crossings on the real extracts, counted independently from the OSM file with shapely.

The count does not use the graph: a route's line is intersected with the centrelines of
tertiary-or-bigger roads read straight from the OSM file (points on a walkway in a tunnel,
on a bridge or on another layer pass under or over the road and are not crossings), and a
crossing point counts as signalled when a ``highway=traffic_signals`` or
``crossing=traffic_signals`` node lies within 30 m of it.
"""

from __future__ import annotations

import math

import numpy as np
import osmium
import pytest
from shapely import LineString, Point, STRtree, union_all

from routing.cost import get_profile
from routing.errors import NoRouteError
from routing.graph import attributes as at

MAJOR = {
    "tertiary", "tertiary_link", "secondary", "secondary_link", "primary", "primary_link",
    "trunk", "trunk_link",
}  # fmt: skip
SIGNAL_RADIUS_M = 30.0
PAIRS = 180
#: Metres a manual-wheelchair route may run beside and with a tram line (see the test).
MAX_ALONG_RAILS_M = 40.0


class _OsmTruth:
    """Major road lines, signal points, raised kerbs and tram lines in local metres."""

    def __init__(self, path, lat0: float, lon0: float):
        self.lat0, self.lon0 = lat0, lon0
        coords: dict[int, tuple[float, float]] = {}
        signals, raised = [], []
        ways = []
        for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
            tags = dict(obj.tags)
            if obj.is_node():
                coords[obj.id] = (obj.location.lat, obj.location.lon)
                if tags.get("highway") == "traffic_signals" or tags.get("crossing") in (
                    "traffic_signals",
                ):
                    signals.append(self.xy(obj.location.lat, obj.location.lon))
                if tags.get("curb") in ("regular", "raised") or tags.get("kerb") == "raised":
                    raised.append(self.xy(obj.location.lat, obj.location.lon))
            elif (
                tags.get("highway") in MAJOR
                and tags.get("tunnel", "no") == "no"
                and tags.get("bridge", "no") == "no"
            ):
                ways.append(("road", [n.ref for n in obj.nodes]))
            elif (tags.get("railway") == "tram" or "embedded_rails" in tags) and (
                tags.get("tunnel", "no") == "no" and tags.get("bridge", "no") == "no"
            ):
                ways.append(("tram", [n.ref for n in obj.nodes]))
            elif "highway" in tags and (
                tags.get("tunnel", "no") != "no"
                or tags.get("bridge", "no") != "no"
                or tags.get("layer", "0") != "0"
            ):
                ways.append(("separated", [n.ref for n in obj.nodes]))
        lines = {"road": [], "tram": [], "separated": []}
        for kind, refs in ways:
            pts = [self.xy(*coords[r]) for r in refs if r in coords]
            if len(pts) >= 2:
                lines[kind].append(LineString(pts))
        self.roads, self.trams = lines["road"], lines["tram"]
        self.separated = STRtree(lines["separated"])
        self.road_tree = STRtree(self.roads)
        self.tram_tree = STRtree(self.trams)
        self.signals = STRtree([Point(p) for p in signals])
        self.raised = STRtree([Point(p) for p in raised])

    def xy(self, lat, lon):
        k = math.pi / 180 * 6_371_008.8
        return ((lon - self.lon0) * k * math.cos(math.radians(self.lat0)), (lat - self.lat0) * k)

    def line(self, route) -> LineString:
        return LineString([self.xy(lat, lon) for lat, lon in route.geometry])

    def major_crossings(self, route) -> list[tuple[Point, bool]]:
        """Points where the route crosses a major road, and whether signals are near."""
        line = self.line(route)
        out = []
        for i in self.road_tree.query(line, predicate="intersects"):
            hit = line.intersection(self.roads[i])
            points = [hit] if hit.geom_type == "Point" else list(getattr(hit, "geoms", []))
            for p in points:
                if p.geom_type != "Point":
                    continue
                if any(p.distance(q) < 5.0 for q, _ in out):  # one crossing, two road ways
                    continue
                if len(self.separated.query(p.buffer(1.0), predicate="intersects")):
                    continue
                near = len(self.signals.query(p.buffer(SIGNAL_RADIUS_M), predicate="intersects"))
                out.append((p, near > 0))
        return out

    def _on_the_ground(self, points: list[Point]) -> list[Point]:
        tree = self.separated
        return [p for p in points if not len(tree.query(p.buffer(1.0), predicate="intersects"))]

    def rail_hits(self, line: LineString) -> list[Point]:
        """Points where a line meets a tram line (both on the ground)."""
        out = []
        for i in self.tram_tree.query(line, predicate="intersects"):
            hit = line.intersection(self.trams[i])
            out += [p for p in getattr(hit, "geoms", [hit]) if p.geom_type == "Point"]
        return self._on_the_ground(out)

    def metres_along_trams(self, route, *, within_m: float = 1.5, skip_m: float = 8.0) -> float:
        """Metres of the route within ``within_m`` of a tram line and running with it (within
        30 degrees), on the ground, more than ``skip_m`` from a point where it crosses one."""
        line = self.line(route)
        hits = self.rail_hits(line)
        away = union_all([h.buffer(skip_m) for h in hits]) if hits else None
        total = 0.0
        coords = list(line.coords)
        for a, b in zip(coords[:-1], coords[1:], strict=True):
            seg = LineString([a, b])
            if seg.length < 0.01:
                continue
            for i in self.tram_tree.query(seg.buffer(within_m)):
                tram = self.trams[i]
                part = seg.intersection(tram.buffer(within_m))
                if part.is_empty:
                    continue
                at_ = tram.project(part.centroid)
                p, q = tram.interpolate(max(at_ - 2, 0)), tram.interpolate(at_ + 2)
                cos = abs((q.x - p.x) * (b[0] - a[0]) + (q.y - p.y) * (b[1] - a[1])) / max(
                    p.distance(q) * seg.length, 1e-9
                )
                if cos < math.cos(math.radians(30)):
                    continue
                if away is not None:
                    part = part.difference(away)
                apart = [self.separated.geometries[j] for j in self.separated.query(part)]
                if apart:
                    part = part.difference(union_all([g.buffer(1.0) for g in apart]))
                total += part.length
        return total

    def passes_raised_kerb(self, route) -> bool:
        # Passing a kerb node means going through its exact position (a vertex of the line).
        line = self.line(route)
        return len(self.raised.query(line.buffer(0.05), predicate="intersects")) > 0


@pytest.fixture(scope="module")
def helsinki_truth(helsinki_router, shared_data):
    g = helsinki_router.graph
    return _OsmTruth(
        shared_data / "helsinki" / "helsinki-center.osm.pbf",
        float(np.mean(g.node_lat)),
        float(np.mean(g.node_lon)),
    )


def _pairs(router, count, seed):
    pg = router.network.costs(get_profile("blind"))
    usable = np.flatnonzero(pg.costs.node_usable)
    rng = np.random.default_rng(seed)
    g = router.graph
    return [
        ((g.node_lat[a], g.node_lon[a]), (g.node_lat[b], g.node_lon[b]))
        for a, b in rng.choice(usable, size=(count, 2))
    ]


def _cross_steps(route, truth) -> list[Point]:
    return [Point(truth.xy(*s.location)) for s in route.steps if s.code == "cross"]


def test_helsinki_blind_routes_avoid_unsignalled_major_crossings(helsinki_router, helsinki_truth):
    r, truth = helsinki_router, helsinki_truth
    unsignalled = {"walk": 0, "blind": 0}
    crossings = {"walk": 0, "blind": 0}
    unannounced = 0
    routed = 0
    for a, b in _pairs(r, PAIRS, seed=6):
        try:
            routes = {name: r.route(a, b, get_profile(name)) for name in unsignalled}
        except NoRouteError:
            continue
        routed += 1
        for name, route in routes.items():
            found = truth.major_crossings(route)
            crossings[name] += len(found)
            unsignalled[name] += sum(1 for _, signalled in found if not signalled)
            steps = _cross_steps(route, truth)
            unannounced += sum(1 for p, _ in found if not any(p.distance(s) <= 30.0 for s in steps))
    print(f"routed {routed}; crossings {crossings}; unsignalled major {unsignalled}; "
          f"unannounced {unannounced}")  # fmt: skip
    assert routed >= 150
    assert crossings["walk"] > 50  # the sample does cross major roads
    assert unsignalled["blind"] <= 0.5 * unsignalled["walk"]
    assert unannounced == 0


def test_helsinki_wheelchair_routes_pass_no_raised_kerb_or_rails(helsinki_router, helsinki_truth):
    """Manual wheelchair: never a raised kerb, never along rails; rails are crossed only
    where the graph knows it (an edge priced for crossing them), at about right angles.

    Read independently: every point where the route's line meets a tram line on the ground
    must lie on a route edge the graph counts as crossing rails, and the route may run
    beside and with a tram line (within 1.5 m, within 30 degrees) only for a few metres
    (a diagonal approach to a crossing), where walking routes run along them for hundreds.
    """
    r, truth = helsinki_router, helsinki_truth
    g = r.graph
    along = (at.WAY_KIND["street"], at.WAY_KIND["pedestrian street"])
    routed = 0
    hits = {"walk": 0, "wheelchair_manual": 0}
    along_m = {"walk": [], "wheelchair_manual": []}
    for a, b in _pairs(r, 60, seed=8):
        try:
            routes = {name: r.route(a, b, get_profile(name)) for name in hits}
        except NoRouteError:
            continue
        routed += 1
        for name, route in routes.items():
            along_m[name].append(truth.metres_along_trams(route))
            found = truth.rail_hits(truth.line(route))
            hits[name] += len(found)
        route = routes["wheelchair_manual"]
        # The route's facts say it crosses rails exactly when the OSM file says so.
        met = truth.rail_hits(truth.line(route))
        assert (route.facts["crossings"]["rails"] > 0) == bool(met), (a, b)
        assert not truth.passes_raised_kerb(route)
        for e in route.edges:
            assert not (g.edge["kind"][e] in along and g.edge["rails"][e])
        priced = [
            LineString([truth.xy(lat, lon) for lat, lon in g.edge_geometry(e)])
            for e in route.edges
            if g.edge["rail_crossings"][e] > 0
        ]
        for p in truth.rail_hits(truth.line(route)):
            assert any(edge.distance(p) < 1.0 for edge in priced), (a, b, p)
    print(f"routed {routed}; rail crossings {hits}; metres along rails (max per route) "
          f"{({k: round(max(v)) for k, v in along_m.items()})}, "
          f"(sum) {({k: round(sum(v)) for k, v in along_m.items()})}")  # fmt: skip
    assert routed >= 30
    assert hits["wheelchair_manual"] > 0  # the sample does cross tram lines
    assert get_profile("wheelchair_manual").rail_crossing_s > 0
    assert max(along_m["wheelchair_manual"]) <= MAX_ALONG_RAILS_M
    assert sum(along_m["walk"]) > 10 * sum(along_m["wheelchair_manual"])


def test_almaty_readme_example_announces_abai_avenue(almaty_router):
    route = almaty_router.route((43.2380, 76.9455), (43.2497, 76.9454), get_profile("blind"))
    crossed = [s.params for s in route.steps if s.code == "cross"]
    abai = [p for p in crossed if "Абая" in p["road"] or "Abai" in p["road"]]
    assert abai, [p["road"] for p in crossed]
    assert abai[0]["road_class"] in ("major road", "secondary road")
    text = next(s.to_dict()["instruction"] for s in route.steps if s.params in abai)
    assert text.startswith("Cross ")
    assert "tactile paving" in text and "kerb" in text


def _almaty_pairs(router, count, seed):
    g = router.graph
    pg = router.network.costs(get_profile("walk"))
    usable = np.flatnonzero(pg.costs.node_usable)
    # Central Almaty (the square around the README example), where the roads are mapped.
    central = usable[
        (np.abs(g.node_lat[usable] - 43.245) < 0.015) & (np.abs(g.node_lon[usable] - 76.945) < 0.02)
    ]
    rng = np.random.default_rng(seed)
    return [
        ((g.node_lat[a], g.node_lon[a]), (g.node_lat[b], g.node_lon[b]))
        for a, b in rng.choice(central, size=(count, 2))
    ]


def test_almaty_profiles_differ_on_centreline_data(almaty_router):
    """Blind and low-vision routes prefer signalled junctions; reduced mobility avoids steep
    stretches: on road centrelines only, with every sidewalk and crossing built."""
    r = almaty_router
    names = ("walk", "blind", "low_vision", "reduced_mobility")
    unsignalled = dict.fromkeys(names, 0)
    signalled = dict.fromkeys(names, 0)
    steep_m = dict.fromkeys(names, 0.0)
    routed = 0
    g = r.graph
    for a, b in _almaty_pairs(r, 40, seed=11):
        try:
            routes = {name: r.route(a, b, get_profile(name)) for name in names}
        except NoRouteError:
            continue
        routed += 1
        for name, route in routes.items():
            c = route.facts["crossings"]
            unsignalled[name] += c["unsignalled_major"]
            signalled[name] += c["signalled"]
            steep_m[name] += sum(
                float(g.edge["length"][e])
                for e in route.edges
                if max(g.edge["grade_max_up"][e], g.edge["grade_max_down"][e]) > 0.05
            )
    print(f"routed {routed}; unsignalled major {unsignalled}; signalled {signalled}; "
          f"steep metres {({k: round(v) for k, v in steep_m.items()})}")  # fmt: skip
    assert routed >= 30
    assert unsignalled["walk"] > 20
    assert unsignalled["blind"] <= 0.5 * unsignalled["walk"]
    assert signalled["blind"] > signalled["walk"]
    assert unsignalled["low_vision"] < unsignalled["walk"]
    assert steep_m["reduced_mobility"] < steep_m["walk"]


def test_helsinki_steps_name_nearby_stops(helsinki_router):
    g = helsinki_router.graph
    assert len(g.landmark_lat) > 20 and "bus_stop" in set(g.landmark_kind.tolist())
    named = 0
    for a, b in _pairs(helsinki_router, 30, seed=9):
        try:
            route = helsinki_router.route(a, b, get_profile("blind"))
        except NoRouteError:
            continue
        for step in route.steps:
            mark = step.params.get("landmark")
            if mark:
                named += 1
                assert mark["distance_m"] <= 30.0
                assert "Landmark: the " in step.to_dict()["instruction"]
    assert named > 0
