"""Where to build next: rank candidate sites for one kind of improvement, and find the single
barriers that block the most origin-destination pairs per profile.

Objective. For the chosen profile, the *total capped cost* over the OD pairs of the grid
(see :mod:`routing.scenario.metrics`): the sum of each pair's cheapest-path cost, a pair
with no usable route counting :data:`~routing.scenario.metrics.COST_LIMIT`. A site's gain
is how much adding the improvement there lowers it, given the sites already chosen; it
rewards both pairs that become possible and trips that become cheaper (safer, shorter) for
that profile.

Greedy with lazy re-evaluation (CELF, Leskovec et al. 2007): every candidate's gain is
evaluated once; then the best is re-evaluated given the chosen set and taken if it stays
best, else it goes back to the queue. Lazy evaluation is exact for submodular objectives;
shortest-path objectives are not always submodular (two sites can matter only together),
so the ranking is a greedy heuristic, each gain being the true gain at its step.

Single barriers. A pair that has no usable route for a profile but has a walking route is
blocked; when the walking route crosses exactly one barrier site of that profile (an edge
the profile may not use, grouped by OSM way), that barrier alone blocks the pair. Barriers
are counted by the pairs they alone block.
"""

from __future__ import annotations

import heapq
import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from routing.cost import get_profile
from routing.cost.model import BLOCK_REASONS
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.network import StreetNetwork
from routing.scenario import metrics as m
from routing.scenario.areas import make_grid
from routing.scenario.edits import (
    EditedNetwork,
    Site,
    SiteIndex,
    apply_at_sites,
    apply_street_edits,
    stable_snaps,
)
from routing.scenario.execute import Progress, map_batches
from routing.scenario.spec import Scenario

#: The profile each feature is meant for (the default objective).
FEATURE_PROFILE = {
    "audible_signal": "blind",
    "tactile_paving": "blind",
    "signals": "blind",
    "lowered_kerb": "wheelchair_manual",
    "ramp": "wheelchair_manual",
}


@dataclass(frozen=True)
class _RankJob:
    key: str
    graph: CompiledGraph  # the base, with the --base scenario applied
    feature: str
    profile: str
    sites: tuple[Site, ...]
    origin_lat: np.ndarray
    origin_lon: np.ndarray
    pairs: tuple[np.ndarray, np.ndarray]  # (origin index, partner index)
    snap_m: float


_NET: dict[str, StreetNetwork] = {}


def _base(job: _RankJob) -> StreetNetwork:
    net = _NET.get(job.key)
    if net is None:
        _NET.clear()
        net = _NET[job.key] = StreetNetwork(job.graph)
    return net


def objective(net: StreetNetwork, job: _RankJob) -> float:
    """Total capped cost of the job's OD pairs on ``net`` (lower is better)."""
    profile = get_profile(job.profile)
    pts = list(zip(job.origin_lat.tolist(), job.origin_lon.tolist(), strict=True))
    snaps = stable_snaps(_base(job), net, pts, profile, max_distance_m=job.snap_m)
    cost = net.matrix(snaps, snaps, profile, limit=m.COST_LIMIT).cost
    pair_cost = cost[job.pairs[0], job.pairs[1]]
    return float(np.minimum(pair_cost, m.COST_LIMIT).sum())


def evaluate(job: _RankJob, chosen: tuple[int, ...]) -> float:
    """The objective with the improvement at sites ``chosen`` (indices into job.sites)."""
    base = _base(job)
    if not chosen:
        return objective(base, job)
    graph, changed = apply_at_sites(job.graph, job.feature, "add",
                                    [job.sites[i] for i in chosen])  # fmt: skip
    return objective(EditedNetwork(base, graph, changed), job)


def _needs(graph: CompiledGraph, feature: str, site: Site) -> bool:
    """Whether adding ``feature`` at ``site`` changes anything (else it is no candidate)."""
    _, changed = apply_at_sites(graph, feature, "add", [site])
    return len(changed) > 0


def rank_sites(data, *, feature: str, budget: int = 10, profile: str | None = None,
               candidates: int = 60, base: Scenario | None = None, cell_m: float | None = None,
               max_origins: int | None = 150, workers: int | None = None,
               scheduler: str | None = None, progress: Progress | None = None,
               barriers: bool = True, reach_m: float = 1500.0) -> dict:  # fmt: skip
    """Rank up to ``budget`` sites for ``feature`` by their gain (see the module docstring).

    Candidates are the sites of the feature's kind where it is missing; with metro stations
    loaded, the ``candidates`` nearest to a station, else the first ``candidates``. Origins
    are the centres of ``cell_m`` grid cells (default 500 m) within ``reach_m`` of a
    candidate, at most ``max_origins`` of them evenly spread; OD pairs are origins at most
    2.5 km apart.
    """
    profile = profile or FEATURE_PROFILE[feature]
    graph = data.graph
    net = data.network if data.network is not None else StreetNetwork(graph)
    if base is not None and base.street:
        sites0 = SiteIndex(graph, stations=data.station_points)
        edited = apply_street_edits(graph, base.street, sites=sites0, source=base.source)
        graph = edited.graph
        net = EditedNetwork(net, graph, edited.changed_edges)
    index = SiteIndex(graph, stations=data.station_points)
    kind = "crossings" if feature != "ramp" else "steps"
    pool = [s for s in index.sites(kind) if _needs(graph, feature, s)]
    if data.station_points:
        pts = np.array(data.station_points)
        xy = index.projection.forward(pts[:, 0], pts[:, 1])
        sxy = index.projection.forward([s.lat for s in pool], [s.lon for s in pool])
        near = np.linalg.norm(sxy[:, None, :] - xy[None, :, :], axis=2).min(axis=1) if pool else []
        pool = [pool[i] for i in np.argsort(near, kind="stable")]
    pool = pool[:candidates]

    cell = float(cell_m or 500.0)
    grid = make_grid(graph, cell, lambda a, b: net.snap_many(
        [(a, b)], get_profile("walk"), max_distance_m=cell / 2)[0] is not None)  # fmt: skip
    # Origins around the candidates: only trips near a site can gain from it.
    if pool:
        gxy = index.projection.forward(grid.lat, grid.lon)
        sxy = index.projection.forward([s.lat for s in pool], [s.lon for s in pool])
        near = np.linalg.norm(gxy[:, None, :] - sxy[None, :, :], axis=2).min(axis=1)
        grid = _subset(grid, np.flatnonzero(near <= reach_m))
    keep = np.arange(len(grid))
    if max_origins is not None and len(grid) > max_origins:
        keep = np.unique(np.linspace(0, len(grid) - 1, max_origins).round().astype(np.int64))
    lat, lon = grid.lat[keep], grid.lon[keep]
    xy = index.projection.forward(lat, lon)
    dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=2)
    oi, pj = np.nonzero((dist <= 2500.0) & ~np.eye(len(lat), dtype=bool))
    key = f"{id(graph)}-{feature}-{profile}-{len(pool)}-{len(lat)}"
    job = _RankJob(key, graph, feature, profile, tuple(pool), lat, lon, (oi, pj), cell / 2)
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1 and not scheduler:
        _NET.clear()
        _NET[key] = net if not isinstance(net, EditedNetwork) else StreetNetwork(graph)

    start = evaluate(job, ())
    singles = map_batches(evaluate, job, [((i,),) for i in range(len(pool))], workers=workers,
                          scheduler=scheduler, progress=progress)  # fmt: skip
    heap = [(-(start - v), i, 0) for i, v in enumerate(singles)]
    heapq.heapify(heap)
    chosen: list[int] = []
    ranked = []
    current = start
    while heap and len(chosen) < budget:
        neg, i, stamp = heapq.heappop(heap)
        if stamp == len(chosen):  # evaluated against the current set: take it
            if -neg <= 0:
                break  # nothing left gains
            chosen.append(i)
            current -= -neg
            s = pool[i]
            ranked.append({**s.to_dict(), "gain": round(-neg, 3),
                           "cumulative": round(start - current, 3)})  # fmt: skip
            continue
        value = evaluate(job, tuple(chosen) + (i,))
        heapq.heappush(heap, (-(current - value), i, len(chosen)))
    out = {
        "feature": feature,
        "profile": profile,
        "objective": (
            f"Sites ranked by how much adding {feature.replace('_', ' ')} lowers the total "
            f"capped cost of {len(oi)} OD pairs between {len(lat)} grid origins for the "
            f"{profile} profile (a pair without a usable route counts {m.COST_LIMIT:.0f} s); "
            "greedy with lazy re-evaluation, each gain given the sites ranked above it."
        ),
        "candidates": len(pool),
        "od_pairs": int(len(oi)),
        "objective_before": round(start, 3),
        "ranked": ranked,
    }
    if barriers:
        out["barriers"] = single_barriers(net, job, profiles=(
            "wheelchair_manual", "wheelchair_electric", "reduced_mobility"))  # fmt: skip
    return out


def _subset(grid, keep: np.ndarray):
    from dataclasses import replace

    return replace(grid, lat=grid.lat[keep], lon=grid.lon[keep], row=grid.row[keep],
                   col=grid.col[keep])  # fmt: skip


def single_barriers(net: StreetNetwork, job: _RankJob, *, profiles, top: int = 10) -> list[dict]:
    """Per profile, the barrier sites that alone block the most OD pairs (see module doc)."""
    walk = get_profile("walk")
    pts = list(zip(job.origin_lat.tolist(), job.origin_lon.tolist(), strict=True))
    walk_snaps = net.snap_many(pts, walk, max_distance_m=job.snap_m)
    g = net.graph
    out = []
    wpg = net.costs(walk)
    for name in profiles:
        prof = get_profile(name)
        pc = net.costs(prof).costs
        snaps = net.snap_many(pts, prof, max_distance_m=job.snap_m)
        cost = net.matrix(snaps, snaps, prof, limit=m.COST_LIMIT).cost
        counts: Counter = Counter()
        reason: dict[int, int] = {}
        for o in np.unique(job.pairs[0]):
            mates = job.pairs[1][job.pairs[0] == o]
            blocked = [j for j in mates if not np.isfinite(cost[o, j])]
            if not blocked or walk_snaps[o] is None:
                continue
            tree = net.tree([walk_snaps[o]], walk, limit=m.COST_LIMIT)
            for j in blocked:
                target = walk_snaps[j]
                if target is None:
                    continue
                ends = (int(g.edge_u[target.edge]), int(g.edge_v[target.edge]))
                node = min(ends, key=lambda x: tree.cost[x])
                if not np.isfinite(tree.cost[node]):
                    continue
                ways = set()
                edges = [target.edge, walk_snaps[o].edge]
                while tree.parent[node] >= 0:
                    parent = int(tree.parent[node])
                    edges.append(int(wpg.edge_between(parent, node)))
                    node = parent
                for e in edges:
                    if pc.blocked[e]:
                        ways.add(int(g.edge["osmid"][e]))
                        reason[int(g.edge["osmid"][e])] = int(pc.blocked[e])
                if len(ways) == 1:
                    counts[ways.pop()] += 1
        for way, n in counts.most_common(top):
            flags = reason[way]
            why = ", ".join(t for bit, t in BLOCK_REASONS.items() if flags & bit)
            first = int(np.flatnonzero(g.edge["osmid"] == way)[0])
            lat = float(g.node_lat[g.edge_u[first]])
            lon = float(g.node_lon[g.edge_u[first]])
            kind = at.WAY_KIND_NAMES[int(g.edge["kind"][first])]
            out.append({"profile": name, "label": f"way/{way} ({kind})", "reason": why,
                        "pairs_blocked": int(n), "lat": round(lat, 6),
                        "lon": round(lon, 6)})  # fmt: skip
    return out
