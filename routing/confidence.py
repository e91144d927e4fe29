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

import numpy as np

from routing.cost.profiles import Profile
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.tristate import UNKNOWN, YES


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
        "rails": 0,  # tram/railway lines crossed (at a crossing or under a walkway)
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
    weakest: tuple[float, int, dict] | None = None
    edges = np.fromiter((p.edge for p in pieces), np.int64, len(pieces))
    lengths = np.fromiter((p.length_m for p in pieces), np.float64, len(pieces))
    kind = e["kind"][edges]
    is_crossing = (kind == crossing_kind) & (
        e["built"][edges] | (e["crossing_share"][edges] >= 0.999)
    )

    def where(order: int) -> list[float]:
        lat, lon = pieces[order].geometry[0]
        return [round(float(lat), 6), round(float(lon), 6)]

    rail_edges = edges[e["rail_crossings"][edges] > 0]
    # One per run of the same edge (a route's pieces may repeat an edge id in a row).
    crossings["rails"] = int(np.count_nonzero(np.diff(rail_edges, prepend=-1)))
    last_crossing = -1
    for order in np.flatnonzero(is_crossing).tolist():
        i = int(edges[order])
        if i == last_crossing:
            continue
        last_crossing = i
        ckind = int(e["crossing_kind"][i])
        built = bool(e["crossing_built"][i])
        signals = ckind == at.CROSSING_SIGNALS
        known = {"control": not built and ckind != at.CROSSING_UNKNOWN}
        if care["audible"] and signals:
            known["audible"] = int(e["crossing_sound"][i]) != UNKNOWN
        if care["tactile"]:
            known["tactile"] = int(e["crossing_tactile"][i]) != UNKNOWN
        if care["kerb"]:
            known["kerb"] = int(e["crossing_kerb"][i]) != at.KERB_UNKNOWN
        crossings["total"] += 1
        crossings["built_at_junction" if built else "mapped"] += 1
        crossings["signalled"] += signals
        crossings["audible_known"] += signals and int(e["crossing_sound"][i]) != UNKNOWN
        crossings["audible_yes"] += signals and int(e["crossing_sound"][i]) == YES
        crossings["tactile_known"] += int(e["crossing_tactile"][i]) != UNKNOWN
        crossings["kerb_known"] += int(e["crossing_kerb"][i]) != at.KERB_UNKNOWN
        crossings["unsignalled_major"] += (not signals) and int(
            e["crossing_road_class"][i]
        ) >= at.MAJOR_ROAD_CLASS
        score = sum(known.values()) / len(known)
        crossing_scores.append(score)
        if weakest is None or score < weakest[0]:
            weakest = (
                score,
                order,
                {
                    "kind": "crossing",
                    "name": str(graph.names[graph.edge_name[i]]),
                    "location": where(order),
                    "unknown": sorted(k for k, v in known.items() if not v),
                },
            )

    ways = np.flatnonzero(~is_crossing)
    w, length = edges[ways], lengths[ways]
    source = e["grade_source"][w]
    grade_known = np.isfinite(e["grade"][w])
    facts_known = {
        "sidewalk": ~((e["sidewalk"][w] == at.SIDEWALK_UNKNOWN) & e["built"][w]),
        "surface": e["surface"][w] != at.SURFACE_UNKNOWN,
        "grade": grade_known,
        "width": np.isfinite(e["width"][w]),
        "lit": e["lit"][w] != UNKNOWN,
    }
    metres["total"] = float(length.sum())
    street = (e["kind"][w] == at.WAY_KIND["street"]) & (e["road_class"][w] >= 2)
    metres["carriageway"] = float(length[street].sum())
    metres["sidewalk_assumed"] = float(length[~facts_known["sidewalk"]].sum())
    metres["surface_known"] = float(length[facts_known["surface"]].sum())
    metres["grade_dem"] = float(length[source == 1].sum())
    metres["grade_tag"] = float(length[source == 2].sum())
    metres["grade_unknown"] = float(length[~grade_known].sum())
    metres["width_known"] = float(length[facts_known["width"]].sum())
    metres["lit_known"] = float(length[facts_known["lit"]].sum())
    columns = [k for k in facts_known if k == "sidewalk" or care[k]]
    share = np.mean([facts_known[k] for k in columns], axis=0) if len(w) else np.zeros(0)
    way_total = float(length.sum())
    ways_share = float((share * length).sum() / way_total) if way_total > 0 else 1.0
    long_enough = np.flatnonzero(length >= 10.0)
    if len(long_enough):
        j = int(long_enough[np.argmin(share[long_enough])])
        order = int(ways[j])
        if weakest is None or (share[j], order) < (weakest[0], weakest[1]):
            i = int(edges[order])
            weakest = (
                float(share[j]),
                order,
                {
                    "kind": at.WAY_KIND_NAMES[int(e["kind"][i])],
                    "name": str(graph.names[graph.edge_name[i]]),
                    "location": where(order),
                    "unknown": sorted(k for k in columns if not facts_known[k][j]),
                },
            )
    for i in w[e["kind"][w] == at.WAY_KIND["steps"]].tolist():
        steps["flights"] += 1
        steps["count_known"] += int(e["step_count"][i]) >= 0
        steps["handrail_known"] += int(e["handrail"][i]) != UNKNOWN
    heads = np.unique(graph.edge_v[w])
    heads = heads[n["has_kerb"][heads]]
    kerbs["total"] = len(heads)
    kerbs["known"] = int((n["kerb"][heads] != at.KERB_UNKNOWN).sum())
    kerbs["raised"] = int((n["kerb"][heads] == at.KERB_RAISED).sum())
    kerbs["total"] += crossings["total"]  # each crossing has a kerb at both of its ends
    kerbs["known"] += crossings["kerb_known"]
    crossings_share = float(np.mean(crossing_scores)) if crossing_scores else 1.0
    confidence = (ways_share + crossings_share) / 2
    facts = {
        "crossings": crossings,
        "kerbs": kerbs,
        "metres": {k: round(v, 1) for k, v in metres.items()},
        "steps": steps,
        "shares": {"ways": round(ways_share, 3), "crossings": round(crossings_share, 3)},
        "weakest": None if weakest is None else {**weakest[2], "known_share": round(weakest[0], 3)},
    }
    return facts, confidence
