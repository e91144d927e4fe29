"""A server process that only routes holds only what routing needs (memory per worker)."""

from __future__ import annotations

import gc
import json
import shutil
import subprocess
import sys
from pathlib import Path

from server_places import KAIVOKATU, VILHONKATU, latlon

from routing.cost import PROFILE_NAMES, get_profile
from routing.graph.compiled import CompiledGraph
from routing.jobs import JobStore
from server.scenarios import _nothing_to_resume
from server.serving import share_before_fork
from server.state import EXTENSION

#: Packages of the dispatch engine, the job stores, the graph build and figures: tens of
#: MB each per process, none needed to answer ``/route``.
NOT_FOR_ROUTES = ("ortools", "sqlalchemy", "osmium", "networkx", "matplotlib")
#: Parts of scipy a route-only server does without (snapping and landmarks look up a numpy
#: grid, paths are the compiled A*; transit imports its own on first use): scipy.spatial
#: brings scipy.linalg, special and OpenBLAS, ~18 MB per process, scipy.sparse ~14 MB.
SCIPY_NOT_FOR_ROUTES = ("scipy.spatial", "scipy.sparse")

_SCRIPT = """
import json, sys
from server import create_app
app = create_app({"OSM": sys.argv[1], "CACHE_DIR": sys.argv[2]})
print(json.dumps(sorted(sys.modules)))
client = app.test_client()
for profile in ("walk", "wheelchair_manual", "blind"):
    answer = client.get(sys.argv[3] + profile)
    assert answer.status_code == 200, answer.get_json()
print(json.dumps(sorted(sys.modules)))
"""


def test_a_server_that_only_routes_loads_no_dispatch_job_or_build_package(
    helsinki_graph: CompiledGraph, helsinki_osm: Path, tmp_path: Path
):
    # The session's compiled graph, in a folder of its own (no scenario database beside it).
    cache = tmp_path / "cache"
    cache.mkdir()
    shutil.copy(helsinki_graph.meta["cache"]["path"], cache)
    query = f"/route?from={latlon(KAIVOKATU)}&to={latlon(VILHONKATU)}&profile="
    out = subprocess.run([sys.executable, "-c", _SCRIPT, str(helsinki_osm), str(cache), query],
                         capture_output=True, text=True, check=True)  # fmt: skip
    started, modules = (set(json.loads(line)) for line in out.stdout.strip().splitlines()[-2:])
    # Loaded, before any request: no scipy at all (its sparse matrices are made on first
    # use from the search graph's arrays; snapping and landmarks use a numpy grid).
    assert "routing.network" in started and not {m for m in started if m.startswith("scipy")}
    loaded = {m.split(".")[0] for m in modules}
    assert "routing" in loaded and "flask" in loaded and "routing.snapping" in modules
    assert loaded.isdisjoint(NOT_FOR_ROUTES), sorted(loaded & set(NOT_FOR_ROUTES))
    assert modules.isdisjoint(SCIPY_NOT_FOR_ROUTES), sorted(modules & set(SCIPY_NOT_FOR_ROUTES))


def test_the_command_line_that_starts_a_server_loads_no_heavy_package():
    # `inclusive-routing serve` builds the whole parser in the gunicorn master before the
    # app: what the parser's modules import, every worker inherits.
    script = ("import json, sys\nfrom server.cli import build_parser\nbuild_parser()\n"
              "print(json.dumps(sorted(sys.modules)))")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)  # fmt: skip
    modules = set(json.loads(out.stdout.strip().splitlines()[-1]))
    assert "server.scenario_cli" in modules and "server.transit_cli" in modules
    heavy = {m for m in modules if m.split(".")[0] in NOT_FOR_ROUTES}
    heavy |= modules & {*SCIPY_NOT_FOR_ROUTES, "scipy.sparse.csgraph"}
    assert not heavy, sorted(heavy)


def test_the_resume_check_agrees_with_the_job_store(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"
    assert _nothing_to_resume(url)  # no database yet
    store = JobStore(url, "scenario")
    assert _nothing_to_resume(url)  # an empty one
    job = store.new({"scenario": {}})
    assert not _nothing_to_resume(url)  # queued
    assert store.claim(job, "a-worker")
    assert not _nothing_to_resume(url)  # running
    store.finish(job, error="stopped")
    assert _nothing_to_resume(url)  # failed: nothing to resume
    other = JobStore(url, "report")  # another kind of job in the same table
    other.new({})
    assert _nothing_to_resume(url)
    assert _nothing_to_resume("sqlite://")  # in memory: new in each process
    assert not _nothing_to_resume("postgresql://db.example/jobs")  # only the store can tell
    (tmp_path / "broken.sqlite").write_bytes(b"not a database")
    assert not _nothing_to_resume(f"sqlite:///{tmp_path / 'broken.sqlite'}")


def test_the_master_prepares_every_base_profile_and_freezes_its_objects_before_forking(app):
    network = app.extensions[EXTENSION]["router"].network
    before = gc.get_freeze_count()
    try:
        share_before_fork(app)
        assert gc.get_freeze_count() > before
        for name in PROFILE_NAMES:  # prepared: the workers find them in the cache
            assert get_profile(name) in network._prepared
    finally:
        gc.unfreeze()
