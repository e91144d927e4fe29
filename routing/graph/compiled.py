"""The compiled walking graph: flat numpy arrays that queries and cost models read.

Queries never touch networkx: the graph is compiled once, saved as one ``.npz`` and
loaded back in a fraction of a second.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from routing.geo import LocalProjection

if TYPE_CHECKING:
    import networkx as nx

#: Bump when the arrays or their meaning change, so old caches are not reused.
FORMAT_VERSION = 6

# Per-edge arrays and their dtypes, read from the networkx edge attributes of the same name.
EDGE_FIELDS: dict[str, type] = {
    "length": np.float64,
    "grade": np.float32,
    "grade_source": np.int8,
    "osmid": np.int64,
    "kind": np.int8,
    "road_class": np.int8,
    "sidewalk": np.int8,
    "surface": np.int8,
    "smoothness": np.int8,
    "width": np.float32,
    "lit": np.int8,
    "wheelchair": np.int8,
    "wheelchair_limited": np.bool_,
    "step_count": np.int16,
    "ramp": np.int8,
    "handrail": np.int8,
    "tactile_guide": np.int8,
    "closed": np.bool_,
    "conveying": np.bool_,
    "tunnel": np.bool_,
    "bridge": np.bool_,
    "crossing_kind": np.int8,
    "crossing_sound": np.int8,
    "crossing_vibration": np.int8,
    "crossing_tactile": np.int8,
    "crossing_kerb": np.int8,
    "crossing_kerb_height": np.float32,
    "crossing_road_class": np.int8,
    "crossing_share": np.float32,
    # Sustained grades (steepest stretch over the grade window, both >= 0, travel direction).
    "grade_max_up": np.float32,
    "grade_max_down": np.float32,
    # Built sidewalks and crossings (see routing.graph.sidewalks).
    "built": np.bool_,
    "crossing_built": np.bool_,
    "crossing_island": np.bool_,
    "lanes": np.int8,
    "maxspeed": np.int16,
    "oneway": np.bool_,
    "rails": np.bool_,
    # Level tram/railway lines this edge's line crosses (geometry, shared node or not).
    "rail_crossings": np.int8,
    "street_side": np.int8,
}
NODE_FIELDS: dict[str, type] = {
    "elevation": np.float32,
    "crossing_kind": np.int8,
    "crossing_sound": np.int8,
    "crossing_vibration": np.int8,
    "crossing_tactile": np.int8,
    "crossing_road_class": np.int8,
    "kerb": np.int8,
    "kerb_height": np.float32,
    "has_kerb": np.bool_,
    "elevator": np.bool_,
    "out_of_service": np.bool_,
    "wheelchair_barrier": np.bool_,
    "wheelchair": np.int8,
    "closed": np.bool_,
    "level": np.str_,  # OSM ``level`` of the node (elevators: the levels served)
}


@dataclass
class CompiledGraph:
    """A directed walking graph as arrays.

    Attributes
    ----------
    node_osmid, node_lat, node_lon
        Per node (index 0..n-1).
    edge_u, edge_v
        Tail and head node index of each directed edge.
    edge_name
        Index into ``names`` (the street name table; "" for unnamed).
    geometry_offsets, geometry
        Edge ``i``'s (lat, lon) points are ``geometry[offsets[i]:offsets[i+1]]``.
    edge, node
        Dicts of per-edge / per-node attribute arrays (see ``EDGE_FIELDS``/``NODE_FIELDS``).
    meta
        Build facts: source files, options, import report, cache key.
    """

    node_osmid: np.ndarray
    node_lat: np.ndarray
    node_lon: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_name: np.ndarray
    names: np.ndarray
    geometry_offsets: np.ndarray
    geometry: np.ndarray
    edge: dict[str, np.ndarray] = field(default_factory=dict)
    node: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    # Landmarks (bus stops, tram stops, metro entrances) for instructions.
    landmark_lat: np.ndarray = field(default_factory=lambda: np.zeros(0))
    landmark_lon: np.ndarray = field(default_factory=lambda: np.zeros(0))
    landmark_kind: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    landmark_name: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))

    def landmark_xy(self, lat, lon) -> np.ndarray:
        """Metres of the local plane landmarks are measured in (see
        :class:`routing.instructions.LandmarkCells`)."""
        return self._landmark_projection.forward(lat, lon)

    @cached_property
    def _landmark_projection(self) -> LocalProjection:
        if not self.n_nodes:
            return LocalProjection(0.0, 0.0)
        return LocalProjection(float(np.mean(self.node_lat)), float(np.mean(self.node_lon)))

    @property
    def n_nodes(self) -> int:
        return len(self.node_osmid)

    @property
    def n_edges(self) -> int:
        return len(self.edge_u)

    def edge_geometry(self, i: int) -> np.ndarray:
        return self.geometry[self.geometry_offsets[i] : self.geometry_offsets[i + 1]]

    def bounds(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of the nodes."""
        return (
            float(self.node_lat.min()),
            float(self.node_lon.min()),
            float(self.node_lat.max()),
            float(self.node_lon.max()),
        )

    # -- building -----------------------------------------------------------------------
    @classmethod
    def from_networkx(cls, graph: nx.MultiDiGraph, *, meta: dict | None = None) -> CompiledGraph:
        """Compile a graph made by :func:`routing.graph.build.build_walk_graph`."""
        nodes = list(graph.nodes)
        index = {n: i for i, n in enumerate(nodes)}
        data = graph.nodes
        edges = list(graph.edges(data=True))
        names_list = sorted({d.get("name", "") for _, _, d in edges} | {""})
        name_index = {s: i for i, s in enumerate(names_list)}
        lengths = np.fromiter((len(d["geometry"]) for _, _, d in edges), np.int64, len(edges))
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        geometry = np.array(
            [pt for _, _, d in edges for pt in d["geometry"]], dtype=np.float64
        ).reshape(-1, 2)
        return cls(
            node_osmid=np.array(nodes, dtype=np.int64),
            node_lat=np.array([data[n]["y"] for n in nodes], dtype=np.float64),
            node_lon=np.array([data[n]["x"] for n in nodes], dtype=np.float64),
            edge_u=np.array([index[u] for u, _, _ in edges], dtype=np.int32),
            edge_v=np.array([index[v] for _, v, _ in edges], dtype=np.int32),
            edge_name=np.array([name_index[d.get("name", "")] for _, _, d in edges], np.int32),
            names=np.array(names_list, dtype=str),
            geometry_offsets=offsets,
            geometry=geometry,
            edge=_columns([d for _, _, d in edges], EDGE_FIELDS),
            node={
                k: np.array([data[n][k] for n in nodes], dtype=t) for k, t in NODE_FIELDS.items()
            },
            meta=dict(meta or {}),
            **_landmarks(graph.graph.get("landmarks", [])),
        )

    # -- disk ---------------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        arrays = {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("edge", "node", "meta")
        }
        arrays.update({f"edge__{k}": v for k, v in self.edge.items()})
        arrays.update({f"node__{k}": v for k, v in self.node.items()})
        arrays["meta_json"] = np.array(json.dumps({**self.meta, "format": FORMAT_VERSION}))
        np.savez(Path(path), **arrays)  # load_or_build writes it atomically

    @classmethod
    def load(cls, path: str | Path) -> CompiledGraph:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta_json"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ValueError(f"{path}: cache format {meta.get('format')} != {FORMAT_VERSION}")
            plain = {
                f.name: z[f.name] for f in fields(cls) if f.name not in ("edge", "node", "meta")
            }
            edge = {k[6:]: z[k] for k in z.files if k.startswith("edge__")}
            node = {k[6:]: z[k] for k in z.files if k.startswith("node__")}
        return cls(**plain, edge=edge, node=node, meta=meta)

    # -- oracle / baseline --------------------------------------------------------------
    def to_networkx(self, weights: np.ndarray | None = None, *, weight: str = "weight"):
        """A MultiDiGraph (osmnx-style) with ``weight`` per edge; inf-weight edges left out."""
        import networkx as nx  # oracles and baselines only

        graph = nx.MultiDiGraph(crs="epsg:4326")
        for i in range(self.n_nodes):
            graph.add_node(i, x=float(self.node_lon[i]), y=float(self.node_lat[i]))
        w = self.edge["length"] if weights is None else weights
        for e in np.flatnonzero(np.isfinite(w)):
            graph.add_edge(
                int(self.edge_u[e]),
                int(self.edge_v[e]),
                key=int(e),
                **{weight: float(w[e]), "length": float(self.edge["length"][e])},
            )
        return graph


def _columns(rows: list[dict], spec: dict[str, type]) -> dict[str, np.ndarray]:
    """Typed column arrays from a list of attribute dicts (one itemgetter call per row)."""
    if not rows:
        return {k: np.zeros(0, dtype=t) for k, t in spec.items()}
    get = itemgetter(*spec)
    columns = zip(*map(get, rows), strict=True)
    return {k: np.array(col, dtype=t) for (k, t), col in zip(spec.items(), columns, strict=True)}


def _landmarks(rows: list[tuple[float, float, str, str]]) -> dict[str, np.ndarray]:
    return {
        "landmark_lat": np.array([r[0] for r in rows], dtype=np.float64),
        "landmark_lon": np.array([r[1] for r in rows], dtype=np.float64),
        "landmark_kind": np.array([r[2] for r in rows], dtype=str),
        "landmark_name": np.array([r[3] for r in rows], dtype=str),
    }
