# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled point-to-point search for :meth:`routing.network.StreetNetwork.path`: A*.

The search starts from a snapped point's links to the ends of its edge (no virtual node)
and ends at the other point's arrival links. Its estimate of the cost still to go from a
node is, over the target's arrival links, the least of ``k x straight-line distance to
the link's node + the link's cost``, where ``k`` is the smallest cost per metre of straight
line of any edge of the search graph (:func:`min_cost_per_metre`, made a little smaller
against rounding). Every term is a consistent potential (straight lines obey the triangle
inequality, and no edge costs less than ``k`` times its own straight line), and so is
their minimum, so a node's first settled cost is its cheapest and the search may stop
once the smallest queued estimate is no better than the best arrival: the answer is
Dijkstra's. Being consistent also means the search never settles a node twice.

A search runs in chunks of settled nodes (:meth:`PathSearch.advance`, without the GIL),
so its caller can check a deadline between chunks. A :class:`PathSearch` holds one
search's work arrays (allocated once, only touched nodes reset) and is not shared by two
threads at once.
"""

from libc.math cimport INFINITY, sqrt
from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc

from routing._heap cimport NOT_QUEUED, SETTLED, _sift_down, _sift_up

import numpy as np

#: ``k`` is multiplied by this, so that rounding never makes the estimate overshoot.
K_MARGIN = 1.0 - 1e-9


def min_cost_per_metre(const int64_t[::1] indptr, const int32_t[::1] indices,
                       const double[::1] cost, const double[::1] x, const double[::1] y):
    """The smallest ``cost / straight-line metres`` of any entry of a CSR adjacency.

    Entries whose two nodes share a place (no length) do not bound it. Returns 0.0 when
    nothing does (the search is then plain Dijkstra), and never a negative value.
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1, u, e
    cdef int v
    cdef double best = INFINITY, dx, dy, d, r
    with nogil:
        for u in range(n):
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                dx = x[u] - x[v]
                dy = y[u] - y[v]
                d = sqrt(dx * dx + dy * dy)
                if d > 0.0:
                    r = cost[e] / d
                    if r < best:
                        best = r
    if best == INFINITY or best <= 0.0:
        return 0.0
    return best * K_MARGIN


cdef class PathSearch:
    """Work arrays for one A* search at a time on a graph of ``n`` nodes (see the module)."""

    cdef readonly Py_ssize_t n
    cdef double* g  # cost from the source
    cdef double* h  # estimate to the target (set when a node is first touched)
    cdef double* keys  # heap keys: g + h
    cdef int* heap
    cdef int* where  # heap position, NOT_QUEUED or SETTLED
    cdef int* pred  # node before (-1: reached straight from the source)
    cdef int64_t* via  # CSR entry of the edge in (-1: from the source)
    cdef int* touched
    cdef Py_ssize_t n_touched, size
    cdef readonly Py_ssize_t settled
    cdef readonly double best  # cost of the best arrival so far (inf: none)
    cdef readonly int best_end  # its arrival link (-1: none)
    cdef double bound, k
    cdef bint done
    cdef const int64_t[::1] indptr
    cdef const int32_t[::1] indices
    cdef const double[::1] cost
    cdef const double[::1] x
    cdef const double[::1] y
    cdef const int32_t[::1] end_node
    cdef const double[::1] end_cost
    cdef double[::1] end_x
    cdef double[::1] end_y

    def __cinit__(self, Py_ssize_t n):
        cdef Py_ssize_t i
        self.n = n
        size = max(n, 1)
        self.g = <double*>malloc(size * sizeof(double))
        self.h = <double*>malloc(size * sizeof(double))
        self.keys = <double*>malloc(size * sizeof(double))
        self.heap = <int*>malloc(size * sizeof(int))
        self.where = <int*>malloc(size * sizeof(int))
        self.pred = <int*>malloc(size * sizeof(int))
        self.via = <int64_t*>malloc(size * sizeof(int64_t))
        self.touched = <int*>malloc(size * sizeof(int))
        if (self.g == NULL or self.h == NULL or self.keys == NULL or self.heap == NULL
                or self.where == NULL or self.pred == NULL or self.via == NULL
                or self.touched == NULL):
            raise MemoryError("path search work arrays")
        for i in range(n):
            self.g[i] = INFINITY
            self.where[i] = NOT_QUEUED
        self.n_touched = 0
        self.size = 0
        self.done = True
        self.best = INFINITY
        self.best_end = -1

    def __dealloc__(self):
        free(self.g); free(self.h); free(self.keys); free(self.heap); free(self.where)
        free(self.pred); free(self.via); free(self.touched)

    cdef inline double _estimate(self, int v) noexcept nogil:
        cdef Py_ssize_t j
        cdef double best = INFINITY, dx, dy, e
        for j in range(self.end_node.shape[0]):
            dx = self.x[v] - self.end_x[j]
            dy = self.y[v] - self.end_y[j]
            e = self.k * sqrt(dx * dx + dy * dy) + self.end_cost[j]
            if e < best:
                best = e
        return best

    cdef inline void _touch(self, int v) noexcept nogil:
        if self.g[v] == INFINITY and self.where[v] == NOT_QUEUED:
            self.touched[self.n_touched] = v
            self.n_touched += 1
            self.h[v] = self._estimate(v)

    cdef inline void _offer(self, int v, double cost, int pred, int64_t via) noexcept nogil:
        """``v`` reached at ``cost`` (from ``pred`` over CSR entry ``via``)."""
        self._touch(v)
        if cost < self.g[v]:
            self.g[v] = cost
            self.pred[v] = pred
            self.via[v] = via
            if self.where[v] == NOT_QUEUED:
                self.size += 1
                self.where[v] = <int>(self.size - 1)
            _sift_up(self.keys, self.heap, self.where, self.where[v], cost + self.h[v], v)

    def start(self, const int64_t[::1] indptr, const int32_t[::1] indices,
              const double[::1] cost, const double[::1] x, const double[::1] y, double k,
              const int32_t[::1] start_node, const double[::1] start_cost,
              const int32_t[::1] end_node, const double[::1] end_cost, double bound):
        """Begin a search from the start links to the end links.

        ``k`` is the cost per metre of the estimate (0: none, plain Dijkstra). Paths
        costing ``bound`` or more are not looked for (the caller has one that cheap).
        """
        cdef Py_ssize_t i
        if indptr.shape[0] != self.n + 1 or x.shape[0] != self.n or y.shape[0] != self.n:
            raise ValueError("the search arrays do not match the work arrays' node count")
        with nogil:
            for i in range(self.n_touched):  # the last search's nodes, ready again
                self.g[self.touched[i]] = INFINITY
                self.where[self.touched[i]] = NOT_QUEUED
        self.n_touched = 0
        self.size = 0
        self.settled = 0
        self.best = INFINITY
        self.best_end = -1
        self.indptr, self.indices, self.cost, self.x, self.y = indptr, indices, cost, x, y
        self.k = k if k > 0.0 else 0.0
        self.bound = bound
        self.end_node, self.end_cost = end_node, end_cost
        self.end_x = np.empty(end_node.shape[0])
        self.end_y = np.empty(end_node.shape[0])
        for i in range(end_node.shape[0]):
            self.end_x[i] = x[end_node[i]]
            self.end_y[i] = y[end_node[i]]
        with nogil:
            for i in range(start_node.shape[0]):
                self._offer(start_node[i], start_cost[i], -1, -1)
        self.done = False

    def advance(self, Py_ssize_t max_settled):
        """Settle up to ``max_settled`` more nodes; True once the search is finished."""
        cdef Py_ssize_t count = 0, j, e
        cdef int u, v
        cdef double f, d
        if self.done:
            return True
        with nogil:
            while self.size > 0:
                f = self.keys[0]
                if f >= self.best or f >= self.bound:
                    break  # nothing queued can arrive more cheaply
                if count >= max_settled:
                    break
                u = self.heap[0]
                self.size -= 1
                if self.size > 0:
                    _sift_down(self.keys, self.heap, self.where, self.size,
                               self.keys[self.size], self.heap[self.size])
                self.where[u] = SETTLED
                count += 1
                d = self.g[u]
                for j in range(self.end_node.shape[0]):
                    if self.end_node[j] == u and d + self.end_cost[j] < self.best:
                        self.best = d + self.end_cost[j]
                        self.best_end = <int>j
                for e in range(self.indptr[u], self.indptr[u + 1]):
                    v = self.indices[e]
                    if self.where[v] != SETTLED:
                        self._offer(v, d + self.cost[e], u, e)
        self.settled += count
        if count >= max_settled and self.size > 0:
            f = self.keys[0]
            if f < self.best and f < self.bound:
                return False
        self.done = True
        return True

    def path(self):
        """(nodes, entries) of the best arrival's path: nodes from the first one after the
        source to the arrival node, and the CSR entry of each edge between them."""
        if self.best_end < 0:
            raise ValueError("no arrival found")
        cdef int v = self.end_node[self.best_end]
        cdef Py_ssize_t count = 1, i
        while self.pred[v] >= 0:
            v = self.pred[v]
            count += 1
        nodes = np.empty(count, dtype=np.int64)
        entries = np.empty(count - 1, dtype=np.int64)
        cdef int64_t[::1] out_nodes = nodes
        cdef int64_t[::1] out_entries = entries
        v = self.end_node[self.best_end]
        for i in range(count - 1, -1, -1):
            out_nodes[i] = v
            if i > 0:
                out_entries[i - 1] = self.via[v]
                v = self.pred[v]
        return nodes, entries
