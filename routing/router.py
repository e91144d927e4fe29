"""Street routing for one profile: snap, search, describe.

``StreetRouter`` holds one compiled graph and, per profile (with its overrides), a cached
:class:`~routing.search.ProfileGraph` and a snapping index. A query snaps both points to
the nearest edge the profile may use, runs Dijkstra from a virtual source on the origin
edge, closes on the destination edge, and turns the edges into a :class:`Route`.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from routing.cost.model import BLOCK_REASONS, UNKNOWN_NAMES
from routing.cost.profiles import PROFILES, Profile
from routing.errors import NoRouteError, OutsideAreaError
from routing.geo import LocalProjection, haversine_m
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.instructions import RouteEdge, Step, build_steps
from routing.search import ProfileGraph, node_path
from routing.snapping import EdgeSampler, Snap

LatLon = tuple[float, float]


@dataclass
class Route:
    """A route for one profile, ready to serialise (DESIGN §5)."""

    profile: str
    distance_m: float
    duration_s: float
    cost: float
    geometry: np.ndarray  # (lat, lon) points
    steps: list
    warnings: list[dict]
    confidence: float
    edges: list[int] = field(default_factory=list)
    barriers: list[dict] = field(default_factory=list)
    snapped: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = {
            "profile": self.profile,
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "geometry": {
                "type": "LineString",
                "coordinates": [[round(lon, 7), round(lat, 7)] for lat, lon in self.geometry],
            },
            "steps": [s.to_dict() for s in self.steps],
            "warnings": self.warnings,
            "confidence": round(self.confidence, 3),
            "snapped": self.snapped,
        }
        if self.barriers:
            body["barriers"] = self.barriers
        return body

    def to_geojson(self) -> dict[str, Any]:
        """A FeatureCollection: the route line plus one point per step and barrier."""
        body = self.to_dict()
        features = [
            {
                "type": "Feature",
                "geometry": body.pop("geometry"),
                "properties": {k: v for k, v in body.items() if k not in ("steps", "barriers")},
            }
        ]
        for i, step in enumerate(body["steps"]):
            lat, lon = step["location"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"step": i, **step},
                }
            )
        for barrier in self.barriers:
            lat, lon = barrier["location"]
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [lon, lat]},
                    "properties": {"barrier": True, **barrier},
                }
            )
        return {"type": "FeatureCollection", "features": features}


class StreetRouter:
    """Accessible street routes on one compiled graph.

    Parameters
    ----------
    graph
        The compiled walking graph.
    max_snap_m
        A point farther than this from any walkable way is outside the graph's area.
    snap_tolerance_m
        How much farther than the nearest walkable way the nearest usable way may be.
    cache_size
        How many (profile, overrides) preparations to keep.
    """

    def __init__(
        self,
        graph: CompiledGraph,
        *,
        max_snap_m: float = 500.0,
        snap_tolerance_m: float = 30.0,
        cache_size: int = 16,
    ):
        self.graph = graph
        self.max_snap_m = max_snap_m
        self.snap_tolerance_m = snap_tolerance_m
        self._cache_size = cache_size
        lat0, lon0 = float(np.mean(graph.node_lat)), float(np.mean(graph.node_lon))
        self.projection = LocalProjection(lat0, lon0)
        self.sampler = EdgeSampler(graph, self.projection)
        self._any_tree = self.sampler.tree_for(np.ones(graph.n_edges, dtype=bool))
        self._prepared: OrderedDict[Profile, tuple[ProfileGraph, Any]] = OrderedDict()
        self.reverse_edge = self._reverse_edges()
        self.road_name_at_node = self._road_names_at_nodes()

    # -- set-up -------------------------------------------------------------------------
    def _reverse_edges(self) -> np.ndarray:
        """For each edge, the edge running the other way along the same geometry (-1: none)."""
        g = self.graph
        key_fwd = {}
        for i in range(g.n_edges):
            key_fwd[
                (
                    int(g.edge_u[i]),
                    int(g.edge_v[i]),
                    int(g.edge["osmid"][i]),
                    round(float(g.edge["length"][i]), 2),
                )
            ] = i
        rev = np.full(g.n_edges, -1, dtype=np.int64)
        for (u, v, osmid, length), i in key_fwd.items():
            rev[i] = key_fwd.get((v, u, osmid, length), -1)
        return rev

    def _road_names_at_nodes(self) -> dict[int, str]:
        """Name of the biggest named road through each node (for crossing instructions)."""
        g = self.graph
        best: dict[int, tuple[int, str]] = {}
        rc = g.edge["road_class"]
        for i in np.flatnonzero(rc > 0):
            name = str(g.names[g.edge_name[i]])
            for node in (int(g.edge_u[i]), int(g.edge_v[i])):
                if name and best.get(node, (-1, ""))[0] < rc[i]:
                    best[node] = (int(rc[i]), name)
        return {k: v[1] for k, v in best.items()}

    def prepare(self, profile: Profile) -> tuple[ProfileGraph, Any]:
        """The profile's search graph and snapping index (cached, most recent kept)."""
        hit = self._prepared.get(profile)
        if hit is not None:
            self._prepared.move_to_end(profile)
            return hit
        pg = ProfileGraph.build(self.graph, profile)
        allowed = np.isfinite(pg.costs.cost)
        rev = self.reverse_edge
        usable = allowed | np.where(rev >= 0, allowed[np.maximum(rev, 0)], False)
        tree = self.sampler.tree_for(usable) if usable.any() else None
        self._prepared[profile] = (pg, tree)
        while len(self._prepared) > self._cache_size:
            self._prepared.popitem(last=False)
        return pg, tree

    # -- snapping -----------------------------------------------------------------------
    def check_inside(self, point: LatLon, field_name: str) -> Snap:
        """Nearest point on any walkable way; a 400 when the point is off the graph's area."""
        lat, lon = point
        min_lat, min_lon, max_lat, max_lon = self.graph.bounds()
        tree, ids = self._any_tree
        snap = self.sampler.snap(lat, lon, tree, ids)
        if snap.distance_m > self.max_snap_m:
            raise OutsideAreaError(
                f"'{field_name}' ({lat:.6f},{lon:.6f}) is outside the area this graph covers "
                f"(nearest walkable way is {snap.distance_m:.0f} m away; the graph spans "
                f"lat {min_lat:.4f}..{max_lat:.4f}, lon {min_lon:.4f}..{max_lon:.4f})",
                field=field_name,
            )
        return snap

    def snap(self, point: LatLon, profile: Profile, field_name: str) -> Snap:
        """Nearest point on an edge the profile may use.

        When that is much farther than the nearest walkable way, the place asked for is
        only reachable through something the profile cannot use: that is a "no route"
        (explained), not a silent detour to some other place.
        """
        nearest = self.check_inside(point, field_name)
        pg, tree = self.prepare(profile)
        if tree is None:
            raise NoRouteError(f"no way in this graph is usable with profile '{profile.name}'")
        snap = self.sampler.snap(point[0], point[1], *tree)
        if snap.distance_m > nearest.distance_m + self.snap_tolerance_m:
            raise NoRouteError(
                f"'{field_name}' ({point[0]:.6f},{point[1]:.6f}) lies {nearest.distance_m:.0f} m "
                f"from a walkable way, but the nearest way usable with profile "
                f"'{profile.name}' is {snap.distance_m:.0f} m away",
                field=field_name,
            )
        if snap.distance_m > self.max_snap_m:
            raise NoRouteError(
                f"no way usable with profile '{profile.name}' within {self.max_snap_m:.0f} m of "
                f"'{field_name}' ({point[0]:.6f},{point[1]:.6f}); the nearest is "
                f"{snap.distance_m:.0f} m away",
                field=field_name,
            )
        return snap

    def _cost_of(self, pg: ProfileGraph, edge: int, fraction: float) -> float:
        if edge < 0 or not np.isfinite(pg.costs.cost[edge]):
            return np.inf
        return float(pg.costs.cost[edge]) * fraction

    def source_offsets(self, pg: ProfileGraph, snap: Snap) -> list[tuple[int, float]]:
        """Costs from the snapped origin to the ends of its edge."""
        e, rev = snap.edge, int(self.reverse_edge[snap.edge])
        out = []
        forward = self._cost_of(pg, e, 1.0 - snap.t)
        backward = self._cost_of(pg, rev, snap.t)
        if np.isfinite(forward):
            out.append((int(self.graph.edge_v[e]), forward))
        if np.isfinite(backward):
            out.append((int(self.graph.edge_u[e]), backward))
        return out

    # -- queries ------------------------------------------------------------------------
    def route(self, origin: LatLon, destination: LatLon, profile: Profile) -> Route:
        """The cheapest route for ``profile``; raises NoRouteError (422) explaining why not."""
        pg, _ = self.prepare(profile)
        try:
            src = self.snap(origin, profile, "from")
            dst = self.snap(destination, profile, "to")
        except NoRouteError as exc:
            raise self._explain(origin, destination, profile, exc.message) from None
        found = self._search(pg, src, dst)
        if found is None:
            raise self._explain(origin, destination, profile, None)
        return self._assemble(pg, src, dst, *found)

    def route_between(self, src: Snap, dst: Snap, profile: Profile) -> Route | None:
        """The route between two already snapped points, or None if there is none."""
        pg, _ = self.prepare(profile)
        found = self._search(pg, src, dst)
        return None if found is None else self._assemble(pg, src, dst, *found)

    def _search(self, pg: ProfileGraph, src: Snap, dst: Snap):
        offsets = self.source_offsets(pg, src)
        n = self.graph.n_nodes
        e, rev = dst.edge, int(self.reverse_edge[dst.edge])
        g = self.graph
        # Arriving on the destination edge from its tail (forward) or its head (reverse).
        arrivals = []
        if np.isfinite(pg.costs.cost[e]):
            arrivals.append((int(g.edge_u[e]), e, dst.t))
        if rev >= 0 and np.isfinite(pg.costs.cost[rev]):
            arrivals.append((int(g.edge_u[rev]), rev, 1.0 - dst.t))
        # A bounded search first (most routes are short), the full one if it falls short.
        crow = float(haversine_m(src.lat, src.lon, dst.lat, dst.lon))
        bound = 6.0 * crow / pg.profile.speed_mps + 1800.0
        for limit in (bound, np.inf):
            dist, pred = pg.tree(offsets, limit=limit) if offsets else (None, None)
            best = (np.inf, None)
            if dist is not None:
                for node, edge, frac in arrivals:
                    total = dist[node] + self._cost_of(pg, edge, frac)
                    if total < best[0]:
                        best = (total, (node, edge, frac))
            direct = self._direct(pg, src, dst)
            if direct is not None and direct[0] <= best[0]:
                return direct[0], [], direct[1]
            if best[1] is not None and (np.isfinite(limit) is False or best[0] <= limit):
                node, edge, frac = best[1]
                nodes = node_path(pred, node, n)
                return best[0], nodes, (edge, frac)
        return None

    def _direct(self, pg: ProfileGraph, src: Snap, dst: Snap):
        """Both points on the same edge (or its reverse): travel along it without a node."""
        for edge, t0, t1 in (
            (src.edge, src.t, dst.t if dst.edge == src.edge else None),
            (src.edge, src.t, 1.0 - dst.t if dst.edge == self.reverse_edge[src.edge] else None),
        ):
            if t1 is None:
                continue
            if t1 >= t0 and np.isfinite(pg.costs.cost[edge]):
                return float(pg.costs.cost[edge]) * (t1 - t0), ("same", edge, t0, t1)
            rev = int(self.reverse_edge[edge])
            if t1 < t0 and rev >= 0 and np.isfinite(pg.costs.cost[rev]):
                return float(pg.costs.cost[rev]) * (t0 - t1), ("same", rev, 1 - t0, 1 - t1)
        return None

    def _assemble(
        self,
        pg: ProfileGraph,
        src: Snap,
        dst: Snap,
        cost: float,
        nodes,
        tail,
        *,
        barriers_for: ProfileGraph | None = None,
    ) -> Route:
        g, sampler = self.graph, self.sampler
        seconds, length = pg.costs.seconds, g.edge["length"]
        pieces: list[RouteEdge] = []

        def add(edge: int, t0: float, t1: float) -> None:
            frac = max(t1 - t0, 0.0)
            if frac <= 0:
                return
            whole = t0 <= 0.0 and t1 >= 1.0
            geom = g.edge_geometry(edge) if whole else sampler.partial_geometry(edge, t0, t1)
            pieces.append(
                RouteEdge(
                    edge=edge,
                    fraction=frac,
                    geometry=geom,
                    seconds=float(seconds[edge]) * frac,
                    length_m=float(length[edge]) * frac,
                )
            )

        if tail and tail[0] == "same":
            _, edge, t0, t1 = tail
            add(edge, t0, t1)
        else:
            first = nodes[0]
            e = src.edge
            if int(g.edge_v[e]) == first and np.isfinite(pg.costs.cost[e]):
                add(e, src.t, 1.0)
            else:
                add(int(self.reverse_edge[e]), 1.0 - src.t, 1.0)
            for a, b in zip(nodes[:-1], nodes[1:], strict=True):
                add(pg.edge_between(a, b), 0.0, 1.0)
            edge, frac = tail
            add(edge, 0.0, frac)
        return self._describe(pg, pieces, src, dst, cost, barriers_for=barriers_for)

    def _describe(
        self,
        pg: ProfileGraph,
        pieces: list[RouteEdge],
        src: Snap,
        dst: Snap,
        cost: float,
        *,
        barriers_for: ProfileGraph | None = None,
    ) -> Route:
        g = self.graph
        geometry = [tuple(p) for piece in pieces for p in piece.geometry]
        dedup = [pt for i, pt in enumerate(geometry) if i == 0 or pt != geometry[i - 1]]
        if not dedup:  # origin and destination snap to the same point
            dedup = [(src.lat, src.lon)]
        if len(dedup) == 1:
            dedup.append(dedup[0])
        total_len = sum(p.length_m for p in pieces)
        unknown = pg.costs.unknown
        known_len = sum(p.length_m for p in pieces if unknown[p.edge] == 0)
        steps = build_steps(
            g, pieces, road_name_at_node=self.road_name_at_node, unknown_flags=unknown
        )
        if not steps:
            steps = [Step(instruction="You are already at your destination.", maneuver="arrive",
                          name="", location=(src.lat, src.lon))]  # fmt: skip
        warnings = self._warnings(pg, pieces)
        barriers = self._barriers(barriers_for, pieces) if barriers_for is not None else []
        return Route(
            profile=pg.profile.name,
            distance_m=total_len,
            duration_s=sum(p.seconds for p in pieces),
            cost=cost,
            geometry=np.array(dedup),
            steps=steps,
            warnings=warnings,
            confidence=known_len / total_len if total_len > 0 else 1.0,
            edges=[p.edge for p in pieces],
            barriers=barriers,
            snapped={
                "from": {
                    "lat": round(src.lat, 7),
                    "lon": round(src.lon, 7),
                    "distance_m": round(src.distance_m, 1),
                },
                "to": {
                    "lat": round(dst.lat, 7),
                    "lon": round(dst.lon, 7),
                    "distance_m": round(dst.distance_m, 1),
                },
            },
        )

    def _warnings(self, pg: ProfileGraph, pieces: list[RouteEdge]) -> list[dict]:
        g = self.graph
        out: list[dict] = []
        flags = pg.costs.unknown
        for bit, text in UNKNOWN_NAMES.items():
            hit = [p for p in pieces if flags[p.edge] & bit]
            if not hit:
                continue
            metres = sum(p.length_m for p in hit)
            count = len({int(g.edge["osmid"][p.edge]) for p in hit})
            first = hit[0].geometry[0]
            out.append(
                {
                    "code": "unknown_" + _UNKNOWN_CODES[bit],
                    "message": f"{text.capitalize()} on {count} way(s) of this route "
                    f"({metres:.0f} m); it may not be accessible.",
                    "count": count,
                    "length_m": round(metres, 1),
                    "location": [round(first[0], 6), round(first[1], 6)],
                }
            )
        steep = [
            p
            for p in pieces
            if np.isfinite(g.edge["grade"][p.edge])
            and abs(g.edge["grade"][p.edge]) > 0.05
            and g.edge["kind"][p.edge] != at.WAY_KIND["steps"]
        ]
        if steep and pg.profile.name != "walk":
            worst = max(steep, key=lambda p: abs(g.edge["grade"][p.edge]))
            out.append(
                {
                    "code": "steep",
                    "message": f"{len(steep)} steep stretch(es), up to "
                    f"{abs(float(g.edge['grade'][worst.edge])) * 100:.0f}% "
                    "(grades from 90 m elevation data are approximate).",
                    "location": [round(worst.geometry[0][0], 6), round(worst.geometry[0][1], 6)],
                }
            )
        limited = [p for p in pieces if g.edge["wheelchair_limited"][p.edge]]
        if limited and pg.profile.wheelchair:
            out.append(
                {
                    "code": "wheelchair_limited",
                    "message": f"{len(limited)} way(s) are marked wheelchair=limited.",
                    "location": [
                        round(limited[0].geometry[0][0], 6),
                        round(limited[0].geometry[0][1], 6),
                    ],
                }
            )
        return out

    def _barriers(self, blocked_for: ProfileGraph, pieces: list[RouteEdge]) -> list[dict]:
        """Places on a (walking) route that the other profile may not use, and why."""
        g = self.graph
        out: list[dict] = []
        blocked = blocked_for.costs.blocked
        last_key = None
        for p in pieces:
            flags = int(blocked[p.edge])
            if not flags:
                last_key = None
                continue
            reasons = [text for bit, text in BLOCK_REASONS.items() if flags & bit]
            key = (tuple(reasons), int(g.edge["osmid"][p.edge]))
            if key == last_key:
                continue
            last_key = key
            name = str(g.names[g.edge_name[p.edge]])
            grade = float(g.edge["grade"][p.edge])
            detail = ""
            if flags & 0b110 and np.isfinite(grade):
                detail = f" ({abs(grade) * 100:.0f}% {'up' if grade > 0 else 'down'})"
            lat, lon = p.geometry[0]
            where = name or at.WAY_KIND_NAMES[int(g.edge["kind"][p.edge])]
            out.append(
                {
                    "reasons": reasons,
                    "name": name,
                    "osm_way": int(g.edge["osmid"][p.edge]),
                    "location": [round(float(lat), 6), round(float(lon), 6)],
                    "description": f"{', '.join(reasons)}{detail} at {where} ({lat:.5f},{lon:.5f})",
                }
            )
        return out

    # -- no route -----------------------------------------------------------------------
    def _explain(
        self, origin: LatLon, destination: LatLon, profile: Profile, snap_problem: str | None
    ) -> NoRouteError:
        """A 422 that names what blocks the profile, with the walking route marked."""
        walk = PROFILES["walk"]
        pg_profile, _ = self.prepare(profile)
        try:
            wpg, _ = self.prepare(walk)
            src, dst = self.snap(origin, walk, "from"), self.snap(destination, walk, "to")
            found = self._search(wpg, src, dst)
        except NoRouteError:
            found = None
        if found is None:
            message = snap_problem or (
                "the two points are not connected in the walking network at all "
                "(different parts of the map, or a gap in the OSM data)"
            )
            return NoRouteError(
                f"no route for profile '{profile.name}': {message}",
                profile=profile.name,
                barriers=[],
            )
        walk_route = self._assemble(wpg, src, dst, *found, barriers_for=pg_profile)
        barriers = walk_route.barriers
        if barriers:
            listed = "; ".join(b["description"] for b in barriers[:5])
            more = f" and {len(barriers) - 5} more" if len(barriers) > 5 else ""
            message = f"the walking route is blocked for this profile by: {listed}{more}"
        else:
            message = snap_problem or (
                "every way out of the area around the origin or destination is blocked for "
                "this profile"
            ) + self._frontier_summary(pg_profile, origin)
        return NoRouteError(
            f"no route for profile '{profile.name}': {message}",
            profile=profile.name,
            barriers=barriers,
            walking_route=walk_route.to_dict(),
        )

    def _frontier_summary(self, pg: ProfileGraph, origin: LatLon) -> str:
        """Count why the edges leaving the profile's reachable area are blocked."""
        try:
            src = self.snap(origin, pg.profile, "from")
        except NoRouteError:
            return ""
        dist, _ = pg.tree(self.source_offsets(pg, src))
        reached = np.isfinite(dist)
        g = self.graph
        leaving = reached[g.edge_u] & ~reached[g.edge_v] & (pg.costs.blocked > 0)
        counts: dict[str, int] = {}
        for flags in pg.costs.blocked[leaving].tolist():
            for bit, text in BLOCK_REASONS.items():
                if flags & bit:
                    counts[text] = counts.get(text, 0) + 1
        if not counts:
            return ""
        return (
            " ("
            + ", ".join(f"{v} x {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))
            + ")"
        )


_UNKNOWN_CODES = {
    bit: text
    for bit, text in zip(
        UNKNOWN_NAMES,
        (
            "kerb",
            "surface",
            "grade",
            "signal_sound",
            "tactile_paving",
            "crossing_type",
            "lighting",
            "step_count",
            "sidewalk",
        ),
        strict=True,
    )
}
