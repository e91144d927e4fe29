"""Where the metrics are summed: grid cells (origins) and the districts they fall in.

Origins are the centres of a square grid (``cell_m`` metres, default 1 km) over the graph's
bounds, kept where a walkable way lies within half a cell of the centre. A planner's
districts GeoJSON (Polygon/MultiPolygon features with a name property) groups the cells by
the district their centre lies in; without one, every cell is its own area.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from routing.errors import ScenarioError
from routing.geo import LocalProjection
from routing.graph.compiled import CompiledGraph


@dataclass(frozen=True)
class Grid:
    """Grid cells kept as origins: centres, row/column, the cell size."""

    cell_m: float
    lat: np.ndarray
    lon: np.ndarray
    row: np.ndarray
    col: np.ndarray
    rows: int
    cols: int
    origin_lat: float  # south-west corner
    origin_lon: float
    dlat: float
    dlon: float

    def __len__(self) -> int:
        return len(self.lat)

    def cell_id(self, i: int) -> str:
        return f"r{int(self.row[i])}c{int(self.col[i])}"

    def polygon(self, i: int) -> list[list[float]]:
        """The cell's ring as GeoJSON [lon, lat] pairs."""
        s = self.origin_lat + int(self.row[i]) * self.dlat
        w = self.origin_lon + int(self.col[i]) * self.dlon
        n, e = s + self.dlat, w + self.dlon
        return [[w, s], [e, s], [e, n], [w, n], [w, s]]


def make_grid(graph: CompiledGraph, cell_m: float, walkable_within) -> Grid:
    """Cells of ``cell_m`` over the graph's bounds whose centre ``walkable_within(lat, lon)``."""
    lat0, lon0, lat1, lon1 = graph.bounds()
    proj = LocalProjection((lat0 + lat1) / 2, (lon0 + lon1) / 2)
    (x0, y0), (x1, y1) = proj.forward([lat0, lat1], [lon0, lon1])
    dlat = cell_m / (proj.forward(lat0 + 1.0, lon0)[1] - proj.forward(lat0, lon0)[1])
    dlon = cell_m / (proj.forward(lat0, lon0 + 1.0)[0] - proj.forward(lat0, lon0)[0])
    rows = max(int(np.ceil((lat1 - lat0) / dlat)), 1)
    cols = max(int(np.ceil((lon1 - lon0) / dlon)), 1)
    rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    rr, cc = rr.ravel(), cc.ravel()
    lat = lat0 + (rr + 0.5) * dlat
    lon = lon0 + (cc + 0.5) * dlon
    keep = np.array([walkable_within(a, b) for a, b in zip(lat, lon, strict=True)], dtype=bool)
    return Grid(cell_m, lat[keep], lon[keep], rr[keep], cc[keep], rows, cols, lat0, lon0,
                dlat, dlon)  # fmt: skip


@dataclass(frozen=True)
class Districts:
    """Named polygons (rings of [lon, lat]) from a GeoJSON file."""

    names: list[str]
    polygons: list[list[list[list[float]]]]  # per district: its outer rings

    def assign(self, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        """Per point, the index of the district it lies in (-1: none)."""
        from matplotlib.path import Path as PolyPath

        out = np.full(len(lat), -1, dtype=np.int64)
        pts = np.column_stack([lon, lat])
        for d, rings in enumerate(self.polygons):
            for ring in rings:
                inside = PolyPath(np.asarray(ring, dtype=float)).contains_points(pts)
                out[(out < 0) & inside] = d
        return out


def read_districts(path: str, name_property: str = "name") -> Districts:
    """Districts from a GeoJSON FeatureCollection of (Multi)Polygons; errors name the feature."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ScenarioError(f"{path}: cannot read districts GeoJSON: {err}", path=str(path),
                            json_path="$", field="districts") from err  # fmt: skip
    names, polys = [], []
    for i, feat in enumerate(doc.get("features", []) if isinstance(doc, dict) else []):
        geom = (feat or {}).get("geometry") or {}
        where = f"$.features[{i}]"
        if geom.get("type") == "Polygon":
            rings = [geom["coordinates"][0]]
        elif geom.get("type") == "MultiPolygon":
            rings = [poly[0] for poly in geom["coordinates"]]
        else:
            raise ScenarioError(f"{path}: {where}.geometry: expected a Polygon or MultiPolygon",
                                path=str(path), json_path=f"{where}.geometry",
                                field="geometry")  # fmt: skip
        props = feat.get("properties") or {}
        names.append(str(props.get(name_property, f"district {i + 1}")))
        polys.append(rings)
    if not names:
        raise ScenarioError(f"{path}: no district features", path=str(path), json_path="$",
                            field="features")  # fmt: skip
    return Districts(names, polys)
