"""Street routes for one profile: the street-search service's paths, described.

``StreetRouter`` asks :class:`~routing.network.StreetNetwork` to snap both points and find
the cheapest path, and turns the path into a :class:`StreetRoute`: geometry, plain-language
steps, warnings, confidence, and, when a profile has no route, the barriers on the walking
route that explain why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import isfinite
from typing import Any

import numpy as np

from routing.confidence import EdgeFacts, route_facts
from routing.cost.model import BLOCK_REASONS, UNKNOWN_NAMES
from routing.cost.profiles import PROFILES, Profile
from routing.deadline import accepts_deadline
from routing.errors import NoRouteError
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.instructions import RouteEdge, Step, StepTables, build_steps
from routing.network import StreetNetwork, StreetPath
from routing.search import ProfileGraph
from routing.snapping import Snap

LatLon = tuple[float, float]


@dataclass
class StreetRoute:
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
    facts: dict = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = {
            "profile": self.profile,
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "geometry": {
                "type": "LineString",
                "coordinates": np.round(np.asarray(self.geometry)[:, ::-1], 7).tolist(),
            },
            "steps": [s.to_dict() for s in self.steps],
            "warnings": self.warnings,
            "confidence": round(self.confidence, 3),
            "facts": self.facts,
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
    """Accessible street routes: :class:`~routing.network.StreetNetwork` paths, described.

    Parameters
    ----------
    network
        The street-search service, or a compiled graph to build one on (with the keyword
        arguments below).
    max_snap_m, snap_tolerance_m, cache_size
        Passed to :class:`~routing.network.StreetNetwork` when ``network`` is a graph.
    """

    def __init__(
        self,
        network: StreetNetwork | CompiledGraph,
        *,
        max_snap_m: float = 500.0,
        snap_tolerance_m: float = 30.0,
        cache_size: int = 16,
    ):
        if isinstance(network, CompiledGraph):
            network = StreetNetwork(network, max_snap_m=max_snap_m,
                                    snap_tolerance_m=snap_tolerance_m,
                                    cache_size=cache_size)  # fmt: skip
        self.network = network
        self.graph = network.graph
        self.road_name_at_node = self._road_names_at_nodes()
        self.edge_facts = EdgeFacts(self.graph)  # what confidence reads, per edge, once
        self.step_tables = StepTables(self.graph)  # what steps read, per edge, once

    def _road_names_at_nodes(self) -> dict[int, str]:
        """Name of the biggest named road through each node (for crossing instructions)."""
        g = self.graph
        best: dict[int, tuple[int, str]] = {}
        rc = g.edge["road_class"]
        names = g.names.tolist()  # one str per name, shared by its nodes (~1 MB less)
        for i in np.flatnonzero(rc > 0):
            name = names[g.edge_name[i]]
            for node in (int(g.edge_u[i]), int(g.edge_v[i])):
                if name and best.get(node, (-1, ""))[0] < rc[i]:
                    best[node] = (int(rc[i]), name)
        return {k: v[1] for k, v in best.items()}

    # -- queries ------------------------------------------------------------------------
    @accepts_deadline
    def route(self, origin: LatLon, destination: LatLon, profile: Profile) -> StreetRoute:
        """The cheapest route for ``profile``; raises NoRouteError (422) explaining why not."""
        net = self.network
        try:
            src = net.snap(origin, profile, "from")
            dst = net.snap(destination, profile, "to")
        except NoRouteError as exc:
            raise self._explain(origin, destination, profile, exc.message) from None
        found = net.path(src, dst, profile)
        if found is None:
            raise self._explain(origin, destination, profile, None)
        return self.describe(found)

    def route_between(self, src: Snap, dst: Snap, profile: Profile) -> StreetRoute | None:
        """The route between two already snapped points, or None if there is none."""
        found = self.network.path(src, dst, profile)
        return None if found is None else self.describe(found)

    def describe(self, path: StreetPath, *, barriers_for: Profile | None = None) -> StreetRoute:
        """A path as a :class:`StreetRoute`: geometry, steps, warnings, confidence, barriers."""
        pg = self.network.costs(path.profile)
        blocked = self.network.costs(barriers_for) if barriers_for is not None else None
        return self._describe(pg, path.pieces, path.source, path.target, path.cost,
                              barriers_for=blocked)  # fmt: skip

    def _describe(
        self,
        pg: ProfileGraph,
        pieces: list[RouteEdge],
        src: Snap,
        dst: Snap,
        cost: float,
        *,
        barriers_for: ProfileGraph | None = None,
    ) -> StreetRoute:
        g = self.graph
        if pieces:  # the pieces' points, each repeated point once
            points = np.concatenate([piece.geometry for piece in pieces])
            new = np.ones(len(points), dtype=bool)
            new[1:] = (points[1:] != points[:-1]).any(axis=1)
            line = points[new]
        else:  # origin and destination snap to the same point
            line = np.array([(src.lat, src.lon)])
        if len(line) == 1:
            line = np.concatenate([line, line])
        total_len = sum(p.length_m for p in pieces)
        unknown = pg.costs.unknown
        facts, confidence = route_facts(g, pg.profile, pieces, table=self.edge_facts)
        steps = build_steps(
            g, pieces, road_name_at_node=self.road_name_at_node, unknown_flags=unknown,
            tables=self.step_tables,
        )
        if not steps:
            steps = [Step(instruction="You are already at your destination.", maneuver="arrive",
                          name="", location=(src.lat, src.lon))]  # fmt: skip
        warnings = self._warnings(pg, pieces)
        barriers = self._barriers(barriers_for, pieces) if barriers_for is not None else []
        return StreetRoute(
            profile=pg.profile.name,
            distance_m=total_len,
            duration_s=sum(p.seconds for p in pieces),
            cost=cost,
            geometry=line,
            steps=steps,
            warnings=warnings,
            confidence=confidence,
            facts=facts,
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
        if not pieces:
            return out
        # A route has tens of pieces: each per-edge value is read once as a list and the
        # rest is plain Python (a numpy call on a few values costs more than their work).
        edges = np.fromiter((p.edge for p in pieces), np.int64, len(pieces))
        flags = pg.costs.unknown[edges].tolist()
        present = 0
        for f in flags:
            present |= f
        if present:
            osmids = g.edge["osmid"][edges].tolist()
            for bit, text in UNKNOWN_NAMES.items():
                if not present & bit:
                    continue
                hit = [j for j, f in enumerate(flags) if f & bit]
                metres = sum(pieces[j].length_m for j in hit)
                count = len({osmids[j] for j in hit})
                first = pieces[hit[0]].geometry[0]
                out.append(
                    {
                        "code": "unknown_" + _UNKNOWN_CODES[bit],
                        "message": f"{text.capitalize()} on {count} way(s) of this route "
                        f"({metres:.0f} m); it may not be accessible.",
                        "count": count,
                        "length_m": round(metres, 1),
                        "location": _rounded(first),
                    }
                )
        if pg.profile.warn_steep:
            grades = g.edge["grade"][edges].tolist()
            steep = [j for j, grade in enumerate(grades) if abs(grade) > 0.05 and isfinite(grade)]
            if steep:
                kinds = g.edge["kind"][edges].tolist()
                steps_kind = at.WAY_KIND["steps"]
                steep = [j for j in steep if kinds[j] != steps_kind]
            if steep:
                worst = pieces[max(steep, key=lambda j: abs(grades[j]))]  # the first steepest
                out.append(
                    {
                        "code": "steep",
                        "message": f"{len(steep)} steep stretch(es), up to "
                        f"{abs(float(g.edge['grade'][worst.edge])) * 100:.0f}% "
                        "(grades from 90 m elevation data are approximate).",
                        "location": _rounded(worst.geometry[0]),
                    }
                )  # fmt: skip
        if pg.profile.wheelchair:
            limited = [j for j, lim in enumerate(g.edge["wheelchair_limited"][edges].tolist())
                       if lim]  # fmt: skip
            if limited:
                first = pieces[limited[0]].geometry[0]
                out.append(
                    {
                        "code": "wheelchair_limited",
                        "message": f"{len(limited)} way(s) are marked wheelchair=limited.",
                        "location": _rounded(first),
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
        net = self.network
        try:
            src, dst = net.snap(origin, walk, "from"), net.snap(destination, walk, "to")
            found = net.path(src, dst, walk)
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
        walk_route = self.describe(found, barriers_for=profile)
        barriers = walk_route.barriers
        if barriers:
            listed = "; ".join(b["description"] for b in barriers[:5])
            more = f" and {len(barriers) - 5} more" if len(barriers) > 5 else ""
            message = f"the walking route is blocked for this profile by: {listed}{more}"
        else:
            message = snap_problem or (
                "every way out of the area around the origin or destination is blocked for "
                "this profile"
            ) + self._frontier_summary(profile, origin)
        return NoRouteError(
            f"no route for profile '{profile.name}': {message}",
            profile=profile.name,
            barriers=barriers,
            walking_route=walk_route.to_dict(),
        )

    def _frontier_summary(self, profile: Profile, origin: LatLon) -> str:
        """Count why the edges leaving the profile's reachable area are blocked."""
        net = self.network
        try:
            src = net.snap(origin, profile, "from")
        except NoRouteError:
            return ""
        blocked = net.costs(profile).costs.blocked
        reached = np.isfinite(net.tree([src], profile).cost)
        g = self.graph
        leaving = reached[g.edge_u] & ~reached[g.edge_v] & (blocked > 0)
        counts: dict[str, int] = {}
        for flags in blocked[leaving].tolist():
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


def _rounded(point: np.ndarray) -> list[float]:
    """A warning's (lat, lon) to 6 decimals, rounded as numpy rounds (as warnings always
    were), as plain floats (a body of plain values is encoded without conversions)."""
    return [float(round(point[0], 6)), float(round(point[1], 6))]


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
