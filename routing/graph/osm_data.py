"""The in-memory form of an OSM extract after import, before the graph is built.

Only walkable ways and the tags that matter for accessibility are kept. Overlays patch
these tags before the graph is built, so that every accessibility rule reads one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OsmWay:
    """One walkable OSM way: its id, node ids in order, and kept tags."""

    id: int
    nodes: np.ndarray  # int64 OSM node ids, in way order, only nodes present in the file
    tags: dict[str, str]


@dataclass
class OsmData:
    """Walkable ways of an OSM extract with the coordinates of the nodes they use.

    Attributes
    ----------
    node_ids
        Sorted int64 OSM ids of every node referenced by a kept way.
    node_lat, node_lon
        WGS84 coordinates aligned with ``node_ids``.
    node_tags
        Kept tags of nodes that have any (crossings, kerbs, signals, elevators, ...).
    ways
        Kept walkable ways.
    crossed_ways
        Ways not walked along but crossed where they share a node with a walkable way
        (roads closed to pedestrians, busways, tram and railway lines).
    landmarks
        ``(lat, lon, kind, name)`` of bus stops, tram stops and metro entrances.
    report
        Counts of what the import read and dropped (e.g. ``dangling_node_refs``).
    """

    node_ids: np.ndarray
    node_lat: np.ndarray
    node_lon: np.ndarray
    node_tags: dict[int, dict[str, str]] = field(default_factory=dict)
    ways: list[OsmWay] = field(default_factory=list)
    crossed_ways: list[OsmWay] = field(default_factory=list)
    landmarks: list[tuple[float, float, str, str]] = field(default_factory=list)
    report: dict[str, int] = field(default_factory=dict)

    def node_index(self, osm_ids: np.ndarray) -> np.ndarray:
        """Positions of ``osm_ids`` in ``node_ids`` (all must be present)."""
        return np.searchsorted(self.node_ids, osm_ids)
