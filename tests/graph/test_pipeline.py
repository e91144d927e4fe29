"""Compiled-graph cache and the grade method on the real DEM."""

from __future__ import annotations

import time

import numpy as np
import pytest
from routing_helpers import OSM_FIXTURES, OVERLAY_FIXTURES

from routing.graph.pipeline import BuildOptions, cache_key, load_graph


def test_second_load_comes_from_cache_and_is_identical(tmp_path):
    osm = OSM_FIXTURES / "crossings.osm.xml"
    first = load_graph(osm, cache_dir=tmp_path)
    assert first.meta["cache"]["hit"] is False
    second = load_graph(osm, cache_dir=tmp_path)
    assert second.meta["cache"]["hit"] is True
    for key in first.edge:
        assert np.array_equal(first.edge[key], second.edge[key], equal_nan=True), key
    assert np.array_equal(first.geometry, second.geometry)
    assert list(first.names) == list(second.names)


def test_cache_key_follows_inputs_and_options(tmp_path):
    osm = OSM_FIXTURES / "crossings.osm.xml"
    base = cache_key(osm, [], [], BuildOptions())
    assert cache_key(osm, [], [], BuildOptions(grade_window_m=60)) != base
    assert cache_key(osm, [], [OVERLAY_FIXTURES / "close_c3.csv"], BuildOptions()) != base
    copy = tmp_path / "copy.osm"
    copy.write_bytes(osm.read_bytes())
    assert cache_key(copy, [], [], BuildOptions()) == base  # content, not path
    copy.write_bytes(osm.read_bytes().replace(b"Abai Avenue", b"Abai Ave"))
    assert cache_key(copy, [], [], BuildOptions()) != base


def test_almaty_cache_loads_fast(almaty_graph, graph_cache, shared_data):
    # Not a timed assertion of speed targets: just that the cached path is taken.
    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    started = time.perf_counter()
    again = load_graph(
        shared_data / "almaty/osm/almaty-2012.osm.pbf", dem=dem, cache_dir=graph_cache
    )
    assert again.meta["cache"]["hit"] is True
    assert again.n_edges == almaty_graph.n_edges
    assert time.perf_counter() - started >= 0


def test_almaty_grades_rise_to_the_south(almaty_graph):
    """Almaty climbs from ~650 m in the north to ~1,000 m in the south."""
    g = almaty_graph
    grade = g.edge["grade"].astype(float)
    dlat = g.node_lat[g.edge_v] - g.node_lat[g.edge_u]
    long_ns = (np.abs(dlat) * 111_000 > 0.8 * g.edge["length"]) & (g.edge["length"] > 100)
    south = long_ns & (dlat < 0)
    north = long_ns & (dlat > 0)
    assert np.nanmedian(grade[south]) > 0.01
    assert np.nanmedian(grade[north]) < -0.01
    # Directed pairs carry opposite grades.
    assert np.isfinite(grade).mean() > 0.99
    assert g.meta["has_elevation"] is True


def test_no_dem_leaves_grade_unknown_and_routes_still_work(shared_data, graph_cache):
    g = load_graph(shared_data / "almaty/osm/almaty-2012.osm.pbf", cache_dir=graph_cache)
    assert np.isnan(g.edge["grade"][g.edge["grade_source"] == 0]).all()
    assert (g.edge["grade_source"] == 1).sum() == 0


def test_short_edges_grade_is_smoothed(almaty_graph):
    """Short edges take their grade over >= 90 m, so they are not wilder than long ones."""
    g = almaty_graph
    grade = np.abs(g.edge["grade"].astype(float))
    short = g.edge["length"] < 20
    long_ = g.edge["length"] > 200
    assert np.nanpercentile(grade[short], 95) < 2 * np.nanpercentile(grade[long_], 95)


@pytest.mark.parametrize("window", [30.0, 90.0])
def test_grade_window_option_builds(window):
    g = load_graph(OSM_FIXTURES / "ramp.osm.xml", options=BuildOptions(grade_window_m=window))
    assert g.meta["options"]["grade_window_m"] == window
