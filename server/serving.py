"""Serving on every core: gunicorn with the app loaded once, then forked into workers.

The design (see the README's *Running in production*):

- The master process loads the compiled graph and the transit feed (``create_app``) and
  then forks ``workers`` processes. The graph's numpy arrays are only ever read, so the
  workers share their memory pages with the master (copy-on-write pages that are never
  written stay shared): N workers cost far less than N copies.
- Each worker runs ``threads`` threads (gunicorn's ``gthread`` worker). One computes at a
  time (:mod:`server.overload`): the threads take in requests, and those that cannot wait
  get 503 + ``Retry-After`` at once. There must be clearly more threads than requests
  allowed to wait, or requests would queue, unbounded, in gunicorn's thread pool before
  the shedder sees them. Per-profile caches are per worker and bounded (LRU).
- gunicorn restarts a worker that dies, and (``max_requests``) recycles workers after a
  number of requests, with jitter, which bounds any slow growth of memory.
- Memory is bounded by size, not only by cache counts. glibc gives each thread that
  allocates while another holds the heap its own arena (up to 8 per core), and a worker's
  32 threads scatter numpy temporaries over them: measured on Almaty, /plan with new
  overrides grew a worker to ~800 MB RSS, while the caches themselves held under 100 MB.
  So ``serve`` caps the arenas (``malloc_arenas``, default 2; ``mallopt`` in the master,
  inherited by the workers), and after each request a worker over ``max_worker_rss_mb``
  first gives freed memory back (``malloc_trim``) and, if still over, finishes its requests
  and is replaced by a fresh fork of the master (gunicorn's graceful restart).
- Slow clients are a reverse proxy's job: gthread threads read a request once it has
  arrived, so put nginx (``deploy/nginx.conf``) in front in production; it buffers requests
  and answers, and refuses huge bodies and URLs early.
"""

from __future__ import annotations

import ctypes
import errno
import gc
import json
import os
import re
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask
from gunicorn import util as gunicorn_util
from gunicorn.app.base import BaseApplication

from routing.cost import PROFILE_NAMES, get_profile
from routing.errors import DataError, RoutingError
from server import release_freed_memory
from server.state import EXTENSION


@dataclass(frozen=True)
class ServeOptions:
    """How the server listens and how many processes and threads it runs."""

    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 2
    threads: int = 40  # at least server.overload.threads_needed (38 by default)
    timeout_s: int = 60
    max_requests: int = 0
    keepalive_s: int = 5
    malloc_arenas: int = 2
    max_worker_rss_mb: int = 768


class _Gunicorn(BaseApplication):
    """gunicorn around an app that is already loaded (so workers inherit it by fork)."""

    def __init__(self, app: Flask, settings: dict[str, Any]) -> None:
        self._app = app
        self._settings = settings
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self._app


def check_port_free(host: str, port: int) -> None:
    """Raise a clear error now when the address is taken (not a traceback after start-up)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            in_use = exc.errno == errno.EADDRINUSE
            why = "is already in use" if in_use else f"cannot be used ({exc})"
            raise DataError(f"address {host}:{port} {why}: stop the other server or pass "
                            "--port", field="port") from None  # fmt: skip


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's answer to a request it cannot parse, in the API's JSON error shape.

    gunicorn answers malformed request lines, over-long URLs and headers itself, before the
    app sees anything; this replaces its HTML page (``gunicorn.util.write_error``). The
    message is clipped: it may quote the client's request line.
    """
    code = re.sub(r"[^a-z0-9]+", "_", reason.lower()).strip("_") or "bad_request"
    text = f"{reason}: {mesg}" if mesg else reason
    message = text if len(text) <= 200 else text[:197] + "..."
    body = json.dumps({"error": {"code": code, "message": message}}).encode("ascii")
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n\r\n")  # fmt: skip
    gunicorn_util.write_nonblock(sock, head.encode("latin-1") + body)


M_ARENA_MAX = -8  # glibc's mallopt parameter number


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap glibc's malloc arenas for this process and its future children (False off glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return arenas > 0 and bool(libc.mallopt(M_ARENA_MAX, arenas))


_PAGE_MB = os.sysconf("SC_PAGE_SIZE") / 1e6 if hasattr(os, "sysconf") else 0.0
_statm: tuple[int, int] | None = None  # (pid, open /proc/self/statm of that process)


def resident_mb() -> float:
    """This process's resident set size in MB (0.0 where /proc is missing).

    Read after every request, so the file stays open (per process: a forked worker opens
    its own) and is read again from its start, which makes the kernel write it anew.
    """
    global _statm
    pid = os.getpid()
    try:
        if _statm is None or _statm[0] != pid:
            _statm = (pid, os.open("/proc/self/statm", os.O_RDONLY))
        pages = int(os.pread(_statm[1], 128, 0).split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    return pages * _PAGE_MB


class MemoryGuard:
    """After each request: over the budget, trim the heap; still over, recycle the worker."""

    def __init__(self, max_rss_mb: float) -> None:
        self.max_rss_mb = max_rss_mb

    def __call__(self, worker: Any, _req: Any, _environ: Any, _resp: Any) -> None:
        if self.max_rss_mb <= 0 or resident_mb() <= self.max_rss_mb:
            return
        release_freed_memory()
        rss = resident_mb()
        if rss > self.max_rss_mb and worker.alive:
            worker.log.warning("worker %s holds %.0f MB (limit %d MB): restarting it "
                               "after its current requests", worker.pid, rss,
                               self.max_rss_mb)  # fmt: skip
            worker.alive = False  # gthread: stop accepting, finish, exit; the master forks anew


def share_before_fork(app: Flask) -> None:
    """Build in the master what every worker would build for itself, then freeze the heap.

    The base profiles' search graphs (and the graph's cost facts they read) are prepared
    once here, with one short search each (which builds the search rows and look-ups a
    route reads), and one route is described and written as JSON (what a worker's first
    ``/route`` would otherwise make for itself, ~3 MB), so the forked workers share them
    instead of each holding a copy (~50 MB on Almaty); ``gc.freeze`` keeps the workers'
    garbage collector from writing into every object they inherit, which would copy the
    pages holding them. See the Python docs of ``gc.freeze``.
    """
    router = app.extensions[EXTENSION]["router"]
    network = router.network
    g = network.graph
    if g.n_edges:  # one short search each builds what a route reads (search rows, look-ups)
        a, b = network.at_node(int(g.edge_u[0])), network.at_node(int(g.edge_v[0]))
    for name in PROFILE_NAMES:
        profile = get_profile(name)
        network.costs(profile)
        if g.n_edges:
            network.path(a, b, profile)
    if g.n_edges:  # one described route and its JSON: what the first /route would make
        try:  # (not through the app: its first-request hooks must run in each worker)
            found = router.route((a.lat, a.lon), (b.lat, b.lon), get_profile(PROFILE_NAMES[0]))
            with app.app_context():
                app.json.dumps(found.to_dict())
        except RoutingError:
            pass  # nothing to warm on this graph; the workers build it on their first route
    release_freed_memory()
    gc.freeze()


def serve(app: Flask, options: ServeOptions, *, on_ready: Callable[[], None] | None = None) -> None:
    """Serve ``app`` with gunicorn until interrupted (SIGINT/SIGTERM stop it gracefully)."""
    settings: dict[str, Any] = {
        "bind": [f"[{options.host}]:{options.port}" if ":" in options.host
                 else f"{options.host}:{options.port}"],
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "timeout": options.timeout_s,
        "graceful_timeout": 10,
        "keepalive": options.keepalive_s,
        "max_requests": options.max_requests,
        "max_requests_jitter": options.max_requests // 10,
        "preload_app": True,
        "limit_request_line": 8190,
        "limit_request_fields": 100,
        "limit_request_field_size": 8190,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "inclusive-routing",
        "when_ready": (lambda _server: on_ready()) if on_ready else (lambda _server: None),
        "post_request": MemoryGuard(options.max_worker_rss_mb),
    }  # fmt: skip
    limit_malloc_arenas(options.malloc_arenas)  # before any thread or worker exists
    share_before_fork(app)
    gunicorn_util.write_error = write_json_error  # workers are forked after this
    _Gunicorn(app, settings).run()
    sys.stderr.flush()
