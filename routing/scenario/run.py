"""Run a scenario: the base and the edited network, measured per profile, in batches.

Batches (a profile, a variant -- ``before`` or ``after`` -- and a slice of origins) run in
this process (``workers=1``), in local processes (default: one per core), or on a Dask
distributed cluster (``scheduler="tcp://host:8786"``). Every batch is a pure function of
its inputs, so the three give identical results. Workers build the networks once per run
and keep them (keyed by the run's hash), so a batch costs only its searches.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from routing.cost import get_profile
from routing.errors import ScenarioError
from routing.graph.compiled import CompiledGraph
from routing.network import StreetNetwork
from routing.scenario import metrics as m
from routing.scenario.areas import Districts, make_grid, read_districts
from routing.scenario.edits import EditedNetwork, SiteIndex, apply_street_edits, stable_snaps
from routing.scenario.execute import map_batches
from routing.scenario.opportunities import CATEGORIES, Opportunity, read_poi_file
from routing.scenario.spec import Scenario, StreetEdit

Progress = Callable[[int, int], None]
VARIANTS = ("before", "after")
#: Origins per batch.
BATCH_ORIGINS = 40


@dataclass
class ScenarioData:
    """What a scenario is measured on: the base graph, metro stations, opportunities.

    ``network`` (optional) is a base :class:`StreetNetwork` on ``graph`` to reuse when
    batches run in this process; ``transit`` (a
    :class:`~routing.transit.planner.TransitPlanner`) adds the transit section: journey
    travel times before/after the scenario's transit (and street) edits.
    """

    graph: CompiledGraph
    stations: list[dict] = field(default_factory=list)
    opportunities: list[Opportunity] = field(default_factory=list)
    network: StreetNetwork | None = None
    transit: Any = None

    @classmethod
    def from_files(cls, graph: CompiledGraph, *, osm: str | os.PathLike | None = None,
                   stations: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
                   network: StreetNetwork | None = None,
                   transit: Any = None) -> ScenarioData:  # fmt: skip
        """Opportunities from the OSM extract ``osm`` and the metro ``stations`` JSON list(s).

        The CLI and the HTTP jobs both build their data here, so they give the same report.
        """
        from routing.scenario.opportunities import read_osm_opportunities, station_opportunities

        files = [stations] if isinstance(stations, (str, os.PathLike)) else list(stations or ())
        station_list = [s for f in files for s in json.loads(Path(f).read_text(encoding="utf-8"))]
        opps = read_osm_opportunities(osm) if osm else []
        opps += station_opportunities(station_list)
        return cls(graph=graph, stations=station_list, opportunities=opps, network=network,
                   transit=transit)  # fmt: skip

    @property
    def station_points(self) -> list[tuple[float, float]]:
        return [(float(s["lat"]), float(s["lon"])) for s in self.stations]


@dataclass(frozen=True)
class _Job:
    """Everything a batch needs; pickled once per worker."""

    key: str
    graph: CompiledGraph
    edits: tuple[StreetEdit, ...]
    stations: tuple[tuple[float, float], ...]
    origin_lat: np.ndarray
    origin_lon: np.ndarray
    partners: tuple[np.ndarray, ...]
    poi_lat: np.ndarray
    poi_lon: np.ndarray
    snap_m: float


# -- worker side ------------------------------------------------------------------------
_STATE: dict[str, dict] = {}


def _heap_for_big_arrays() -> None:
    """Undo ``MALLOC_TRIM_THRESHOLD_`` (Dask's nanny sets 65536 for every worker) here.

    With it glibc maps and unmaps every batch-sized numpy array afresh (setting the trim
    threshold also freezes the mmap threshold at 128 KiB), which made the same batches
    ~1.5x slower inside a Dask worker than in a plain process (measured: 240 origins,
    5.9 s -> 9.4 s CPU in one process with the variable set). Arrays under 32 MiB then
    come from the heap again and up to 64 MiB of free heap is kept. glibc only; else a no-op.
    """
    if "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 << 20)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 << 20)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


def _state(job: _Job, base: StreetNetwork | None = None, edited: Any = None) -> dict:
    state = _STATE.get(job.key)
    if state is None:
        _STATE.clear()  # one run at a time per worker
        _heap_for_big_arrays()
        net = base if base is not None and base.graph is job.graph else StreetNetwork(job.graph)
        if edited is None:  # a worker resolves the edits once (the caller already did)
            sites = SiteIndex(job.graph, stations=list(job.stations))
            edited = apply_street_edits(job.graph, job.edits, sites=sites)
        state = {"before": net, "after": EditedNetwork(net, edited.graph, edited.changed_edges),
                 "snaps": {}}  # fmt: skip
        _STATE[job.key] = state
    return state


def _snaps(job: _Job, state: dict, variant: str, profile) -> tuple[list, list]:
    key = (variant, profile.name)
    if key not in state["snaps"]:
        pts = list(zip(job.origin_lat.tolist(), job.origin_lon.tolist(), strict=True))
        poi_pts = list(zip(job.poi_lat.tolist(), job.poi_lon.tolist(), strict=True))
        before, net = state["before"], state[variant]
        origins = stable_snaps(before, net, pts, profile, max_distance_m=job.snap_m)
        pois = stable_snaps(before, net, poi_pts, profile, max_distance_m=m.POI_SNAP_M)
        state["snaps"][key] = (origins, pois)
    return state["snaps"][key]


def run_batch(job: _Job, variant: str, profile_name: str, start: int, stop: int) -> dict:
    """Measure origins ``start:stop`` of ``job`` for one profile on one variant."""
    state = _state(job)
    profile = get_profile(profile_name)
    net = state[variant]
    origins, pois = _snaps(job, state, variant, profile)
    partners = [[origins[j] for j in job.partners[i]] for i in range(start, stop)]
    count = profile.counts_unsignalled_crossings
    per_edge = m.unsignalled_major_crossings(net.graph) if count else None
    return m.measure_origins(net, profile, origins[start:stop], partners, pois,
                             count_crossings=count, crossings_per_edge=per_edge)  # fmt: skip


# -- the result -------------------------------------------------------------------------
@dataclass
class ScenarioResult:
    """The before/after figures of a scenario (``data`` is the JSON document)."""

    data: dict

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.data, indent=indent, ensure_ascii=False, allow_nan=False)

    def to_html(self, *, lang: str = "en") -> str:
        from routing.scenario.report import render_html

        return render_html(self.data, lang=lang)


def _partners(grid, radius_m: float) -> tuple[np.ndarray, ...]:
    from scipy.spatial import cKDTree

    from routing.geo import LocalProjection

    proj = LocalProjection(float(np.mean(grid.lat)), float(np.mean(grid.lon)))
    xy = proj.forward(grid.lat, grid.lon)
    tree = cKDTree(xy)
    out = []
    for i, near in enumerate(tree.query_ball_point(xy, r=radius_m)):
        out.append(np.array(sorted(j for j in near if j != i), dtype=np.int64))
    return tuple(out)


def _key(graph: CompiledGraph, scenario: Scenario, extra: dict) -> str:
    h = hashlib.sha256()
    h.update(str(graph.meta.get("cache_key") or id(graph)).encode())
    h.update(json.dumps(scenario.to_dict(), sort_keys=True, default=str).encode())
    h.update(json.dumps(extra, sort_keys=True, default=str).encode())
    h.update(pickle.dumps((graph.n_nodes, graph.n_edges)))
    return h.hexdigest()[:20]


def run_scenario(
    scenario: Scenario,
    *,
    data: ScenarioData,
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    profiles: tuple[str, ...] | None = None,
    cell_m: float | None = None,
    districts: str | None = None,
    max_origins: int | None = None,
) -> ScenarioResult:
    """Measure a scenario's street metrics before and after, per profile.

    Parameters
    ----------
    scenario
        From :func:`routing.scenario.spec.load_scenario`.
    data
        The base graph, metro stations and opportunities.
    workers
        Local processes (default: one per core; 1 runs in this process). Ignored with
        ``scheduler``.
    scheduler
        A Dask scheduler address (``tcp://host:8786``): batches run on that cluster.
    progress
        Called with (batches done, batches in all) as batches finish.
    profiles, cell_m, districts
        Override the scenario's options.
    max_origins
        Keep only this many grid origins (evenly spread; for quick looks and tests).

    Raises
    ------
    ScenarioError
        An edit matches nothing in the graph, or an options file is broken.
    """
    opts = scenario.options
    profiles = tuple(profiles or opts.profiles)
    cell = float(cell_m or opts.cell_m)
    graph = data.graph
    base = data.network if data.network is not None else StreetNetwork(graph)

    # Edits are resolved here first: errors surface before any batch runs.
    sites = SiteIndex(graph, stations=data.station_points)
    edited = apply_street_edits(graph, scenario.street, sites=sites, source=scenario.source)
    if scenario.transit and data.transit is None:
        raise ScenarioError(f"{scenario.source}: $.transit: transit edits need a transit feed "
                            "(the CLI loads the Almaty feed, or give --gtfs)",
                            path=scenario.source, json_path="$.transit",
                            field="transit")  # fmt: skip
    transit_edits = [e.to_dict() for e in scenario.transit]

    walkable = _walkable_within(base, cell / 2)
    grid = make_grid(graph, cell, walkable)
    keep = np.arange(len(grid))
    if max_origins is not None and len(grid) > max_origins:
        keep = np.unique(np.linspace(0, len(grid) - 1, max_origins).round().astype(np.int64))
    grid = _subset_grid(grid, keep)
    partners = _partners(grid, opts.trip_radius_m)
    pois = list(data.opportunities)
    if opts.pois:
        pois += read_poi_file(opts.pois)
    categories = list(CATEGORIES) + sorted({p.category for p in pois} - set(CATEGORIES))

    job_extra = {"profiles": profiles, "cell": cell, "keep": keep.tolist(),
                 "radius": opts.trip_radius_m, "pois": [(p.lat, p.lon) for p in pois]}  # fmt: skip
    job = _Job(
        key=_key(graph, scenario, job_extra), graph=graph, edits=scenario.street,
        stations=tuple(data.station_points), origin_lat=grid.lat, origin_lon=grid.lon,
        partners=partners, poi_lat=np.array([p.lat for p in pois], dtype=np.float64),
        poi_lon=np.array([p.lon for p in pois], dtype=np.float64), snap_m=cell / 2,
    )  # fmt: skip
    # A profile whose costs the edits leave unchanged has identical figures after: its
    # "after" batches are not run (exact, not an approximation).
    after_net = EditedNetwork(base, edited.graph, edited.changed_edges)
    changed = [p for p in profiles if _costs_differ(base, after_net, get_profile(p))]
    tasks = [(v, p, s, min(s + BATCH_ORIGINS, len(grid)))
             for v in VARIANTS for p in profiles if v == "before" or p in changed
             for s in range(0, len(grid), BATCH_ORIGINS)]  # fmt: skip
    if workers is None:
        workers = os.cpu_count() or 1
    if workers <= 1 and not scheduler:
        _state(job, base, edited)  # in this process: reuse the base network and the edits
    results = map_batches(run_batch, job, tasks, workers=workers, scheduler=scheduler,
                          progress=progress, warm=_state)  # fmt: skip

    gathered: dict[tuple[str, str], dict] = {}
    for t, r in zip(tasks, results, strict=True):
        g = gathered.setdefault((t[0], t[1]), {"od_s": [], "poi_s": [], "od_crossings": []})
        g["od_s"] += r["od_s"]
        g["poi_s"].append(r["poi_s"])
        g["od_crossings"] += r.get("od_crossings", [])
    for p in profiles:
        if p not in changed:
            gathered[("after", p)] = gathered[("before", p)]
    poi_cat = np.array([p.category for p in pois], dtype=object)
    flat = {}
    for k, g in gathered.items():
        od = np.concatenate(g["od_s"]) if g["od_s"] else np.zeros(0, dtype=np.float32)
        poi = np.vstack(g["poi_s"]) if g["poi_s"] else np.zeros((0, len(pois)))
        cx = np.concatenate(g["od_crossings"]) if g["od_crossings"] else None
        flat[k] = (od, poi, cx)

    districts_path = districts or opts.districts
    area_of, area_names, area_polys = _areas(grid, districts_path, opts.district_name)
    origin_of_pair = np.concatenate([np.full(len(p), i) for i, p in enumerate(partners)]
                                    or [np.zeros(0, dtype=np.int64)]).astype(np.int64)  # fmt: skip

    doc: dict = {
        "scenario": {"name": scenario.name, "description": scenario.description,
                     "illustrative": scenario.illustrative,
                     "assumptions": list(scenario.assumptions), "source": scenario.source,
                     "document": scenario.to_dict()},  # fmt: skip
        "edits": [entry.to_dict() for entry in edited.log],
        "edges_recosted": int(len(edited.changed_edges)),
        "profiles_changed": changed,
        "transit_edits": transit_edits,
        "grid": {"cell_m": cell, "cells": len(grid), "rows": grid.rows, "cols": grid.cols,
                 "od_pairs": int(len(origin_of_pair)), "trip_radius_m": opts.trip_radius_m,
                 "areas": "districts" if districts_path else "grid cells"},  # fmt: skip
        "opportunities": {c: int((poi_cat == c).sum()) for c in categories},
        "definitions": "docs/scenarios.md",
        "limits": {"cost_limit_s": m.COST_LIMIT, "poi_snap_m": m.POI_SNAP_M,
                   "thresholds_min": list(m.THRESHOLDS_MIN)},  # fmt: skip
        "profiles": {},
        "gaps": {},
        "areas": [],
    }
    for p in profiles:
        entry = {}
        for v in VARIANTS:
            od, poi, cx = flat[(v, p)]
            entry[v] = m.summarise(od, poi, poi_cat, categories, od_crossings=cx)
        entry["change"] = _change(entry["before"], entry["after"])
        doc["profiles"][p] = entry
    if "walk" in profiles:
        for p in profiles:
            if p == "walk":
                continue
            doc["gaps"][p] = {}
            for v in VARIANTS:
                mine, walk = doc["profiles"][p][v], doc["profiles"]["walk"][v]
                doc["gaps"][p][v] = m.gap(flat[(v, p)][0], flat[(v, "walk")][0],
                                          mine["opportunities"]["30"]["all"],
                                          walk["opportunities"]["30"]["all"],
                                          mine["usable_share"], walk["usable_share"])  # fmt: skip
    for a, name in enumerate(area_names):
        cells = np.flatnonzero(area_of == a)
        if not len(cells):
            continue
        pair_sel = np.isin(origin_of_pair, cells)
        area = {"id": name, "cells": int(len(cells)),
                "lat": round(float(np.mean(grid.lat[cells])), 6),
                "lon": round(float(np.mean(grid.lon[cells])), 6),
                "polygon": area_polys[a], "profiles": {}}  # fmt: skip
        for p in profiles:
            area["profiles"][p] = {}
            for v in VARIANTS:
                od, poi, _ = flat[(v, p)]
                sel = od[pair_sel]
                ok = np.isfinite(sel)
                area["profiles"][p][v] = {
                    "od_pairs": int(len(sel)),
                    "usable_share": m._round(ok.mean()) if len(sel) else None,
                    "median_s": m._round(np.median(sel[ok]), 1) if ok.any() else None,
                    "opportunities_30": m._round((poi[cells] <= 1800).sum(axis=1).mean(), 3),
                }
        doc["areas"].append(area)
    if data.transit is not None:  # transit travel times before/after (routing.scenario.transit)
        from routing.router import StreetRouter
        from routing.scenario.transit import transit_section

        streets = None if not len(edited.changed_edges) else StreetRouter(
            EditedNetwork(base, edited.graph, edited.changed_edges))  # fmt: skip
        points = list(zip(grid.lat.tolist(), grid.lon.tolist(), strict=True))
        doc["transit"] = transit_section(
            data.transit, scenario.transit, points, [get_profile(p) for p in profiles],
            options=opts.transit, street_router=streets)  # fmt: skip
    return ScenarioResult(doc)


def _change(before: dict, after: dict) -> dict:
    def diff(a, b):
        if isinstance(a, dict):
            return {k: diff(a[k], b.get(k)) for k in a}
        if a is None or b is None:
            return None
        return round(float(b) - float(a), 4)

    return {k: diff(before[k], after[k]) for k in before if k not in ("od_pairs",)}


def _costs_differ(base: StreetNetwork, edited: StreetNetwork, profile) -> bool:
    a, b = base.costs(profile).costs, edited.costs(profile).costs
    return not (np.array_equal(a.cost, b.cost) and np.array_equal(a.seconds, b.seconds))


def _walkable_within(net: StreetNetwork, radius_m: float):
    walk = get_profile("walk")

    def check(lat: float, lon: float) -> bool:
        return net.snap_many([(lat, lon)], walk, max_distance_m=radius_m)[0] is not None

    return check


def _subset_grid(grid, keep: np.ndarray):
    from dataclasses import replace

    return replace(grid, lat=grid.lat[keep], lon=grid.lon[keep], row=grid.row[keep],
                   col=grid.col[keep])  # fmt: skip


def _areas(grid, districts_path: str | None, name_property: str):
    if districts_path:
        d: Districts = read_districts(districts_path, name_property)
        area_of = d.assign(grid.lat, grid.lon)
        polys = [[[list(map(float, pt)) for pt in ring] for ring in rings]
                 for rings in d.polygons]  # fmt: skip
        return area_of, d.names, polys
    return (np.arange(len(grid)), [grid.cell_id(i) for i in range(len(grid))],
            [[grid.polygon(i)] for i in range(len(grid))])  # fmt: skip
