"""The load shedder's admission rule in a simulated lane: sheds and waits, load-free.

A discrete-event simulation of one lane of one worker (:class:`server.overload.Lane`, the
code the server runs): Poisson arrivals, log-normal service times. Unlike a load test its
figures do not depend on what else the machine is doing, so it compares admission rules
like for like; it says nothing about the real service times (measure those with
``loadtest.py``).

    python benchmarks/shedding_sim.py                        # default rule vs a 4-waiting cap
    python benchmarks/shedding_sim.py --rate 100 400 --median-ms 5 8 --seconds 300

Prints, per rule, arrival rate and service time: the share shed and the waits (p50, p99,
max, ms) of the requests served.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import sys

from server.overload import ROUTE, Lane, Shed, SheddingOptions

#: The rule before the delay-based one: at most 4 waiting, each up to 1 s.
QUEUE_LENGTH_RULE = SheddingOptions(max_waiting=4, max_wait_s=1.0, standing_after_s=math.inf)


def simulate(options: SheddingOptions, rate: float, median_s: float, *, seconds: float,
             sigma: float = 0.6, seed: int = 1) -> dict:  # fmt: skip
    """Run one lane for ``seconds`` of arrivals; returns counts and wait percentiles."""
    rng = random.Random(seed)
    lane = Lane(ROUTE, options)
    events: list[tuple[float, int, str, object]] = []
    order = 0

    def push(at: float, kind: str, ticket: object = None) -> None:
        nonlocal order
        order += 1
        heapq.heappush(events, (at, order, kind, ticket))

    t = rng.expovariate(rate)
    while t < seconds:
        push(t, "arrive")
        t += rng.expovariate(rate)
    waits: list[float] = []
    shed = arrived = 0

    def start(ticket, now: float) -> None:
        waits.append(now - ticket.arrived)
        push(now + median_s * rng.lognormvariate(0.0, sigma), "finish")

    while events:
        now, _, kind, ticket = heapq.heappop(events)
        if kind == "arrive":
            arrived += 1
            try:
                ticket = lane.arrive(now)
            except Shed:
                shed += 1
                continue
            if ticket.admitted:
                start(ticket, now)
            else:
                push(ticket.until, "give_up", ticket)
        elif kind == "finish":
            following = lane.finish(now)
            if following is not None:
                start(following, now)
        elif not ticket.admitted:
            try:
                lane.give_up(ticket, now)
            except Shed:
                shed += 1
    waits.sort()

    def ms(q: float) -> float:
        return round(1000 * waits[round(q * (len(waits) - 1))], 1) if waits else math.nan

    return {"arrived": arrived, "shed": shed, "shed_pct": round(100 * shed / arrived, 2),
            "wait_p50_ms": ms(0.5), "wait_p99_ms": ms(0.99), "wait_max_ms": ms(1.0)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, nargs="+", default=[100.0, 400.0],
                        help="arrivals per second at this lane (default 100 400)")  # fmt: skip
    parser.add_argument("--median-ms", type=float, nargs="+", default=[5.0, 8.0],
                        help="median service time (default 5 8; the mean is 1.2x)")  # fmt: skip
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    rules = {"delay-based (default)": SheddingOptions(), "at most 4 waiting": QUEUE_LENGTH_RULE}
    for name, options in rules.items():
        for rate in args.rate:
            for median_ms in args.median_ms:
                load = rate * median_ms / 1000 * math.exp(0.6**2 / 2)
                result = simulate(options, rate, median_ms / 1000, seconds=args.seconds)
                print(f"{name:22} {rate:6.0f}/s, service {median_ms:g} ms (load "
                      f"{load:.2f}): {result}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
