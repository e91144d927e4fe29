"""The store keeps bookings, vehicles and plan versions across a restart, on SQLite and on
a real PostgreSQL server; a plan job is claimed by exactly one worker."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import update

from routing.dispatch.storage import DispatchStore, PlanRow

_HOUR = dt.timedelta(hours=1)


def test_store_survives_a_restart(database_url):
    url = database_url
    store = DispatchStore(url)
    store.put_vehicle({"id": "v1", "depot": [43.25, 76.93], "shift": ["07:00", "19:00"],
                       "wheelchair_places": 2, "seats": 3})  # fmt: skip
    store.put_booking({"id": "b1", "pickup": [43.25, 76.92], "dropoff": [43.24, 76.95],
                       "earliest_pickup": "09:00", "passengers": {"wheelchair": 1}})  # fmt: skip
    store.put_booking({"id": "b2", "pickup": [43.26, 76.92], "dropoff": [43.24, 76.90],
                       "earliest_pickup": "10:00", "passengers": {"ambulant": 1}})  # fmt: skip
    store.cancel_booking("b2")
    store.lock_booking("b1")
    plan_id = store.new_plan({"time_limit": 1})
    store.update_plan(plan_id, status="done", day={"bookings": []}, result={"plan": {"routes": []}})
    del store

    again = DispatchStore(url)
    assert [b["id"] for b in again.bookings()] == ["b1"]
    assert [b["id"] for b in again.bookings(include_cancelled=True)] == ["b1", "b2"]
    assert again.locked_booking_ids() == {"b1"}
    assert again.vehicles()[0]["wheelchair_places"] == 2
    stored = again.plan(plan_id)
    assert stored["status"] == "done" and stored["params"] == {"time_limit": 1}
    assert stored["finished_at"] is not None
    assert again.latest_done_plan()["id"] == plan_id


def test_two_workers_claim_each_job_once(database_url):
    """Two stores (as two gunicorn workers would have), each with two threads, race for 12
    queued jobs: every job is claimed exactly once, and a claimed job cannot be re-claimed."""
    stores = [DispatchStore(database_url), DispatchStore(database_url)]
    jobs = [stores[0].new_plan({"n": i}) for i in range(12)]
    claims: dict[str, list[int]] = {}
    start = threading.Barrier(4)

    def claimer(store: DispatchStore, name: str) -> None:
        start.wait()
        claims[name] = [j for j in jobs if store.claim_plan(j, name)]

    threads = [threading.Thread(target=claimer, args=(stores[i % 2], f"w{i}")) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    won = sorted(j for got in claims.values() for j in got)
    assert won == sorted(jobs)  # each exactly once
    assert all(stores[1].plan(j)["status"] == "running" for j in jobs)
    assert not stores[1].claim_plan(jobs[0], "late")
    assert stores[0].queued_plans() == []


def test_only_stale_running_jobs_are_requeued(database_url):
    """After a restart the running job whose worker stopped beating runs again; a job whose
    worker still beats is left to it."""
    store = DispatchStore(database_url)
    dead, alive = store.new_plan({}), store.new_plan({})
    assert store.claim_plan(dead, "old-worker") and store.claim_plan(alive, "live-worker")
    with store.engine.begin() as conn:  # the old worker's last heartbeat was long ago
        conn.execute(update(PlanRow).where(PlanRow.id == dead)
                     .values(heartbeat_at=PlanRow.heartbeat_at - _HOUR))  # fmt: skip
    assert store.heartbeat(alive, "live-worker")
    assert not store.heartbeat(alive, "old-worker")  # not its job
    assert store.requeue_stale(60.0) == [dead]
    assert store.queued_plans() == [dead]
    assert store.plan(alive)["status"] == "running"
    assert store.claim_plan(dead, "new-worker")


def test_a_job_claimed_elsewhere_is_not_run(database_url):
    from routing.dispatch.service import run_plan_job

    store = DispatchStore(database_url)
    job = store.new_plan({"time_limit": 1})
    assert store.claim_plan(job, "other-worker")
    # network=None: the job must return before planning anything
    assert run_plan_job(store, None, job, worker="this-worker") is False
    assert store.plan(job)["status"] == "running"
