# distutils: language = c++
# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled loops of the customizable contraction hierarchy (:mod:`routing.customizable`).

``chordal_fill``
    The metric-independent part: eliminating the nodes in a given order makes the
    higher neighbours of each node a clique (Dibbelt, Strasser, Wagner 2016, "Customizable
    contraction hierarchies"); computed through the elimination tree (a node's higher
    neighbours other than the lowest are handed to the lowest), as in sparse Cholesky.
``load_metric`` / ``customize``
    The per-metric part: every search graph arc's cost (with its seconds and metres) on
    its hierarchy edge (looked up once per graph), then the *lower triangle* pass: nodes in increasing rank, and for
    every two higher neighbours u < v of node x the paths u -> x -> v and v -> x -> u
    improve the edge {u, v} when cheaper. Once a node's turn comes its edges are final,
    so one pass gives every edge the least cost of a path through lower nodes only, which
    is all an upward/downward query needs. Seconds and metres follow the cost (those of
    one of the cheapest such paths). No GIL held.
"""

from libc.math cimport INFINITY
from libc.stdint cimport int8_t, int32_t, int64_t
from libcpp.algorithm cimport sort, unique
from libcpp.vector cimport vector

import numpy as np


def chordal_fill(int n, const int64_t[::1] indptr, const int32_t[::1] head):
    """Edges {x, y} (x < y, ranks) of the chordal supergraph of the given edges.

    ``indptr``/``head``: per rank x, higher ranks it has an edge to (duplicates allowed).
    Returns (indptr int64, head int32): per rank, its higher neighbours in increasing rank.
    """
    cdef vector[vector[int32_t]] up
    cdef vector[int32_t]* row
    cdef int x, parent
    cdef int64_t i, total = 0
    cdef Py_ssize_t k, size
    up.resize(n)
    with nogil:
        for x in range(n):
            for i in range(indptr[x], indptr[x + 1]):
                up[x].push_back(head[i])
        for x in range(n):
            row = &up[x]
            sort(row.begin(), row.end())
            row.erase(unique(row.begin(), row.end()), row.end())
            size = <Py_ssize_t>row.size()
            total += size
            if size > 1:
                parent = row[0][0]
                for k in range(1, size):
                    up[parent].push_back(row[0][k])
    out_indptr = np.zeros(n + 1, dtype=np.int64)
    out_head = np.empty(total, dtype=np.int32)
    cdef int64_t[::1] p = out_indptr
    cdef int32_t[::1] h = out_head
    cdef int64_t at = 0
    with nogil:
        for x in range(n):
            for k in range(<Py_ssize_t>up[x].size()):
                h[at] = up[x][k]
                at += 1
            p[x + 1] = at
    return out_indptr, out_head


def load_metric(Py_ssize_t m, const int32_t[::1] arc_edge, const int8_t[::1] arc_up,
                const int64_t[::1] edge, const double[::1] cost, const double[::1] seconds,
                const double[::1] metres):
    """Per hierarchy edge (``m`` of them), forward (lower -> higher) and backward (higher ->
    lower) cost, seconds and metres of the cheapest arc on it (``inf``: none).

    Arc ``i`` is the graph's arc ``edge[i]``, whose hierarchy edge is ``arc_edge[edge[i]]``
    (-1: a loop, skipped) in direction ``arc_up[edge[i]]``.
    """
    fwd = [np.full(m, np.inf), np.zeros(m), np.zeros(m)]
    bwd = [np.full(m, np.inf), np.zeros(m), np.zeros(m)]
    cdef double[::1] fc = fwd[0], fs = fwd[1], fm = fwd[2]
    cdef double[::1] bc = bwd[0], bs = bwd[1], bm = bwd[2]
    cdef Py_ssize_t i, n = edge.shape[0]
    cdef int64_t e, a
    with nogil:
        for i in range(n):
            a = edge[i]
            e = arc_edge[a]
            if e < 0:
                continue
            if arc_up[a]:
                if cost[i] < fc[e]:
                    fc[e], fs[e], fm[e] = cost[i], seconds[i], metres[i]
            elif cost[i] < bc[e]:
                bc[e], bs[e], bm[e] = cost[i], seconds[i], metres[i]
    return fwd, bwd


def customize(const int64_t[::1] indptr, const int32_t[::1] head,
              double[::1] fc, double[::1] fs, double[::1] fm,
              double[::1] bc, double[::1] bs, double[::1] bm):
    """The lower triangle pass, in place (see the module's docstring)."""
    cdef int n = indptr.shape[0] - 1
    cdef int x, u, v
    cdef int64_t i, j, k, k_end, x_end
    cdef double c
    cdef bint broken = False
    with nogil:
        for x in range(n):
            x_end = indptr[x + 1]
            for i in range(indptr[x], x_end):
                if fc[i] == INFINITY and bc[i] == INFINITY:
                    continue  # no path through x touches u
                u = head[i]
                k, k_end = indptr[u], indptr[u + 1]
                for j in range(i + 1, x_end):
                    v = head[j]
                    while k < k_end and head[k] < v:  # x's higher neighbours are u's too
                        k += 1
                    if k == k_end or head[k] != v:
                        broken = True
                        break
                    c = bc[i] + fc[j]  # u -> x -> v
                    if c < fc[k]:
                        fc[k], fs[k], fm[k] = c, bs[i] + fs[j], bm[i] + fm[j]
                    c = bc[j] + fc[i]  # v -> x -> u
                    if c < bc[k]:
                        bc[k], bs[k], bm[k] = c, bs[j] + fs[i], bm[j] + fm[i]
                if broken:
                    break
            if broken:
                break
    if broken:
        raise ValueError("the hierarchy's edges are not chordal")
