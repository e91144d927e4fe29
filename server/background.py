"""Per-process state of the blueprints that run jobs in a background thread.

``/scenarios`` and ``/dispatch`` each keep a job store (a database) and a one-thread
executor per app and per process, made on the process's first use: not when the app is
made, because gunicorn forks its workers from that process, and neither a database engine
nor a thread survives a fork. Nothing is lost in a restart: jobs left ``running`` by a
server that stopped (no heartbeat for :data:`routing.jobs.LEASE_SECONDS`) are queued
again, and every queued job is (re)submitted. Claims in the database keep each job to one
run, also with several workers.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask, current_app


def job_state(
    extension: str,
    *,
    open_store: Callable[[Any], Any],
    queued: Callable[[Any], Iterable[Any]],
    submit: Callable[[Flask, dict[str, Any], Any], object],
    extra: Callable[[], dict[str, Any]] = dict,
) -> dict[str, Any]:
    """The current app's state under ``app.extensions[extension]``, made once per process.

    Parameters
    ----------
    extension : str
        Key of the state in ``app.extensions``.
    open_store : callable
        ``open_store(app.config)``: the job store (it has ``requeue_stale(seconds)``).
    queued : callable
        ``queued(store)``: ids of the jobs waiting to run.
    submit : callable
        ``submit(app, state, job_id)`` hands a job to ``state["executor"]``.
    extra : callable
        More entries of a new state (fresh locks, caches).

    Returns
    -------
    dict
        ``pid``, ``store``, ``executor`` (one thread) and the ``extra`` entries.
    """
    app = current_app._get_current_object()  # the app itself: jobs run in other threads
    with app.extensions.setdefault(extension + "_lock", threading.Lock()):
        state = app.extensions.get(extension)
        if state is None or state["pid"] != os.getpid():
            state = {"pid": os.getpid(), "store": open_store(app.config),
                     "executor": ThreadPoolExecutor(max_workers=1), **extra()}  # fmt: skip
            app.extensions[extension] = state
            from routing.jobs import LEASE_SECONDS  # with the store: SQLAlchemy, ~18 MB

            state["store"].requeue_stale(LEASE_SECONDS)
            for job_id in queued(state["store"]):
                submit(app, state, job_id)
        return state
