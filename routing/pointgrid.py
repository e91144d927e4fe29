"""A uniform grid over points in a plane (metres): what lies near a point, in numpy only.

The street search's look-ups (a coordinate's nearest way, a step's nearest landmark) only
ask "which points lie within ``r`` of here" for small ``r``; a grid of square cells answers
that with a few array slices, and keeps ``scipy.spatial`` (with ``scipy.linalg`` and
OpenBLAS behind it, ~18 MB per process) out of a server that only routes.
"""

from __future__ import annotations

import numpy as np

from routing.arrays import concat_ranges

#: At most this many cells per indexed point (a few far-off points must not make the
#: grid huge: the cell grows instead).
MAX_CELLS_PER_POINT = 4


class PointGrid:
    """Points bucketed by square cell, each with a value (by default its index).

    Parameters
    ----------
    points
        (n, 2) coordinates in metres.
    cell_m
        Side of a cell (grown when the points' extent would need more than
        :data:`MAX_CELLS_PER_POINT` cells per point).
    values
        Per point, what a look-up returns (e.g. the segment a point lies on); a value
        repeated within one cell is kept once there.
    keep_points
        Keep the coordinates (needed by :meth:`query`).
    """

    def __init__(self, points: np.ndarray, *, cell_m: float, values: np.ndarray | None = None,
                 keep_points: bool = True) -> None:  # fmt: skip
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        self.n = len(pts)
        self.mins = pts.min(axis=0) if self.n else np.zeros(2)
        self.maxes = pts.max(axis=0) if self.n else np.zeros(2)
        span = self.maxes - self.mins
        area = float(max(span[0], 1.0) * max(span[1], 1.0))
        self.cell_m = max(float(cell_m), (area / (MAX_CELLS_PER_POINT * max(self.n, 1))) ** 0.5)
        ix, iy = self._cell_of(pts)
        nx, ny = (int(c.max(initial=0)) + 1 for c in (ix, iy))  # cells along x, y
        self.shape = np.array([nx, ny], dtype=np.int64)
        cell = iy * nx + ix
        value = np.arange(self.n) if values is None else np.asarray(values)
        order = np.lexsort((value, cell))  # by cell, then value
        cell, value = cell[order], value[order]
        if values is not None and len(cell):  # one entry per (cell, value)
            new = np.ones(len(cell), dtype=bool)
            new[1:] = (cell[1:] != cell[:-1]) | (value[1:] != value[:-1])
            cell, value = cell[new], value[new]
        index = np.int32 if len(cell) < 2**31 else np.int64
        self.values = value.astype(index if values is None else value.dtype)
        self.starts = np.zeros(nx * ny + 1, dtype=index)
        np.cumsum(np.bincount(cell, minlength=nx * ny), out=self.starts[1:])
        self.points = pts if keep_points else None
        self._x0, self._y0 = float(self.mins[0]), float(self.mins[1])
        self._nx, self._ny = nx, ny

    def _cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.floor((xy - self.mins) / self.cell_m).astype(np.int64)
        return c[..., 0], c[..., 1]

    def within_square(self, p: np.ndarray, r: float) -> np.ndarray:
        """Values of the points in the cells that meet the square of half-side ``r``
        around ``p`` (every point within ``r`` of ``p``, and some farther ones)."""
        # Plain floats and slices: a look-up covers a few cells, numpy calls cost more.
        x, y, c = float(p[0]) - self._x0, float(p[1]) - self._y0, self.cell_m
        nx = self._nx
        x0, x1 = max(int((x - r) // c), 0), min(int((x + r) // c), nx - 1)
        y0, y1 = max(int((y - r) // c), 0), min(int((y + r) // c), self._ny - 1)
        if x0 > x1 or y0 > y1:
            return self.values[:0]
        starts, values = self.starts, self.values
        if y1 - y0 < 8:
            return np.concatenate([values[starts[row + x0] : starts[row + x1 + 1]]
                                   for row in range(y0 * nx, y1 * nx + 1, nx)])  # fmt: skip
        rows = np.arange(y0, y1 + 1) * nx
        first = starts[rows + x0]
        return values[concat_ranges(first, starts[rows + x1 + 1] - first)]

    def query(self, xy: np.ndarray, *,
              distance_upper_bound: float) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
        """Per query point, the distance to the nearest point within the bound and its
        index (``inf`` and ``n`` where none), as ``scipy.spatial.cKDTree.query`` with
        ``k=1`` (strictly nearer than the bound); of equally near points the lowest index."""
        q = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        r = float(distance_upper_bound)
        dist, idx = np.full(len(q), np.inf), np.full(len(q), self.n, dtype=np.int64)
        if not self.n or not len(q) or not np.isfinite(r):
            if np.isfinite(r) or not self.n:
                return dist, idx
            r = float(np.hypot(*(self.maxes - self.mins))) + 1.0
        width = int(np.ceil(2 * r / self.cell_m)) + 1  # cells per side of each query's block
        lo = np.floor((q - r - self.mins) / self.cell_m).astype(np.int64)
        dx, dy = np.meshgrid(np.arange(width), np.arange(width), indexing="xy")
        cx, cy = lo[:, 0, None] + dx.ravel(), lo[:, 1, None] + dy.ravel()  # queries x cells
        inside = (cx >= 0) & (cy >= 0) & (cx < self.shape[0]) & (cy < self.shape[1])
        cell = np.where(inside, cy * int(self.shape[0]) + cx, 0)
        first = np.where(inside, self.starts[cell], 0)
        last = np.where(inside, self.starts[cell + 1], 0)
        owner = np.repeat(np.arange(len(q)), (last - first).sum(axis=1))
        cand = self.values[concat_ranges(first.ravel(), (last - first).ravel())].astype(np.int64)
        diff = self.points[cand] - q[owner]
        d = (diff * diff).sum(axis=1)  # squared, compared with r squared (as cKDTree does)
        near = d < r * r
        owner, cand, d = owner[near], cand[near], d[near]
        order = np.lexsort((cand, d, owner))  # per query: nearest, then lowest index
        owner, cand, d = owner[order], cand[order], d[order]
        head = np.ones(len(owner), dtype=bool)
        head[1:] = owner[1:] != owner[:-1]
        dist[owner[head]], idx[owner[head]] = np.sqrt(d[head]), cand[head]
        return dist, idx
