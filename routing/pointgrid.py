"""A uniform grid over points in a plane (metres), built in numpy only.

Snapping a coordinate to its nearest way only asks "which points lie within ``r`` of
here" for small ``r``; a grid of square cells answers that with a few array slices. The
compiled nearest-way search (:class:`routing._snapping.SegmentIndex`) reads this grid's
arrays, which keeps ``scipy.spatial`` (with ``scipy.linalg`` and OpenBLAS behind it,
~18 MB per process) out of a server that only routes.
"""

from __future__ import annotations

import numpy as np

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
    """

    def __init__(self, points: np.ndarray, *, cell_m: float,
                 values: np.ndarray | None = None) -> None:  # fmt: skip
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

    def _cell_of(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        c = np.floor((xy - self.mins) / self.cell_m).astype(np.int64)
        return c[..., 0], c[..., 1]
