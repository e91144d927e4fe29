"""Figures of a plan: a timeline per vehicle and a map of the day (matplotlib, Agg backend)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from routing.dispatch.model import DispatchProblem, Plan  # noqa: E402


def timeline_figure(problem: DispatchProblem, plan: Plan, path: str | os.PathLike) -> None:
    """One row per used vehicle: driving, service at stops (boarding with the lift) and
    waiting, from leaving the depot to coming back; pickups and drop-offs are marked."""
    routes = [r for r in plan.routes if r.stops]
    fig, ax = plt.subplots(figsize=(12, max(2.0, 0.28 * len(routes) + 1.2)))
    bookings = {b.id: b for b in problem.bookings}
    for row, route in enumerate(routes):
        ax.broken_barh(
            [(route.start_time / 3600, (route.end_time - route.start_time) / 3600)],
            (row - 0.35, 0.7),
            color="#d9e2ef",
        )
        for stop in route.stops:
            ax.broken_barh(
                [(stop.start / 3600, (stop.departure - stop.start) / 3600)],
                (row - 0.35, 0.7),
                color="#1f5fa8" if stop.action == "pickup" else "#c2571a",
            )
            if stop.arrival < stop.start:
                ax.plot([stop.arrival / 3600, stop.start / 3600], [row, row], color="#777", lw=1)
        load = sum(
            bookings[s.booking_id].load.get("wheelchair", 0)
            for s in route.stops
            if s.action == "pickup"
        )
        ax.text(
            route.end_time / 3600 + 0.05,
            row,
            f"{len(route.stops) // 2} trips, {load} wc",
            va="center",
            fontsize=7,
        )
    ax.set_yticks(range(len(routes)), [r.vehicle_id for r in routes], fontsize=7)
    ax.set_xlabel("hour of the day (light: on duty, blue: pickup, orange: drop-off)")
    ax.set_title(f"{problem.name}: {len(plan.served_ids())} served, {len(plan.unserved)} unserved")
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def map_figure(
    problem: DispatchProblem,
    plan: Plan,
    points: Sequence[tuple[float, float]],
    path: str | os.PathLike,
) -> None:
    """The day on a lon/lat plot: each vehicle's stop order, depots, unserved pickups."""
    fig, ax = plt.subplots(figsize=(9, 8))
    vehicles = {v.id: v for v in problem.vehicles}
    cmap = plt.get_cmap("tab20")
    for k, route in enumerate(r for r in plan.routes if r.stops):
        v = vehicles[route.vehicle_id]
        chain = [v.start, *(s.location for s in route.stops), v.end]
        ax.plot(
            [points[i][1] for i in chain],
            [points[i][0] for i in chain],
            lw=0.7,
            color=cmap(k % 20),
            alpha=0.8,
        )
    depots = {v.start for v in problem.vehicles}
    ax.scatter(
        [points[i][1] for i in depots],
        [points[i][0] for i in depots],
        marker="s",
        color="black",
        s=40,
        label="depot",
        zorder=3,
    )
    bookings = {b.id: b for b in problem.bookings}
    lost = [bookings[u.booking_id].pickup for u in plan.unserved]
    if lost:
        ax.scatter(
            [points[i][1] for i in lost],
            [points[i][0] for i in lost],
            marker="x",
            color="red",
            s=30,
            label="unserved pickup",
            zorder=3,
        )
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_aspect(1 / 0.73)  # about cos(43 deg)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(f"{problem.name}: routes by vehicle (straight lines between stops)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
