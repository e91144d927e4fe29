"""OSM + DEM + overlays -> CompiledGraph, cached on disk by a hash of inputs and options."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from routing.cache import load_or_build
from routing.errors import DataError
from routing.graph.compiled import FORMAT_VERSION, CompiledGraph

PathLike = str | os.PathLike


@dataclass(frozen=True)
class BuildOptions:
    """Options that change the compiled graph (and so its cache key)."""

    grade_window_m: float = 90.0
    sample_step_m: float = 15.0


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def cache_key(
    osm: PathLike, dem: Sequence[PathLike], overlays: Sequence[PathLike], options: BuildOptions
) -> str:
    """Hash of the input files' contents, the build options and the graph format."""
    parts = {
        "format": FORMAT_VERSION,
        "osm": _file_digest(Path(osm)),
        "dem": sorted(_file_digest(Path(p)) for p in dem),
        "overlays": [_file_digest(Path(p)) for p in overlays],
        "options": asdict(options),
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def build_graph(
    osm: PathLike,
    *,
    dem: Sequence[PathLike] = (),
    overlays: Sequence[PathLike] = (),
    options: BuildOptions = BuildOptions(),
    progress: Callable[[str], None] | None = None,
) -> tuple[CompiledGraph, object]:
    """Import, patch, build and compile; returns the compiled graph and the networkx graph."""
    say = progress or (lambda _msg: None)
    # The build makes millions of small objects that never form cycles; the cyclic garbage
    # collector would rescan them all again and again (a third of the build time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _build(osm, dem, overlays, options, say)
    finally:
        if enabled:
            gc.enable()


def _build(osm, dem, overlays, options: BuildOptions, say) -> tuple[CompiledGraph, object]:
    # Build-time only (osmium, networkx): a server starting from the cache never loads them.
    from routing.graph.build import build_walk_graph
    from routing.graph.elevation import ElevationModel
    from routing.graph.osm_import import read_osm
    from routing.graph.overlays import apply_overlays, read_overlay

    started = time.perf_counter()
    say(f"reading {osm}")
    data = read_osm(osm)
    overlay_report = {}
    if overlays:
        # All files at once, so that two files giving one tag different values clash loudly.
        say(f"applying {len(overlays)} overlay file(s)")
        overlay_report = apply_overlays(data, [p for f in overlays for p in read_overlay(f)])
    elevation = ElevationModel.from_files(dem) if dem else None
    graph = build_walk_graph(
        data,
        elevation=elevation,
        grade_window_m=options.grade_window_m,
        sample_step_m=options.sample_step_m,
        progress=say,
    )
    if next(iter(graph.edges), None) is None:  # (number_of_edges() walks every edge)
        raise DataError(f"{osm}: no walkable way in this extract (nothing to route on); check "
                        "that it is the right file and covers a town", path=str(osm))  # fmt: skip
    say("compiling to arrays")
    meta = {
        "osm": str(osm),
        "dem": [str(p) for p in dem],
        "overlays": [str(p) for p in overlays],
        "options": asdict(options),
        "import_report": data.report,
        "overlay_report": overlay_report,
        "has_elevation": elevation is not None,
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    return CompiledGraph.from_networkx(graph, meta=meta), graph


def load_graph(
    osm: PathLike,
    *,
    dem: Sequence[PathLike] = (),
    overlays: Sequence[PathLike] = (),
    options: BuildOptions = BuildOptions(),
    cache_dir: PathLike | None = None,
    progress: Callable[[str], None] | None = None,
) -> CompiledGraph:
    """The compiled graph for these inputs, from the cache when it is there.

    Parameters
    ----------
    osm
        OSM extract (.osm.pbf, .osm, .osm.bz2).
    dem
        SRTM tiles (.hgt or .hgt.zip); empty means grades stay unknown.
    overlays
        Accessibility overlay files (CSV or GeoJSON), applied in order.
    cache_dir
        Where compiled graphs are kept; None disables the cache.
    """
    say = progress or (lambda _msg: None)
    key = cache_key(osm, dem, overlays, options)

    def build() -> CompiledGraph:
        compiled, _ = build_graph(osm, dem=dem, overlays=overlays, options=options,
                                  progress=say)  # fmt: skip
        compiled.meta["cache_key"] = key
        return compiled

    if not cache_dir:
        return build()
    cached = Path(cache_dir) / f"walk-{key}.npz"
    graph, hit = load_or_build(cached, load=CompiledGraph.load, build=build,
                               save=lambda g, tmp: g.save(tmp), warn=say)  # fmt: skip
    graph.meta["cache"] = {"path": str(cached), "hit": hit}
    return graph
