"""Many-to-many street searches on all cores, for :meth:`routing.network.StreetNetwork.matrix`.

scipy's Dijkstra gives costs and predecessors only, and holds the GIL: summing seconds and
metres along its trees in numpy cost more than the searches themselves on the sidewalk
network (24k nodes), and searches could not use both cores. The compiled search
(:mod:`routing._dijkstra`, Cython built at install) carries cost, seconds and metres
together and releases the GIL; this module hands it rows on a thread per core.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from routing._dijkstra import many_to_many

#: Searches per task handed to the thread pool.
ROWS_PER_TASK = 4

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _forget_pool() -> None:  # a forked child (e.g. a gunicorn worker) has none of its threads
    global _POOL
    _POOL = None


os.register_at_fork(after_in_child=_forget_pool)


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(len(os.sched_getaffinity(0)),
                                       thread_name_prefix="street-search")  # fmt: skip
        return _POOL


def run_tasks(work, count: int, per_task: int) -> list:
    """``work(a, b)`` over ``range(count)`` in slices of ``per_task``, on a thread per core.

    Idle threads take the next slice, so a thread the system holds back does not hold the
    others. A lone slice runs in the calling thread (too short to hand over). Returns the
    slices' results in order.
    """
    tasks = [(a, min(a + per_task, count)) for a in range(0, count, per_task)]
    if len(tasks) == 1:
        return [work(*tasks[0])]
    return [done.result() for done in [_pool().submit(work, a, b) for a, b in tasks]]


def links_arrays(links) -> tuple[np.ndarray, ...]:
    """Per-row lists of (node, cost, seconds, metres) as flat arrays: (starts, node, cost,
    seconds, metres), row ``r``'s links at ``starts[r]:starts[r+1]``."""
    starts = np.zeros(len(links) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in links], out=starts[1:])
    flat = [link for row in links for link in row]
    node = np.array([x[0] for x in flat], dtype=np.int32)
    cost, seconds, metres = (np.array([x[i] for x in flat], dtype=np.float64) for i in (1, 2, 3))
    return starts, node, cost, seconds, metres


def search_many(graph, weights, links, want: np.ndarray, *, limit: float):
    """(cost, seconds, metres), each rows x wanted nodes, from one search per row of links.

    ``graph`` is a CSR adjacency (its data are the costs), ``weights`` the (seconds, metres)
    of its entries, ``links`` a list per row of (node, cost, seconds, metres) starts and
    ``want`` the sorted wanted node ids. Rows run :data:`ROWS_PER_TASK` at a time on a
    thread per core (the search releases the GIL); idle threads take the next rows, so a
    thread the system holds back does not hold the others.
    """
    n = graph.shape[0]
    indptr = np.asarray(graph.indptr, dtype=np.int64)
    indices = np.asarray(graph.indices, dtype=np.int32)
    w_cost = np.asarray(graph.data, dtype=np.float64)
    starts, node, cost, seconds, metres = links_arrays(links)
    column = np.full(n, -1, dtype=np.int32)
    column[want] = np.arange(len(want))
    shape = (len(links), len(want))
    out = [np.full(shape, np.inf) for _ in range(3)]

    def rows(a: int, b: int) -> None:
        many_to_many(indptr, indices, w_cost, weights[0], weights[1], n,
                     starts[a : b + 1], node, cost, seconds, metres, column, len(want),
                     float(limit), *(x[a:b] for x in out))  # fmt: skip

    run_tasks(rows, len(links), ROWS_PER_TASK)
    return out
