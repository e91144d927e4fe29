"""Our street search beside Valhalla on the same OSM file, same points, one run (issue 7).

Valhalla comes from the ``pyvalhalla-weekly`` wheel (``make bench`` installs the optional
``bench`` extra); its tiles are built from the very OSM file we route on, with heights from
our DEM (``benchmarks/_valhalla.py``), and cached under ``data/cache/valhalla/``.

Pairs of benchmarks, each on the same seeded points (``valhalla_*`` kinds are the peers;
``python benchmarks/ratios.py <json>`` prints valhalla/ours: above 1 means we are faster):

- matrix 100 x 100 and 1,000 x 1,000: Valhalla ``sources_to_targets`` (Actor, in process,
  concise JSON) vs our snapping + ``StreetNetwork.matrix``;
- isochrone 5/10/15 min: Valhalla ``isochrone`` (polygons) vs snapping +
  ``routing.isochrone`` + GeoJSON text (``Isochrone.to_json``, the ``/isochrone`` body);
- one route: ``Actor.route`` (JSON text in and out) vs ``StreetRouter.route`` + JSON text;
- ``/route`` over HTTP: ``valhalla_service`` (1 thread) vs ``inclusive-routing serve``
  (gunicorn, 1 worker), each over one keep-alive connection, on the 50 pairs of
  ``test_http_speed.py``; and per pair, the HTTP time minus the in-process time of the
  same engine (paired overhead: median and p25);
- resident memory of each server after answering (ours: after all six profiles), and of
  the whole service (ours: gunicorn's master + its one worker) summed like for like.

Profiles: ``walk`` beside Valhalla's ``pedestrian`` costing (``type: foot``);
``wheelchair_manual`` beside ``pedestrian`` with ``type: wheelchair`` (4 km/h, steps
penalised 600 s, edges steeper than 12 % or without wheelchair access refused, 10 km cap).
What differs between the two graphs and cost models is measured and stored in
``extra_info["note"]`` (node and edge counts, how far apart the answers are).
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import _valhalla
import numpy as np
import pytest
from test_http_speed import _query, _route_pairs

from routing.cost import PROFILE_NAMES, get_profile
from routing.errors import RoutingError
from routing.isochrone import isochrone
from routing.matrix import snap_points
from server.jsonio import encode

REPO = Path(__file__).resolve().parents[1]
CACHE = REPO / "data" / "cache" / "valhalla"
SEED = 7
CENTRES = {"almaty": (43.2380, 76.9455), "helsinki": (60.1699, 24.9384)}
#: Valhalla's costing beside each of our profiles.
PEER_COSTING = {"walk": {"type": "foot"}, "wheelchair_manual": {"type": "wheelchair"}}
ENGINES = ["valhalla", "ours"]  # Valhalla first: our run compares its answer with Valhalla's

pytestmark = pytest.mark.skipif(_valhalla.unavailable() is not None,
                                reason=str(_valhalla.unavailable()))  # fmt: skip

_tiles: dict[str, _valhalla.Tiles] = {}
_actors: dict[str, object] = {}
_answers: dict[tuple, object] = {}


def _osm_dem(shared_data: Path, city: str) -> tuple[Path, list[Path]]:
    if city == "almaty":
        return (shared_data / "almaty/osm/almaty-2012.osm.pbf",
                sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip")))  # fmt: skip
    return shared_data / "helsinki/helsinki-center.osm.pbf", []


def _tiles_of(shared_data: Path, city: str) -> _valhalla.Tiles:
    if city not in _tiles:
        _tiles[city] = _valhalla.build_tiles(*_osm_dem(shared_data, city), CACHE)
    return _tiles[city]


def _actor(shared_data: Path, city: str, matrix_algorithm: str | None = None):
    """The in-process Actor on the city's tiles (Valhalla's default config, or the
    default but for the ``sources_to_targets`` algorithm)."""
    key = (city, matrix_algorithm)
    if key not in _actors:
        from valhalla import Actor

        tiles = _tiles_of(shared_data, city)
        path = tiles.config_path
        if matrix_algorithm is not None:
            path = tiles.config_variant(matrix_algorithm, matrix_algorithm=matrix_algorithm)
        _actors[key] = Actor(str(path))
    return _actors[key]


def _costing(profile_name: str) -> dict:
    return {"costing": "pedestrian", "costing_options": {"pedestrian": PEER_COSTING[profile_name]}}


def _points(router, count: int, seed: int = SEED) -> list[tuple[float, float]]:
    """Seeded node positions every compared profile can leave, enter and snap to (a node
    on a crossing alone is usable but not snappable: snapping avoids crossing edges)."""
    net, g = router.network, router.graph
    usable = np.ones(g.n_nodes, dtype=bool)
    for name in PEER_COSTING:
        usable &= net.costs(get_profile(name)).costs.node_usable
    order = np.random.default_rng(seed).permutation(np.flatnonzero(usable))
    chosen: list[tuple[float, float]] = []
    for start in range(0, len(order), count):
        batch = [(float(g.node_lat[v]), float(g.node_lon[v])) for v in order[start:start + count]]
        ok = np.ones(len(batch), dtype=bool)
        for name in PEER_COSTING:
            ok &= [s.snap is not None for s in snap_points(net, batch, get_profile(name), "p")]
        chosen += [p for p, keep in zip(batch, ok.tolist(), strict=True) if keep]
        if len(chosen) >= count:
            return chosen[:count]
    raise ValueError(f"fewer than {count} snappable nodes")


def _locations(points) -> list[dict]:
    return [{"lat": lat, "lon": lon} for lat, lon in points]


def _describe(benchmark, engine: str, kind: str, city: str, profile: str, **extra) -> None:
    benchmark.extra_info.update(city=city, profile=profile, load=_valhalla.load_average(),
                                kind=f"ours_peer_{kind}" if engine == "ours"
                                else f"{engine}_{kind}", **extra)  # fmt: skip


def _graph_note(shared_data, router, city) -> str:
    counts = _tiles_of(shared_data, city).manifest["counts"]
    g = router.graph
    return (f"graphs: ours {g.n_nodes} nodes / {g.n_edges} directed edges (sidewalk graph); "
            f"Valhalla {counts.get('graph_nodes')} nodes / {counts.get('graph_edges')} edges "
            f"before its hierarchy (all modes, one edge per way segment)")  # fmt: skip


@pytest.fixture(scope="module")
def peer_note(shared_data, almaty_router, helsinki_router):
    return {"almaty": _graph_note(shared_data, almaty_router, "almaty"),
            "helsinki": _graph_note(shared_data, helsinki_router, "helsinki")}  # fmt: skip


# -- tiles --------------------------------------------------------------------------------
def test_valhalla_tiles_built_once_and_rebuilt_when_damaged(benchmark, shared_data, tmp_path):
    """Time of a tile build from scratch; then a reuse (no build) and a damaged tile
    (truncated) that makes the next call rebuild the directory."""
    osm, dem = _osm_dem(shared_data, "almaty")
    tiles = benchmark.pedantic(lambda: _valhalla.build_tiles(osm, dem, tmp_path), rounds=1,
                               iterations=1)  # fmt: skip
    benchmark.group = "valhalla tiles"
    benchmark.extra_info.update(city="almaty", kind="valhalla_tile_build",
                                load=_valhalla.load_average(),
                                note=json.dumps(tiles.manifest["counts"]))  # fmt: skip
    assert tiles.manifest["counts"]["elevation_rejected"] == 0
    _check_heights(tiles, dem, tmp_path / "elevation")
    name, size = next(iter(tiles.manifest["tiles"].items()))
    stamp = (tiles.folder / name).stat().st_mtime_ns
    assert _valhalla.build_tiles(osm, dem, tmp_path).folder == tiles.folder
    assert (tiles.folder / name).stat().st_mtime_ns == stamp  # reused, not rebuilt
    with open(tiles.folder / name, "r+b") as f:
        f.truncate(size // 2)
    again = _valhalla.build_tiles(osm, dem, tmp_path)
    assert (again.folder / name).stat().st_size == size


def _check_heights(tiles: _valhalla.Tiles, dem: list[Path], folder: Path) -> None:
    """Valhalla's heights from our resampled DEM equal our engine's within rounding."""
    from valhalla import Actor

    from routing.graph.elevation import ElevationModel

    _valhalla.write_elevation(dem, folder)
    config = tiles.config
    config["additional_data"]["elevation"] = str(folder)
    (folder / "valhalla.json").write_text(json.dumps(config))
    rng = np.random.default_rng(SEED)
    lat, lon = 43.20 + 0.10 * rng.random(300), 76.85 + 0.15 * rng.random(300)
    found = Actor(str(folder / "valhalla.json")).height(
        {"shape": _locations(zip(lat.tolist(), lon.tolist(), strict=True))})["height"]
    theirs = np.array([np.nan if h is None else h for h in found], dtype=float)
    ours = ElevationModel.from_files(dem).sample(lat, lon)
    assert np.isfinite(theirs).all() and np.abs(theirs - ours).max() < 1.0


# -- matrix -------------------------------------------------------------------------------
MATRIX_CASES = [("almaty", 100, "walk"), ("almaty", 100, "wheelchair_manual"),
                ("almaty", 1000, "walk"), ("helsinki", 100, "walk"),
                ("helsinki", 100, "wheelchair_manual")]  # fmt: skip
#: Valhalla's matrix twice: configured for one-to-many searches (``timedistancematrix``,
#: what ours does; the baseline of the ratios) and with its default ``select_optimal``, which
#: takes ``costmatrix`` for many-to-many (not at 1,000 x 1,000: ~3-20 s at 100 x 100 here).
MATRIX_ENGINES = {"valhalla": "timedistancematrix", "valhalla_default": None, "ours": None}


@pytest.mark.parametrize(("city", "size", "profile_name", "engine"), [
    (*case, engine) for case in MATRIX_CASES for engine in MATRIX_ENGINES
    if not (engine == "valhalla_default" and case[1] > 100)])  # fmt: skip
def test_matrix(benchmark, request, shared_data, peer_note, engine, city, size, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    points = _points(router, size)
    benchmark.group = f"valhalla matrix {city} {size}x{size}"
    _describe(benchmark, engine, "matrix", city, f"{profile_name}-{size}")
    rounds = 3 if size <= 100 and engine != "valhalla_default" else 1
    key = ("matrix", city, size, profile_name)
    if engine != "ours":
        actor = _actor(shared_data, city, MATRIX_ENGINES[engine])
        query = json.dumps({"sources": _locations(points), "targets": _locations(points),
                            "verbose": False, **_costing(profile_name)})  # fmt: skip
        actor.matrix(json.dumps({**json.loads(query), "sources": _locations(points[:2]),
                                 "targets": _locations(points[:2])}))  # fmt: skip
        found = json.loads(benchmark.pedantic(lambda: actor.matrix(query), rounds=rounds,
                                              iterations=1))  # fmt: skip
        rows = found["sources_to_targets"]["durations"]
        seconds = np.array([[np.nan if v is None else v for v in row] for row in rows], float)
        _answers.setdefault(key, seconds)
        reached = np.isfinite(seconds).mean()
        benchmark.extra_info["note"] = (f"Valhalla ({found['algorithm']}) reached {reached:.4f} "
                                        f"of pairs")  # fmt: skip
        return
    net, profile = router.network, get_profile(profile_name)
    first = [s.snap for s in snap_points(net, points[:2], profile, "sources")]
    # Profile prepared, its contraction hierarchy built (a one-time cost per profile,
    # timed by test_network_speed.py::test_hierarchy_build).
    net.matrix(first, first, profile, hierarchy=True)

    def run():
        # The server's snapping (a point no usable way is near becomes None, as Valhalla
        # leaves a location it cannot snap unreached), then the matrix.
        snaps = [s.snap for s in snap_points(net, points, profile, "sources")]
        return net.matrix(snaps, snaps, profile)

    found = benchmark.pedantic(run, rounds=rounds, iterations=1)
    ours = np.where(found.reachable, found.seconds, np.nan)
    benchmark.extra_info["note"] = _agreement(ours, _answers.get(key), "seconds") + \
        "; " + peer_note[city]
    assert found.cost.shape == (size, size)


@pytest.mark.parametrize("profile_name", ["walk", "wheelchair_manual"])
def test_matrix_new_override_value(benchmark, request, almaty_router, peer_note, profile_name):
    """Ours, 100 x 100 on Almaty with a never-seen override value each round (snapping, the
    profile's search graph, its customized hierarchy, the matrix). Valhalla reads costing
    options per request: its ``valhalla_matrix`` time above is what any value costs it."""
    from test_network_speed import new_value_profiles

    net = almaty_router.network
    points = _points(almaty_router, 100)
    net.matrix_topology()  # once per graph (cached on disk by the server)
    fresh = new_value_profiles(profile_name)
    net.matrix(*[[s.snap for s in snap_points(net, points[:2], fresh(), "sources")]] * 2,
               fresh())  # fmt: skip
    benchmark.group = "valhalla matrix almaty 100x100"
    _describe(benchmark, "ours", "matrix_new_value", "almaty", f"{profile_name}-100")

    def run(profile):
        snaps = [s.snap for s in snap_points(net, points, profile, "sources")]
        return net.matrix(snaps, snaps, profile)

    found = benchmark.pedantic(run, setup=lambda: ((fresh(),), {}), rounds=5, iterations=1)
    benchmark.extra_info["note"] = peer_note["almaty"]
    assert found.cost.shape == (100, 100) and found.reachable.mean() > 0.5


def _agreement(ours: np.ndarray, theirs: np.ndarray | None, what: str) -> str:
    """How far Valhalla's answers are from ours, on the pairs both reach (off-diagonal)."""
    if theirs is None:
        return "Valhalla's answer not available in this run"
    off = ~np.eye(*ours.shape, dtype=bool) if ours.ndim == 2 else np.ones(ours.shape, bool)
    both = off & np.isfinite(ours) & np.isfinite(theirs) & (ours > 0)
    ratio = theirs[both] / ours[both]
    only_ours = int((off & np.isfinite(ours) & ~np.isfinite(theirs)).sum())
    only_theirs = int((off & ~np.isfinite(ours) & np.isfinite(theirs)).sum())
    q = np.percentile(ratio, [10, 50, 90]) if ratio.size else [np.nan] * 3
    return (f"{what} valhalla/ours over {both.sum()} pairs both reach: p10 {q[0]:.2f}, median "
            f"{q[1]:.2f}, p90 {q[2]:.2f}; reached by ours only {only_ours}, by Valhalla only "
            f"{only_theirs}")  # fmt: skip


# -- isochrone ----------------------------------------------------------------------------
MINUTES = (5, 10, 15)


def _area_km2(rings_lonlat: list, lat0: float) -> float:
    """Area of polygons given as GeoJSON rings (outer ring first, holes after)."""
    import shapely

    kx, ky = 111.32 * np.cos(np.radians(lat0)), 110.57
    polys = [shapely.Polygon(np.asarray(rings[0]) * (kx, ky),
                             [np.asarray(h) * (kx, ky) for h in rings[1:]])
             for rings in rings_lonlat]  # fmt: skip
    return float(shapely.union_all(polys).area) if polys else 0.0


def _contour_areas(geojson: dict, lat0: float) -> dict[float, float]:
    areas = {}
    for feature in geojson["features"]:
        props, geom = feature["properties"], feature["geometry"]
        minutes = props.get("contour", props.get("minutes"))
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        areas[float(minutes)] = round(_area_km2(polys, lat0), 3)
    return dict(sorted(areas.items()))


def _shape_counts(geojson: dict) -> str:
    """Rings (of which holes) and points over all contours: how detailed the answer is."""
    rings = holes = points = 0
    for feature in geojson["features"]:
        geom = feature["geometry"]
        polys = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        for poly in polys:
            rings, holes = rings + len(poly), holes + len(poly) - 1
            points += sum(len(ring) for ring in poly)
    return f"{rings} rings ({holes} holes), {points} points"


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("city", ["almaty", "helsinki"])
@pytest.mark.parametrize("profile_name", list(PEER_COSTING))
def test_isochrone(benchmark, request, shared_data, engine, city, profile_name):
    router = request.getfixturevalue(f"{city}_router")
    centre = CENTRES[city]
    benchmark.group = f"valhalla isochrone {city}"
    _describe(benchmark, engine, "isochrone", city, profile_name)
    key = ("isochrone", city, profile_name)
    if engine == "valhalla":
        actor = _actor(shared_data, city)
        query = json.dumps({"locations": _locations([centre]), "polygons": True,
                            "contours": [{"time": m} for m in MINUTES],
                            **_costing(profile_name)})  # fmt: skip
        found = benchmark.pedantic(lambda: actor.isochrone(query), rounds=20, iterations=1,
                                   warmup_rounds=2)  # fmt: skip
        _answers[key] = _contour_areas(json.loads(found), centre[0])
        benchmark.extra_info["note"] = (f"Valhalla contour areas km2 {_answers[key]}; "
                                        f"{_shape_counts(json.loads(found))}")  # fmt: skip
        return
    net, profile = router.network, get_profile(profile_name)

    def run():  # what GET /isochrone answers: snapping, the polygons and the JSON text
        found = isochrone(net, net.snap(centre, profile, "from"), profile, MINUTES)
        return found.to_json()

    found = benchmark.pedantic(run, rounds=20, iterations=1, warmup_rounds=2)
    body = json.loads(found)
    areas = _contour_areas(body, centre[0])
    benchmark.extra_info["note"] = (f"contour areas km2: ours {areas}, Valhalla "
                                    f"{_answers.get(key)}; ours {_shape_counts(body)}")  # fmt: skip
    assert len(areas) == len(MINUTES)


# -- one route, in process ----------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("profile_name", list(PEER_COSTING))
def test_route(benchmark, almaty_router, shared_data, engine, profile_name):
    pairs = _route_pairs(almaty_router)
    benchmark.group = f"valhalla route almaty {profile_name}"
    _describe(benchmark, engine, "route", "almaty", profile_name)
    if engine == "valhalla":
        actor = _actor(shared_data, "almaty")
        queries = [json.dumps({"locations": _locations([a, b]), "units": "km",
                               **_costing(profile_name)}) for a, b in pairs]  # fmt: skip

        def answer(i):
            try:
                return actor.route(queries[i])
            except RuntimeError:  # no route: an answer too
                return None

        def length_m(found):
            return json.loads(found)["trip"]["summary"]["length"] * 1000
    else:
        profile = get_profile(profile_name)

        def answer(i):
            try:
                return encode(almaty_router.route(*pairs[i], profile).to_dict())
            except RoutingError:  # a 422 is an answer too
                return None

        def length_m(found):
            return json.loads(found)["distance_m"]

    turn = itertools.cycle(range(len(pairs)))
    benchmark.pedantic(lambda: answer(next(turn)), rounds=len(pairs), iterations=1,
                       warmup_rounds=3)  # fmt: skip
    lengths = [length_m(found) for i in range(len(pairs)) if (found := answer(i))]
    _answers[("route", profile_name, engine)] = lengths
    theirs = _answers.get(("route", profile_name, "valhalla"))
    if engine == "ours" and theirs:
        benchmark.extra_info["note"] = (
            f"routes found: ours {len(lengths)}/{len(pairs)}, Valhalla {len(theirs)}/"
            f"{len(pairs)}; median length ours {statistics.median(lengths):.0f} m, Valhalla "
            f"{statistics.median(theirs):.0f} m")  # fmt: skip
    assert lengths


# -- first request with a new option value ------------------------------------------------
A, B = (43.2380, 76.9455), (43.2497, 76.9454)  # Republic Square -> Abai Opera


@pytest.mark.parametrize("engine", ENGINES)
def test_route_new_option_value(benchmark, almaty_router, shared_data, engine):
    """Each round asks with a value never asked before: ours a new ``max_uphill`` (a new
    cost model and search graph, then cached), Valhalla a new ``walking_speed`` with
    ``type: wheelchair`` (Valhalla builds its costing per request anyway)."""
    values = iter(np.linspace(0.06, 0.11, 400).tolist())
    benchmark.group = "valhalla route almaty, new option value"
    _describe(benchmark, engine, "new_value", "almaty", "wheelchair_manual")
    if engine == "valhalla":
        actor = _actor(shared_data, "almaty")

        def one():
            speed = 3.0 + 20 * next(values)  # km/h, 4.2-5.2
            return actor.route(json.dumps({
                "locations": _locations([A, B]), "costing": "pedestrian",
                "costing_options": {"pedestrian": {"type": "wheelchair",
                                                   "walking_speed": speed}}}))  # fmt: skip
    else:
        def one():
            profile = get_profile("wheelchair_manual", {"max_uphill": next(values)})
            return encode(almaty_router.route(A, B, profile).to_dict())

    found = benchmark.pedantic(one, rounds=50, iterations=1)
    assert found


# -- /route over HTTP ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def valhalla_server(shared_data):
    with _valhalla.valhalla_service(_tiles_of(shared_data, "almaty"), threads=1) as server:
        yield server


@pytest.fixture(scope="module")
def our_server(almaty_graph, shared_data, graph_cache):
    """``inclusive-routing serve`` (gunicorn, one worker) on the benchmark's graph cache."""
    port = _valhalla.free_port()
    osm, dem = _osm_dem(shared_data, "almaty")
    command = [sys.executable, "-m", "server.cli", "serve", "--no-transit", "--workers", "1",
               "--host", "127.0.0.1", "--port", str(port), "--cache-dir", str(graph_cache),
               "--osm", str(osm),
               *[arg for path in dem for arg in ("--dem", str(path))]]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ})  # fmt: skip
    try:
        _valhalla.wait_until_up(proc, port, "/health")
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def _paths(engine: str, pairs) -> list[str]:
    if engine == "ours":
        return [_query(a, b) for a, b in pairs]
    return ["/route?json=" + urllib.parse.quote(json.dumps(
        {"locations": _locations([a, b]), "units": "km", **_costing("walk")}))
        for a, b in pairs]  # fmt: skip


def _in_process(engine: str, router, shared_data):
    """The same request answered in this process (the work any server must do)."""
    if engine == "ours":
        profile = get_profile("walk")

        def ours(a, b):
            try:
                return encode(router.route(a, b, profile).to_dict())
            except RoutingError:  # a 422 is an answer too
                return None
        return ours
    actor = _actor(shared_data, "almaty")

    def theirs(a, b):
        try:
            return actor.route(json.dumps({"locations": _locations([a, b]), "units": "km",
                                           **_costing("walk")}))  # fmt: skip
        except RuntimeError:
            return None
    return theirs


def _get(conn: http.client.HTTPConnection, path: str) -> int:
    conn.request("GET", path)
    response = conn.getresponse()
    response.read()
    return response.status


@pytest.mark.parametrize("engine", ENGINES)
def test_route_http(benchmark, request, almaty_router, engine):
    port, _ = request.getfixturevalue("valhalla_server" if engine == "valhalla" else "our_server")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    paths = itertools.cycle(_paths(engine, _route_pairs(almaty_router)))
    statuses = []
    benchmark.group = "valhalla route over HTTP"
    _describe(benchmark, engine, "http", "almaty", "walk")
    benchmark.pedantic(lambda: statuses.append(_get(conn, next(paths))), rounds=100,
                       iterations=1, warmup_rounds=3)  # fmt: skip
    conn.close()
    ok = sum(s == 200 for s in statuses)
    benchmark.extra_info["note"] = f"HTTP 200 for {ok} of {len(statuses)} requests"
    assert ok > len(statuses) // 2, statuses  # answers, not errors


def test_route_http_interleaved(benchmark, request, almaty_router):
    """Both servers on the same pairs, request by request: pair i is asked of one, then of
    the other (who goes first alternates), 5 passes over the 50 pairs. Drifting load on a
    shared machine then weighs on both alike; min and median per engine are in the note."""
    ours_port, _ = request.getfixturevalue("our_server")
    peer_port, _ = request.getfixturevalue("valhalla_server")
    pairs = _route_pairs(almaty_router)
    asked = {"ours": (http.client.HTTPConnection("127.0.0.1", ours_port, timeout=60),
                      _paths("ours", pairs)),
             "valhalla": (http.client.HTTPConnection("127.0.0.1", peer_port, timeout=60),
                          _paths("valhalla", pairs))}  # fmt: skip
    times: dict[str, list[float]] = {"ours": [], "valhalla": []}
    statuses: dict[str, list[int]] = {"ours": [], "valhalla": []}

    def run():
        for rep in range(5):
            for i in range(len(pairs)):
                order = ("ours", "valhalla") if (rep + i) % 2 == 0 else ("valhalla", "ours")
                for engine in order:
                    conn, paths = asked[engine]
                    t0 = time.perf_counter()
                    statuses[engine].append(_get(conn, paths[i]))
                    times[engine].append(time.perf_counter() - t0)

    for engine in asked:  # warm both: first requests build per-profile state
        conn, paths = asked[engine]
        for path in paths[:3]:
            _get(conn, path)
    benchmark.pedantic(run, rounds=1, iterations=1)
    for conn, _ in asked.values():
        conn.close()
    ms = {k: 1000 * np.array(v) for k, v in times.items()}
    figures = {f"{k}_{stat}_ms": round(float(f(v)), 3) for k, v in ms.items()
               for stat, f in (("min", np.min), ("median", np.median))}  # fmt: skip
    for stat in ("min", "median"):
        figures[f"valhalla_over_ours_{stat}"] = round(
            figures[f"valhalla_{stat}_ms"] / figures[f"ours_{stat}_ms"], 3)
    benchmark.group = "valhalla route over HTTP, interleaved"
    _describe(benchmark, "ours", "http_interleaved", "almaty", "walk", **figures)
    ok = {k: sum(s == 200 for s in v) for k, v in statuses.items()}
    benchmark.extra_info["note"] = (
        f"per request, min / median ms: ours {figures['ours_min_ms']} / "
        f"{figures['ours_median_ms']}, Valhalla {figures['valhalla_min_ms']} / "
        f"{figures['valhalla_median_ms']} (valhalla/ours {figures['valhalla_over_ours_min']} "
        f"at the min, {figures['valhalla_over_ours_median']} at the median); HTTP 200: ours "
        f"{ok['ours']}, Valhalla {ok['valhalla']} of {len(statuses['ours'])}")  # fmt: skip
    assert ok["ours"] > len(statuses["ours"]) // 2 and ok["valhalla"] > len(statuses["ours"]) // 2


@pytest.mark.parametrize("engine", ENGINES)
def test_route_http_overhead_paired(benchmark, request, almaty_router, shared_data, engine):
    """Per pair: the same request in process, then over HTTP; the difference is what the
    server adds (parsing, JSON, socket). The benchmark's own time is the whole loop."""
    port, _ = request.getfixturevalue("valhalla_server" if engine == "valhalla" else "our_server")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    pairs = _route_pairs(almaty_router)
    paths = _paths(engine, pairs)
    local = _in_process(engine, almaty_router, shared_data)
    inside, over = [], []

    def run():
        for _ in range(3):
            for (a, b), path in zip(pairs, paths, strict=True):
                t0 = time.perf_counter()
                local(a, b)
                t1 = time.perf_counter()
                _get(conn, path)
                t2 = time.perf_counter()
                inside.append(t1 - t0)
                over.append(t2 - t1)

    benchmark.pedantic(run, rounds=1, iterations=1)
    conn.close()
    extra = 1000 * (np.array(over) - np.array(inside))
    figures = {"overhead_median_ms": round(float(np.median(extra)), 3),
               "overhead_p25_ms": round(float(np.percentile(extra, 25)), 3),
               "in_process_median_ms": round(1000 * float(np.median(inside)), 3),
               "http_median_ms": round(1000 * float(np.median(over)), 3)}  # fmt: skip
    benchmark.group = "valhalla route over HTTP, paired overhead"
    _describe(benchmark, engine, "http_overhead", "almaty", "walk", **figures)
    benchmark.extra_info["note"] = (f"{engine}: HTTP minus in-process per pair, median "
                                    f"{figures['overhead_median_ms']} ms, p25 "
                                    f"{figures['overhead_p25_ms']} ms (in-process median "
                                    f"{figures['in_process_median_ms']} ms, HTTP "
                                    f"{figures['http_median_ms']} ms)")  # fmt: skip
    assert len(extra) == 3 * len(pairs)


# -- server memory ------------------------------------------------------------------------
@pytest.mark.parametrize("engine", ENGINES)
def test_server_rss(benchmark, request, almaty_router, engine):
    """Resident memory of the server process that answers, after it answered: Valhalla
    after routes with each pedestrian type, ours after a route with each of the six
    profiles (both after the HTTP benchmarks above when run together)."""
    port, pid = request.getfixturevalue("valhalla_server" if engine == "valhalla"
                                        else "our_server")  # fmt: skip
    a, b = _route_pairs(almaty_router)[0]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if engine == "ours":
        paths = [_query(a, b).replace("profile=walk", f"profile={name}")
                 for name in PROFILE_NAMES]  # fmt: skip
        workers = _valhalla.children(pid)  # gunicorn's master is the process we started
        assert len(workers) == 1, workers
        extra = {f"master_{k}": v for k, v in _valhalla.memory_mb(pid).items()}
        pid = workers[0]
    else:
        extra = {}  # one process: prime_server's workers are its threads
        paths = ["/route?json=" + urllib.parse.quote(json.dumps(
            {"locations": _locations([a, b]), "costing": "pedestrian",
             "costing_options": {"pedestrian": {"type": kind}}}))
            for kind in ("foot", "wheelchair", "blind")]  # fmt: skip
    statuses = benchmark.pedantic(lambda: [_get(conn, p) for p in paths], rounds=1, iterations=1)
    conn.close()
    memory = _valhalla.memory_mb(pid)
    # The whole service, like for like (one worker vs one thread): its processes' PSS summed,
    # and every page it maps counted once (gunicorn's master RSS + the worker's own pages).
    if engine == "ours":
        service = {"service_pss_mb": round(memory["pss_mb"] + extra["master_pss_mb"], 1),
                   "service_union_mb": round(memory["private_mb"] + extra["master_rss_mb"], 1)}
    else:
        service = {"service_pss_mb": memory["pss_mb"], "service_union_mb": memory["rss_mb"]}
    benchmark.group = "valhalla server memory"
    _describe(benchmark, engine, "rss", "almaty", "all", **memory, **extra, **service)
    benchmark.extra_info["note"] = (f"{engine} server, the answering process after "
                                    f"{len(paths)} profiles: {memory} {extra or ''}; "
                                    f"whole service: {service}")  # fmt: skip
    print(benchmark.extra_info["note"])
    assert statuses.count(200) >= 1 and memory["rss_mb"] > 0
