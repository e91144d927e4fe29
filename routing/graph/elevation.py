"""Heights from SRTM elevation tiles, sampled with bilinear interpolation.

An SRTM ``.hgt`` tile covers one degree square whose south-west corner is given by its
file name (``N43E076`` covers lat 43..44, lon 76..77; ``S`` and ``W`` are negative). It
holds a square grid of big-endian int16 metres, 1201x1201 for SRTM3 (3 arc-seconds) or
3601x3601 for SRTM1 (1 arc-second). Row 0 is the north edge, column 0 the west edge, and
the edge rows and columns are shared with the neighbouring tiles. Voids are -32768.
Tiles may be plain ``.hgt`` files or ``.zip`` archives holding one ``.hgt`` file.
"""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.errors import DataError

VOID = -32768
"""Height value SRTM uses for a cell without data."""

_GRID_SIZES = {2 * n * n: n for n in (1201, 3601)}  # byte length -> samples per side
_TILE_NAME = re.compile(r"^([NS])(\d{1,2})([EW])(\d{1,3})(?!\d)", re.IGNORECASE)


@dataclass(frozen=True)
class _Tile:
    """One loaded tile: south-west corner in degrees and its native-endian int16 grid."""

    path: str
    lat0: int
    lon0: int
    heights: np.ndarray  # (n, n) int16, row 0 north, column 0 west


def _parse_corner(name: str) -> tuple[int, int] | None:
    """South-west corner ``(lat, lon)`` from a tile file name, or None if it gives none."""
    match = _TILE_NAME.match(name)
    if match is None:
        return None
    ns, lat, ew, lon = match.groups()
    lat0 = -int(lat) if ns.upper() == "S" else int(lat)
    lon0 = -int(lon) if ew.upper() == "W" else int(lon)
    if not (-90 <= lat0 < 90 and -180 <= lon0 < 180):
        return None
    return lat0, lon0


def _read_tile(path: Path) -> _Tile:
    """Load one ``.hgt`` or ``.hgt.zip`` tile, raising DataError naming the file."""
    corner = _parse_corner(path.name)
    try:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith(".hgt")]
                if len(members) != 1:
                    found = "no .hgt file" if not members else f"{len(members)} .hgt files"
                    raise DataError(
                        f"elevation zip {path} holds {found}, expected exactly one",
                        path=str(path),
                    )
                if corner is None:  # e.g. dem.zip holding N43E076.hgt
                    corner = _parse_corner(Path(members[0]).name)
                raw = archive.read(members[0])
        else:
            raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"elevation tile {path} not found", path=str(path)) from exc
    except (OSError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise DataError(f"cannot read elevation tile {path}: {exc}", path=str(path)) from exc

    if corner is None:
        raise DataError(
            f"elevation tile {path}: file name does not give the tile corner "
            "(expected e.g. N43E076.hgt)",
            path=str(path),
        )
    size = _GRID_SIZES.get(len(raw))
    if size is None:
        raise DataError(
            f"elevation tile {path} has {len(raw)} bytes; expected 1201x1201 (SRTM3) "
            "or 3601x3601 (SRTM1) int16 samples",
            path=str(path),
        )
    heights = np.frombuffer(raw, dtype=">i2").astype(np.int16).reshape(size, size)
    return _Tile(path=str(path), lat0=corner[0], lon0=corner[1], heights=heights)


def _sample_tile(tile: _Tile, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Bilinear heights of points inside ``tile`` (1-D arrays); NaN next to a void."""
    z = tile.heights
    last = z.shape[0] - 1  # grid intervals per degree
    row = np.clip((tile.lat0 + 1 - lat) * last, 0, last)
    col = np.clip((lon - tile.lon0) * last, 0, last)
    # Top-left node of the cell; points on the south/east edge use the last cell.
    r0 = np.minimum(row.astype(np.intp), last - 1)
    c0 = np.minimum(col.astype(np.intp), last - 1)
    fr = row - r0
    fc = col - c0

    out = np.zeros(lat.shape, dtype=np.float64)
    void = np.zeros(lat.shape, dtype=bool)
    for dr, dc, weight in (
        (0, 0, (1 - fr) * (1 - fc)),
        (0, 1, (1 - fr) * fc),
        (1, 0, fr * (1 - fc)),
        (1, 1, fr * fc),
    ):
        h = z[r0 + dr, c0 + dc]
        out += weight * h
        # A void counts only where it has weight, so a point on a grid line or node
        # depends on that line or node alone and adjacent tiles agree on their edge.
        void |= (h == VOID) & (weight > 0)
    out[void] = np.nan
    return out


class ElevationModel:
    """Elevation from one or more SRTM tiles.

    Parameters
    ----------
    tiles
        Loaded tiles; build the model with :meth:`from_files` rather than directly.

    Notes
    -----
    Where tiles overlap (their shared edges), the first tile that gives a non-NaN
    height wins; SRTM neighbours hold the same values on shared edges.
    """

    def __init__(self, tiles: Sequence[_Tile]) -> None:
        self._tiles = list(tiles)

    @classmethod
    def from_files(cls, paths: Iterable[str | os.PathLike]) -> ElevationModel:
        """Load SRTM tiles from ``.hgt`` or ``.hgt.zip`` files.

        Parameters
        ----------
        paths
            Tile files. The south-west corner is read from each file name (for a zip
            whose own name does not give it, from the name of the ``.hgt`` inside);
            the grid size (SRTM3 or SRTM1) from the byte length.

        Returns
        -------
        ElevationModel
            A model covering the union of the tiles.

        Raises
        ------
        DataError
            If no path is given, or a file is missing, unreadable, a zip without
            exactly one ``.hgt``, of a size that is neither 1201x1201 nor 3601x3601
            int16, or named so that the tile corner cannot be read. The message and
            ``path`` name the file.
        """
        tiles = [_read_tile(Path(p)) for p in paths]
        if not tiles:
            raise DataError("no elevation tiles given")
        return cls(tiles)

    @property
    def sources(self) -> list[str]:
        """Paths of the loaded tile files, in load order."""
        return [tile.path for tile in self._tiles]

    def sample(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Bilinear heights in metres (float64); NaN outside every tile or next to a void.

        Parameters
        ----------
        lat, lon
            WGS84 degrees; any shapes that broadcast together (scalars included).

        Returns
        -------
        numpy.ndarray
            float64 heights in the broadcast shape of ``lat`` and ``lon``. A point is NaN
            if it lies outside every tile, is NaN itself, or any grid node with weight in
            its interpolation is a void.
        """
        lat_b, lon_b = np.broadcast_arrays(
            np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        )
        lat_f = lat_b.ravel()
        lon_f = lon_b.ravel()
        out = np.full(lat_f.shape, np.nan)
        for tile in self._tiles:
            idx = np.flatnonzero(
                np.isnan(out)
                & (lat_f >= tile.lat0)
                & (lat_f <= tile.lat0 + 1)
                & (lon_f >= tile.lon0)
                & (lon_f <= tile.lon0 + 1)
            )
            if idx.size:
                out[idx] = _sample_tile(tile, lat_f[idx], lon_f[idx])
        return out.reshape(lat_b.shape)
