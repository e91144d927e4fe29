"""Array helpers shared by the street search's look-ups, isochrones and transit searches."""

from __future__ import annotations

import numpy as np


def concat_ranges(starts: np.ndarray, counts: np.ndarray, *, step: int = 1) -> np.ndarray:
    """``starts[i], starts[i] + step, ...`` (``counts[i]`` values) for every ``i``,
    concatenated, as int64: e.g. the CSR entries of several rows in one index array."""
    ends = counts.cumsum()
    total = int(ends[-1]) if len(ends) else 0
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    shift = (starts - step * (ends - counts)).repeat(counts)
    return np.arange(0, step * total, step, dtype=np.int64) + shift
