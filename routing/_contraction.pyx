# distutils: language = c++
# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled loops of the contraction hierarchy (:mod:`routing.contraction`).

``contract``
    Orders and contracts the nodes of a search graph (Geisberger et al. 2008): the next
    node is the one of least *edge difference* (shortcuts added minus arcs removed) plus
    *deleted neighbours*, updated lazily; a shortcut u->w replaces u->v->w unless a
    *witness search* from u that avoids v finds a path no dearer (searches stop after a
    given number of settled nodes, so a missed witness only adds a needless shortcut).
    Every arc carries cost, seconds and metres: a shortcut's are the sums of the two arcs
    it stands for, so queries report the seconds and metres of the cost-optimal path.
``backward_spaces`` / ``forward_scan``
    The many-to-many bucket query (Knopp et al. 2007) on the upward graphs, with
    stall-on-demand: backward upward searches from the targets fill buckets, forward
    upward searches from the sources scan them. Both run without the GIL.

Searches use the indexed 4-ary heap of :mod:`routing._heap`; work arrays are reset only
where a search touched them.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int32_t, int64_t
from libcpp.pair cimport pair
from libcpp.queue cimport priority_queue
from libcpp.vector cimport vector

import numpy as np

from routing._heap cimport NOT_QUEUED, SETTLED, _pop, _push


cdef struct Arc:
    int node      # the other end
    int middle    # the contracted node a shortcut stands for (-1: an original arc)
    double cost
    double seconds
    double metres


cdef class _Contractor:
    cdef int n
    cdef vector[vector[Arc]] out_arcs, in_arcs  # the remaining graph
    cdef vector[vector[Arc]] up_out, up_in  # per node, its arcs when it was contracted
    cdef vector[double] dist, keys
    cdef vector[int] where, heap, touched, deleted, priority, rank
    cdef vector[char] done, seen

    def __cinit__(self, int n):
        self.n = n
        self.out_arcs.resize(n)
        self.in_arcs.resize(n)
        self.up_out.resize(n)
        self.up_in.resize(n)
        self.dist.assign(n, INFINITY)
        self.keys.resize(n)
        self.where.assign(n, NOT_QUEUED)
        self.heap.resize(n)
        self.deleted.assign(n, 0)
        self.priority.assign(n, 0)
        self.rank.assign(n, -1)
        self.done.assign(n, 0)
        self.seen.assign(n, 0)

    cdef void add_arc(self, int u, int w, double cost, double seconds, double metres,
                      int middle) noexcept nogil:
        """Arc u->w, or a cheaper cost for an existing one (one arc per node pair)."""
        cdef Py_ssize_t i
        cdef Arc arc
        arc.node, arc.middle, arc.cost, arc.seconds, arc.metres = w, middle, cost, seconds, metres
        for i in range(<Py_ssize_t>self.out_arcs[u].size()):
            if self.out_arcs[u][i].node == w:
                if self.out_arcs[u][i].cost <= cost:
                    return
                self.out_arcs[u][i] = arc
                for i in range(<Py_ssize_t>self.in_arcs[w].size()):
                    if self.in_arcs[w][i].node == u:
                        self.in_arcs[w][i] = arc
                        self.in_arcs[w][i].node = u
                        return
                return
        self.out_arcs[u].push_back(arc)
        arc.node = u
        self.in_arcs[w].push_back(arc)

    cdef void witness(self, int source, int skip, double max_cost,
                      int settle_limit) noexcept nogil:
        """Dijkstra from ``source`` avoiding ``skip`` and contracted nodes, up to
        ``max_cost`` or ``settle_limit`` settled nodes; ``dist`` holds upper bounds."""
        cdef double* keys = self.keys.data()
        cdef int* heap = self.heap.data()
        cdef int* where = self.where.data()
        cdef double* dist = self.dist.data()
        cdef Py_ssize_t size = 0, i
        cdef int u, v, settled = 0
        cdef double d, nd
        dist[source] = 0.0
        self.touched.push_back(source)
        size = _push(keys, heap, where, size, 0.0, source)
        while size > 0:
            d = keys[0]
            u = heap[0]
            if d > max_cost or settled >= settle_limit:
                break
            size = _pop(keys, heap, where, size)
            settled += 1
            for i in range(<Py_ssize_t>self.out_arcs[u].size()):
                v = self.out_arcs[u][i].node
                if v == skip or self.done[v]:
                    continue
                nd = d + self.out_arcs[u][i].cost
                if nd < dist[v] and where[v] != SETTLED:
                    if dist[v] == INFINITY:
                        self.touched.push_back(v)
                    dist[v] = nd
                    size = _push(keys, heap, where, size, nd, v)

    cdef void reset(self) noexcept nogil:
        cdef Py_ssize_t i
        for i in range(<Py_ssize_t>self.touched.size()):
            self.dist[self.touched[i]] = INFINITY
            self.where[self.touched[i]] = NOT_QUEUED
        self.touched.clear()

    cdef int shortcuts(self, int v, bint add, int settle_limit) noexcept nogil:
        """Shortcuts that contracting ``v`` needs (added to the graph when ``add``)."""
        cdef Py_ssize_t i, j
        cdef int u, w, count = 0
        cdef double max_cost, c
        cdef Arc a, b
        for i in range(<Py_ssize_t>self.in_arcs[v].size()):
            a = self.in_arcs[v][i]
            u = a.node
            max_cost = -1.0
            for j in range(<Py_ssize_t>self.out_arcs[v].size()):
                b = self.out_arcs[v][j]
                if b.node != u and a.cost + b.cost > max_cost:
                    max_cost = a.cost + b.cost
            if max_cost < 0.0:
                continue
            self.witness(u, v, max_cost, settle_limit)
            for j in range(<Py_ssize_t>self.out_arcs[v].size()):
                b = self.out_arcs[v][j]
                w = b.node
                c = a.cost + b.cost
                if w == u or self.dist[w] <= c:
                    continue
                count += 1
                if add:
                    self.add_arc(u, w, c, a.seconds + b.seconds, a.metres + b.metres, v)
            self.reset()
        return count

    cdef int node_priority(self, int v, int settle_limit) noexcept nogil:
        cdef int removed = <int>(self.in_arcs[v].size() + self.out_arcs[v].size())
        return self.shortcuts(v, False, settle_limit) - removed + self.deleted[v]

    cdef void remove(self, int v) noexcept nogil:
        """Contract ``v``: keep its arcs as its upward arcs, drop them from its neighbours."""
        cdef Py_ssize_t i, k
        cdef int x
        self.up_out[v] = self.out_arcs[v]
        self.up_in[v] = self.in_arcs[v]
        for i in range(<Py_ssize_t>self.out_arcs[v].size()):
            x = self.out_arcs[v][i].node
            k = 0
            while k < <Py_ssize_t>self.in_arcs[x].size():
                if self.in_arcs[x][k].node == v:
                    self.in_arcs[x][k] = self.in_arcs[x].back()
                    self.in_arcs[x].pop_back()
                else:
                    k += 1
        for i in range(<Py_ssize_t>self.in_arcs[v].size()):
            x = self.in_arcs[v][i].node
            k = 0
            while k < <Py_ssize_t>self.out_arcs[x].size():
                if self.out_arcs[x][k].node == v:
                    self.out_arcs[x][k] = self.out_arcs[x].back()
                    self.out_arcs[x].pop_back()
                else:
                    k += 1
        self.out_arcs[v].clear()
        self.in_arcs[v].clear()
        self.out_arcs[v].shrink_to_fit()
        self.in_arcs[v].shrink_to_fit()
        self.done[v] = 1

    cdef void run(self, int simulate_limit, int contract_limit,
                  bint update_neighbours) noexcept nogil:
        cdef priority_queue[pair[int, int]] queue  # (-priority, -node): least first
        cdef vector[int] around
        cdef int v, p, fresh, x, next_rank = 0
        cdef Py_ssize_t i
        for v in range(self.n):
            self.priority[v] = self.node_priority(v, simulate_limit)
            queue.push(pair[int, int](-self.priority[v], -v))
        while not queue.empty():
            p = -queue.top().first
            v = -queue.top().second
            queue.pop()
            if self.done[v] or p != self.priority[v]:
                continue  # stale entry
            fresh = self.node_priority(v, simulate_limit)
            if fresh > p and not queue.empty() and fresh > -queue.top().first:
                self.priority[v] = fresh  # lazy update: no longer the least
                queue.push(pair[int, int](-fresh, -v))
                continue
            self.shortcuts(v, True, contract_limit)
            around.clear()
            for i in range(<Py_ssize_t>self.out_arcs[v].size()):
                around.push_back(self.out_arcs[v][i].node)
            for i in range(<Py_ssize_t>self.in_arcs[v].size()):
                around.push_back(self.in_arcs[v][i].node)
            self.remove(v)
            self.rank[v] = next_rank
            next_rank += 1
            for i in range(<Py_ssize_t>around.size()):
                x = around[i]
                self.deleted[x] += 1
            for i in range(<Py_ssize_t>around.size()):
                x = around[i]
                if not self.done[x] and not self.seen[x]:
                    self.seen[x] = 1
                    if update_neighbours:
                        p = self.node_priority(x, simulate_limit)
                    else:  # the deleted-neighbours term only; the rest lazily when popped
                        p = self.priority[x] + 1
                    if p != self.priority[x]:
                        self.priority[x] = p
                        queue.push(pair[int, int](-p, -x))
            for i in range(<Py_ssize_t>around.size()):
                self.seen[around[i]] = 0

    def arrays(self, bint upward_out):
        """(owner, head, middle, cost, seconds, metres) of every upward arc, owner-sorted."""
        cdef vector[vector[Arc]]* arcs = &self.up_out if upward_out else &self.up_in
        cdef Py_ssize_t total = 0, k = 0, i
        cdef int v
        for v in range(self.n):
            total += arcs[0][v].size()
        owner = np.empty(total, dtype=np.int32)
        head = np.empty(total, dtype=np.int32)
        middle = np.empty(total, dtype=np.int32)
        cost = np.empty(total, dtype=np.float64)
        seconds = np.empty(total, dtype=np.float64)
        metres = np.empty(total, dtype=np.float64)
        cdef int32_t[::1] o = owner, h = head, m = middle
        cdef double[::1] c = cost, s = seconds, t = metres
        for v in range(self.n):
            for i in range(<Py_ssize_t>arcs[0][v].size()):
                o[k], h[k], m[k] = v, arcs[0][v][i].node, arcs[0][v][i].middle
                c[k], s[k], t[k] = (arcs[0][v][i].cost, arcs[0][v][i].seconds,
                                    arcs[0][v][i].metres)
                k += 1
        return owner, head, middle, cost, seconds, metres


def contract(Py_ssize_t n, const int64_t[::1] indptr, const int32_t[::1] indices,
             const double[::1] cost, const double[::1] seconds, const double[::1] metres,
             int simulate_limit, int contract_limit, bint update_neighbours):
    """Contract a CSR graph: (rank per node, upward out-arcs, upward in-arcs).

    Arcs come as (owner, head, middle, cost, seconds, metres) arrays: an upward out-arc
    runs owner->head, an upward in-arc head->owner, the head ranking above the owner.
    Self-loops are dropped (costs are positive); the CSR has one entry per node pair.
    """
    cdef _Contractor work = _Contractor(n)
    cdef Py_ssize_t u, e
    for u in range(n):
        for e in range(indptr[u], indptr[u + 1]):
            if indices[e] != u:
                work.add_arc(<int>u, indices[e], cost[e], seconds[e], metres[e], -1)
    with nogil:
        work.run(simulate_limit, contract_limit, update_neighbours)
    rank = np.asarray(<int[:n]>work.rank.data()).astype(np.int32)
    return rank, work.arrays(True), work.arrays(False)


cdef Py_ssize_t _upward(
    const int64_t[::1] indptr, const int32_t[::1] head, const double[::1] w_cost,
    const double[::1] w_seconds, const double[::1] w_metres,
    const int64_t[::1] stall_indptr, const int32_t[::1] stall_head,
    const double[::1] stall_cost,
    const int32_t[::1] start_node, const double[::1] start_cost,
    const double[::1] start_seconds, const double[::1] start_metres, Py_ssize_t a,
    Py_ssize_t b, double* dist, double* seconds, double* metres, int* where, double* keys,
    int* heap, int* touched, Py_ssize_t* n_touched, int* space,
) noexcept nogil:
    """One upward search from starts ``a:b``: fills ``space`` with its settled, unstalled
    nodes (their values in dist/seconds/metres) and returns how many; the caller resets
    the ``n_touched[0]`` first entries of ``touched`` (:func:`_clear`)."""
    cdef Py_ssize_t size = 0, n_space = 0, i, e
    cdef int u, v
    cdef double d, nd
    cdef bint stalled
    for i in range(a, b):
        v = start_node[i]
        if dist[v] == INFINITY:
            touched[n_touched[0]] = v
            n_touched[0] += 1
        if start_cost[i] < dist[v]:
            dist[v] = start_cost[i]
            seconds[v] = start_seconds[i]
            metres[v] = start_metres[i]
            size = _push(keys, heap, where, size, start_cost[i], v)
    while size > 0:
        d = keys[0]
        u = heap[0]
        size = _pop(keys, heap, where, size)
        # Stall on demand: reached cheaper from a higher node, u is on no shortest
        # up-down path whose top is u or above it through u.
        stalled = False
        for e in range(stall_indptr[u], stall_indptr[u + 1]):
            if dist[stall_head[e]] + stall_cost[e] < d:
                stalled = True
                break
        if stalled:
            continue
        space[n_space] = u
        n_space += 1
        for e in range(indptr[u], indptr[u + 1]):
            v = head[e]
            nd = d + w_cost[e]
            if nd < dist[v] and where[v] != SETTLED:
                if dist[v] == INFINITY:
                    touched[n_touched[0]] = v
                    n_touched[0] += 1
                dist[v] = nd
                seconds[v] = seconds[u] + w_seconds[e]
                metres[v] = metres[u] + w_metres[e]
                size = _push(keys, heap, where, size, nd, v)
    return n_space


cdef void _clear(double* dist, int* where, int* touched, Py_ssize_t* n_touched) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n_touched[0]):
        dist[touched[i]] = INFINITY
        where[touched[i]] = NOT_QUEUED
    n_touched[0] = 0


cdef class _Work:
    """Work arrays of one search thread (n nodes)."""
    cdef vector[double] dist, seconds, metres, keys
    cdef vector[int] where, heap, touched, space

    def __cinit__(self, Py_ssize_t n):
        self.dist.assign(n, INFINITY)
        self.seconds.resize(n)
        self.metres.resize(n)
        self.keys.resize(n)
        self.where.assign(n, NOT_QUEUED)
        self.heap.resize(n)
        self.touched.resize(n)
        self.space.resize(n)


def backward_spaces(
    const int64_t[::1] indptr, const int32_t[::1] head, const double[::1] w_cost,
    const double[::1] w_seconds, const double[::1] w_metres,
    const int64_t[::1] stall_indptr, const int32_t[::1] stall_head,
    const double[::1] stall_cost, Py_ssize_t n, const int64_t[::1] link_start,
    const int32_t[::1] link_node, const double[::1] link_cost,
    const double[::1] link_seconds, const double[::1] link_metres, Py_ssize_t first_column,
):
    """Bucket entries of one upward search per column (on the backward upward graph).

    Column ``c`` starts from links ``link_start[c]:link_start[c+1]``. Returns (node,
    column, cost, seconds, metres) arrays, one entry per settled unstalled node.
    """
    cdef _Work w = _Work(n)
    cdef vector[int] nodes, columns
    cdef vector[double] costs, secs, mets
    cdef Py_ssize_t c, k, count
    cdef int x
    cdef Py_ssize_t n_touched = 0
    with nogil:
        for c in range(link_start.shape[0] - 1):
            count = _upward(indptr, head, w_cost, w_seconds, w_metres, stall_indptr,
                            stall_head, stall_cost, link_node, link_cost, link_seconds,
                            link_metres, link_start[c], link_start[c + 1], w.dist.data(),
                            w.seconds.data(), w.metres.data(), w.where.data(),
                            w.keys.data(), w.heap.data(), w.touched.data(), &n_touched,
                            w.space.data())
            for k in range(count):
                x = w.space[k]
                nodes.push_back(x)
                columns.push_back(<int>(first_column + c))
                costs.push_back(w.dist[x])
                secs.push_back(w.seconds[x])
                mets.push_back(w.metres[x])
            _clear(w.dist.data(), w.where.data(), w.touched.data(), &n_touched)
    cdef Py_ssize_t size = nodes.size()
    if size == 0:
        return (np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0), np.empty(0),
                np.empty(0))
    return (np.asarray(<int[:size]>nodes.data()).copy(),
            np.asarray(<int[:size]>columns.data()).copy(),
            np.asarray(<double[:size]>costs.data()).copy(),
            np.asarray(<double[:size]>secs.data()).copy(),
            np.asarray(<double[:size]>mets.data()).copy())


def forward_scan(
    const int64_t[::1] indptr, const int32_t[::1] head, const double[::1] w_cost,
    const double[::1] w_seconds, const double[::1] w_metres,
    const int64_t[::1] stall_indptr, const int32_t[::1] stall_head,
    const double[::1] stall_cost, Py_ssize_t n, const int64_t[::1] link_start,
    const int32_t[::1] link_node, const double[::1] link_cost,
    const double[::1] link_seconds, const double[::1] link_metres,
    const int64_t[::1] bucket_start, const int32_t[::1] bucket_column,
    const double[::1] bucket_cost, const double[::1] bucket_seconds,
    const double[::1] bucket_metres, double[:, ::1] out_cost, double[:, ::1] out_seconds,
    double[:, ::1] out_metres,
):
    """One forward upward search per row, each settled node's bucket scanned.

    Row ``r`` writes ``out_*[r]`` (filled with ``inf`` by the caller): per column the
    cheapest meeting, and the seconds and metres of that path. Runs without the GIL.
    """
    cdef _Work w = _Work(n)
    cdef Py_ssize_t r, k, e, count
    cdef int x, col
    cdef double d, s, m, total
    cdef Py_ssize_t n_touched = 0
    with nogil:
        for r in range(link_start.shape[0] - 1):
            count = _upward(indptr, head, w_cost, w_seconds, w_metres, stall_indptr,
                            stall_head, stall_cost, link_node, link_cost, link_seconds,
                            link_metres, link_start[r], link_start[r + 1], w.dist.data(),
                            w.seconds.data(), w.metres.data(), w.where.data(),
                            w.keys.data(), w.heap.data(), w.touched.data(), &n_touched,
                            w.space.data())
            for k in range(count):
                x = w.space[k]
                d, s, m = w.dist[x], w.seconds[x], w.metres[x]
                for e in range(bucket_start[x], bucket_start[x + 1]):
                    col = bucket_column[e]
                    total = d + bucket_cost[e]
                    if total < out_cost[r, col]:
                        out_cost[r, col] = total
                        out_seconds[r, col] = s + bucket_seconds[e]
                        out_metres[r, col] = m + bucket_metres[e]
            _clear(w.dist.data(), w.where.data(), w.touched.data(), &n_touched)
