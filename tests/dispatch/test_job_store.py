"""The shared job store (routing.jobs) behind scenario jobs, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from routing.jobs import JobRow, JobStore, NotFoundError, utc_now


def test_a_job_keeps_its_progress_and_result_across_stores(database_url):
    store = JobStore(database_url, "scenario")
    job = store.new({"scenario": {"name": "x"}})
    assert store.get(job)["status"] == "queued" and store.queued() == [job]
    assert store.claim(job, "w1") and not store.claim(job, "w2")
    store.progress(job, 3, 8)
    again = JobStore(database_url, "scenario")  # a restarted server on the same database
    status = again.get(job)
    assert status["status"] == "running"
    assert status["progress"] == {"done": 3, "total": 8, "share": 0.375}
    again.finish(job, result={"figures": [1, 2.5, None]}, document="<html></html>", seconds=1.5)
    done = JobStore(database_url, "scenario").get(job, with_result=True)
    assert done["status"] == "done" and done["result"] == {"figures": [1, 2.5, None]}
    assert done["document"] == "<html></html>" and done["params"] == {"scenario": {"name": "x"}}
    assert done["finished_at"] and done["seconds"] == 1.5


def test_failed_jobs_keep_their_error_and_other_kinds_are_not_found(database_url):
    store = JobStore(database_url, "scenario")
    job = store.new({})
    store.claim(job, "w")
    store.finish(job, error="invalid_input: boom")
    assert store.get(job)["status"] == "failed" and store.get(job)["error"].endswith("boom")
    with pytest.raises(NotFoundError):
        JobStore(database_url, "other").get(job)
    with pytest.raises(NotFoundError):
        store.get("no-such-job")


def test_a_running_job_whose_worker_died_is_queued_again(database_url):
    store = JobStore(database_url, "scenario")
    dead, alive = store.new({}), store.new({})
    assert store.claim(dead, "old") and store.claim(alive, "live")
    with store.engine.begin() as conn:
        conn.execute(update(JobRow).where(JobRow.id == dead)
                     .values(heartbeat_at=utc_now() - dt.timedelta(hours=1)))  # fmt: skip
    assert store.heartbeat(alive, "live") and not store.heartbeat(alive, "old")
    assert store.requeue_stale(60.0) == [dead]
    assert store.queued() == [dead] and store.get(alive)["status"] == "running"
