# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled many-to-many Dijkstra carrying cost, seconds and metres together.

Compiled C (Cython, built at install) rather than numba: numba and LLVM add ~130 MB to a
server process, this module a few hundred kB. The search runs without the GIL, so a thread
per core runs searches side by side (:mod:`routing._search_kernel`).

Each search starts from its row's links (node, cost, seconds, metres; no virtual node),
stops once every wanted node is settled or the cost limit is passed, and keeps a node's
first cheapest label (replaced only by a strictly cheaper one), as scipy's search does. Its
queue is a 4-ary heap indexed by node, so a label that improves moves up in place and the
heap never holds more than the frontier. Work arrays are allocated once per call and only
the nodes a search touched are reset before the next one.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc

cdef enum:
    NOT_QUEUED = -1
    SETTLED = -2


cdef inline void _put(double* keys, int* heap, int* where, Py_ssize_t j, double key,
                      int node) noexcept nogil:
    keys[j] = key
    heap[j] = node
    where[node] = <int>j


cdef inline void _sift_up(double* keys, int* heap, int* where, Py_ssize_t j, double key,
                          int node) noexcept nogil:
    cdef Py_ssize_t parent
    while j > 0:
        parent = (j - 1) >> 2
        if keys[parent] <= key:
            break
        _put(keys, heap, where, j, keys[parent], heap[parent])
        j = parent
    _put(keys, heap, where, j, key, node)


cdef inline void _sift_down(double* keys, int* heap, int* where, Py_ssize_t size,
                            double key, int node) noexcept nogil:
    cdef Py_ssize_t j = 0, first, child, c, last
    cdef double child_key
    while True:
        first = 4 * j + 1
        if first >= size:
            break
        child, child_key = first, keys[first]
        last = first + 4 if first + 4 < size else size
        for c in range(first + 1, last):
            if keys[c] < child_key:
                child, child_key = c, keys[c]
        if child_key >= key:
            break
        _put(keys, heap, where, j, child_key, heap[child])
        j = child
    _put(keys, heap, where, j, key, node)


cdef void _search_one(
    const int64_t[::1] indptr, const int32_t[::1] indices, const double[::1] w_cost,
    const double[::1] w_seconds, const double[::1] w_metres,
    const int32_t[::1] start_node, const double[::1] start_cost,
    const double[::1] start_seconds, const double[::1] start_metres,
    Py_ssize_t a, Py_ssize_t b, const int32_t[::1] want, Py_ssize_t n_wanted, double limit,
    double[::1] out_cost, double[::1] out_seconds, double[::1] out_metres,
    double* dist, double* seconds, double* metres, int* where, double* keys, int* heap,
    int* touched,
) noexcept nogil:
    cdef Py_ssize_t size = 0, n_touched = 0, left = n_wanted, i, e
    cdef int u, v
    cdef double d, nd
    for i in range(a, b):
        v = start_node[i]
        if dist[v] == INFINITY:
            touched[n_touched] = v
            n_touched += 1
        if start_cost[i] < dist[v]:
            dist[v] = start_cost[i]
            seconds[v] = start_seconds[i]
            metres[v] = start_metres[i]
            if where[v] == NOT_QUEUED:
                size += 1
                where[v] = <int>(size - 1)
            _sift_up(keys, heap, where, where[v], start_cost[i], v)
    while size > 0 and left > 0:
        d = keys[0]
        u = heap[0]
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
                if dist[v] == INFINITY:
                    touched[n_touched] = v
                    n_touched += 1
                dist[v] = nd
                seconds[v] = seconds[u] + w_seconds[e]
                metres[v] = metres[u] + w_metres[e]
                if where[v] == NOT_QUEUED:
                    size += 1
                    where[v] = <int>(size - 1)
                _sift_up(keys, heap, where, where[v], nd, v)
    for i in range(n_touched):  # ready for the next search
        dist[touched[i]] = INFINITY
        where[touched[i]] = NOT_QUEUED


def many_to_many(
    const int64_t[::1] indptr, const int32_t[::1] indices, const double[::1] w_cost,
    const double[::1] w_seconds, const double[::1] w_metres, Py_ssize_t n_nodes,
    const int64_t[::1] link_start, const int32_t[::1] link_node, const double[::1] link_cost,
    const double[::1] link_seconds, const double[::1] link_metres, const int32_t[::1] want,
    Py_ssize_t n_wanted, double limit, double[:, ::1] out_cost, double[:, ::1] out_seconds,
    double[:, ::1] out_metres,
):
    """One search per row: row ``r`` starts from links ``link_start[r]:link_start[r+1]``.

    ``want[node]`` is the output column of a wanted node (-1: not wanted); outputs (rows x
    wanted nodes) must be filled with ``inf`` by the caller (unreached stays ``inf``).
    Runs without the GIL.
    """
    cdef Py_ssize_t r, i
    cdef double* dist = <double*>malloc(n_nodes * sizeof(double))
    cdef double* seconds = <double*>malloc(n_nodes * sizeof(double))
    cdef double* metres = <double*>malloc(n_nodes * sizeof(double))
    cdef double* keys = <double*>malloc(n_nodes * sizeof(double))
    cdef int* where = <int*>malloc(n_nodes * sizeof(int))
    cdef int* heap = <int*>malloc(n_nodes * sizeof(int))
    cdef int* touched = <int*>malloc(n_nodes * sizeof(int))
    if (dist == NULL or seconds == NULL or metres == NULL or keys == NULL or where == NULL
            or heap == NULL or touched == NULL):
        free(dist); free(seconds); free(metres); free(keys); free(where); free(heap)
        free(touched)
        raise MemoryError("street search work arrays")
    try:
        with nogil:
            for i in range(n_nodes):
                dist[i] = INFINITY
                where[i] = NOT_QUEUED
            for r in range(link_start.shape[0] - 1):
                _search_one(indptr, indices, w_cost, w_seconds, w_metres, link_node,
                            link_cost, link_seconds, link_metres, link_start[r],
                            link_start[r + 1], want, n_wanted, limit, out_cost[r],
                            out_seconds[r], out_metres[r], dist, seconds, metres, where,
                            keys, heap, touched)
    finally:
        free(dist); free(seconds); free(metres); free(keys); free(where); free(heap)
        free(touched)
