"""Plain-language steps a screen reader can read aloud, built from a route's edges."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import accumulate

import numpy as np

from routing.arrays import pack_fields
from routing.cost.model import (
    UNKNOWN_CROSSING,
    UNKNOWN_KERB,
    UNKNOWN_NAMES,
    UNKNOWN_SIGNAL_SOUND,
    UNKNOWN_TACTILE,
)
from routing.geo import bearing_deg
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.tristate import UNKNOWN, WORDS

STEEP_GRADE = 0.05  # grades above this are announced
_SAID_IN_CROSSING = UNKNOWN_KERB | UNKNOWN_TACTILE | UNKNOWN_SIGNAL_SOUND | UNKNOWN_CROSSING


@dataclass
class RouteEdge:
    """One traversed (piece of an) edge."""

    edge: int
    fraction: float  # share of the edge's length traversed
    geometry: np.ndarray  # (lat, lon) points in travel direction
    seconds: float
    length_m: float


@dataclass
class Step:
    """One instruction. ``code`` and ``params`` are the data; ``instruction`` is their English
    rendering by :func:`render` (translations render the same data from their catalogues)."""

    instruction: str
    maneuver: str
    name: str
    distance_m: float = 0.0
    duration_s: float = 0.0
    location: tuple[float, float] = (0.0, 0.0)
    notes: list[str] = field(default_factory=list)
    kind: str = ""
    code: str = ""
    params: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "instruction": self.instruction + (" " + " ".join(self.notes) if self.notes else ""),
            "code": self.code or self.maneuver,
            "params": self.params,
            "maneuver": self.maneuver,
            "name": self.name,
            "kind": self.kind,
            "distance_m": round(self.distance_m, 1),
            "duration_s": round(self.duration_s, 1),
            "location": [round(float(self.location[0]), 6), round(float(self.location[1]), 6)],
        }


SIDE_NAMES = {1: "north", 2: "east", 3: "south", 4: "west"}
_CONTROL_WORDS = {
    "traffic_signals": "at traffic lights",
    "marked": "at a marked crossing without signals",
    "unmarked": "at an unmarked crossing",
    "unknown": "where no crossing is mapped (control not known)",
}


def _control(kind: int) -> str:
    return {
        at.CROSSING_SIGNALS: "traffic_signals",
        at.CROSSING_MARKED: "marked",
        at.CROSSING_UNMARKED: "unmarked",
    }.get(kind, "unknown")


def _kerb_word(kerb: int) -> str:
    return "unknown" if kerb == at.KERB_UNKNOWN else at.KERB_NAMES[kerb].split()[0]


def mapped_crossing_params(
    kind: int, sound: int, tactile: int, kerb: int, road: str, road_class: int
) -> dict:
    """Parameters of a crossing mapped as a crossing way or a node on a walkway."""
    return {
        "road": road,
        "road_class": at.ROAD_CLASS_NAMES.get(road_class, "path") if road_class else None,
        "lanes": None,
        "control": _control(kind),
        "audible": WORDS[sound] if kind == at.CROSSING_SIGNALS else None,
        "tactile": WORDS[tactile],
        "kerb": _kerb_word(kerb),
        "island": False,
        "rails": False,
        "mapped": True,
    }


#: The per-edge columns a crossing step reads, in the order :func:`_crossing_params` takes.
_CROSSING_COLUMNS = ("crossing_kind", "lanes", "crossing_road_class", "crossing_sound",
                     "crossing_tactile", "crossing_kerb", "crossing_island", "rails",
                     "rail_crossings", "crossing_built")  # fmt: skip


def crossing_params(graph: CompiledGraph, edge: int) -> dict:
    """The facts of a crossing edge, as stable codes and numbers (for any language)."""
    e = graph.edge
    return _crossing_params(str(graph.names[graph.edge_name[edge]]),
                            *(e[k][edge].item() for k in _CROSSING_COLUMNS))  # fmt: skip


def _crossing_params(road: str, kind: int, lanes: int, road_class: int, sound: int,
                     tactile: int, kerb: int, island: bool, rails: bool, rail_crossings: int,
                     built: bool) -> dict:  # fmt: skip
    return {
        "road": road,
        "road_class": at.ROAD_CLASS_NAMES.get(road_class, "path"),
        "lanes": lanes if lanes > 0 else None,
        "control": _control(kind),
        "audible": WORDS[sound] if kind == at.CROSSING_SIGNALS else None,
        "tactile": WORDS[tactile],
        "kerb": _kerb_word(kerb),
        "island": bool(island),
        "rails": bool(rails) or rail_crossings > 0,
        "mapped": not bool(built),
    }


def _cross_step(params: dict, name: str, location) -> Step:
    """A crossing announced as its own step (a crossing node, rails under a walkway)."""
    return Step(
        code="cross",
        params=params,
        instruction=render("cross", params),
        maneuver="cross",
        name=name,
        location=location,
        kind="crossing",
    )


def render(code: str, params: dict) -> str:
    """The English sentence for a step code and its parameters (the one place they are worded)."""
    if code == "cross":
        road = params.get("road") or ""
        what = params.get("road_class") or "road"
        if params.get("rails") and what == "path":
            what = "tram or railway tracks"
        lanes = params.get("lanes")
        detail = [what] + ([f"{lanes} lane{'s' if lanes != 1 else ''}"] if lanes else [])
        if road:
            head = (
                f"Cross {road} ({', '.join(detail)})"
                if params.get("road_class")
                else (f"Cross {road}")
            )
        else:
            head = f"Cross the {', '.join(detail)}"
        parts = [head + " " + _CONTROL_WORDS[params["control"]]]
        if params.get("audible") is not None:
            parts.append(
                {"yes": "with an audible signal", "no": "without an audible signal"}.get(
                    params["audible"], "audible signal not known"
                )
            )
        if params.get("island"):
            parts.append("with a refuge island")
        if params.get("rails") and what != "tram or railway tracks":
            parts.append("rails in the road")
        parts.append(
            {"yes": "tactile paving present", "no": "no tactile paving"}.get(
                params.get("tactile"), "tactile paving not known"
            )
        )
        kerb = params.get("kerb", "unknown")
        parts.append("kerb height not known" if kerb == "unknown" else f"{kerb} kerbs")
        return "; ".join(parts)
    if code == "steps":
        count = params.get("count")
        what = f"{count} steps" if count is not None else "the steps"
        direction = {"up": " up", "down": " down"}.get(params.get("direction"), "")
        rail = {"yes": ", handrail present", "no": ", no handrail"}.get(params.get("handrail"), "")
        ramp = ", ramp beside them" if params.get("ramp") == "yes" else ""
        return f"Take {what}{direction}{rail}{ramp}"
    if code == "elevator":
        levels = params.get("levels")
        return (
            f"Take the elevator (levels {levels.replace(';', ', ')})"
            if levels
            else ("Take the elevator")
        )
    if code == "landmark":
        what = {"bus_stop": "bus stop", "tram_stop": "tram stop",
                "metro_entrance": "metro entrance"}[params["kind"]]  # fmt: skip
        name = f" {params['name']}" if params.get("name") else ""
        return f"Landmark: the {what}{name}, {params['distance_m']:.0f} m away."
    if code == "walk_side":
        verb = {"continue": "Continue"}.get(params["maneuver"], params["maneuver"].capitalize())
        return f"{verb} along {params['road']} on the {params['side']} side"
    raise KeyError(code)


def _turn(delta: float) -> str:
    d = (delta + 540.0) % 360.0 - 180.0
    if abs(d) < 25:
        return "continue"
    side = "right" if d > 0 else "left"
    if abs(d) < 60:
        return f"slight {side}"
    if abs(d) < 150:
        return f"turn {side}"
    return "turn around"


def _bearing(coords: list[list[float]], first: int, end: int, *, at_end: bool) -> float:
    """Bearing of the first (or last) segment of the points ``coords[first:end]``."""
    if end - first < 2:
        return 0.0
    a, b = (coords[end - 2], coords[end - 1]) if at_end else (coords[first], coords[first + 1])
    return bearing_deg(a[0], a[1], b[0], b[1])


def _crossed_road(
    graph: CompiledGraph, pieces: list[RouteEdge], idx: int, road_name_at_node: dict[int, str]
) -> str:
    """Name of the road a crossing way crosses, from the nodes along it."""
    way = graph.edge["osmid"][pieces[idx].edge]
    for piece in pieces[idx:]:
        if graph.edge["osmid"][piece.edge] != way:
            break
        name = road_name_at_node.get(int(graph.edge_v[piece.edge]), "")
        if name:
            return name
    return ""


#: What :func:`build_steps` reads of every edge, packed in :attr:`StepTables.packed`:
#: (name, width in bits), from the lowest bit.
_STEP_FIELDS = (("kind", 4), ("street_side", 3), ("built", 1), ("rails", 1),
                ("tail_crossing", 3), ("head_kerb", 3), ("head_lift", 1))  # fmt: skip


class StepTables:
    """What :func:`build_steps` reads of every edge, worked out once per graph.

    ``packed`` holds per edge (uint16, :data:`_STEP_FIELDS`): the way kind, the street
    side, whether it was built (not mapped), whether it crosses rails, the crossing kind of
    its tail node, the kerb at its head node (unknown where none is mapped) and whether its
    head node is an elevator: a route reads one value per piece instead of a dozen columns
    of the edge and node tables. ``landmarks`` are the graph's :class:`LandmarkCells`.
    """

    def __init__(self, graph: CompiledGraph) -> None:
        e, n = graph.edge, graph.node
        tail, head = graph.edge_u, graph.edge_v
        columns = {
            "kind": e["kind"],
            "street_side": e["street_side"],
            "built": e["built"],
            "rails": e["rail_crossings"] > 0,
            "tail_crossing": n["crossing_kind"][tail],
            "head_kerb": np.where(n["has_kerb"][head], n["kerb"][head], at.KERB_UNKNOWN),
            "head_lift": n["elevator"][head],
        }
        self.packed = np.zeros(graph.n_edges, dtype=np.uint16)
        pack_fields(self.packed, [(name, columns[name], width) for name, width in _STEP_FIELDS])
        self.landmarks = LandmarkCells(graph)

    def unpack(self, edges: np.ndarray) -> list[list[int]]:
        """Per field of :data:`_STEP_FIELDS`, its values on ``edges`` (one list each)."""
        packed = self.packed[edges].tolist()
        out, shift = [], 0
        for _, width in _STEP_FIELDS:
            mask = (1 << width) - 1
            out.append([(v >> shift) & mask for v in packed])
            shift += width
        return out


def build_steps(
    graph: CompiledGraph,
    pieces: list[RouteEdge],
    *,
    road_name_at_node: dict[int, str],
    unknown_flags: np.ndarray,
    tables: StepTables | None = None,
) -> list[Step]:
    """Group route pieces into steps with instructions (``tables``: the graph's
    :class:`StepTables`, made here when not given: pass them when describing many routes)."""
    tables = tables if tables is not None else StepTables(graph)
    e, n = graph.edge, graph.node
    steps: list[Step] = []
    current: Step | None = None
    current_key = None
    # What every piece needs, looked up once per route (a few array reads, not a few
    # dozen scalar reads per piece).
    edges = np.fromiter((p.edge for p in pieces), np.int64, len(pieces))
    kinds, sides, builts, rails, tail_crossing, head_kerb, head_lift = tables.unpack(edges)
    names = graph.names[graph.edge_name[edges]].tolist()
    ups, downs = e["grade_max_up"][edges].tolist(), e["grade_max_down"][edges].tolist()
    unknowns = unknown_flags[edges].tolist()
    # The pieces' points as plain floats, converted once: piece k's are
    # coords[bounds[k]:bounds[k + 1]] (bearings are worked out only for a turn).
    coords = np.concatenate([p.geometry for p in pieces]).tolist() if pieces else []
    bounds = [0, *accumulate(len(p.geometry) for p in pieces)]
    crossing, steps_kind, elevator = (at.WAY_KIND[k] for k in ("crossing", "steps", "elevator"))
    street = at.WAY_KIND["street"]
    # The crossing facts of the route's crossing pieces, one read per column.
    at_crossing = [idx for idx, kind in enumerate(kinds) if kind == crossing]
    crossing_facts: dict[int, tuple] = {}
    if at_crossing:
        chosen = edges[at_crossing]
        columns = [e[k][chosen].tolist() for k in _CROSSING_COLUMNS]
        crossing_facts = dict(zip(at_crossing, zip(*columns, strict=True), strict=True))
    kind_names, kerb_names, kerb_unknown = at.WAY_KIND_NAMES, at.KERB_NAMES, at.KERB_UNKNOWN
    no_crossing, steep = at.CROSSING_NONE, STEEP_GRADE
    for idx, piece in enumerate(pieces):
        i = piece.edge
        kind = kinds[idx]
        kind_name = kind_names[kind]
        name = names[idx]
        label = name or kind_name
        start = tuple(coords[bounds[idx]])
        key = (
            name,
            kind if kind in (steps_kind, crossing, elevator) else -1,
            sides[idx],
            int(graph.edge_u[i]) if kind == crossing and builts[idx] else 0,
        )
        code, params = "", {}
        # Crossing node entered from a footway: announce it as its own step.
        if (
            idx > 0
            and tail_crossing[idx] > no_crossing
            and kind != street
            and kinds[idx - 1] != crossing
        ):
            node = int(graph.edge_u[i])
            node_params = mapped_crossing_params(
                int(n["crossing_kind"][node]),
                int(n["crossing_sound"][node]),
                int(n["crossing_tactile"][node]),
                int(n["kerb"][node]),
                road_name_at_node.get(node, ""),
                int(n["crossing_road_class"][node]),
            )
            steps.append(_cross_step(node_params, road_name_at_node.get(node, ""), start))
            current_key = None
        if kind != crossing and rails[idx] > 0:
            # A walkway over a tram or railway line with no crossing mapped there.
            rail_params = {
                **mapped_crossing_params(at.CROSSING_UNKNOWN, UNKNOWN, UNKNOWN,
                                         at.KERB_UNKNOWN, "", 0),  # fmt: skip
                "road_class": "path",
                "rails": True,
                "mapped": False,
            }
            steps.append(_cross_step(rail_params, "", start))
            current_key = None
        if current is None or key != current_key:
            built_crossing = kind == crossing and builts[idx]
            if current is None and not built_crossing:  # a route may start by crossing
                maneuver = "depart"
                text = f"Start on {label}" if name else f"Start along the {kind_name}"
            elif built_crossing:
                maneuver = code = "cross"
                params = _crossing_params(name, *crossing_facts[idx])
                text = render(code, params)
            elif kind == crossing:
                maneuver = "cross"
                code = "cross"
                ckind, _, road_class, sound, tactile, kerb, *_ = crossing_facts[idx]
                params = mapped_crossing_params(
                    ckind, sound, tactile, kerb,
                    _crossed_road(graph, pieces, idx, road_name_at_node), road_class,
                )  # fmt: skip
                text = render(code, params)
            elif kind == steps_kind:
                maneuver = code = "steps"
                count = int(e["step_count"][i])
                up = e["grade"][i] > 0 if np.isfinite(e["grade"][i]) else None
                params = {
                    "count": count if count >= 0 else None,
                    "direction": "up" if up else "down" if up is False else "unknown",
                    "handrail": WORDS[int(e["handrail"][i])],
                    "ramp": WORDS[int(e["ramp"][i])],
                }
                text = render(code, params)
            elif kind == elevator:
                maneuver = "elevator"
                text = "Take the elevator"
            else:
                maneuver = (
                    _turn(_bearing(coords, bounds[idx], bounds[idx + 1], at_end=False)
                          - _bearing(coords, bounds[idx - 1], bounds[idx], at_end=True))
                    if idx > 0
                    else "continue"
                )  # fmt: skip
                if sides[idx] and name:
                    code = "walk_side"
                    params = {"maneuver": maneuver, "road": name, "side": SIDE_NAMES[sides[idx]]}
                    text = render(code, params)
                else:
                    verb = "Continue" if maneuver == "continue" else maneuver.capitalize()
                    text = f"{verb} onto {label}" if name else f"{verb} along the {kind_name}"
            current = Step(
                instruction=text,
                maneuver=maneuver,
                name=name,
                location=start,
                kind=kind_name,
                code=code or maneuver,
                params=params,
            )
            current_key = key
            steps.append(current)
        current.distance_m += piece.length_m
        current.duration_s += piece.seconds
        # The steepest sustained stretch inside the edge, not its average.
        up, down = ups[idx], downs[idx]
        if kind != steps_kind and max(up, down) > steep:
            word, grade = ("uphill", up) if up >= down else ("downhill", down)
            note = f"Steep {word} stretch (up to {grade * 100:.0f}%)."
            if note not in current.notes:
                current.notes.append(note)
        if head_kerb[idx] != kerb_unknown and piece.fraction >= 0.999:
            note = f"{kerb_names[head_kerb[idx]].capitalize()} ahead."
            if note not in current.notes:
                current.notes.append(note)
        if unknowns[idx] and kind == crossing:
            for bit, text in UNKNOWN_NAMES.items():
                if current.code == "cross" and bit & _SAID_IN_CROSSING:
                    continue  # the crossing sentence already says it is not known
                if unknowns[idx] & bit and f"Note: {text}." not in current.notes:
                    current.notes.append(f"Note: {text}.")
        if head_lift[idx] and piece.fraction >= 0.999 and idx + 1 < len(pieces):
            head = int(graph.edge_v[i])
            lift = {"levels": str(n["level"][head])} if str(n["level"][head]) else {}
            steps.append(
                Step(
                    instruction=render("elevator", lift),
                    code="elevator",
                    params=lift,
                    maneuver="elevator",
                    name="",
                    location=tuple(coords[bounds[idx + 1] - 1]),
                    kind="elevator",
                )
            )
            current_key = None
    _add_landmarks(graph, steps, tables.landmarks)
    for step in steps:
        if step.maneuver not in ("cross",) and step.distance_m > 0:
            step.instruction += f" for {step.distance_m:.0f} m"
        if not step.instruction.endswith("."):
            step.instruction += "."
    if pieces:
        last = tuple(coords[-1])
        steps.append(
            Step(instruction="You have arrived.", maneuver="arrive", name="", location=last)
        )
    return steps


#: A landmark this close to where a step starts is named in it.
LANDMARK_RADIUS_M = 30.0


class LandmarkCells:
    """The landmarks near any point, looked up in plain Python (built once per graph).

    Square cells of ``2 x radius`` metres, keyed straight from latitude and longitude
    (degrees times the metres per degree of the plane of
    :meth:`CompiledGraph.landmark_xy`), each listing the landmarks whose ``radius`` square
    (plus a metre against rounding) meets it. Most of a route's steps start in a cell with
    none; the few others are measured exactly in that plane: the answer of measuring every
    landmark (tests compare the two), for a route's dozen points without numpy calls.
    """

    def __init__(self, graph: CompiledGraph, *, radius: float = LANDMARK_RADIUS_M) -> None:
        self.radius = float(radius)
        self.cell = 2.0 * self.radius
        self.kind = graph.landmark_kind.tolist()
        self.name = graph.landmark_name.tolist()
        self.points = graph.landmark_xy(graph.landmark_lat, graph.landmark_lon).tolist()
        self.graph = graph
        cells: dict[tuple[int, int], list[int]] = {}
        if self.points:
            lat0, lon0 = float(graph.landmark_lat[0]), float(graph.landmark_lon[0])
            (x0, y0), (x1, _), (_, y1) = graph.landmark_xy(
                [lat0, lat0, lat0 + 1.0], [lon0, lon0 + 1.0, lon0]).tolist()  # fmt: skip
            self._per_lon, self._per_lat = (x1 - x0) / self.cell, (y1 - y0) / self.cell
            reach = (self.radius + 1.0) / self.cell
            for i, (lat, lon) in enumerate(zip(graph.landmark_lat.tolist(),
                                               graph.landmark_lon.tolist(), strict=True)):
                x, y = lon * self._per_lon, lat * self._per_lat  # in cells
                for ix in range(math.floor(x - reach), math.floor(x + reach) + 1):
                    for iy in range(math.floor(y - reach), math.floor(y + reach) + 1):
                        cells.setdefault((ix, iy), []).append(i)  # each list ascending
        self.cells = cells

    def nearest(self, lats: list[float], lons: list[float]) -> list[tuple[float, int] | None]:
        """Per point, (distance in metres, landmark) of the nearest landmark strictly within
        the radius (the lowest index of equally near ones), or None."""
        out: list[tuple[float, int] | None] = [None] * len(lats)
        cells = self.cells
        if not cells:
            return out
        per_lon, per_lat, floor = self._per_lon, self._per_lat, math.floor
        asked, candidates = [], []
        for k, (lat, lon) in enumerate(zip(lats, lons, strict=True)):
            near = cells.get((floor(lon * per_lon), floor(lat * per_lat)))
            if near is not None:
                asked.append(k)
                candidates.append(near)
        if not asked:
            return out
        points, limit = self.points, self.radius * self.radius
        xy = self.graph.landmark_xy([lats[k] for k in asked], [lons[k] for k in asked]).tolist()
        for k, (x, y), near in zip(asked, xy, candidates, strict=True):
            best, found = limit, -1
            for i in near:
                px, py = points[i]
                dx, dy = px - x, py - y
                d = dx * dx + dy * dy
                if d < best:  # strictly: of equally near ones the first (lowest index)
                    best, found = d, i
            if found >= 0:
                out[k] = (math.sqrt(best), found)
        return out


def _add_landmarks(graph: CompiledGraph, steps: list[Step],
                   landmarks: LandmarkCells | None = None) -> None:  # fmt: skip
    """Name the nearest bus stop, tram stop or metro entrance near each step's start."""
    if not steps or not len(graph.landmark_lat):
        return
    landmarks = landmarks if landmarks is not None else LandmarkCells(graph)
    found = landmarks.nearest([s.location[0] for s in steps], [s.location[1] for s in steps])
    last = -1
    for step, near in zip(steps, found, strict=True):
        if near is None or near[1] == last:
            continue
        d, i = near
        last = i
        landmark = {
            "kind": landmarks.kind[i],
            "name": landmarks.name[i],
            "distance_m": round(d, 1),
        }
        step.params = {**step.params, "landmark": landmark}
        step.notes.append(render("landmark", landmark))
