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


def pack_fields(
    out: np.ndarray, fields: list[tuple[str, np.ndarray, int]], *, shift: int = 0
) -> int:
    """OR small non-negative integer columns side by side into ``out`` (one value per row).

    ``fields``: (name, values, width in bits), packed from bit ``shift`` upwards in order.
    Returns the first bit above them.

    Raises
    ------
    ValueError
        A column has a value outside its width (it would spill into the next field).
    """
    for name, values, width in fields:
        values = np.asarray(values).astype(np.int64)
        if len(values) and (values.min() < 0 or values.max() >= 1 << width):
            raise ValueError(f"edge field {name!r} out of the {width} bits kept for it")
        out |= values.astype(out.dtype) << shift
        shift += width
    return shift
