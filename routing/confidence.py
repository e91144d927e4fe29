"""Per-fact confidence of a route: what the map knows along it, and its weakest link.

A route's ``facts`` count, for each kind of fact the profile cares about, how much of the
route has it mapped: crossings (by how they were found and what is known of them), kerbs,
carriageway metres, surface, grade source, width, lighting and steps. The single
``confidence`` number is the mean of two shares, each in 0..1:

* **ways**: the length-weighted share of way facts known, over the facts the profile
  cares about (sidewalk present rather than assumed, for all; surface, grade and width for
  wheelchairs; lighting where the profile prices it);
* **crossings**: the mean, over the route's crossings, of the share of crossing facts known
  (control for all; audible signal where the profile prices it, at signals; tactile paving
  where the profile prices it; kerb for wheelchairs). A route without crossings counts 1.

The *weakest link* is the crossing or way piece with the smallest known share (the first
one on the route when tied), with its place and the facts it lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from routing.cost.profiles import Profile
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph


@dataclass(frozen=True)
class _Piece:
    edge: int
    length_m: float
    location: tuple[float, float]


def _relevant(profile: Profile) -> dict[str, bool]:
    return {
        "audible": profile.crossing_no_sound_s > 0,
        "tactile": profile.no_tactile_s > 0,
        "kerb": profile.wheelchair,
        "surface": profile.wheelchair or profile.rough_surface_reluctance > 1.0,
        "grade": profile.wheelchair or profile.max_uphill < 1.0,
        "width": profile.wheelchair,
        "lit": profile.unlit_reluctance > 1.0,
    }


def route_facts(graph: CompiledGraph, profile: Profile, pieces) -> tuple[dict, float]:
    """The fact breakdown of a route and its confidence (see the module docstring).

    Parameters
    ----------
    graph
        The compiled graph.
    profile
        The profile the route was made for (decides which facts matter).
    pieces
        The route's pieces (``edge``, ``length_m``, ``geometry``), in order.
    """
    e, n = graph.edge, graph.node
    care = _relevant(profile)
    crossing_kind = at.WAY_KIND["crossing"]
    crossings = {
        "total": 0,
        "mapped": 0,
        "built_at_junction": 0,
        "signalled": 0,
        "audible_known": 0,
        "audible_yes": 0,
        "tactile_known": 0,
        "kerb_known": 0,
        "unsignalled_major": 0,
    }
    kerbs = {"total": 0, "known": 0, "raised": 0}
    metres = {
        "total": 0.0,
        "carriageway": 0.0,
        "sidewalk_assumed": 0.0,
        "surface_known": 0.0,
        "grade_dem": 0.0,
        "grade_tag": 0.0,
        "grade_unknown": 0.0,
        "width_known": 0.0,
        "lit_known": 0.0,
    }
    steps = {"flights": 0, "count_known": 0, "handrail_known": 0}
    crossing_scores: list[float] = []
    way_known = way_total = 0.0
    weakest: tuple[float, int, dict] | None = None
    seen_nodes: set[int] = set()
    last_crossing = -1
    for order, piece in enumerate(pieces):
        i = piece.edge
        where = [round(float(piece.geometry[0][0]), 6), round(float(piece.geometry[0][1]), 6)]
        kind = int(e["kind"][i])
        length = float(piece.length_m)
        if kind == crossing_kind and (e["built"][i] or e["crossing_share"][i] >= 0.999):
            if i == last_crossing:
                continue
            last_crossing = i
            ckind = int(e["crossing_kind"][i])
            built = bool(e["crossing_built"][i])
            signals = ckind == at.CROSSING_SIGNALS
            known = {"control": not built and ckind != at.CROSSING_UNKNOWN}
            if care["audible"] and signals:
                known["audible"] = int(e["crossing_sound"][i]) != at.UNKNOWN
            if care["tactile"]:
                known["tactile"] = int(e["crossing_tactile"][i]) != at.UNKNOWN
            if care["kerb"]:
                known["kerb"] = int(e["crossing_kerb"][i]) != at.KERB_UNKNOWN
            crossings["total"] += 1
            crossings["built_at_junction" if built else "mapped"] += 1
            crossings["signalled"] += signals
            crossings["audible_known"] += signals and int(e["crossing_sound"][i]) != at.UNKNOWN
            crossings["audible_yes"] += signals and int(e["crossing_sound"][i]) == at.YES
            crossings["tactile_known"] += int(e["crossing_tactile"][i]) != at.UNKNOWN
            crossings["kerb_known"] += int(e["crossing_kerb"][i]) != at.KERB_UNKNOWN
            crossings["unsignalled_major"] += (not signals) and int(
                e["crossing_road_class"][i]
            ) >= at.MAJOR_ROAD_CLASS
            score = sum(known.values()) / len(known)
            crossing_scores.append(score)
            candidate = {
                "kind": "crossing",
                "name": str(graph.names[graph.edge_name[i]]),
                "location": where,
                "unknown": sorted(k for k, v in known.items() if not v),
            }
            if weakest is None or score < weakest[0]:
                weakest = (score, order, candidate)
            continue
        metres["total"] += length
        street = kind == at.WAY_KIND["street"] and int(e["road_class"][i]) >= 2
        metres["carriageway"] += length * street
        assumed = int(e["sidewalk"][i]) == at.SIDEWALK_UNKNOWN and bool(e["built"][i])
        metres["sidewalk_assumed"] += length * assumed
        surface_known = int(e["surface"][i]) != at.SURFACE_UNKNOWN
        metres["surface_known"] += length * surface_known
        source = int(e["grade_source"][i])
        metres["grade_dem" if source == 1 else "grade_tag" if source == 2 else "grade_unknown"] += (
            length if source in (1, 2) or not math.isfinite(float(e["grade"][i])) else 0.0
        )
        metres["width_known"] += length * math.isfinite(float(e["width"][i]))
        metres["lit_known"] += length * (int(e["lit"][i]) != at.UNKNOWN)
        known = {"sidewalk": not assumed}
        if care["surface"]:
            known["surface"] = surface_known
        if care["grade"]:
            known["grade"] = math.isfinite(float(e["grade"][i]))
        if care["width"]:
            known["width"] = math.isfinite(float(e["width"][i]))
        if care["lit"]:
            known["lit"] = int(e["lit"][i]) != at.UNKNOWN
        share = sum(known.values()) / len(known)
        way_known += share * length
        way_total += length
        if length >= 10.0 and (weakest is None or share < weakest[0]):
            weakest = (
                share,
                order,
                {
                    "kind": at.WAY_KIND_NAMES[kind],
                    "name": str(graph.names[graph.edge_name[i]]),
                    "location": where,
                    "unknown": sorted(k for k, v in known.items() if not v),
                },
            )
        if kind == at.WAY_KIND["steps"]:
            steps["flights"] += 1
            steps["count_known"] += int(e["step_count"][i]) >= 0
            steps["handrail_known"] += int(e["handrail"][i]) != at.UNKNOWN
        head = int(graph.edge_v[i])
        if n["has_kerb"][head] and head not in seen_nodes:
            seen_nodes.add(head)
            kerbs["total"] += 1
            kerbs["known"] += int(n["kerb"][head]) != at.KERB_UNKNOWN
            kerbs["raised"] += int(n["kerb"][head]) == at.KERB_RAISED
    kerbs["total"] += crossings["total"]  # each crossing has a kerb at both of its ends
    kerbs["known"] += crossings["kerb_known"]
    ways_share = way_known / way_total if way_total > 0 else 1.0
    crossings_share = float(np.mean(crossing_scores)) if crossing_scores else 1.0
    confidence = (ways_share + crossings_share) / 2
    facts = {
        "crossings": crossings,
        "kerbs": kerbs,
        "metres": {k: round(v, 1) for k, v in metres.items()},
        "steps": steps,
        "shares": {"ways": round(ways_share, 3), "crossings": round(crossings_share, 3)},
        "weakest": None
        if weakest is None
        else {**weakest[2], "known_share": round(weakest[0], 3)},
    }
    return facts, confidence
