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

from routing.arrays import pack_fields
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


#: The way facts of :class:`EdgeFacts`, in the order of its bits.
WAY_FACTS = ("sidewalk", "surface", "grade", "width", "lit")
_GRADE_DEM, _GRADE_TAG, _CARRIAGEWAY, _STEPS, _RAILS, _HEAD_KERB, _CROSSING = (
    1 << (len(WAY_FACTS) + i) for i in range(7))  # fmt: skip
#: Above those flags, packed fields: (name, width in bits, added before packing); the head
#: node's kerb first, then the crossing facts of :func:`route_facts`.
_FIELDS = (("kerb", 3, 0), ("crossing_kind", 3, 0), ("crossing_built", 1, 0),
           ("crossing_sound", 2, 1), ("crossing_tactile", 2, 1), ("crossing_kerb", 3, 0),
           ("crossing_road_class", 4, 0))  # fmt: skip
_FIELDS_SHIFT = len(WAY_FACTS) + 7


class EdgeFacts:
    """What :func:`route_facts` reads of every edge, worked out once per graph.

    ``bits``: per way fact of :data:`WAY_FACTS` whether it is known, then whether the
    grade comes from the elevation model or a tag, whether the edge runs on a carriageway,
    whether it is a flight of steps, whether it crosses tram or railway lines, whether its
    head node has a kerb, whether it is a crossing counted as one (built at a junction, or
    mapped over its whole length); then the head node's kerb and the edge's crossing facts
    as small packed numbers (:data:`_FIELDS`), so a route reads one value per piece.
    """

    def __init__(self, graph: CompiledGraph) -> None:
        e, n = graph.edge, graph.node
        kind = e["kind"]
        head = graph.edge_v
        known = (
            ~((e["sidewalk"] == at.SIDEWALK_UNKNOWN) & e["built"]),
            e["surface"] != at.SURFACE_UNKNOWN,
            np.isfinite(e["grade"]),
            np.isfinite(e["width"]),
            e["lit"] != UNKNOWN,
            e["grade_source"] == 1,
            e["grade_source"] == 2,
            (kind == at.WAY_KIND["street"]) & (e["road_class"] >= 2),
            kind == at.WAY_KIND["steps"],
            e["rail_crossings"] > 0,
            n["has_kerb"][head],
            (kind == at.WAY_KIND["crossing"]) & (e["built"] | (e["crossing_share"] >= 0.999)),
        )
        bits = np.zeros(graph.n_edges, dtype=np.uint32)
        for i, flag in enumerate(known):
            bits |= flag.astype(np.uint32) << i
        head_kerb = n["kerb"][head]
        fields = [(name, (head_kerb if name == "kerb" else e[name]).astype(np.int64) + offset,
                   width) for name, width, offset in _FIELDS]  # fmt: skip
        pack_fields(bits, fields, shift=_FIELDS_SHIFT)
        self.bits = bits


def _unpack(packed: int) -> list[int]:
    """The :data:`_FIELDS` of one edge's ``EdgeFacts.bits``, as stored in the graph."""
    out = []
    packed >>= _FIELDS_SHIFT
    for _, width, offset in _FIELDS:
        out.append((packed & ((1 << width) - 1)) - offset)
        packed >>= width
    return out


#: The metre counts of a route's ways, after ``total``: (name, bit, counted when the bit is
#: set or when it is not).
_METRE_BITS = (
    ("carriageway", _CARRIAGEWAY, True),
    ("sidewalk_assumed", 1 << WAY_FACTS.index("sidewalk"), False),
    ("surface_known", 1 << WAY_FACTS.index("surface"), True),
    ("grade_dem", _GRADE_DEM, True),
    ("grade_tag", _GRADE_TAG, True),
    ("grade_unknown", 1 << WAY_FACTS.index("grade"), False),
    ("width_known", 1 << WAY_FACTS.index("width"), True),
    ("lit_known", 1 << WAY_FACTS.index("lit"), True),
)
_METRES = ("total", *(name for name, _, _ in _METRE_BITS))


def route_facts(graph: CompiledGraph, profile: Profile, pieces, *,
                table: EdgeFacts | None = None) -> tuple[dict, float]:  # fmt: skip
    """The fact breakdown of a route and its confidence (see the module docstring).

    Parameters
    ----------
    graph
        The compiled graph.
    profile
        The profile the route was made for (decides which facts matter).
    pieces
        The route's pieces (``edge``, ``length_m``, ``geometry``), in order.
    table
        The graph's :class:`EdgeFacts` (made here when not given: pass it when describing
        many routes).
    """
    e = graph.edge
    table = table if table is not None else EdgeFacts(graph)
    care = _relevant(profile)
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
    steps = {"flights": 0, "count_known": 0, "handrail_known": 0}
    crossing_scores: list[float] = []
    weakest: tuple[float, int, dict] | None = None
    # A route has tens of pieces: each per-edge value is read once as a list, and the rest
    # is plain Python (a numpy call on a few values costs more than the values' work).
    edge_list = [p.edge for p in pieces]
    lengths = [p.length_m for p in pieces]
    bits = table.bits[edge_list].tolist()

    def where(order: int) -> list[float]:
        lat, lon = pieces[order].geometry[0]
        return [round(float(lat), 6), round(float(lon), 6)]

    # One per run of the same edge (a route's pieces may repeat an edge id in a row).
    last_rail = -1
    for i, b in zip(edge_list, bits, strict=True):
        if b & _RAILS:
            crossings["rails"] += i != last_rail
            last_rail = i
    orders = [order for order, b in enumerate(bits) if b & _CROSSING]
    if orders:
        last_crossing = -1
        for order in orders:
            i = edge_list[order]
            if i == last_crossing:
                continue
            last_crossing = i
            _, ckind, built, sound, tactile, kerb, road_class = _unpack(bits[order])
            signals = ckind == at.CROSSING_SIGNALS
            known = {"control": not built and ckind != at.CROSSING_UNKNOWN}
            if care["audible"] and signals:
                known["audible"] = sound != UNKNOWN
            if care["tactile"]:
                known["tactile"] = tactile != UNKNOWN
            if care["kerb"]:
                known["kerb"] = kerb != at.KERB_UNKNOWN
            crossings["total"] += 1
            crossings["built_at_junction" if built else "mapped"] += 1
            crossings["signalled"] += signals
            crossings["audible_known"] += signals and sound != UNKNOWN
            crossings["audible_yes"] += signals and sound == YES
            crossings["tactile_known"] += tactile != UNKNOWN
            crossings["kerb_known"] += kerb != at.KERB_UNKNOWN
            crossings["unsignalled_major"] += (not signals) and road_class >= at.MAJOR_ROAD_CLASS
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

    ways = [order for order, b in enumerate(bits) if not b & _CROSSING]
    metres = dict.fromkeys(_METRES, 0.0)
    columns = [k for k in WAY_FACTS if k == "sidewalk" or care[k]]
    cared = [1 << WAY_FACTS.index(k) for k in columns]
    shares: list[float] = []
    weighted = 0.0
    counted: dict[int, tuple[tuple[str, ...], float]] = {}  # per bits: metre counts, share
    for order in ways:
        length, b = lengths[order], bits[order]
        if b not in counted:
            counted[b] = (
                tuple(name for name, mask, when_set in _METRE_BITS if bool(b & mask) == when_set),
                sum(1 for mask in cared if b & mask) / len(cared),
            )
        names, share = counted[b]
        metres["total"] += length
        for name in names:  # each count adds its pieces in route order, as before
            metres[name] += length
        shares.append(share)
        weighted += share * length
    way_total = metres["total"]
    ways_share = weighted / way_total if way_total > 0 else 1.0
    long_enough = [j for j, order in enumerate(ways) if lengths[order] >= 10.0]
    if long_enough:
        j = min(long_enough, key=lambda j: shares[j])  # the first of the least known
        order = ways[j]
        if weakest is None or (shares[j], order) < (weakest[0], weakest[1]):
            i = edge_list[order]
            weakest = (
                shares[j],
                order,
                {
                    "kind": at.WAY_KIND_NAMES[int(e["kind"][i])],
                    "name": str(graph.names[graph.edge_name[i]]),
                    "location": where(order),
                    "unknown": sorted(k for k, mask in zip(columns, cared, strict=True)
                                      if not bits[order] & mask),
                },
            )
    for order in ways:
        if bits[order] & _STEPS:
            i = edge_list[order]
            steps["flights"] += 1
            steps["count_known"] += int(e["step_count"][i]) >= 0
            steps["handrail_known"] += int(e["handrail"][i]) != UNKNOWN
    kerb_at: dict[int, int] = {}  # the kerbs at the ways' head nodes, each node once
    with_kerb = [order for order in ways if bits[order] & _HEAD_KERB]
    if with_kerb:
        heads = graph.edge_v[[edge_list[order] for order in with_kerb]].tolist()
        for node, order in zip(heads, with_kerb, strict=True):
            kerb_at[node] = _unpack(bits[order])[0]
    kerbs["total"] = len(kerb_at)
    kerbs["known"] = sum(kerb != at.KERB_UNKNOWN for kerb in kerb_at.values())
    kerbs["raised"] = sum(kerb == at.KERB_RAISED for kerb in kerb_at.values())
    kerbs["total"] += crossings["total"]  # each crossing has a kerb at both of its ends
    kerbs["known"] += crossings["kerb_known"]
    crossings_share = (sum(crossing_scores) / len(crossing_scores)) if crossing_scores else 1.0
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
