"""The street-search service beside networkx, one run.

Run: ``make bench`` or ``pytest benchmarks/test_network_speed.py --benchmark-only``, then
``python benchmarks/ratios.py <json>`` prints median ratios against each baseline kind:

- matrix 100 x 100 and 1,000 x 1,000 on Almaty (and 100 x 100 on Helsinki): ours (on the
  profile's contraction hierarchy, built before the timing: ``test_hierarchy_build`` times
  the build) vs one networkx Dijkstra per source on the same weights (``networkx_matrix``),
  and ours without the hierarchy (``ours_matrix_dijkstra``, 100 x 100); 100 x 100 with a
  never-seen override value each round (``ours_matrix_new_value``: a customized hierarchy);
- isochrone 5/10/15 minutes: ours (polygons from reached edges) vs the osmnx recipe
  (``nx.ego_graph`` by time, then a convex hull of the nodes) (``networkx_isochrone``);
- first request with a new override value vs the same request with a cached profile
  (``ours_same_profile``), and the cost model alone for a new value beside the whole-array
  form it replaced (``reference_cost_whole_array``);
- scipy's Dijkstra alone from the same sources (``scipy_dijkstra``: the floor of a
  scipy-based matrix) and 2,000 x 2,000 on Almaty in float32 (time and peak memory);
- (``/route`` over HTTP vs in-process: ``benchmarks/test_http_speed.py``);
- the server's resident memory after routing with all six profiles is printed and stored in
  ``extra_info`` of ``test_server_rss_after_all_profiles`` (a subprocess, measured once).

Valhalla on the same OSM file and points: ``benchmarks/test_valhalla_peer.py``.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

from routing.cost import PROFILE_NAMES, get_profile
from routing.isochrone import isochrone

REPO = Path(__file__).resolve().parents[1]
SEED = 7
ALMATY_CENTRE = (43.2380, 76.9455)
HELSINKI_CENTRE = (60.1699, 24.9384)


def _nodes(router, profile, count, seed=SEED):
    """Seeded nodes the profile can leave and enter, as snapped points."""
    net = router.network
    usable = np.flatnonzero(net.costs(profile).costs.node_usable)
    nodes = np.random.default_rng(seed).choice(usable, size=count, replace=False)
    return nodes, [net.at_node(int(v)) for v in nodes]


def _nx_graph(router, profile):
    return router.graph.to_networkx(router.network.costs(profile).costs.cost, weight="cost")


# -- matrix -----------------------------------------------------------------------------
@pytest.mark.parametrize(("city", "size"), [("almaty", 100), ("almaty", 1000),
                                            ("helsinki", 100)])  # fmt: skip
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_matrix(benchmark, request, city, size, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    profile = get_profile(profile_name)
    _, snaps = _nodes(router, profile, size)
    # Profile prepared and its contraction hierarchy built (timed in test_hierarchy_build).
    router.network.matrix(snaps[:2], snaps[:2], profile, hierarchy=True)
    benchmark.group = f"matrix {city} {size}x{size}"
    benchmark.extra_info.update(city=city, profile=f"{profile_name}-{size}", kind="ours_matrix")
    rounds = 5 if size <= 100 else 2
    found = benchmark.pedantic(lambda: router.network.matrix(snaps, snaps, profile),
                               rounds=rounds, iterations=1, warmup_rounds=1)  # fmt: skip
    assert found.cost.shape == (size, size)


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_matrix_dijkstra(benchmark, request, city, profile_name):
    """100 x 100 without the hierarchy: one compiled Dijkstra search per source (what a
    small matrix of a new override value runs)."""
    router = request.getfixturevalue(f"{city}_router")
    profile = get_profile(profile_name)
    _, snaps = _nodes(router, profile, 100)
    router.network.matrix(snaps[:2], snaps[:2], profile, hierarchy=False)
    benchmark.group = f"matrix {city} 100x100"
    benchmark.extra_info.update(city=city, profile=f"{profile_name}-100",
                                kind="ours_matrix_dijkstra")  # fmt: skip
    found = benchmark.pedantic(
        lambda: router.network.matrix(snaps, snaps, profile, hierarchy=False),
        rounds=3, iterations=1, warmup_rounds=1)  # fmt: skip
    assert found.cost.shape == (100, 100)


#: Per profile, an override whose every value is new to the network (one per round).
NEW_VALUES = {"walk": ("speed_mps", 1.2, 1e-4), "wheelchair_manual": ("max_uphill", 0.06, 1e-5)}


def new_value_profiles(profile_name):
    """A profile with a never-seen override value, on each call."""
    key, start, step = NEW_VALUES[profile_name]
    values = itertools.count()
    return lambda: get_profile(profile_name, {key: start + step * next(values)})


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_matrix_new_override_value(benchmark, request, city, profile_name):
    """100 x 100 with a never-seen override value each round: the profile's search graph,
    its customized hierarchy (on the graph's shared topology, loaded or built before the
    timing) and the matrix (what ``/matrix`` costs besides snapping; Dijkstra before)."""
    router = request.getfixturevalue(f"{city}_router")
    net = router.network
    _, snaps = _nodes(router, get_profile(profile_name), 100)
    net.matrix_topology()  # once per graph (cached on disk by the server)
    fresh = new_value_profiles(profile_name)
    net.matrix(snaps, snaps, fresh())  # first matrix of the process (thread pool, imports)
    benchmark.group = f"matrix {city} 100x100"
    benchmark.extra_info.update(city=city, profile=f"{profile_name}-100",
                                kind="ours_matrix_new_value")  # fmt: skip
    found = benchmark.pedantic(lambda profile: net.matrix(snaps, snaps, profile),
                               setup=lambda: ((fresh(),), {}), rounds=7, iterations=1)  # fmt: skip
    assert found.cost.shape == (100, 100)


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
def test_matrix_topology_build(benchmark, request, city):
    """The one-time cost of the graph's customizable topology (shared by every profile)."""
    from routing.customizable import Topology

    g = request.getfixturevalue(f"{city}_router").graph
    benchmark.group = f"hierarchy build {city}"
    benchmark.extra_info.update(city=city, profile="all", kind="ours_topology_build")
    topology = benchmark.pedantic(
        lambda: Topology.build(g.node_lat, g.node_lon, g.edge_u, g.edge_v), rounds=1,
        iterations=1)  # fmt: skip
    benchmark.extra_info.update(megabytes=round(topology.nbytes / 1e6, 2),
                                edges=topology.n_edges, nodes=topology.n_nodes)  # fmt: skip
    assert topology.n_nodes == g.n_nodes


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_hierarchy_build(benchmark, request, city, profile_name):
    """The one-time cost of a profile's contraction hierarchy (its memory in extra_info)."""
    from routing.contraction import ContractionHierarchy

    router = request.getfixturevalue(f"{city}_router")
    net = router.network
    graph, weights = net._weighted(net.costs(get_profile(profile_name)), reverse=False)
    benchmark.group = f"hierarchy build {city}"
    benchmark.extra_info.update(city=city, profile=profile_name, kind="ours_hierarchy_build")
    ch = benchmark.pedantic(lambda: ContractionHierarchy.build(graph, *weights), rounds=3,
                            iterations=1)  # fmt: skip
    benchmark.extra_info.update(megabytes=round(ch.nbytes / 1e6, 2), shortcuts=ch.n_shortcuts,
                                arcs=int(graph.nnz), nodes=ch.n_nodes)  # fmt: skip
    assert ch.n_nodes == graph.shape[0]


@pytest.mark.parametrize(("city", "size"), [("almaty", 100), ("almaty", 1000),
                                            ("helsinki", 100)])  # fmt: skip
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_networkx_matrix(benchmark, request, city, size, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    profile = get_profile(profile_name)
    nodes, _ = _nodes(router, profile, size)
    graph = _nx_graph(router, profile)
    targets = nodes.tolist()

    def run():
        out = np.full((size, size), np.inf)
        for i, s in enumerate(targets):
            dist = nx.single_source_dijkstra_path_length(graph, s, weight="cost")
            out[i] = [dist.get(t, np.inf) for t in targets]
        return out

    benchmark.group = f"matrix {city} {size}x{size}"
    benchmark.extra_info.update(city=city, profile=f"{profile_name}-{size}",
                                kind="networkx_matrix")  # fmt: skip
    benchmark.pedantic(run, rounds=3 if size * (city == "almaty") < 100 else 1, iterations=1)


@pytest.mark.parametrize("size", [100, 1000])
def test_scipy_dijkstra_matrix(benchmark, almaty_router, size):
    """The floor of a scipy-based matrix: scipy's Dijkstra alone from every source (costs
    only, no seconds or metres), on the same graph and sources as ``test_matrix``."""
    from scipy.sparse.csgraph import dijkstra

    profile = get_profile("walk")
    nodes, _ = _nodes(almaty_router, profile, size)
    graph = almaty_router.network.costs(profile).matrix
    benchmark.group = f"matrix almaty {size}x{size}"
    benchmark.extra_info.update(city="almaty", profile=f"walk-{size}", kind="scipy_dijkstra")
    benchmark.pedantic(lambda: dijkstra(graph, indices=nodes, limit=np.inf)[:, nodes],
                       rounds=3 if size <= 100 else 1, iterations=1)  # fmt: skip


def test_matrix_2000_float32(benchmark, almaty_router):
    """2,000 x 2,000 on Almaty (walk), float32 answer; peak traced memory in extra_info."""
    import tracemalloc

    profile = get_profile("walk")
    _, snaps = _nodes(almaty_router, profile, 2000)
    net = almaty_router.network
    net.matrix(snaps[:2], snaps[:2], profile, hierarchy=True)  # built outside the timing

    def run():
        tracemalloc.start()
        found = net.matrix(snaps, snaps, profile, dtype=np.float32)
        benchmark.extra_info["peak_traced_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        return found

    benchmark.group = "matrix almaty 2000x2000"
    benchmark.extra_info.update(city="almaty", profile="walk-2000", kind="ours_matrix_2000")
    found = benchmark.pedantic(run, rounds=1, iterations=1)
    assert found.cost.dtype == np.float32 and found.reachable.mean() > 0.5


# -- isochrone ---------------------------------------------------------------------------
@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_isochrone(benchmark, request, city, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    net = router.network
    profile = get_profile(profile_name)
    origin = net.snap(ALMATY_CENTRE if city == "almaty" else HELSINKI_CENTRE, profile)
    benchmark.group = f"isochrone {city}"
    benchmark.extra_info.update(city=city, profile=profile_name, kind="ours_isochrone")
    found = benchmark.pedantic(lambda: isochrone(net, origin, profile, [5, 10, 15]),
                               rounds=20, iterations=1, warmup_rounds=2)  # fmt: skip
    assert len(found.contours) == 3


@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_networkx_isochrone(benchmark, request, city, profile_name):
    """The osmnx isochrone recipe: ego graph by travel time, convex hull of its nodes."""
    router = request.getfixturevalue(f"{city}_router")
    net, g = router.network, router.graph
    profile = get_profile(profile_name)
    graph = g.to_networkx(net.costs(profile).costs.seconds, weight="time")
    origin = net.snap(ALMATY_CENTRE if city == "almaty" else HELSINKI_CENTRE, profile)
    source = int(g.edge_u[origin.edge])

    def run():
        hulls = []
        for minutes in (15, 10, 5):
            sub = nx.ego_graph(graph, source, radius=minutes * 60, distance="time")
            points = shapely.points([(d["x"], d["y"]) for _, d in sub.nodes(data=True)])
            hulls.append(shapely.MultiPoint(points).convex_hull)
        return hulls

    benchmark.group = f"isochrone {city}"
    benchmark.extra_info.update(city=city, profile=profile_name, kind="networkx_isochrone")
    benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2)


# -- overrides ---------------------------------------------------------------------------
A, B = (43.2380, 76.9455), (43.2497, 76.9454)  # Republic Square -> Abai Opera


def test_route_same_profile(benchmark, almaty_router):
    profile = get_profile("wheelchair_manual")
    almaty_router.route(A, B, profile)
    benchmark.group = "override"
    benchmark.extra_info.update(city="almaty", profile="wheelchair_manual",
                                kind="ours_same_profile")  # fmt: skip
    benchmark.pedantic(lambda: almaty_router.route(A, B, profile), rounds=50, iterations=1)


def test_route_new_override_value(benchmark, almaty_router):
    """Each round asks with a max_uphill value never asked before (the cache is cold)."""
    values = iter(np.linspace(0.06, 0.11, 400).tolist())

    def one():
        return almaty_router.route(A, B, get_profile("wheelchair_manual",
                                                     {"max_uphill": next(values)}))  # fmt: skip

    benchmark.group = "override"
    benchmark.extra_info.update(city="almaty", profile="wheelchair_manual",
                                kind="ours_new_override")  # fmt: skip
    benchmark.pedantic(one, rounds=50, iterations=1)


@pytest.mark.parametrize("kind", ["ours_cost_tables", "reference_cost_whole_array"])
def test_cost_model_new_value(benchmark, almaty_graph, kind):
    """One new override value's cost model: the table-driven model beside the whole-array
    form it replaced (``tests/cost/reference_model.py``, identical results)."""
    sys.path.insert(0, str(REPO / "tests" / "cost"))
    from reference_model import ReferenceCostModel

    from routing.cost import CostModel

    model = CostModel if kind == "ours_cost_tables" else ReferenceCostModel
    values = iter(np.linspace(0.06, 0.11, 400).tolist())
    model(get_profile("walk")).evaluate(almaty_graph)  # the graph's facts read once
    benchmark.group = "cost model, new value"
    benchmark.extra_info.update(city="almaty", profile="wheelchair_manual", kind=kind)
    benchmark.pedantic(lambda: model(get_profile("wheelchair_manual", {"max_uphill": next(values)}))
                       .evaluate(almaty_graph), rounds=50, iterations=1)  # fmt: skip


# -- memory ------------------------------------------------------------------------------
_RSS_SCRIPT = """
import json, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
python = rss()
from routing.cost import PROFILE_NAMES
from server import BLUEPRINTS, create_app
for module in BLUEPRINTS:
    __import__(module)
imports = rss()
osm, cache, dem = sys.argv[1], sys.argv[2], sys.argv[3:]
app = create_app({"OSM": osm, "DEM": dem, "CACHE_DIR": cache})
loaded = rss()
client = app.test_client()
for name in PROFILE_NAMES:
    client.get("/route?from=43.2380,76.9455&to=43.2497,76.9454&profile=" + name)
print(json.dumps({"python_mb": python, "imports_mb": imports, "loaded_mb": loaded,
                  "after_six_profiles_mb": rss()}))
"""


def test_server_rss_after_all_profiles(benchmark, shared_data, graph_cache, almaty_graph):
    """A server process started from the graph cache (``almaty_graph`` fills it first: a
    process that builds the graph holds the build's memory too)."""
    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    osm = shared_data / "almaty/osm/almaty-2012.osm.pbf"
    cmd = [sys.executable, "-c", _RSS_SCRIPT, str(osm), str(graph_cache), *map(str, dem)]

    def run():
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=REPO)
        return json.loads(out.stdout.strip().splitlines()[-1])

    figures = benchmark.pedantic(run, rounds=1, iterations=1)
    benchmark.group = "memory"
    benchmark.extra_info.update(city="almaty", kind="rss", **figures,
                                profiles=len(PROFILE_NAMES))  # fmt: skip
    print(f"server RSS: {figures}")
    assert figures["after_six_profiles_mb"] > 0
