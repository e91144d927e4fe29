"""``/route`` over HTTP beside the same route in-process (issue 7 part 5, issue 12).

Three ways to the same 50 seeded Almaty pairs, walk profile, one run:

- ``ours_inprocess``: ``router.route(...).to_dict()`` (the work any server must do);
- ``ours_http_test_client``: Flask's test client (our whole request path, no socket):
  parameter parsing, load shedding, JSON encoding, headers;
- ``ours_http_gunicorn``: a real ``inclusive-routing serve`` (gunicorn, one worker) over a
  keep-alive loopback connection, as a client sees it.

``python benchmarks/ratios.py <json>`` prints each HTTP median over the in-process one.
Valhalla over HTTP on the same pairs: ``benchmarks/test_valhalla_peer.py``.
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from routing.cost import get_profile
from routing.geo import haversine_m

REPO = Path(__file__).resolve().parents[1]
PAIRS = 50


def _route_pairs(router):
    """Seeded pairs of usable nodes 300 m to 1.5 km apart (a typical walk, as the load test
    asks): short enough that the per-request overhead is not lost in the search."""
    profile = get_profile("walk")
    g = router.graph
    usable = np.flatnonzero(router.network.costs(profile).costs.node_usable)
    rng = np.random.default_rng(11)
    pairs = []
    while len(pairs) < PAIRS:
        a = int(rng.choice(usable))
        d = haversine_m(g.node_lat[a], g.node_lon[a], g.node_lat[usable], g.node_lon[usable])
        near = usable[(d > 300) & (d < 1500)]
        if len(near):
            b = int(rng.choice(near))
            pairs.append(((float(g.node_lat[a]), float(g.node_lon[a])),
                          (float(g.node_lat[b]), float(g.node_lon[b]))))  # fmt: skip
    return pairs


def _query(a, b):
    return f"/route?from={a[0]:.6f},{a[1]:.6f}&to={b[0]:.6f},{b[1]:.6f}&profile=walk"


@pytest.fixture(scope="module")
def route_app(almaty_router):
    from server import create_app

    return create_app({"TESTING": True}, router=almaty_router)


def test_route_in_process(benchmark, almaty_router):
    pairs = itertools.cycle(_route_pairs(almaty_router))
    profile = get_profile("walk")

    def one():
        a, b = next(pairs)
        try:
            return almaty_router.route(a, b, profile).to_dict()
        except Exception:  # a 422 is an answer too
            return None

    benchmark.group = "route over HTTP"
    benchmark.extra_info.update(city="almaty", profile="walk", kind="ours_inprocess")
    benchmark.pedantic(one, rounds=2 * PAIRS, iterations=1, warmup_rounds=3)


def test_route_flask_test_client(benchmark, almaty_router, route_app):
    client = route_app.test_client()
    pairs = itertools.cycle(_route_pairs(almaty_router))
    benchmark.group = "route over HTTP"
    benchmark.extra_info.update(city="almaty", profile="walk", kind="ours_http_test_client")
    benchmark.pedantic(lambda: client.get(_query(*next(pairs))), rounds=2 * PAIRS,
                       iterations=1, warmup_rounds=3)  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def gunicorn_url(almaty_graph, shared_data, graph_cache):
    """A real server (one gunicorn worker) on the graph cache the fixtures built."""
    port = _free_port()
    dem = sorted((shared_data / "almaty" / "dem").glob("*.hgt.zip"))
    command = [sys.executable, "-m", "server.cli", "serve", "--no-transit", "--workers", "1",
               "--host", "127.0.0.1", "--port", str(port), "--cache-dir", str(graph_cache),
               "--osm", str(shared_data / "almaty/osm/almaty-2012.osm.pbf"),
               *[arg for path in dem for arg in ("--dem", str(path))]]  # fmt: skip
    proc = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ})  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the server did not start")
            time.sleep(0.5)
        yield "127.0.0.1", port
    finally:
        proc.terminate()
        proc.wait(30)


def test_route_gunicorn(benchmark, almaty_router, gunicorn_url):
    host, port = gunicorn_url
    conn = http.client.HTTPConnection(host, port, timeout=30)
    pairs = itertools.cycle(_route_pairs(almaty_router))
    statuses = []

    def one():
        conn.request("GET", _query(*next(pairs)))
        response = conn.getresponse()
        body = response.read()
        statuses.append(response.status)
        return body

    benchmark.group = "route over HTTP"
    benchmark.extra_info.update(city="almaty", profile="walk", kind="ours_http_gunicorn")
    benchmark.pedantic(one, rounds=2 * PAIRS, iterations=1, warmup_rounds=3)
    conn.close()
    assert set(statuses) <= {200, 422}, statuses  # answers, not shed or failed
