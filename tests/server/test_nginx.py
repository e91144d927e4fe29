"""The documented production front (issue 12): Debian's nginx with ``deploy/nginx.conf``
in front of a real ``serve``, holding slow clients while a normal client gets answers.

``make test`` installs nginx (``make nginx``) like Chromium for the browser tests.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.error
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from live_server import free_port, get_json, serving
from server_places import KAIVOKATU, VILHONKATU, latlon

from server.defaults import REPO_ROOT

SLOW_CLIENTS = 50


def nginx_binary() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).is_file()), None
    )
    if found is None:
        pytest.fail("nginx is not installed: run `make nginx` (Debian's nginx package)")
    return found


@contextmanager
def nginx_in_front(app_port: int, folder: Path) -> Iterator[int]:
    """nginx with ``deploy/nginx.conf``, only its two addresses changed; yields its port."""
    port = free_port()
    conf = (REPO_ROOT / "deploy" / "nginx.conf").read_text()
    upstream = "server 127.0.0.1:8080 "
    assert conf.count(upstream) == 1 and conf.count("listen 127.0.0.1:8000;") == 1
    conf = conf.replace(upstream, f"server 127.0.0.1:{app_port} ")
    conf = conf.replace("listen 127.0.0.1:8000;", f"listen 127.0.0.1:{port};")
    (folder / "logs").mkdir(parents=True, exist_ok=True)
    (folder / "nginx.conf").write_text(conf)
    command = [nginx_binary(), "-p", str(folder), "-c", str(folder / "nginx.conf"),
               "-g", "daemon off;"]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30  # a hang guard
        while True:
            if proc.poll() is not None:
                pytest.fail(f"nginx exited with {proc.returncode}: {proc.stdout.read()!r}")
            try:
                if get_json(f"http://127.0.0.1:{port}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("nginx did not pass /health on in 30 s")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()  # SIGTERM: nginx stops at once
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def hold_slow_clients(port: int, count: int) -> list[socket.socket]:
    """Connections that have sent only part of a request header."""
    held = []
    for _ in range(count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=10)
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        held.append(conn)
    return held


def still_open(conn: socket.socket) -> bool:
    """The peer has neither closed nor answered this connection."""
    conn.setblocking(False)
    try:
        conn.recv(1, socket.MSG_PEEK)  # b"": closed; bytes: answered
        return False
    except BlockingIOError:  # nothing to read: still waiting for the rest of its request
        return True
    except OSError:
        return False
    finally:
        conn.setblocking(True)


def test_nginx_holds_slow_clients_while_a_normal_client_is_answered(
    helsinki_osm: Path, graph_cache: Path, tmp_path: Path
) -> None:
    # The app runs 2 workers of 8 threads: 50 slow clients straight on it would hold
    # every thread (gthread reads a request on a thread once the connection is readable).
    args = ["--osm", str(helsinki_osm), "--cache-dir", str(graph_cache)]
    with serving(args, tmp_path / "serve.log") as (base, _):
        app_port = int(base.rsplit(":", 1)[1])
        with nginx_in_front(app_port, tmp_path / "nginx") as port:
            slow = hold_slow_clients(port, SLOW_CLIENTS)
            try:
                route = (f"http://127.0.0.1:{port}/route?from={latlon(KAIVOKATU)}"
                         f"&to={latlon(VILHONKATU)}&profile=walk")  # fmt: skip
                answers = []
                for _ in range(10):
                    for conn in slow:  # the slow clients keep dripping header bytes
                        conn.sendall(b"X")
                    answers.append(get_json(route))
                open_now = sum(still_open(conn) for conn in slow)
            finally:
                for conn in slow:
                    conn.close()
            # nginx also answers its own refusals in the JSON error shape.
            too_long = get_json(f"http://127.0.0.1:{port}/route?from=" + "1" * 9000)
    assert [status for status, _, _ in answers] == [200] * 10
    assert all(body["steps"] for _, _, body in answers)
    assert open_now == SLOW_CLIENTS  # all were held, unanswered, while the others were served
    assert too_long[0] == 414 and too_long[2]["error"]["code"] == "uri_too_long"
