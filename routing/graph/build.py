"""Build the directed walking graph (networkx, osmnx-compatible) from imported OSM data.

Topology: a way is split at every node it shares with another way, at its ends, and at
every node that carries a fact a cost model reads (crossing, kerb, signal, elevator,
barrier), so node facts stay visible as graph nodes. Each piece becomes two directed
edges (one unless ``oneway:foot``/``conveying`` says otherwise), with the grade per
direction.

Grade method (SRTM cells are ~90 m, so a 10 m edge's end heights are mostly noise): the
DEM is sampled every ``sample_step_m`` along each way with bilinear interpolation, and an
edge's grade is the height difference across a window of at least ``grade_window_m``
centred on the edge along the same way (the whole way when it is shorter). A numeric OSM
``incline`` tag overrides the DEM. Without a DEM the grade stays unknown (NaN).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import networkx as nx
import numpy as np

from routing.geo import haversine_m
from routing.graph import attributes as at
from routing.graph import sidewalks as sw
from routing.graph.osm_data import OsmData, OsmWay
from routing.graph.sidewalks import Piece
from routing.tristate import NO, UNKNOWN, YES

#: Node tags that make a node a graph node even in the middle of a way.
_NODE_FACT_KEYS = frozenset(
    {
        "crossing",
        "kerb",
        "kerb:height",
        "curb",  # Helsinki's spelling (read like kerb): a kerb mid-way splits the way there
        "curb:height",
        "barrier",
        "tactile_paving",
        "traffic_signals:sound",
        "traffic_signals:vibration",
        "wheelchair",
        "elevator",
        "entrance",
        "operational_status",
    }
)
_NODE_FACT_HIGHWAYS = frozenset({"crossing", "traffic_signals", "elevator", "stop"})
#: Barriers a wheelchair cannot pass.
WHEELCHAIR_BARRIERS = frozenset(
    {
        "turnstile",
        "full-height_turnstile",
        "stile",
        "kissing_gate",
        "cycle_barrier",
        "step",
        "log",
        "wall",
        "fence",
        "block",
    }
)
STAIR_PITCH = 0.58  # tan(30 degrees)
_CLOSED_STATUS = frozenset({"out_of_service", "closed", "broken"})


def _is_fact_node(tags: dict[str, str] | None) -> bool:
    if not tags:
        return False
    return bool(_NODE_FACT_KEYS & tags.keys()) or tags.get("highway") in _NODE_FACT_HIGHWAYS


def _node_road_class(data: OsmData) -> dict[int, int]:
    """Highest class of road passing through each node (for crossings), walkable or not."""
    best: dict[int, int] = {}
    for way in [*data.ways, *data.crossed_ways]:
        rc = at.road_class(way.tags)
        if rc:
            for n in way.nodes.tolist():
                if best.get(n, 0) < rc:
                    best[n] = rc
    return best


def _crossing_facts(way: OsmWay, data: OsmData, road_class_at: dict[int, int]) -> dict:
    """Merge a crossing way's tags with those of its crossing and kerb nodes."""
    node_tags = [data.node_tags.get(n, {}) for n in way.nodes.tolist()]
    sources = [way.tags, *node_tags]
    kind = max(at.crossing_kind(t) for t in sources)
    if not any(at.is_no_crossing(t) for t in sources):
        kind = max(kind, at.CROSSING_UNKNOWN)
    sound = at.merge_tri(
        [at.tri(t.get("traffic_signals:sound"), yes=("yes", "locate", "walk")) for t in sources]
    )
    vibration = at.merge_tri([at.tri(t.get("traffic_signals:vibration")) for t in sources])
    tactile = at.merge_tri(
        [
            at.tri(t.get("tactile_paving"), yes=("yes", "contrasted"), no=("no", "incorrect"))
            for t in sources
        ]
    )
    # Kerb: a raised kerb anywhere blocks; known only when both ends (or the way) say so.
    kerbs = [at.kerb_code(t) for t in node_tags if at.has_kerb_info(t)]
    way_kerb = at.kerb_code(way.tags) if at.has_kerb_info(way.tags) else None
    if way_kerb is not None:
        kerbs.append(way_kerb)
    heights = [h for _, h in kerbs if not math.isnan(h)]
    kinds = [k for k, _ in kerbs]
    if at.KERB_RAISED in kinds:
        kerb = at.KERB_RAISED
    elif kinds and (way_kerb is not None or len(kinds) >= 2) and at.KERB_UNKNOWN not in kinds:
        kerb = max(kinds)
    else:
        kerb = at.KERB_UNKNOWN
    interior = way.nodes.tolist()
    crossed = max((road_class_at.get(n, 0) for n in interior), default=0)
    return {
        "crossing_kind": kind,
        "crossing_sound": sound,
        "crossing_vibration": vibration,
        "crossing_tactile": tactile,
        "crossing_kerb": kerb,
        "crossing_kerb_height": max(heights) if heights else math.nan,
        "crossing_road_class": crossed,
        "crossing_island": any(at.has_island(t) for t in sources),
    }


#: Edge attributes that only built sidewalks and crossings set; defaults for other edges.
_BUILT_DEFAULTS = {
    "crossing_built": False,
    "lanes": -1,
    "maxspeed": -1,
    "oneway": False,
    "street_side": 0,
    "built": False,
    "rail_crossings": 0,
}


def _way_attributes(way: OsmWay) -> dict:
    tags = way.tags
    access = tags.get("access")
    foot = tags.get("foot")
    closed = (
        tags.get("operational_status") in _CLOSED_STATUS
        or foot in ("no", "private")
        or (access in ("no", "private") and foot not in ("yes", "designated", "permissive"))
    )
    step_count = tags.get("step_count", "")
    ramp = ramp_code(tags)
    handrail = at.merge_tri(
        [
            at.tri(tags.get(k))
            for k in ("handrail", "handrail:left", "handrail:right", "handrail:center")
        ]
    )
    width = at.parse_length_m(tags.get("width") or tags.get("est_width"))
    return {
        "osmid": way.id,
        "highway": tags.get("highway", tags.get("public_transport", "")),
        "name": tags.get("name", ""),
        "kind": at.way_kind(tags),
        "road_class": at.road_class(tags),
        "sidewalk": at.sidewalk_code(tags),
        "surface": at.surface_code(tags.get("surface")),
        "smoothness": at.smoothness_code(tags.get("smoothness")),
        "width": width,
        "lit": at.tri(tags.get("lit"), yes=("yes", "24/7", "automatic", "limited")),
        "wheelchair": at.tri(tags.get("wheelchair"), yes=("yes", "designated"), no=("no",)),
        "wheelchair_limited": tags.get("wheelchair") == "limited",
        "step_count": int(step_count) if step_count.isdigit() else -1,
        "ramp": ramp,
        "handrail": handrail,
        "tactile_guide": at.tri(
            tags.get("tactile_paving"), yes=("yes", "contrasted"), no=("no", "incorrect")
        ),
        "closed": closed,
        "conveying": tags.get("conveying", "") in ("yes", "forward", "backward", "reversible"),
        "tunnel": tags.get("tunnel", "no") not in ("no", ""),
        "bridge": tags.get("bridge", "no") not in ("no", ""),
        "rails": at.has_embedded_rails(tags),
    }


def ramp_code(tags: dict[str, str]) -> int:
    """Whether a wheelchair can roll along these steps (a ramp on or beside them).

    ``ramp:wheelchair`` decides when present: ``yes`` = a wheelchair ramp, ``no`` = none
    (even with ``ramp=yes``), ``separate`` = the ramp is mapped as its own way, so these
    steps are *not* rollable. ``ramp=yes`` alone counts only when it is not explained as a
    ramp for bicycles or strollers (a bicycle channel is not a wheelchair ramp); then it is
    unknown. ``ramp=no`` is no.
    """
    wheelchair = tags.get("ramp:wheelchair")
    if wheelchair == "yes":
        return YES
    if wheelchair in ("no", "separate"):
        return NO
    ramp = tags.get("ramp")
    if ramp == "no":
        return NO
    if ramp == "yes":
        others = [tags.get(k) for k in ("ramp:bicycle", "ramp:stroller", "ramp:luggage")]
        return UNKNOWN if "yes" in others else YES
    return UNKNOWN


def build_walk_graph(
    data: OsmData,
    *,
    elevation=None,
    grade_window_m: float = 90.0,
    sample_step_m: float = 15.0,
    progress: Callable[[str], None] | None = None,
) -> nx.MultiDiGraph:
    """Build the directed walking graph.

    Parameters
    ----------
    data
        Imported OSM data, with overlays already applied to its tags.
    elevation
        An object with ``sample(lat, lon) -> heights`` (an ``ElevationModel``), or None.
    grade_window_m
        Minimum along-way window over which an edge's grade is measured.
    sample_step_m
        Spacing of DEM samples along each way.
    progress
        Called with short progress messages on long builds.

    Returns
    -------
    networkx.MultiDiGraph
        osmnx-style graph (``crs``, node ``x``/``y``) whose nodes carry ``elevation`` and
        node facts and whose edges carry ``length``, ``grade`` and accessibility codes.
    """
    say = progress or (lambda _msg: None)
    node_pos = {int(n): i for i, n in enumerate(data.node_ids.tolist())}
    all_refs = np.concatenate([w.nodes for w in data.ways]) if data.ways else np.zeros(0, int)
    uniq, counts = np.unique(all_refs, return_counts=True)
    is_graph_node = dict(zip(uniq.tolist(), (counts >= 2).tolist(), strict=True))
    for way in data.ways:
        is_graph_node[int(way.nodes[0])] = True
        is_graph_node[int(way.nodes[-1])] = True
    for n, tags in data.node_tags.items():
        if n in is_graph_node and _is_fact_node(tags):
            is_graph_node[n] = True
    for way in data.crossed_ways:  # a walkway meets a tram line or closed road here
        for n in way.nodes.tolist():
            if n in is_graph_node:
                is_graph_node[n] = True
    road_class_at = _node_road_class(data)

    # One DEM call for every way's samples: nodes plus points every sample_step_m.
    say(f"sampling elevation along {len(data.ways):,} ways")
    profiles = []
    sample_lat, sample_lon = [], []
    offset = 0
    for way in data.ways:
        idx = np.fromiter((node_pos[n] for n in way.nodes.tolist()), np.int64, len(way.nodes))
        lat, lon = data.node_lat[idx], data.node_lon[idx]
        cum = np.concatenate([[0.0], np.cumsum(haversine_m(lat[:-1], lon[:-1], lat[1:], lon[1:]))])
        dense = np.union1d(cum, np.arange(0.0, cum[-1], sample_step_m))
        sample_lat.append(np.interp(dense, cum, lat))
        sample_lon.append(np.interp(dense, cum, lon))
        profiles.append((idx, cum, dense, offset))
        offset += len(dense)
    if elevation is not None and offset:
        heights = elevation.sample(np.concatenate(sample_lat), np.concatenate(sample_lon))
        node_z = elevation.sample(data.node_lat, data.node_lon)
    else:
        heights = np.full(offset, np.nan)
        node_z = np.full(len(data.node_ids), np.nan)

    say("splitting ways into pieces")
    pieces: list[Piece] = []
    crossing_way_facts: dict[int, dict] = {}
    for way, (idx, cum, dense, start) in zip(data.ways, profiles, strict=True):
        z = heights[start : start + len(dense)]
        attrs = {**_way_attributes(way), **_BUILT_DEFAULTS}
        if attrs["kind"] == at.WAY_KIND["crossing"]:
            crossing = _crossing_facts(way, data, road_class_at)
            crossing_way_facts[way.id] = crossing
        else:
            crossing = at.no_crossing_facts()
        incline = at.parse_incline(way.tags.get("incline"))
        if attrs["kind"] == at.WAY_KIND["steps"]:
            # On steps "incline" only says which way is up: keep the direction at a typical
            # stair pitch (30 degrees), so instructions can say "up" or "down".
            word = way.tags.get("incline", "")
            up = word == "up" or (not math.isnan(incline) and incline > 0)
            down = word == "down" or (not math.isnan(incline) and incline < 0)
            incline = STAIR_PITCH if up else -STAIR_PITCH if down else math.nan
        refs = way.nodes.tolist()
        cut = [i for i, n in enumerate(refs) if is_graph_node.get(n)]
        total = cum[-1]
        oneway_foot = way.tags.get("oneway:foot") == "yes" or way.tags.get("conveying") in (
            "forward",
            "backward",
        )
        for i, j in zip(cut[:-1], cut[1:], strict=True):
            u, v = refs[i], refs[j]
            length = float(cum[j] - cum[i])
            if u == v and length == 0.0:
                continue
            grade, source = math.nan, 0
            up = down = math.nan
            if not math.isnan(incline):
                grade, source = incline, 2
                up, down = max(grade, 0.0), max(-grade, 0.0)
            elif np.isfinite(z).all() and total > 0:
                mid, half = (cum[i] + cum[j]) / 2, max(grade_window_m, length) / 2
                a, b = max(0.0, mid - half), min(total, mid + half)
                if b - a < 2 * half:  # clipped at a way end: shift the window inward
                    a, b = max(0.0, b - 2 * half), min(total, a + 2 * half)
                if b > a:
                    grade = float((np.interp(b, dense, z) - np.interp(a, dense, z)) / (b - a))
                    source = 1
                    up, down = _sustained_grades(
                        dense, z, cum[i], cum[j], grade, window_m=grade_window_m
                    )
            geometry = list(
                zip(
                    data.node_lat[idx[i : j + 1]].tolist(),
                    data.node_lon[idx[i : j + 1]].tolist(),
                    strict=True,
                )
            )
            common = {
                **attrs,
                **crossing,
                "length": length,
                "crossing_share": length / total if total > 0 else 1.0,
                "grade_source": source,
            }
            pieces.append(
                Piece(
                    way_id=way.id,
                    tags=way.tags,
                    attrs=common,
                    u=u,
                    v=v,
                    geometry=geometry,
                    grade=grade,
                    grade_max_up=up,
                    grade_max_down=down,
                    oneway=oneway_foot,
                    reverse_only=way.tags.get("conveying") == "backward",
                )
            )

    say("building sidewalks and crossings")
    node_latlon = {
        n: (float(data.node_lat[node_pos[n]]), float(data.node_lon[node_pos[n]]))
        for n in is_graph_node
        if is_graph_node[n]
    }
    expanded = sw.expand(
        pieces,
        crossed_arms=_crossed_arms(data, node_pos, is_graph_node),
        node_tags=data.node_tags,
        node_latlon=node_latlon,
        crossing_way_facts=crossing_way_facts,
        tram_lines=[
            list(zip(data.node_lat[idx].tolist(), data.node_lon[idx].tolist(), strict=True))
            for w in data.crossed_ways
            if at.has_embedded_rails(w.tags) and sw.is_level(w.tags)
            for idx in [np.searchsorted(data.node_ids, w.nodes)]
        ],
    )
    graph = nx.MultiDiGraph(crs="epsg:4326", name="walk")
    graph.graph["sidewalk_report"] = expanded.report
    graph.graph["landmarks"] = list(data.landmarks)
    keys: dict[tuple[int, int], int] = {}  # our own edge keys: networkx's are slow here

    def edges():
        for p in expanded.pieces + expanded.crossings:
            common = {**_BUILT_DEFAULTS, **p.attrs}
            forward = (p.u, p.v, p.grade, p.grade_max_up, p.grade_max_down, p.geometry)
            backward = (p.v, p.u, -p.grade, p.grade_max_down, p.grade_max_up, p.geometry[::-1])
            directions = [forward] if p.oneway and not p.reverse_only else [forward, backward]
            if p.oneway and p.reverse_only:
                directions = [backward]
            for a_node, b_node, g, up, down, geom in directions:
                key = keys[a_node, b_node] = keys.get((a_node, b_node), -1) + 1
                yield a_node, b_node, key, {
                    **common, "grade": g, "grade_max_up": up, "grade_max_down": down,
                    "geometry": geom,
                }  # fmt: skip

    graph.add_edges_from(edges())

    say(f"annotating {graph.number_of_nodes():,} nodes")
    for n in graph.nodes:
        corner = expanded.corners.get(n)
        if corner is not None:  # a corner keeps its junction's non-crossing facts
            continue
        i = node_pos[n]
        tags = data.node_tags.get(n, {})
        kerb, kerb_height = (
            at.kerb_code(tags) if at.has_kerb_info(tags) else (at.KERB_UNKNOWN, math.nan)
        )
        ckind = at.crossing_kind(tags)
        graph.nodes[n].update(
            x=float(data.node_lon[i]),
            y=float(data.node_lat[i]),
            elevation=float(node_z[i]),
            street_count=graph.out_degree(n),
            crossing_kind=ckind,
            crossing_sound=at.tri(tags.get("traffic_signals:sound"), yes=("yes", "locate", "walk")),
            crossing_vibration=at.tri(tags.get("traffic_signals:vibration")),
            crossing_tactile=at.tri(
                tags.get("tactile_paving"), yes=("yes", "contrasted"), no=("no", "incorrect")
            ),
            crossing_road_class=road_class_at.get(n, 0),
            kerb=kerb,
            kerb_height=kerb_height,
            has_kerb=at.has_kerb_info(tags),
            elevator=tags.get("highway") == "elevator" or tags.get("elevator") == "yes",
            level=tags.get("level", ""),
            out_of_service=tags.get("operational_status") in _CLOSED_STATUS,
            wheelchair_barrier=tags.get("barrier") in WHEELCHAIR_BARRIERS,
            wheelchair=at.tri(tags.get("wheelchair"), yes=("yes", "designated")),
            closed=tags.get("access") in ("no", "private") or tags.get("foot") == "no",
        )
    for n, (junction, lat, lon) in expanded.corners.items():
        if n not in graph:
            continue
        i = node_pos[junction]
        tags = data.node_tags.get(junction, {})
        # A kerb mapped on the junction node stands at each of its corners.
        kerb, kerb_height = (
            at.kerb_code(tags) if at.has_kerb_info(tags) else (at.KERB_UNKNOWN, math.nan)
        )
        graph.nodes[n].update(
            x=lon,
            y=lat,
            elevation=float(node_z[i]),
            street_count=graph.out_degree(n),
            crossing_kind=at.CROSSING_NONE,
            crossing_sound=UNKNOWN,
            crossing_vibration=UNKNOWN,
            crossing_tactile=UNKNOWN,
            crossing_road_class=0,
            kerb=kerb,
            kerb_height=kerb_height,
            has_kerb=at.has_kerb_info(tags),
            elevator=False,
            out_of_service=False,
            wheelchair_barrier=tags.get("barrier") in WHEELCHAIR_BARRIERS,
            wheelchair=UNKNOWN,
            closed=False,
            level="",
        )
    return graph


def _sustained_grades(
    dense: np.ndarray, z: np.ndarray, s0: float, s1: float, grade: float, *, window_m: float
) -> tuple[float, float]:
    """Steepest uphill and downhill (both >= 0) over any ``window_m`` stretch in [s0, s1].

    An edge shorter than the window keeps its (windowed) average grade.
    """
    if s1 - s0 <= window_m:
        return max(grade, 0.0), max(-grade, 0.0)
    starts = np.append(dense[(dense >= s0) & (dense <= s1 - window_m)], s1 - window_m)
    rise = np.interp(starts + window_m, dense, z) - np.interp(starts, dense, z)
    g = rise / window_m
    return max(float(g.max()), grade, 0.0), max(float(-g.min()), -grade, 0.0)


def _crossed_arms(
    data: OsmData, node_pos: dict[int, int], is_graph_node: dict[int, bool]
) -> dict[int, list[sw.Arm]]:
    """Arms of crossed-only ways (tram lines, busways, closed roads) at walkable nodes."""
    out: dict[int, list[sw.Arm]] = {}
    for way in data.crossed_ways:
        refs = way.nodes.tolist()
        rails = at.has_embedded_rails(way.tags)
        rc = at.road_class(way.tags)
        if way.tags.get("highway") in ("busway", "bus_guideway"):
            rc = 2
        name = way.tags.get("name") or way.tags.get("ref", "")
        offset = sw.RAIL_OFFSET_M if rc == 0 else sw.side_offset_m(way.tags)
        for k, n in enumerate(refs):
            if not is_graph_node.get(n):
                continue
            here = (data.node_lat[node_pos[n]], data.node_lon[node_pos[n]])
            for j in (k - 1, k + 1):
                if 0 <= j < len(refs) and refs[j] != n:
                    there = (data.node_lat[node_pos[refs[j]]], data.node_lon[node_pos[refs[j]]])
                    out.setdefault(n, []).append(
                        sw.Arm(sw.bearing(here, there), rc, name, way.tags, offset, rails)
                    )
    return out
