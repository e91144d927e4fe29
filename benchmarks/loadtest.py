"""A bounded load test for a running server, on this machine only (loopback addresses).

Open loop (``--rate``: requests are sent on a fixed schedule, and latency is measured from
the scheduled time, so a slow server cannot hide its queue) or closed loop
(``--concurrency``: each connection sends its next request when the last one is answered;
finds the saturation throughput). Optionally holds ``--slow-clients`` connections that
drip one header byte at a time, and measures a separate probe client meanwhile.

    python benchmarks/loadtest.py --rate 200 --duration 60              # /route at 200 rps
    python benchmarks/loadtest.py --concurrency 16 --duration 30        # saturation
    python benchmarks/loadtest.py --rate 200 --duration 30 --overrides  # random speed_mps
    python benchmarks/loadtest.py --rate 5 --duration 30 --slow-clients 300

Prints one JSON summary: requests sent, answers by status, goodput (2xx per second),
latency percentiles (ms) of the 2xx and of the 503 answers, and the probe's results.
Stops by itself: at most 600 s and 2,000 requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import random
import socket
import sys
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_DURATION_S = 600
MAX_RATE = 2000

#: Central Almaty (where the walking graph is dense): origins are drawn here, destinations
#: within about 1.5 km.
BOX = (43.215, 76.880, 43.270, 76.960)


@dataclass
class Results:
    statuses: Counter = field(default_factory=Counter)
    ok_ms: list[float] = field(default_factory=list)
    shed_ms: list[float] = field(default_factory=list)
    other_ms: list[float] = field(default_factory=list)
    failures: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, ms: float) -> None:
        with self.lock:
            self.statuses[status] += 1
            bucket = self.ok_ms if 200 <= status < 300 else (
                self.shed_ms if status == 503 else self.other_ms)
            bucket.append(ms)

    def fail(self, why: str) -> None:
        with self.lock:
            self.failures[why] += 1

    def summary(self, seconds: float) -> dict:
        def pct(values: list[float]) -> dict:
            if not values:
                return {}
            ordered = sorted(values)

            def at(q: float) -> float:
                return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

            return {"n": len(ordered), "p50": at(0.50), "p90": at(0.90), "p99": at(0.99),
                    "max": round(ordered[-1], 1)}

        return {
            "seconds": round(seconds, 1),
            "answers": sum(self.statuses.values()),
            "by_status": dict(sorted(self.statuses.items())),
            "failures": dict(self.failures),
            "goodput_rps": round(len(self.ok_ms) / seconds, 1) if seconds else 0.0,
            "ok_ms": pct(self.ok_ms),
            "shed_503_ms": pct(self.shed_ms),
            "other_ms": pct(self.other_ms),
        }


def route_paths(seed: int, overrides: bool, endpoint: str) -> Callable[[], str]:
    """A generator of request paths: random nearby pairs in central Almaty."""
    rng = random.Random(seed)
    lock = threading.Lock()

    def next_path() -> str:
        with lock:
            lat = rng.uniform(BOX[0], BOX[2])
            lon = rng.uniform(BOX[1], BOX[3])
            dlat, dlon = rng.uniform(-0.01, 0.01), rng.uniform(-0.012, 0.012)
            profile = rng.choice(["walk", "wheelchair_manual", "blind", "low_vision"])
            query = {"from": f"{lat:.5f},{lon:.5f}", "to": f"{lat + dlat:.5f},{lon + dlon:.5f}",
                     "profile": profile}
            if overrides:
                query["speed_mps"] = f"{rng.uniform(0.5, 1.5):.4f}"
            if endpoint == "/plan":
                query["time"] = "2026-12-07T08:00"
        return endpoint + "?" + urllib.parse.urlencode(query)

    return next_path


class Client:
    """One keep-alive connection."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> int:
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            try:
                self.conn.request("GET", path)
                response = self.conn.getresponse()
                response.read()
                if response.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return response.status
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def open_loop(host: str, port: int, rate: float, duration: float, next_path: Callable[[], str],
              results: Results, *, connections: int, timeout: float) -> None:
    """``rate`` requests per second on a fixed schedule, over ``connections`` threads."""
    schedule: list[float] = []
    start = time.monotonic() + 0.2
    schedule = [start + i / rate for i in range(int(rate * duration))]
    index = 0
    index_lock = threading.Lock()

    def worker() -> None:
        nonlocal index
        client = Client(host, port, timeout)
        while True:
            with index_lock:
                if index >= len(schedule):
                    return
                due = schedule[index]
                index += 1
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                status = client.get(next_path())
                results.add(status, (time.monotonic() - due) * 1000)
            except Exception as exc:  # noqa: BLE001 - counted, not fatal
                results.fail(type(exc).__name__)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + timeout + 5)


def closed_loop(host: str, port: int, concurrency: int, duration: float,
                next_path: Callable[[], str], results: Results, *, timeout: float,
                requests: int | None = None) -> None:
    """``concurrency`` connections, each sending its next request when answered.

    Stops after ``duration`` seconds or ``requests`` requests, whichever comes first (a
    fixed number of requests gives the same work whatever the machine's load).
    """
    stop = time.monotonic() + duration
    left = [requests if requests is not None else -1]
    left_lock = threading.Lock()

    def worker() -> None:
        client = Client(host, port, timeout)
        while time.monotonic() < stop:
            with left_lock:
                if left[0] == 0:
                    return
                left[0] -= 1
            sent = time.monotonic()
            try:
                status = client.get(next_path())
                results.add(status, (time.monotonic() - sent) * 1000)
            except Exception as exc:  # noqa: BLE001
                results.fail(type(exc).__name__)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(duration + timeout + 5)


def slow_clients(host: str, port: int, count: int, stop: threading.Event) -> dict:
    """Hold ``count`` connections that send a request header one byte every 2 s."""
    socks: list[socket.socket] = []
    opened = 0
    for _ in range(count):
        try:
            s = socket.create_connection((host, port), timeout=5)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
            opened += 1
        except OSError:
            break
    dropped = 0
    while not stop.wait(2.0):
        alive = []
        for s in socks:
            try:
                s.sendall(b"X")
                alive.append(s)
            except OSError:
                dropped += 1
                s.close()
        socks = alive
    for s in socks:
        s.close()
    return {"opened": opened, "dropped_by_server": dropped, "still_open": len(socks)}


def check_loopback(host: str) -> None:
    """Refuse any target that is not this machine."""
    for info in socket.getaddrinfo(host, None):
        if not ipaddress.ip_address(info[4][0]).is_loopback:
            raise SystemExit(f"loadtest: {host} is not a loopback address; refusing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--endpoint", default="/route", choices=["/route", "/plan"])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--rate", type=float, help="open loop: requests per second")
    mode.add_argument("--concurrency", type=int, help="closed loop: connections")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds (max 600)")
    parser.add_argument("--connections", type=int, default=64,
                        help="open loop: sending threads (default 64)")
    parser.add_argument("--overrides", action="store_true",
                        help="a random speed_mps on every request (a new profile each time)")
    parser.add_argument("--slow-clients", type=int, default=0,
                        help="also hold this many connections dripping header bytes")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--requests", type=int, default=None,
                        help="closed loop: stop after this many requests (and --duration)")
    args = parser.parse_args(argv)
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname or "127.0.0.1", url.port or 80
    check_loopback(host)
    duration = min(args.duration, MAX_DURATION_S)
    next_path = route_paths(args.seed, args.overrides, args.endpoint)
    results = Results()
    stop = threading.Event()
    slow: dict = {}
    slow_thread = None
    if args.slow_clients:
        def hold() -> None:
            slow.update(slow_clients(host, port, args.slow_clients, stop))

        slow_thread = threading.Thread(target=hold, daemon=True)
        slow_thread.start()
        time.sleep(3)  # let them connect first
    started = time.monotonic()
    if args.rate:
        open_loop(host, port, min(args.rate, MAX_RATE), duration, next_path, results,
                  connections=args.connections, timeout=args.timeout)
    else:
        closed_loop(host, port, args.concurrency, duration, next_path, results,
                    timeout=args.timeout, requests=args.requests)
    elapsed = time.monotonic() - started
    stop.set()
    if slow_thread is not None:
        slow_thread.join(10)
    summary = {"target": f"{host}:{port}{args.endpoint}",
               "mode": f"rate {args.rate}/s" if args.rate else f"concurrency {args.concurrency}",
               "overrides": args.overrides, **results.summary(elapsed)}
    if args.slow_clients:
        summary["slow_clients"] = slow
    json.dump(summary, sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
