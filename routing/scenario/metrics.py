"""Street accessibility metrics of one network for one profile (see docs/scenarios.md).

The work is split by origin: :func:`measure_origins` runs one search tree per origin
(:meth:`routing.network.StreetNetwork.tree`, bounded by :data:`COST_LIMIT`) and reads the
seconds to the origin's OD partners and to every opportunity, and the unsignalled
major-road crossings along each path. :func:`summarise` turns the gathered arrays into the
figures of the report. Definitions:

OD pairs
    Ordered pairs of grid origins (cell centres) at most ``trip_radius_m`` apart in a
    straight line (a trip on foot or by wheelchair across a neighbourhood), the same set
    for every profile, before and after.
usable route
    The profile's cheapest path exists within :data:`COST_LIMIT` of cost, and both ends
    snap onto ways the profile may use within half a cell (origins) or
    :data:`POI_SNAP_M` (opportunities).
travel time
    Real seconds along the cheapest path (what the traveller experiences).
opportunities within T
    Per origin, the opportunities reachable within T minutes; averaged over all origins.
unsignalled major-road crossings per blind trip
    Crossings of tertiary or bigger roads that have no traffic signals (marked, unmarked
    or unknown crossings), counted along each usable blind OD path; mean per trip.
"""

from __future__ import annotations

import numpy as np

from routing.graph import attributes as at

#: Paths costing more than this (cost seconds, 3 hours) count as no usable route.
COST_LIMIT = 3 * 3600.0
#: How far an opportunity may lie from a usable way (m).
POI_SNAP_M = 300.0
#: Minutes of the cumulative-opportunity thresholds.
THRESHOLDS_MIN = (15, 30, 45)
#: Travel-time percentiles reported.
PERCENTILES = (10, 25, 50, 75, 90)
#: Minutes at which the travel-time CDF is tabulated.
CDF_MINUTES = tuple(range(0, 61, 5))

_UNSIGNALLED = np.array([at.CROSSING_UNKNOWN, at.CROSSING_UNMARKED, at.CROSSING_MARKED])
_FOOT = ("footway", "sidewalk", "path", "pedestrian street", "platform", "corridor")
_FOOT_KINDS = np.array([at.WAY_KIND[k] for k in _FOOT])


def unsignalled_major_crossings(graph) -> np.ndarray:
    """Per edge: how many unsignalled crossings of a major road it takes (crossing pieces
    count their length share, so a whole crossing counts 1; a crossing node counts on the
    walkway edges entering it, as the cost model charges it)."""
    e, n = graph.edge, graph.node
    piece = ((e["kind"] == at.WAY_KIND["crossing"]) & np.isin(e["crossing_kind"], _UNSIGNALLED)
             & (e["crossing_road_class"] >= at.MAJOR_ROAD_CLASS))  # fmt: skip
    node = np.isin(n["crossing_kind"], _UNSIGNALLED) & (
        n["crossing_road_class"] >= at.MAJOR_ROAD_CLASS)  # fmt: skip
    entering = np.isin(e["kind"], _FOOT_KINDS) & node[graph.edge_v]
    return np.where(piece, e["crossing_share"].astype(np.float64), 0.0) + entering


def _chain_sums(parent: np.ndarray, step: np.ndarray) -> np.ndarray:
    """Per node, ``step`` summed over its chain of parents (-1 ends a chain)."""
    size = len(parent)
    total = np.append(step.astype(np.float64), 0.0)
    up = np.append(np.where(parent >= 0, parent, size), size)
    while (up[:-1] != size).any():
        total[:-1] += total[up[:-1]]
        up[:-1] = up[up[:-1]]
    return total[:-1]


def measure_origins(network, profile, origins, partners, pois, *, count_crossings=False,
                    crossings_per_edge=None) -> dict:  # fmt: skip
    """Seconds (and crossings) from each origin to its partners and to every opportunity.

    Parameters
    ----------
    origins
        Snapped origins (``None``: the origin is not on a way the profile may use).
    partners
        Per origin, the snapped OD partners (``None`` entries allowed).
    pois
        Snapped opportunities (``None`` allowed).

    Returns
    -------
    dict
        ``od_s``: list of float32 arrays (per origin, seconds to each partner, inf when
        unusable); ``poi_s``: float32 array origins x opportunities; ``od_crossings``
        (with ``count_crossings``): per origin, crossings to each partner (nan: unusable).
    """
    n_poi = len(pois)
    if not count_crossings:  # no paths needed: one batched search, values at the targets only
        return _measure_by_matrix(network, profile, origins, partners, pois)
    od_s, od_x = [], []
    poi_s = np.full((len(origins), n_poi), np.inf, dtype=np.float32)
    for k, (origin, mates) in enumerate(zip(origins, partners, strict=True)):
        if origin is None:
            od_s.append(np.full(len(mates), np.inf, dtype=np.float32))
            od_x.append(np.full(len(mates), np.nan, dtype=np.float32))
            continue
        tree = network.tree([origin], profile, limit=COST_LIMIT)
        points = list(mates) + list(pois)
        values = tree.at(points).seconds[0] if points else np.zeros(0)
        od_s.append(values[: len(mates)].astype(np.float32))
        poi_s[k] = values[len(mates):]
        if count_crossings:
            pg = network.costs(profile)
            parent = tree.parent
            child = np.flatnonzero(parent >= 0)
            step = np.zeros(len(parent))
            step[child] = crossings_per_edge[pg.edges_between(parent[child], child)]
            sums = _chain_sums(parent, step)
            g = network.graph
            counts = np.full(len(mates), np.nan, dtype=np.float32)
            for j, m in enumerate(mates):
                if m is None or not np.isfinite(values[j]):
                    continue
                ends = (int(g.edge_u[m.edge]), int(g.edge_v[m.edge]))
                end = min(ends, key=lambda x: tree.cost[x])
                counts[j] = sums[end] if np.isfinite(tree.cost[end]) else 0.0
            od_x.append(counts)
    out = {"od_s": od_s, "poi_s": poi_s}
    if count_crossings:
        out["od_crossings"] = od_x
    return out


def _measure_by_matrix(network, profile, origins, partners, pois) -> dict:
    """:func:`measure_origins` without crossings: one :meth:`StreetNetwork.matrix` call
    from all origins to their partners and the opportunities (each distinct snap once),
    which backtracks only to the target nodes instead of summing whole trees."""
    ids: dict[tuple[int, float], int] = {}
    targets: list = []

    def index(snap) -> int:
        if snap is None:
            return -1
        key = (snap.edge, snap.t)
        if key not in ids:
            ids[key] = len(targets)
            targets.append(snap)
        return ids[key]

    poi_cols = np.array([index(p) for p in pois], dtype=np.int64)
    mate_cols = [np.array([index(q) for q in mates], dtype=np.int64) for mates in partners]
    rows = [o for o in origins if o is not None]
    if rows and targets:
        seconds = network.matrix(rows, targets, profile, limit=COST_LIMIT).seconds
    else:
        seconds = np.full((len(rows), len(targets)), np.inf)
    seconds = np.hstack([seconds, np.full((len(rows), 1), np.inf)])  # column -1: not snapped
    od_s: list[np.ndarray] = []
    poi_s = np.full((len(origins), len(pois)), np.inf, dtype=np.float32)
    row = 0
    for k, (origin, cols) in enumerate(zip(origins, mate_cols, strict=True)):
        if origin is None:
            od_s.append(np.full(len(cols), np.inf, dtype=np.float32))
            continue
        od_s.append(seconds[row, cols].astype(np.float32))
        poi_s[k] = seconds[row, poi_cols]
        row += 1
    return {"od_s": od_s, "poi_s": poi_s}


def _round(x: float, digits: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def summarise(od_s: np.ndarray, poi_s: np.ndarray, poi_cat: np.ndarray, categories,
              *, od_crossings: np.ndarray | None = None) -> dict:  # fmt: skip
    """Figures of one profile on one network from all origins' arrays.

    ``od_s``: seconds per OD pair (inf: unusable); ``poi_s``: origins x opportunities.
    """
    usable = np.isfinite(od_s)
    pairs = len(od_s)
    times = od_s[usable].astype(np.float64)
    out: dict = {
        "od_pairs": int(pairs),
        "usable_pairs": int(usable.sum()),
        "usable_share": _round(usable.mean()) if pairs else None,
        "travel_time_s": {f"p{q}": _round(np.percentile(times, q), 1) if len(times) else None
                          for q in PERCENTILES},  # fmt: skip
        "cdf": {str(m): _round((od_s <= 60 * m).mean()) if pairs else None
                for m in CDF_MINUTES},  # fmt: skip
        "opportunities": {},
    }
    for minutes in THRESHOLDS_MIN:
        within = poi_s <= 60 * minutes
        per_cat = {c: _round(within[:, poi_cat == c].sum(axis=1).mean(), 3) if len(within) else 0
                   for c in categories}  # fmt: skip
        per_cat["all"] = _round(within.sum(axis=1).mean(), 3) if len(within) else 0
        out["opportunities"][str(minutes)] = per_cat
    if od_crossings is not None:
        got = od_crossings[usable & np.isfinite(od_crossings)]
        out["unsignalled_major_crossings_per_trip"] = _round(got.mean(), 3) if len(got) else None
    return out


def gap(profile_s: np.ndarray, walk_s: np.ndarray, profile_opp30: float, walk_opp30: float,
        profile_share: float, walk_share: float) -> dict:  # fmt: skip
    """The gap between a profile and walking over the same OD pairs (see docs)."""
    both = np.isfinite(profile_s) & np.isfinite(walk_s) & (walk_s > 0)
    ratio = float(np.median(profile_s[both] / walk_s[both])) if both.any() else np.nan
    return {
        "usable_share_gap": _round((walk_share or 0) - (profile_share or 0)),
        "median_time_ratio": _round(ratio, 3),
        "opportunities_30_ratio": _round(profile_opp30 / walk_opp30, 3) if walk_opp30 else None,
    }
