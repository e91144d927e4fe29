"""Plan jobs over the store: plan the stored day, or re-plan it without moving what is under way.

Re-planning at time ``now`` (seconds after midnight) starts from the latest finished plan:

- a stop is *under way* when its vehicle has left for it (the previous departure, or the
  route's start, is at or before ``now``); each vehicle's under-way stops stay first on that
  vehicle, in that order, at their planned service times (``Lock``);
- a booking the dispatcher *locked* stays on its vehicle (its times may move);
- a driver's break that has begun stays at its time; one not yet begun starts at ``now`` or
  later;
- everything else is planned again, no stop starting before ``now``; a booking cancelled
  after its vehicle left for it is kept (the passenger is in the vehicle or waiting for it)
  and reported in ``kept_under_way``.

Every plan is checked by the independent validator; a plan with a violation is stored as
``failed`` with the violations, never as ``done``.
"""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from typing import Any

from routing.dispatch.carnet import CarNetwork
from routing.dispatch.city import build_city_problem
from routing.dispatch.kpis import plan_kpis
from routing.dispatch.plan_io import plan_geojson, plan_to_dict
from routing.dispatch.solver import Lock, SolveOptions, solve
from routing.dispatch.storage import DispatchStore
from routing.dispatch.validator import validate
from routing.errors import InvalidInputError, RoutingError
from routing.jobs import LEASE_SECONDS, run_with_heartbeat, worker_name

__all__ = ["LEASE_SECONDS", "run_plan_job", "under_way", "worker_name"]

log = logging.getLogger(__name__)

def under_way(result: Mapping[str, Any], now: float) -> dict[str, list[dict[str, Any]]]:
    """Vehicle id -> its stops that are under way at ``now`` in a stored plan result."""
    out: dict[str, list[dict[str, Any]]] = {}
    for route in result["plan"]["routes"]:
        left = route["start_time"]
        prefix = []
        for stop in route["stops"]:
            if left > now:
                break
            prefix.append(stop)
            left = stop["departure"]
        if prefix:
            out[route["vehicle_id"]] = prefix
    return out


def run_plan_job(
    store: DispatchStore,
    network: CarNetwork,
    plan_id: int,
    *,
    worker: str | None = None,
    lease_seconds: float = LEASE_SECONDS,
) -> bool:
    """Run the queued plan job ``plan_id`` to ``done`` or ``failed``.

    The job is claimed first in the database (:meth:`DispatchStore.claim_plan`); if another
    worker has it, nothing is run and False is returned. While it runs, a heartbeat every
    ``lease_seconds / 4`` keeps it from being re-queued as stale.
    """
    worker = worker or worker_name()
    if not store.claim_plan(plan_id, worker):
        return False
    run_with_heartbeat(lambda: store.heartbeat(plan_id, worker),
                       lambda: _run_claimed(store, network, plan_id),
                       lease_seconds=lease_seconds, name=f"plan-{plan_id}")  # fmt: skip
    return True


def _run_claimed(store: DispatchStore, network: CarNetwork, plan_id: int) -> None:
    job = store.plan(plan_id)
    params = job["params"]
    started = time.perf_counter()
    try:
        result, day = _plan(store, network, params, job.get("parent_id"))
    except RoutingError as exc:
        store.update_plan(plan_id, status="failed", error=f"{exc.code}: {exc.message}")
        return
    except Exception as exc:  # a job must end; the traceback goes to the log
        log.error("plan job %s crashed:\n%s", plan_id, traceback.format_exc())
        store.update_plan(plan_id, status="failed", error=f"internal error: {exc}")
        return
    result["job_seconds"] = time.perf_counter() - started
    if result["violations"]:
        store.update_plan(plan_id, status="failed", day=day, result=result,
                          error="the plan breaks constraints (see result.violations)")  # fmt: skip
    else:
        store.update_plan(plan_id, status="done", day=day, result=result)


def _plan(
    store: DispatchStore, network: CarNetwork, params: Mapping[str, Any], parent_id: int | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    day = store.day()
    time_limit = float(params.get("time_limit", 30.0))
    now = params.get("now")
    locks: list[Lock] = []
    pinned: list[tuple[str, str]] = []
    breaks_begun: list[tuple[str, int, float]] = []
    kept: list[str] = []
    if parent_id is not None:
        parent = store.plan(parent_id)
        if now is None:
            raise InvalidInputError("re-planning needs now (seconds after midnight)", field="now")
        active = {b["id"] for b in day["bookings"]}
        parent_rows = {b["id"]: b for b in parent["day"]["bookings"]}
        held = under_way(parent["result"], float(now))
        held_ids = {s["booking_id"] for stops in held.values() for s in stops}
        for bid in sorted(held_ids - active):
            if bid in parent_rows:  # cancelled after its vehicle left for it
                day["bookings"].append(parent_rows[bid])
                kept.append(bid)
        locks = [
            Lock(vid, tuple((s["booking_id"], s["action"], float(s["start"])) for s in stops))
            for vid, stops in held.items()
        ]
        vehicle_of = {
            s["booking_id"]: r["vehicle_id"]
            for r in parent["result"]["plan"]["routes"]
            for s in r["stops"]
        }
        breaks_begun = [
            (route["vehicle_id"], n, float(rest["start"]))
            for route in parent["result"]["plan"]["routes"]
            for n, rest in enumerate(route.get("breaks", []))
            if rest["start"] <= float(now)
        ]
        pinned = [
            (bid, vehicle_of[bid])
            for bid in sorted(store.locked_booking_ids())
            if bid in vehicle_of and bid not in held_ids
        ]
    city = build_city_problem(day, network)
    options = SolveOptions(
        time_limit=time_limit,
        not_before=None if now is None else float(now),
        locks=tuple(locks),
        pinned=tuple(pinned),
        fixed_breaks=tuple(breaks_begun),
    )
    plan = solve(city.problem, options)
    kpis = plan_kpis(city.problem, plan)
    violations = validate(city.problem, plan, kpis=kpis)
    result = {
        "plan": plan_to_dict(city.problem, plan),
        "kpis": kpis,
        "geojson": plan_geojson(city.problem, plan, city.points),
        "travel_time_factor": city.factor,
        "kept_under_way": kept,
        "violations": [{"code": v.code, "message": v.message} for v in violations],
    }
    return result, day
