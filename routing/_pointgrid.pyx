# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled look-up for :meth:`routing.pointgrid.PointGrid.query`.

The same cells, the same squared distances and the same choice (nearest, then lowest
index) as the numpy look-up it replaced, without its dozen array calls per query (a
route's dozen landmark look-ups: ~60 us -> a few).
"""

from libc.math cimport INFINITY, ceil, floor, sqrt
from libc.stdint cimport int32_t, int64_t

import numpy as np

ctypedef fused index_t:
    int32_t
    int64_t


def nearest_within(const double[:, ::1] points not None, const index_t[::1] starts not None,
                   const index_t[::1] values not None, double x0, double y0, double cell,
                   Py_ssize_t nx, Py_ssize_t ny, const double[:, ::1] queries not None,
                   double r):
    """Per query, the distance to the nearest point strictly within ``r`` and its index
    (``inf`` and ``len(points)`` where none), reading the grid's cells (``starts``,
    ``values``: the points of each cell) in the block of ``ceil(2 r / cell) + 1`` cells a
    side from the cell of ``query - r``."""
    cdef Py_ssize_t n = queries.shape[0], i, dx, dy, cx, cy, k, c, best
    cdef Py_ssize_t width = <Py_ssize_t>ceil(2 * r / cell) + 1
    cdef double qx, qy, fx, fy, ex, ey, d, best_d, r2 = r * r
    dist_out = np.full(n, INFINITY)
    index_out = np.full(n, points.shape[0], dtype=np.int64)
    cdef double[::1] dist = dist_out
    cdef int64_t[::1] index = index_out
    with nogil:
        for i in range(n):
            qx, qy = queries[i, 0], queries[i, 1]
            fx, fy = floor((qx - r - x0) / cell), floor((qy - r - y0) / cell)
            if not (fx <= nx and fy <= ny and fx + width >= 0 and fy + width >= 0):
                continue  # no cell of the block is in the grid (or a coordinate is NaN)
            best, best_d = -1, INFINITY
            for dy in range(width):
                cy = <Py_ssize_t>fy + dy
                if cy < 0 or cy >= ny:
                    continue
                for dx in range(width):
                    cx = <Py_ssize_t>fx + dx
                    if cx < 0 or cx >= nx:
                        continue
                    for k in range(starts[cy * nx + cx], starts[cy * nx + cx + 1]):
                        c = values[k]
                        ex, ey = points[c, 0] - qx, points[c, 1] - qy
                        d = 0.0 + ex * ex + ey * ey  # summed from 0.0, as numpy does
                        if d < r2 and (d < best_d or (d == best_d and c < best)):
                            best, best_d = c, d
            if best >= 0:
                dist[i], index[i] = sqrt(best_d), best
    return dist_out, index_out
