# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled parts of :mod:`routing.snapping`: the nearest-segment search behind
:meth:`~routing.snapping.EdgeSampler.nearest` and the piece of an edge's line between two
fractions (:func:`partial_line`).

The nearest-segment search is the same search as the numpy one it replaced, in the same floating-point operations (so
the same answers and tie-breaks): the grid cells meeting a square around the point are
read (:class:`~routing.pointgrid.PointGrid`'s layout), every listed segment of a usable
edge is measured exactly, and the square grows until the best found is provably the
nearest. One point costs a few microseconds instead of ~40 (a dozen numpy calls on
arrays of a few dozen values); :meth:`SegmentIndex.nearest_many` answers a list of
points without the GIL. :func:`partial_line` replaces a dozen numpy calls on a few points
with the same operations (``np.interp``'s included), so its points are the same too.
"""

from libc.math cimport INFINITY, copysign, floor, fmod, hypot
from libc.stdint cimport int32_t, int64_t

import numpy as np


cdef inline double _floordiv(double v, double w) noexcept nogil:
    """Python's float ``v // w`` (CPython's algorithm), so that the cells looked at are
    exactly those :meth:`routing.pointgrid.PointGrid.within_square` looks at."""
    cdef double mod = fmod(v, w), div, out
    div = (v - mod) / w
    if mod != 0.0 and ((w < 0.0) != (mod < 0.0)):
        div -= 1.0
    if div != 0.0:
        out = floor(div)
        if div - out > 0.5:
            out += 1.0
        return out
    return copysign(0.0, v / w)


cdef class SegmentIndex:
    """A point grid over segments' pieces (values: segment numbers) and the segments.

    Parameters
    ----------
    grid
        The :class:`~routing.pointgrid.PointGrid` (its ``starts``, ``values``, ``mins``,
        ``maxes``, ``cell_m`` are read, not copied).
    seg_a, seg_b
        (n, 2) float64 ends of each segment, in metres.
    seg_edge
        int32 edge of each segment.
    slack
        How far a listed piece's midpoint may lie from a point of its segment.
    """

    cdef const int32_t[::1] starts32
    cdef const int64_t[::1] starts64
    cdef bint wide
    cdef const int32_t[::1] values
    cdef const double[:, ::1] a
    cdef const double[:, ::1] b
    cdef const int32_t[::1] edge
    cdef double x0, y0, x1, y1, cell, slack, diagonal
    cdef Py_ssize_t nx, ny

    def __init__(self, grid, seg_a, seg_b, seg_edge, double slack):
        self.wide = grid.starts.dtype == np.int64
        if self.wide:
            self.starts64 = grid.starts
        else:
            self.starts32 = grid.starts
        self.values = grid.values
        self.a, self.b, self.edge = seg_a, seg_b, seg_edge
        self.x0, self.y0 = float(grid.mins[0]), float(grid.mins[1])
        self.x1, self.y1 = float(grid.maxes[0]), float(grid.maxes[1])
        self.diagonal = float(np.hypot(*(grid.maxes - grid.mins)))
        self.cell = float(grid.cell_m)
        self.nx, self.ny = int(grid.shape[0]), int(grid.shape[1])
        self.slack = slack

    cdef inline Py_ssize_t _start(self, Py_ssize_t cell) noexcept nogil:
        return self.starts64[cell] if self.wide else self.starts32[cell]

    cdef Py_ssize_t _best(self, double px, double py, double r, const unsigned char[::1] usable,
                          bint check, double* out) noexcept nogil:
        """The nearest usable segment listed in the cells meeting the square of half-side
        ``r`` (-1 when none); ``out``: its fraction, nearest point (x, y) and distance."""
        cdef double x = px - self.x0, y = py - self.y0, c = self.cell
        cdef double fx0 = _floordiv(x - r, c), fx1 = _floordiv(x + r, c)
        cdef double fy0 = _floordiv(y - r, c), fy1 = _floordiv(y + r, c)
        cdef Py_ssize_t cx0, cx1, cy0, cy1, cy, row, k, seg, best = -1
        cdef double ax, ay, dx, dy, denom, s, qx, qy, d, best_d = INFINITY
        # Clamped as floats (the same integers as Python's max(int(..), 0)).
        cx0 = <Py_ssize_t>(fx0 if fx0 > 0.0 else 0.0)
        cy0 = <Py_ssize_t>(fy0 if fy0 > 0.0 else 0.0)
        cx1 = <Py_ssize_t>(fx1 if fx1 < self.nx - 1 else self.nx - 1)
        cy1 = <Py_ssize_t>(fy1 if fy1 < self.ny - 1 else self.ny - 1)
        if fx1 < 0.0 or fy1 < 0.0 or fx0 > self.nx - 1 or fy0 > self.ny - 1:
            return -1
        for cy in range(cy0, cy1 + 1):
            row = cy * self.nx
            for k in range(self._start(row + cx0), self._start(row + cx1 + 1)):
                seg = self.values[k]
                if check and not usable[self.edge[seg]]:
                    continue
                ax, ay = self.a[seg, 0], self.a[seg, 1]
                dx, dy = self.b[seg, 0] - ax, self.b[seg, 1] - ay
                # As numpy summed them (from 0.0), so that signed zeros come out alike.
                denom = 0.0 + dx * dx + dy * dy
                if denom < 1e-12:
                    denom = 1e-12
                s = (0.0 + (px - ax) * dx + (py - ay) * dy) / denom
                if s < 0.0:
                    s = 0.0
                elif s > 1.0:
                    s = 1.0
                qx, qy = ax + dx * s, ay + dy * s
                d = hypot(qx - px, qy - py)
                if d < best_d or (d == best_d and seg < best):  # ties: the lowest segment
                    best, best_d = seg, d
                    out[0], out[1], out[2], out[3] = s, qx, qy, d
        return best

    cdef Py_ssize_t _nearest(self, double px, double py, double within_m, double radius_m,
                             const unsigned char[::1] usable, bint check,
                             double* out) noexcept nogil:
        """The nearest usable segment within ``within_m`` (-1: none); see
        :meth:`routing.snapping.EdgeSampler.nearest` for why the square grows as it does."""
        cdef double slack = self.slack, off, ox, oy, enough, r
        cdef Py_ssize_t best
        ox = self.x0 - px if self.x0 - px > px - self.x1 else px - self.x1
        oy = self.y0 - py if self.y0 - py > py - self.y1 else py - self.y1
        off = hypot(ox if ox > 0.0 else 0.0, oy if oy > 0.0 else 0.0)
        if within_m < INFINITY:
            if off > within_m + slack:  # every segment is farther than within_m
                return -1
            enough = within_m + slack
        else:
            enough = off + self.diagonal + slack
        r = enough if enough < radius_m else radius_m
        while True:
            best = self._best(px, py, r, usable, check, out)
            if (best >= 0 and out[3] + slack <= r) or r >= enough:
                break
            r = 3 * r if best < 0 else out[3] + slack
            if r > enough:
                r = enough
        if best < 0 or out[3] > within_m:
            return -1
        return best

    def nearest(self, double px, double py, double within_m, double radius_m, usable):
        """``(segment, fraction, x, y, distance)`` of the nearest point on a segment of an
        edge with ``usable[edge]`` (uint8; None: any), or None when none lies within
        ``within_m``."""
        cdef double out[4]
        cdef const unsigned char[::1] mask = None if usable is None else usable
        cdef Py_ssize_t seg = self._nearest(px, py, within_m, radius_m, mask,
                                            usable is not None, out)
        if seg < 0:
            return None
        return seg, out[0], out[1], out[2], out[3]

    def nearest_many(self, const double[:, ::1] xy, const double[::1] within_m,
                     double radius_m, usable):
        """:meth:`nearest` of each point (rows of ``xy``, each with its own bound).

        Returns
        -------
        segment, fraction, point, distance
            Arrays; segment -1 where none lies within the bound.
        """
        cdef Py_ssize_t n = xy.shape[0], i
        cdef const unsigned char[::1] mask = None if usable is None else usable
        cdef bint check = usable is not None
        seg_out = np.full(n, -1, dtype=np.int64)
        frac_out = np.zeros(n)
        point_out = np.zeros((n, 2))
        dist_out = np.full(n, INFINITY)
        cdef int64_t[::1] seg = seg_out
        cdef double[::1] frac = frac_out, dist = dist_out
        cdef double[:, ::1] point = point_out
        cdef double out[4]
        with nogil:
            for i in range(n):
                seg[i] = self._nearest(xy[i, 0], xy[i, 1], within_m[i], radius_m, mask,
                                       check, out)
                if seg[i] >= 0:
                    frac[i], point[i, 0], point[i, 1], dist[i] = out[0], out[1], out[2], out[3]
        return seg_out, frac_out, point_out, dist_out


def partial_line(const double[:, ::1] geometry, double lat0, double lon0, double kx,
                 double ky, double t0, double t1):
    """The (lat, lon) points of a line (``geometry``, rows of lat, lon) between fractions
    ``t0 <= t1`` of its length, measured in the local projection (``lat0``, ``lon0``,
    metres per degree ``kx``, ``ky``): the point at ``t0``, the line's points strictly
    between, the point at ``t1``."""
    cdef Py_ssize_t n = geometry.shape[0], i, k = 0
    if n < 1:
        raise ValueError("a line needs a point")
    xy_array = np.empty((n, 2))
    cum_array = np.empty(n)
    cdef double[:, ::1] xy = xy_array
    cdef double[::1] cum = cum_array
    cdef double total, s0, s1
    for i in range(n):
        xy[i, 0] = (geometry[i, 1] - lon0) * kx
        xy[i, 1] = (geometry[i, 0] - lat0) * ky
    cum[0] = 0.0
    for i in range(1, n):  # running length, summed in order (as np.cumsum does)
        cum[i] = cum[i - 1] + hypot(xy[i, 0] - xy[i - 1, 0], xy[i, 1] - xy[i - 1, 1])
    total = cum[n - 1] if cum[n - 1] >= 1e-9 else 1e-9
    s0, s1 = t0 * total, t1 * total
    out_array = np.empty((n + 2, 2))
    cdef double[:, ::1] out = out_array
    _along(s0, cum, xy, &out[0, 0])
    k = 1
    for i in range(n):
        if s0 < cum[i] < s1:
            out[k, 0], out[k, 1] = xy[i, 0], xy[i, 1]
            k += 1
    _along(s1, cum, xy, &out[k, 0])
    k += 1
    for i in range(k):  # back to (lat, lon)
        out[i, 0], out[i, 1] = out[i, 1] / ky + lat0, out[i, 0] / kx + lon0
    return out_array[:k]


cdef void _along(double s, const double[::1] cum, const double[:, ::1] xy,
                 double* out) noexcept nogil:
    """The point at running length ``s``: ``np.interp(s, cum, xy[:, c])`` for both columns
    (the last point at or past the end, else the segment from the last point with
    ``cum <= s``, exactly at that point when equal)."""
    cdef Py_ssize_t n = cum.shape[0], j = 0, c
    cdef double slope
    if s < cum[0]:  # before the start (np.interp's left value)
        out[0], out[1] = xy[0, 0], xy[0, 1]
        return
    while j + 1 < n and cum[j + 1] <= s:
        j += 1
    for c in range(2):
        if j == n - 1 or cum[j] == s:
            out[c] = xy[j, c]
        else:
            slope = (xy[j + 1, c] - xy[j, c]) / (cum[j + 1] - cum[j])
            out[c] = slope * (s - cum[j]) + xy[j, c]
