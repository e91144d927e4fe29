"""Run batches in this process, in local processes, or on a Dask distributed cluster.

``fn(job, *task)`` must be a module-level function (picklable) and pure: the same job and
task give the same answer wherever they run, so the three ways give identical results.
The job (the graph and everything shared) is sent once per worker: as the process pool's
initializer argument, or scattered to every Dask worker. Local worker processes start from
a fork server (spawned where there is none), never by forking the caller: the caller may
have threads (a web server's job thread, Dask, heartbeats), and a fork copies the locks
those threads hold still held, which can block the child forever.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

from routing.deadline import checkpoint

Progress = Callable[[int, int], None]

_JOB: Any = None  # the job of this worker process (process pool)


def _init(job: Any, warm: Callable[[Any], Any] | None) -> None:
    global _JOB
    _JOB = job
    if warm is not None:
        warm(job)


def _call(fn: Callable, task: tuple) -> Any:
    return fn(_JOB, *task)


def _dask_call(fn: Callable, job: Any, *task: Any) -> Any:
    return fn(job, *task)


def _process_context() -> multiprocessing.context.BaseContext:
    """A start method that never forks the caller."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def map_batches(fn: Callable[..., Any], job: Any, tasks: Sequence[tuple], *, workers: int = 1,
                scheduler: str | None = None, progress: Progress | None = None,
                warm: Callable[[Any], Any] | None = None) -> list[Any]:  # fmt: skip
    """``[fn(job, *t) for t in tasks]``, in order, run where asked.

    Parameters
    ----------
    workers
        1: in this process; more: that many local processes (ignored with ``scheduler``).
    scheduler
        A Dask scheduler address (``tcp://host:8786``).
    progress
        Called with (done, total) at the start and as each batch finishes.
    warm
        Called with the job once in each local worker process before its first batch.
    """
    out: list[Any] = [None] * len(tasks)
    total, done = len(tasks), 0

    def tick() -> None:
        if progress is not None:
            progress(done, total)

    tick()
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        with Client(scheduler) as client:
            shared = client.scatter(job, broadcast=True, hash=False)
            futures = [client.submit(_dask_call, fn, shared, *t, pure=False) for t in tasks]
            index = {f.key: i for i, f in enumerate(futures)}
            for fut in dask_completed(futures):
                out[index[fut.key]] = fut.result()
                done += 1
                tick()
    elif workers <= 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks):
            checkpoint("a scenario batch")  # in this process only: workers run to their end
            out[i] = fn(job, *t)
            done += 1
            tick()
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), initializer=_init,
                                 initargs=(job, warm),
                                 mp_context=_process_context()) as pool:  # fmt: skip
            futures = {pool.submit(_call, fn, t): i for i, t in enumerate(tasks)}
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                done += 1
                tick()
    return out
