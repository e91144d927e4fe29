"""Compiled many-to-many Dijkstra for :meth:`routing.network.StreetNetwork.matrix`.

scipy's Dijkstra gives costs and predecessors only, and holds the GIL: summing seconds and
metres along its trees in numpy cost more than the searches themselves on the sidewalk
network (24k nodes), and searches could not use both cores. This search (numba, compiled
on first use and cached on disk) carries cost, seconds and metres together, starts from
each source's links to its edge's ends (no virtual node), stops once every wanted node is
settled or the cost limit is passed, and runs sources on all cores (a thread per core). Its
queue is a 4-ary heap indexed by node (a label that improves moves its node up in place), so
the heap never holds more than the frontier; node ids are int32.

Same rules as the scipy search: a node's label is replaced only by a strictly cheaper one
(the first cheapest path found is kept), nodes costlier than ``limit`` are unreached.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

#: Searches per task handed to the thread pool.
ROWS_PER_TASK = 4

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()

NOT_QUEUED, SETTLED = -1, -2


@numba.njit(cache=True, nogil=True, inline="always")
def _put(keys, nodes, where, j, key, node):  # pragma: no cover - compiled
    keys[j] = key
    nodes[j] = node
    where[node] = j


@numba.njit(cache=True, nogil=True, inline="always")
def _sift_up(keys, nodes, where, j, key, node):  # pragma: no cover - compiled
    """Place ``node`` with ``key`` at heap slot ``j`` or above (4-ary heap)."""
    while j > 0:
        parent = (j - 1) >> 2
        if keys[parent] <= key:
            break
        _put(keys, nodes, where, j, keys[parent], nodes[parent])
        j = parent
    _put(keys, nodes, where, j, key, node)


@numba.njit(cache=True, nogil=True, inline="always")
def _sift_down(keys, nodes, where, size, key, node):  # pragma: no cover - compiled
    """Place ``node`` with ``key`` at the root slot or below, in a heap of ``size``."""
    j = 0
    while True:
        first = 4 * j + 1
        if first >= size:
            break
        child, child_key = first, keys[first]
        for c in range(first + 1, min(first + 4, size)):
            if keys[c] < child_key:
                child, child_key = c, keys[c]
        if child_key >= key:
            break
        _put(keys, nodes, where, j, child_key, nodes[child])
        j = child
    _put(keys, nodes, where, j, key, node)


@numba.njit(cache=True, nogil=True)
def _search_one(indptr, indices, w_cost, w_seconds, w_metres, n_nodes, start_node, start_cost,
                start_seconds, start_metres, want, n_wanted, limit, out_cost, out_seconds,
                out_metres):  # pragma: no cover - compiled  # fmt: skip
    dist = np.full(n_nodes, np.inf)
    seconds = np.empty(n_nodes)
    metres = np.empty(n_nodes)
    # Heap slot of each queued node; NOT_QUEUED before, SETTLED after.
    where = np.full(n_nodes, NOT_QUEUED, dtype=np.int32)
    keys = np.empty(n_nodes)
    heap = np.empty(n_nodes, dtype=np.int32)
    size = 0
    for i in range(len(start_node)):
        v = start_node[i]
        if start_cost[i] < dist[v]:
            dist[v] = start_cost[i]
            seconds[v] = start_seconds[i]
            metres[v] = start_metres[i]
            if where[v] == NOT_QUEUED:
                size += 1
                where[v] = size - 1
            _sift_up(keys, heap, where, where[v], start_cost[i], v)
    left = n_wanted
    while size > 0 and left > 0:
        d, u = keys[0], heap[0]
        if d > limit:
            break
        size -= 1
        if size > 0:
            _sift_down(keys, heap, where, size, keys[size], heap[size])
        where[u] = SETTLED
        if want[u] >= 0:
            out_cost[want[u]] = d
            out_seconds[want[u]] = seconds[u]
            out_metres[want[u]] = metres[u]
            left -= 1
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            nd = d + w_cost[e]
            if nd < dist[v] and where[v] != SETTLED:
                dist[v] = nd
                seconds[v] = seconds[u] + w_seconds[e]
                metres[v] = metres[u] + w_metres[e]
                if where[v] == NOT_QUEUED:
                    size += 1
                    where[v] = size - 1
                _sift_up(keys, heap, where, where[v], nd, v)


@numba.njit(cache=True, nogil=True)
def many_to_many(indptr, indices, w_cost, w_seconds, w_metres, n_nodes, link_start, link_node,
                 link_cost, link_seconds, link_metres, want, n_wanted, limit, out_cost,
                 out_seconds, out_metres):  # pragma: no cover - compiled  # fmt: skip
    """One search per row: row ``r`` starts from links ``link_start[r]:link_start[r+1]``.

    ``want[node]`` is the output column of a wanted node (-1: not wanted); outputs (rows x
    wanted nodes) must be filled with ``inf`` by the caller (unreached stays ``inf``).
    """
    for r in range(len(link_start) - 1):
        a, b = link_start[r], link_start[r + 1]
        _search_one(indptr, indices, w_cost, w_seconds, w_metres, n_nodes, link_node[a:b],
                    link_cost[a:b], link_seconds[a:b], link_metres[a:b], want, n_wanted, limit,
                    out_cost[r], out_seconds[r], out_metres[r])  # fmt: skip


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


def search_many(graph, weights, links, want: np.ndarray, *, limit: float):
    """(cost, seconds, metres), each rows x wanted nodes, from one search per row of links.

    ``graph`` is a CSR adjacency (its data are the costs), ``weights`` the (seconds, metres)
    of its entries, ``links`` a list per row of (node, cost, seconds, metres) starts and
    ``want`` the sorted wanted node ids. Rows run :data:`ROWS_PER_TASK` at a time on a
    thread per core (the search releases the GIL); idle threads take the next rows, so a
    thread the system holds back does not hold the others.
    """
    n = graph.shape[0]
    starts = np.zeros(len(links) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in links], out=starts[1:])
    flat = [link for row in links for link in row]
    node = np.array([x[0] for x in flat], dtype=np.int32)
    cost, seconds, metres = (np.array([x[i] for x in flat], dtype=np.float64) for i in (1, 2, 3))
    column = np.full(n, -1, dtype=np.int32)
    column[want] = np.arange(len(want))
    shape = (len(links), len(want))
    out = [np.full(shape, np.inf) for _ in range(3)]

    def rows(a: int, b: int) -> None:
        many_to_many(graph.indptr, graph.indices, graph.data, weights[0], weights[1], n,
                     starts[a : b + 1], node, cost, seconds, metres, column, len(want),
                     float(limit), *(x[a:b] for x in out))  # fmt: skip

    tasks = [(a, min(a + ROWS_PER_TASK, len(links))) for a in range(0, len(links), ROWS_PER_TASK)]
    for done in [_pool().submit(rows, a, b) for a, b in tasks]:
        done.result()
    return out
