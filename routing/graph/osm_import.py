"""Read walkable ways and their accessibility tags from an OSM file (.osm.pbf, .osm, .osm.bz2).

Bounding-box extracts reference nodes that lie outside the file. A way keeps every run of
two or more consecutive nodes that are present; the missing references, the ways cut into
pieces and the ways dropped whole are counted in the report, so nothing vanishes silently.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import osmium

from routing.errors import DataError
from routing.graph.osm_data import OsmData, OsmWay

#: Tags kept on ways and nodes: everything an accessibility rule or an instruction reads.
KEPT_TAG_KEYS = frozenset(
    {
        "highway",
        "footway",
        "sidewalk",
        "sidewalk:left",
        "sidewalk:right",
        "sidewalk:both",
        "crossing",
        "crossing:markings",
        "crossing:island",
        "crossing_ref",
        "crossing:signals",
        "kerb",
        "kerb:height",
        "barrier",
        "tactile_paving",
        "traffic_signals",
        "traffic_signals:sound",
        "traffic_signals:vibration",
        "traffic_signals:arrow",
        "button_operated",
        "wheelchair",
        "ramp",
        "ramp:wheelchair",
        "ramp:stroller",
        "step_count",
        "handrail",
        "handrail:left",
        "handrail:right",
        "handrail:center",
        "incline",
        "surface",
        "smoothness",
        "width",
        "est_width",
        "lit",
        "level",
        "layer",
        "tunnel",
        "bridge",
        "name",
        "name:en",
        "name:ru",
        "name:kk",
        "ref",
        "access",
        "foot",
        "conveying",
        "elevator",
        "opening_hours",
        "operational_status",
        "area",
        "oneway:foot",
        "public_transport",
        "railway",
        "amenity",
        "entrance",
        "door",
        "service",
        "indoor",
        "curb",
        "curb:height",
        "embedded_rails",
        "lanes",
        "maxspeed",
        "oneway",
        "ramp:bicycle",
        "segregated",
    }
)

#: Streets a pedestrian walks beside and crosses: a sidewalk network is built along them.
STREET_HIGHWAYS = frozenset(
    {
        "residential",
        "unclassified",
        "road",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
        "trunk",
        "trunk_link",
    }
)
#: Ways nobody walks along but a pedestrian may have to cross where a walkway meets them:
#: roads closed to pedestrians (``foot=no``, ``foot=use_sidepath``, motorways), busways and
#: tram and railway lines. They become road arms at shared nodes (see ``sidewalks.py``).
CROSSED_HIGHWAYS = STREET_HIGHWAYS | {"motorway", "motorway_link", "busway", "bus_guideway"}
CROSSED_RAILWAYS = frozenset({"tram", "light_rail", "rail", "narrow_gauge"})

#: highway values a pedestrian may use (motorways and proposals are not walkable).
WALKABLE_HIGHWAYS = STREET_HIGHWAYS | {
    "footway",
    "pedestrian",
    "path",
    "steps",
    "living_street",
    "service",
    "track",
    "corridor",
    "elevator",
    "crossing",
    "platform",
    "cycleway",
    "bridleway",
}

_NO_ACCESS = frozenset({"no", "private", "use_sidepath", "discouraged"})
_YES_ACCESS = frozenset({"yes", "designated", "permissive", "destination"})

SUPPORTED_SUFFIXES = (".osm.pbf", ".pbf", ".osm", ".osm.bz2", ".osm.gz", ".xml")


def is_walkable(tags: dict[str, str]) -> bool:
    """Whether a way with these tags is part of the pedestrian network."""
    highway = tags.get("highway")
    if highway not in WALKABLE_HIGHWAYS:
        # Platforms and railway crossings are walked too even without a highway tag.
        return tags.get("public_transport") == "platform" or tags.get("railway") == "platform"
    foot = tags.get("foot")
    if foot in _NO_ACCESS:
        return False
    if tags.get("access") in _NO_ACCESS and foot not in _YES_ACCESS:
        return False
    if highway == "cycleway" and foot not in _YES_ACCESS:
        return False
    if highway == "bridleway" and foot not in _YES_ACCESS:
        return False
    # A road with sidewalk=separate stays walkable; cost models price it as carriageway.
    return True


def is_crossed_only(tags: dict[str, str]) -> bool:
    """A way that is not walked along but is crossed where walkways meet it (not in a tunnel
    or on a bridge, where walkways pass over or under it)."""
    if tags.get("tunnel", "no") not in ("no", "") or tags.get("bridge", "no") not in ("no", ""):
        return False
    return tags.get("highway") in CROSSED_HIGHWAYS or tags.get("railway") in CROSSED_RAILWAYS


#: Points a blind traveller can confirm their position by, announced near steps.
LANDMARK_KINDS = ("bus_stop", "tram_stop", "metro_entrance")


def landmark_kind(tags) -> str:
    """``bus_stop``, ``tram_stop``, ``metro_entrance`` or "" for a node's tags."""
    if tags.get("railway") == "subway_entrance":
        return "metro_entrance"
    if tags.get("railway") == "tram_stop":
        return "tram_stop"
    if tags.get("highway") == "bus_stop":
        return "bus_stop"
    return ""


def _keep(tags: osmium.osm.TagList) -> dict[str, str]:
    return {t.k: t.v for t in tags if t.k in KEPT_TAG_KEYS}


def read_osm(path: str | os.PathLike) -> OsmData:
    """Read the walkable network of an OSM file.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.

    Returns
    -------
    OsmData
        Walkable ways cut to the nodes present in the file, node coordinates and tags, and a
        ``report`` with ``nodes_read``, ``ways_read``, ``walkable_ways``,
        ``dangling_node_refs`` (references to nodes missing from the file),
        ``ways_trimmed`` (ways split or shortened around missing nodes) and
        ``ways_dropped`` (walkable ways with fewer than two present nodes).

    Raises
    ------
    DataError
        If the file is missing, has an unsupported name, or cannot be parsed.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"OSM file not found: {path}", path=str(path))
    if not str(path).lower().endswith(SUPPORTED_SUFFIXES):
        raise DataError(
            f"{path}: unsupported OSM file type (use .osm.pbf, .osm or .osm.bz2)", path=str(path)
        )

    node_ids: list[int] = []
    node_lat: list[float] = []
    node_lon: list[float] = []
    node_tags: dict[int, dict[str, str]] = {}
    raw_ways: list[tuple[int, list[int], dict[str, str]]] = []
    raw_crossed: list[tuple[int, list[int], dict[str, str]]] = []
    landmarks: list[tuple[float, float, str, str]] = []
    ways_read = 0
    try:
        for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
            if obj.is_node():
                loc = obj.location
                if not loc.valid():
                    continue
                node_ids.append(obj.id)
                node_lat.append(loc.lat)
                node_lon.append(loc.lon)
                if len(obj.tags):
                    kept = _keep(obj.tags)
                    if kept:
                        node_tags[obj.id] = kept
                    kind = landmark_kind(obj.tags)
                    if kind:
                        landmarks.append((loc.lat, loc.lon, kind, obj.tags.get("name", "")))
            elif obj.is_way():
                ways_read += 1
                tags = _keep(obj.tags)
                if is_walkable(tags):
                    raw_ways.append((obj.id, [n.ref for n in obj.nodes], tags))
                elif is_crossed_only(tags):
                    raw_crossed.append((obj.id, [n.ref for n in obj.nodes], tags))
    except RuntimeError as exc:  # osmium reports parse errors as RuntimeError
        raise DataError(f"{path}: cannot read OSM data: {exc}", path=str(path)) from exc

    ids = np.asarray(node_ids, dtype=np.int64)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    lat = np.asarray(node_lat, dtype=np.float64)[order]
    lon = np.asarray(node_lon, dtype=np.float64)[order]
    present = set(node_ids)

    ways: list[OsmWay] = []
    dangling = trimmed = dropped = 0
    for way_id, refs, tags in raw_ways:
        runs: list[list[int]] = [[]]
        for ref in refs:
            if ref in present:
                runs[-1].append(ref)
            else:
                dangling += 1
                if runs[-1]:
                    runs.append([])
        usable = [r for r in runs if len(r) >= 2]
        if not usable:
            dropped += 1
            continue
        if len(usable) > 1 or sum(len(r) for r in usable) < len(refs):
            trimmed += 1
        for run in usable:
            ways.append(OsmWay(id=way_id, nodes=np.asarray(run, dtype=np.int64), tags=tags))

    used = np.unique(np.concatenate([w.nodes for w in ways])) if ways else ids[:0]
    # Crossed-only roads matter only where they share a node with the walkable network;
    # rail lines are kept whole: walkways crossing them with no shared node are found by
    # geometry (``sidewalks.count_rail_crossings``).
    walk_nodes = set(used.tolist())
    crossed: list[OsmWay] = []
    for way_id, refs, tags in raw_crossed:
        run = [r for r in refs if r in present]
        if len(run) >= 2 and (
            tags.get("railway") in CROSSED_RAILWAYS or walk_nodes.intersection(run)
        ):
            crossed.append(OsmWay(id=way_id, nodes=np.asarray(run, dtype=np.int64), tags=tags))
    if crossed:
        used = np.union1d(used, np.concatenate([w.nodes for w in crossed]))
    keep = np.isin(ids, used)
    kept_ids = ids[keep]
    kept_set = set(kept_ids.tolist())
    report = {
        "nodes_read": int(len(ids)),
        "ways_read": ways_read,
        "walkable_ways": len(raw_ways),
        "way_pieces": len(ways),
        "dangling_node_refs": dangling,
        "ways_trimmed": trimmed,
        "ways_dropped": dropped,
        "crossed_only_ways": len(crossed),
    }
    return OsmData(
        node_ids=kept_ids,
        node_lat=lat[keep],
        node_lon=lon[keep],
        node_tags={k: v for k, v in node_tags.items() if k in kept_set},
        ways=ways,
        crossed_ways=crossed,
        landmarks=landmarks,
        report=report,
    )
