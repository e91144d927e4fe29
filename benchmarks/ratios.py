"""Print per-query medians and ratios against the baselines from a pytest-benchmark JSON file.

Route benchmarks (``ours_route``, ``ours_search``) are compared with ``osmnx``; plan
benchmarks (``ours_plan``) with the networkx time-expanded graph (``networkx_te``), both
keyed by (city, profile) and falling back to the city's walk baseline.

Usage: python benchmarks/ratios.py path/to/benchmark.json
"""

from __future__ import annotations

import json
import sys

#: Baseline kind and ratio label of each of our kinds; other "ours*" kinds use osmnx.
BASELINES = {
    "ours_plan": ("networkx_te", "networkx/ours"),
    "ours_mcraptor": ("ours_raptor", "raptor/mcraptor"),
    "ours_matrix": ("networkx_matrix", "networkx/ours"),
    "ours_matrix_dijkstra": ("networkx_matrix", "networkx/ours"),
    "ours_matrix_new_value": ("networkx_matrix", "networkx/ours"),
    "ours_isochrone": ("networkx_isochrone", "networkx/ours"),
    "ours_new_override": ("ours_same_profile", "cached/new"),
    "ours_cost_tables": ("reference_cost_whole_array", "whole-array/tables"),
    "ours_http_test_client": ("ours_inprocess", "in-process/http"),
    "ours_http_gunicorn": ("ours_inprocess", "in-process/http"),
    "ours_scenario_transit": ("distribution_per_origin", "per-origin/ours"),
    # benchmarks/test_valhalla_peer.py: Valhalla on the same OSM file and points
    "ours_peer_matrix": ("valhalla_matrix", "valhalla/ours"),
    "ours_peer_matrix_new_value": ("valhalla_matrix", "valhalla/ours"),
    "ours_peer_isochrone": ("valhalla_isochrone", "valhalla/ours"),
    "ours_peer_route": ("valhalla_route", "valhalla/ours"),
    "ours_peer_http": ("valhalla_http", "valhalla/ours"),
    "ours_peer_new_value": ("valhalla_new_value", "valhalla/ours"),
}


def main(path: str) -> None:
    data = json.load(open(path))
    rows = []
    baselines = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        median_ms = b["stats"]["median"] * 1000
        rows.append((b["name"], info, median_ms))
        if info.get("kind") in {"osmnx"} | {base for base, _ in BASELINES.values()}:
            baselines[(info["kind"], info["city"], info["profile"])] = median_ms
    for name, info, median_ms in rows:
        ratio = ""
        kind = info.get("kind", "")
        base_kind, label = BASELINES.get(kind, ("osmnx", "osmnx/ours"))
        city, profile = info.get("city"), info.get("profile")
        base = baselines.get((base_kind, city, profile))
        fallback = base is None
        if fallback:
            base = baselines.get((base_kind, city, "walk"))
        if kind.startswith("ours") and base and kind != base_kind:
            ratio = f"  {label} = {base / median_ms:6.2f}x ({median_ms - base:+.2f} ms)"
            if fallback and kind in BASELINES:
                ratio += " (walk baseline)"
        if kind == "networkx_te" and "te_build_s" in info:
            ratio = (f"  (graph {info['te_nodes']} nodes, {info['te_edges']} arcs, "
                     f"built in {info['te_build_s']} s)")  # fmt: skip
        print(f"{name:70s} median {median_ms:9.3f} ms{ratio}")
        if "note" in info:  # what a figure alone does not say (e.g. peer differences)
            min_ms = next(b["stats"]["min"] * 1000 for b in data["benchmarks"]
                          if b["name"] == name)  # fmt: skip
            print(f"    min {min_ms:.3f} ms, load {info.get('load', '?')}: {info['note']}")


if __name__ == "__main__":
    main(sys.argv[1])
