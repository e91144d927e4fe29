"""The cost model: one profile applied to every edge of a compiled graph at once.

Like Valhalla's ``sif`` costings, options are read once and the per-edge work is vectorised
table arithmetic. The result keeps real seconds (what the user experiences) apart from
cost (what the search minimises); ``inf`` cost means the edge is not allowed, and
``blocked`` says why. Facts at nodes (crossings, kerbs, elevators, barriers) are folded
into the edges that enter the node, so a plain edge-weighted shortest path sees them.

Crossings. Street crossings are explicit edges (``routing.graph.sidewalks``) priced by
control and road class, starting from PPR's crossing table (motis-project/ppr,
``search_profile.h``: per road class, signals < marked < island < unmarked; tram 30 s, rail
60 s): an unsignalled crossing costs ``crossing_unsignalled_s`` (marked) or
``crossing_unmarked_s`` times a factor that grows with the road class, and an unknown one
the marked price plus ``unknown_cost_s``. These prices are the detour a profile accepts to
reach a better crossing (PPR's ``max_crossing_detour``): at the blind profile's 1 m/s, an
unmarked crossing of a primary road (1200 s) is worth a 1.2 km detour to traffic lights.
A crossing *way* (footway=crossing) that meets no crossed road carries its crossing cost
spread over its pieces by length share. A crossing *node* left on a walkway (no road
arm) is charged to footway-type edges that enter it.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from routing.cost.profiles import Profile
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph
from routing.tristate import NO, UNKNOWN, YES

# Why an edge is not allowed (bit flags).
BLOCK_STEPS = 1 << 0
BLOCK_UPHILL = 1 << 1
BLOCK_DOWNHILL = 1 << 2
BLOCK_KERB = 1 << 3
BLOCK_SURFACE = 1 << 4
BLOCK_WIDTH = 1 << 5
BLOCK_WHEELCHAIR_NO = 1 << 6
BLOCK_BARRIER = 1 << 7
BLOCK_CLOSED = 1 << 8
BLOCK_ELEVATOR = 1 << 9
BLOCK_LONG_STEPS = 1 << 10
BLOCK_ESCALATOR = 1 << 11
BLOCK_CARRIAGEWAY = 1 << 12
BLOCK_RAILS = 1 << 13
BLOCK_REASONS = {
    BLOCK_STEPS: "steps without a ramp",
    BLOCK_UPHILL: "uphill grade over the limit",
    BLOCK_DOWNHILL: "downhill grade over the limit",
    BLOCK_KERB: "raised kerb",
    BLOCK_SURFACE: "unsuitable surface",
    BLOCK_WIDTH: "way narrower than the minimum width",
    BLOCK_WHEELCHAIR_NO: "marked not wheelchair accessible",
    BLOCK_BARRIER: "barrier (turnstile, stile or similar)",
    BLOCK_CLOSED: "closed way",
    BLOCK_ELEVATOR: "elevator out of service",
    BLOCK_LONG_STEPS: "long flight of steps",
    BLOCK_ESCALATOR: "escalator",
    BLOCK_CARRIAGEWAY: "carriageway (its sidewalks are mapped as separate ways)",
    BLOCK_RAILS: "rails set in the carriageway",
}

# Which facts are unknown on an edge (bit flags), for warnings and confidence.
UNKNOWN_KERB = 1 << 0
UNKNOWN_SURFACE = 1 << 1
UNKNOWN_GRADE = 1 << 2
UNKNOWN_SIGNAL_SOUND = 1 << 3
UNKNOWN_TACTILE = 1 << 4
UNKNOWN_CROSSING = 1 << 5
UNKNOWN_LIT = 1 << 6
UNKNOWN_STEP_COUNT = 1 << 7
UNKNOWN_SIDEWALK = 1 << 8
UNKNOWN_NAMES = {
    UNKNOWN_KERB: "kerb height at a crossing is not mapped",
    UNKNOWN_SURFACE: "surface is not mapped",
    UNKNOWN_GRADE: "grade is unknown (no elevation data)",
    UNKNOWN_SIGNAL_SOUND: "whether the signal is audible is not mapped",
    UNKNOWN_TACTILE: "tactile paving at a crossing is not mapped",
    UNKNOWN_CROSSING: "type of crossing is not mapped",
    UNKNOWN_LIT: "street lighting is not mapped",
    UNKNOWN_STEP_COUNT: "number of steps is not mapped",
    UNKNOWN_SIDEWALK: "whether the road has a sidewalk is not mapped",
}

_FOOT_KINDS = np.array(
    [
        at.WAY_KIND[k]
        for k in ("footway", "sidewalk", "path", "pedestrian street", "platform", "corridor")
    ]
)
# Unsignalled crossings cost more the bigger the road crossed (index: road class 0..5).
ROAD_CROSSING_FACTOR = np.array([0.25, 0.5, 1.0, 2.0, 3.0, 4.0])


@dataclass(frozen=True)
class EdgeCosts:
    """Per-edge results of a cost model on one graph."""

    seconds: np.ndarray  # real travel time, finite for every edge
    cost: np.ndarray  # what the search minimises; inf = not allowed
    blocked: np.ndarray  # uint16 BLOCK_* flags (0 = allowed)
    unknown: np.ndarray  # uint16 UNKNOWN_* flags that matter for this profile
    node_usable: np.ndarray  # bool per node: has an allowed edge in and out


class CostModel:
    """Costs of one profile (Valhalla-style: options parsed once, vectorised evaluation)."""

    def __init__(self, profile: Profile) -> None:
        self.profile = profile

    # -- speeds -------------------------------------------------------------------------
    def speed(self, grade: np.ndarray) -> np.ndarray:
        """Speed (m/s) on a grade in travel direction; unknown grade counts as flat."""
        p = self.profile
        g = np.nan_to_num(grade, nan=0.0)
        if p.wheelchair:
            # Rolling effort grows with the climb: speed falls exponentially to
            # uphill_speed_factor_at_limit at max_uphill; steep descents are taken slowly.
            k_up = -np.log(p.uphill_speed_factor_at_limit) / max(p.max_uphill, 1e-3)
            up = np.exp(-k_up * np.clip(g, 0.0, None))
            down = np.exp(-4.0 * np.clip(-g - 0.04, 0.0, None))
            return p.speed_mps * up * down
        # Tobler's hiking function (1993), scaled so that flat ground gives speed_mps.
        return p.speed_mps * np.exp(-3.5 * np.abs(g + 0.05)) / np.exp(-3.5 * 0.05)

    # -- evaluation ---------------------------------------------------------------------
    def evaluate(self, graph: CompiledGraph) -> EdgeCosts:
        """Seconds, cost, block and unknown flags of every edge for this profile.

        What does not depend on the profile (masks, index lists of the edges each rule
        touches, float copies) is read once per graph (:func:`edge_facts`); a profile then
        costs a few passes over all edges and small passes over the edges a rule applies
        to. Each value is computed with the same operations in the same order as the
        whole-array form (``tests/cost/reference_model.py``), so results are identical.
        """
        p = self.profile
        f = edge_facts(graph)
        u, v = graph.edge_u, graph.edge_v
        blocked = f.always_blocked.copy()
        unknown = np.zeros(f.n_edges, dtype=np.uint16)

        # Real seconds.
        seconds = f.length / self._flat_grade_speed(f)
        seconds[f.steps] = f.length[f.steps] / (0.5 * p.speed_mps)
        seconds[f.elevator] += p.elevator_wait_s
        seconds[f.signal_way] += p.signal_wait_s * f.share[f.signal_way]

        reluctance = np.ones(f.n_edges)
        penalty = np.zeros(f.n_edges)

        # Steps.
        _scale(reluctance, f.steps, p.stairs_reluctance)
        if p.wheelchair:
            blocked[f.steps_no_ramp] |= BLOCK_STEPS
            _flag(blocked, f.conveying, BLOCK_ESCALATOR)
        elif not p.allow_steps:
            _flag(blocked, f.steps, BLOCK_STEPS)
        if p.max_step_count < 1000:
            blocked[f.steps[f.step_count > p.max_step_count]] |= BLOCK_LONG_STEPS
            unknown[f.steps_uncounted] |= UNKNOWN_STEP_COUNT
            penalty[f.steps_uncounted] += p.unknown_cost_s

        # Grade (directional): the steepest sustained stretch inside an edge decides.
        if p.max_uphill < 1.0:
            blocked[f.up_known[f.up_max > p.max_uphill]] |= BLOCK_UPHILL
        if p.max_downhill < 1.0:
            blocked[f.down_known[f.down_max > p.max_downhill]] |= BLOCK_DOWNHILL
        if p.wheelchair or p.max_uphill < 1.0:
            _flag(unknown, f.grade_unknown, UNKNOWN_GRADE)
        if p.steep_reluctance > 1.0:  # climbing and descending both tire (reduced mobility)
            np.multiply(reluctance, p.steep_reluctance, out=reluctance,
                        where=f.steepness > p.comfortable_grade)  # fmt: skip

        # Surface, smoothness, width, wheelchair tag.
        if p.wheelchair or p.rough_surface_reluctance > 1.0:
            _scale(reluctance, f.rough, p.rough_surface_reluctance)
            _scale(reluctance, f.firm, p.unpaved_reluctance)
            if not p.allow_loose_surface:
                _flag(blocked, f.loose, BLOCK_SURFACE)
            else:
                _scale(reluctance, f.loose, p.unpaved_reluctance**2)
            if p.wheelchair:
                _flag(unknown, f.surface_unknown_not_steps, UNKNOWN_SURFACE)
                _scale(reluctance, f.surface_unknown, p.unknown_surface_reluctance)
        if p.wheelchair:
            blocked[f.width_known[f.width < p.min_width]] |= BLOCK_WIDTH
            _flag(blocked, f.wheelchair_no, BLOCK_WHEELCHAIR_NO)
            _scale(reluctance, f.wheelchair_limited, 1.5)

        # Walking on a carriageway: with no sidewalk at all, or beside a separate one.
        _scale(reluctance, f.no_sidewalk, p.no_sidewalk_reluctance)
        _scale(reluctance, f.separate, p.carriageway_reluctance)
        if not p.allow_carriageway:
            _flag(blocked, f.separate, BLOCK_CARRIAGEWAY)
        if not p.allow_embedded_rails:
            _flag(blocked, f.rails_along, BLOCK_RAILS)
        if p.warn_unknown_sidewalk:
            _flag(unknown, f.sidewalk_unknown, UNKNOWN_SIDEWALK)

        # Lighting and tactile guidance.
        if p.unlit_reluctance > 1.0:
            _scale(reluctance, f.unlit, p.unlit_reluctance)
            _flag(unknown, f.lit_unknown, UNKNOWN_LIT)
        if p.tactile_guide_reluctance < 1.0:
            _scale(reluctance, f.tactile_guide, p.tactile_guide_reluctance)

        # Crossing ways: cost by control, sound, tactile, kerb; spread by length share.
        # Priced once per distinct crossing (kind, sound, kerb, ...), then looked up.
        c, kinds = f.crossing_way, f.crossing_way_kind
        c_cost, c_unknown, c_block = self._crossing_cost(*f.crossing_way_facts,
                                                         island=f.crossing_way_island)  # fmt: skip
        penalty[c] += c_cost[kinds] * f.share[c]
        unknown[c] |= c_unknown[kinds]
        blocked[c] |= c_block[kinds]
        # Rails crossed by an edge's line (a crossing edge, or a path over a tram line):
        # one price per edge, wherever the rails are (see sidewalks.count_rail_crossings).
        penalty[f.rail_crossing] += p.rail_crossing_s

        # Node facts, charged to the edges entering the node.
        n_cost, n_unknown, _ = self._crossing_cost(*f.crossing_node_facts, nodes=True)
        penalty[f.charged] += n_cost[f.charged_node]
        unknown[f.charged] |= n_unknown[f.charged_node]
        seconds[f.charged_signal] += p.signal_wait_s
        node_block, node_seconds, node_penalty = self._node_facts(f.fact_nodes)
        seconds[f.into_fact] += node_seconds[f.into_fact_node]
        penalty[f.into_fact] += node_penalty[f.into_fact_node]
        blocked[f.out_of_fact] |= node_block[f.out_of_fact_node]
        blocked[f.into_fact] |= node_block[f.into_fact_node]

        cost = seconds * reluctance + penalty
        cost = np.where(blocked > 0, np.inf, np.maximum(cost, 1e-6))
        # A node is usable with an allowed edge out and in: fewer forbidden than all.
        refused = ~np.isfinite(cost)
        usable = np.bincount(u[refused], minlength=graph.n_nodes) < f.out_degree
        has_in = np.bincount(v[refused], minlength=graph.n_nodes) < f.in_degree
        return EdgeCosts(
            seconds=seconds,
            cost=cost,
            blocked=blocked,
            unknown=unknown,
            node_usable=usable & has_in,
        )

    def _flat_grade_speed(self, f: EdgeFacts) -> np.ndarray:
        """:meth:`speed` on each edge's grade (steps as flat), from the graph's tables."""
        p = self.profile
        if p.wheelchair:
            k_up = -np.log(p.uphill_speed_factor_at_limit) / max(p.max_uphill, 1e-3)
            up = np.exp(-k_up * f.climb)
            return p.speed_mps * up * f.descent_factor
        return p.speed_mps * f.tobler / np.exp(-3.5 * 0.05)

    def _crossing_cost(
        self, kind, sound, tactile, road_class, kerb, kerb_height, *, nodes=False, island=None
    ):
        """Penalty (s), unknown flags and block flags of crossings with these attributes."""
        p = self.profile
        kind = kind.astype(np.int64)
        factor = ROAD_CROSSING_FACTOR[np.clip(road_class.astype(np.int64), 0, 5)]
        if island is not None:  # a refuge island halves the road to judge at once
            factor = np.where(island, factor * p.island_factor, factor)
        cost = np.zeros(len(kind))
        unknown = np.zeros(len(kind), dtype=np.uint16)
        block = np.zeros(len(kind), dtype=np.uint16)
        signals = kind == at.CROSSING_SIGNALS
        cost += np.where(signals & (sound != YES), p.crossing_no_sound_s, 0.0)
        cost += np.where(kind == at.CROSSING_MARKED, p.crossing_unsignalled_s * factor, 0.0)
        cost += np.where(kind == at.CROSSING_UNMARKED, p.crossing_unmarked_s * factor, 0.0)
        cost += np.where(
            kind == at.CROSSING_UNKNOWN, (p.crossing_unsignalled_s * factor) + p.unknown_cost_s, 0.0
        )
        is_crossing = kind > at.CROSSING_NONE
        if p.crossing_no_sound_s > 0:
            unknown |= np.where(signals & (sound == UNKNOWN), UNKNOWN_SIGNAL_SOUND, 0).astype(
                np.uint16
            )
            cost += np.where(signals & (sound == UNKNOWN), p.unknown_cost_s, 0.0)
        if p.no_tactile_s > 0:
            cost += np.where(is_crossing & (tactile == NO), p.no_tactile_s, 0.0)
            cost += np.where(
                is_crossing & (tactile == UNKNOWN), p.no_tactile_s + p.unknown_cost_s, 0.0
            )
            unknown |= np.where(is_crossing & (tactile == UNKNOWN), UNKNOWN_TACTILE, 0).astype(
                np.uint16
            )
        if p.crossing_unsignalled_s > 0 or p.crossing_no_sound_s > 0:
            unknown |= np.where(kind == at.CROSSING_UNKNOWN, UNKNOWN_CROSSING, 0).astype(np.uint16)
        if p.wheelchair and not nodes:
            # Crossing ways: a raised kerb blocks unless its mapped height is within the limit.
            height = kerb_height.astype(np.float64)
            too_high = (kerb == at.KERB_RAISED) & ~(
                np.isfinite(height) & (height <= p.max_kerb_height)
            )
            too_high |= np.isfinite(height) & (height > p.max_kerb_height)
            block |= np.where(is_crossing & too_high, BLOCK_KERB, 0).astype(np.uint16)
            unknown_kerb = is_crossing & (kerb == at.KERB_UNKNOWN)
            cost += np.where(unknown_kerb, p.unknown_cost_s, 0.0)
            unknown |= np.where(unknown_kerb, UNKNOWN_KERB, 0).astype(np.uint16)
        elif p.wheelchair and nodes:
            # A crossing node on a road with no kerb mapped at it: the kerb is unknown.
            unknown_kerb = is_crossing & (kerb == at.KERB_UNKNOWN)
            cost += np.where(unknown_kerb, p.unknown_cost_s, 0.0)
            unknown |= np.where(unknown_kerb, UNKNOWN_KERB, 0).astype(np.uint16)
        return cost, unknown, block

    def _node_facts(self, n: dict[str, np.ndarray]):
        """Per node: block flags, seconds and penalty charged on entry (kerbs, elevators...)."""
        p = self.profile
        count = len(n["kerb"])
        block = np.zeros(count, dtype=np.uint16)
        seconds = np.where(n["elevator"], p.elevator_wait_s, 0.0)
        penalty = np.zeros(count)
        block |= np.where(n["closed"], BLOCK_CLOSED, 0).astype(np.uint16)
        block |= np.where(n["elevator"] & n["out_of_service"], BLOCK_ELEVATOR, 0).astype(np.uint16)
        if p.wheelchair:
            height = n["kerb_height"].astype(np.float64)
            kerb = n["kerb"]
            too_high = (kerb == at.KERB_RAISED) & ~(
                np.isfinite(height) & (height <= p.max_kerb_height)
            )
            too_high |= np.isfinite(height) & (height > p.max_kerb_height)
            block |= np.where(too_high, BLOCK_KERB, 0).astype(np.uint16)
            penalty += np.where(kerb == at.KERB_ROLLED, 30.0, 0.0)
            penalty += np.where(n["has_kerb"] & (kerb == at.KERB_UNKNOWN), p.unknown_cost_s, 0.0)
            block |= np.where(n["wheelchair_barrier"], BLOCK_BARRIER, 0).astype(np.uint16)
            block |= np.where(n["wheelchair"] == NO, BLOCK_WHEELCHAIR_NO, 0).astype(np.uint16)
        return block, seconds, penalty


def _scale(values: np.ndarray, selection: np.ndarray, factor: float) -> None:
    """``values *= factor`` on a selection (edge ids or a boolean mask), in place."""
    if selection.dtype == bool:
        np.multiply(values, factor, out=values, where=selection)
    else:
        values[selection] *= factor


def _flag(flags: np.ndarray, selection: np.ndarray, bit: int) -> None:
    """``flags |= bit`` on a selection (edge ids or a boolean mask), in place."""
    if selection.dtype == bool:
        np.bitwise_or(flags, np.uint16(bit), out=flags, where=selection)
    else:
        flags[selection] |= np.uint16(bit)


@dataclass(frozen=True, eq=False)
class EdgeFacts:
    """What the cost model reads from one graph, independent of the profile.

    Integer arrays list the edges (or nodes) a rule applies to; ``*_node`` arrays give,
    for each such edge, the position of its node in :attr:`fact_nodes` or in the crossing
    nodes; a rule's selection is a boolean mask instead where it covers many edges.
    Built once per graph by :func:`edge_facts`.
    """

    n_edges: int
    length: np.ndarray
    share: np.ndarray
    tobler: np.ndarray  # Tobler's exp(-3.5 |g + 0.05|) of each edge's grade (steps flat)
    climb: np.ndarray  # max(grade, 0) (steps flat, unknown flat)
    descent_factor: np.ndarray  # the wheelchair's slow-down on steep descents
    always_blocked: np.ndarray  # closed ways, elevators out of service
    steps: np.ndarray
    step_count: np.ndarray  # of ``steps``
    steps_no_ramp: np.ndarray
    steps_uncounted: np.ndarray
    conveying: np.ndarray
    elevator: np.ndarray
    signal_way: np.ndarray
    up_known: np.ndarray
    up_max: np.ndarray  # of ``up_known``
    down_known: np.ndarray
    down_max: np.ndarray  # of ``down_known``
    grade_unknown: np.ndarray
    steepness: np.ndarray  # max(up, down) per edge, nan on steps
    rough: np.ndarray
    firm: np.ndarray
    loose: np.ndarray
    surface_unknown: np.ndarray
    surface_unknown_not_steps: np.ndarray
    width_known: np.ndarray
    width: np.ndarray  # of ``width_known``
    wheelchair_no: np.ndarray
    wheelchair_limited: np.ndarray
    no_sidewalk: np.ndarray
    separate: np.ndarray
    rails_along: np.ndarray
    sidewalk_unknown: np.ndarray
    unlit: np.ndarray
    lit_unknown: np.ndarray
    tactile_guide: np.ndarray
    crossing_way: np.ndarray
    crossing_way_kind: np.ndarray  # per crossing way: its row in the tables below
    crossing_way_facts: tuple  # per distinct crossing: kind, sound, tactile, road, kerb, height
    crossing_way_island: np.ndarray
    rail_crossing: np.ndarray  # edges whose line crosses rails
    crossing_node_facts: tuple  # the same of every crossing node
    charged: np.ndarray  # foot edges entering a crossing node
    charged_node: np.ndarray
    charged_signal: np.ndarray
    fact_nodes: dict  # node fields of nodes with a kerb, elevator, barrier, ...
    into_fact: np.ndarray
    into_fact_node: np.ndarray
    out_of_fact: np.ndarray
    out_of_fact_node: np.ndarray
    out_degree: np.ndarray  # edges per node
    in_degree: np.ndarray


_FACTS: dict[int, EdgeFacts] = {}
_FACTS_LOCK = threading.Lock()


def edge_facts(graph: CompiledGraph) -> EdgeFacts:
    """The graph's :class:`EdgeFacts`, built on first use and kept while the graph lives.

    A compiled graph is never changed after it is built, so its facts stay valid.
    """
    hit = _FACTS.get(id(graph))
    if hit is not None:
        return hit
    facts = _build_facts(graph)
    with _FACTS_LOCK:
        if id(graph) not in _FACTS:
            _FACTS[id(graph)] = facts
            weakref.finalize(graph, _FACTS.pop, id(graph), None)
    return facts


def _build_facts(graph: CompiledGraph) -> EdgeFacts:
    e, n = graph.edge, graph.node
    u, v = graph.edge_u, graph.edge_v
    # Id lists stay int64 (numpy's index type): int32 would halve their 2.4 MB on Almaty, but
    # every rule would convert its list again, +0.5 ms per new profile (measured).
    ids = np.int64
    where = np.flatnonzero

    def select(mask: np.ndarray) -> np.ndarray:
        # Few edges: their ids (a rule then touches only them); many: the mask itself.
        return where(mask) if mask.sum() * 8 < len(mask) else mask

    kind = e["kind"]
    steps = kind == at.WAY_KIND["steps"]
    crossing = kind == at.WAY_KIND["crossing"]
    street = kind == at.WAY_KIND["street"]
    elevator_kind = kind == at.WAY_KIND["elevator"]
    grade = e["grade"].astype(np.float64)
    flat = np.nan_to_num(np.where(steps, 0.0, grade), nan=0.0)
    closed = e["closed"]
    always = np.where(closed, BLOCK_CLOSED, 0).astype(np.uint16)
    always |= np.where(closed & elevator_kind, BLOCK_ELEVATOR, 0).astype(np.uint16)
    step_count = e["step_count"]
    up_max = np.fmax(e["grade_max_up"].astype(np.float64), grade)
    down_max = np.fmax(e["grade_max_down"].astype(np.float64), -grade)
    up_known = where(np.isfinite(up_max) & ~steps)
    down_known = where(np.isfinite(down_max) & ~steps)
    surface, smooth = e["surface"], e["smoothness"]
    surface_unknown = (surface == at.SURFACE_UNKNOWN) & (e["wheelchair"] != YES)
    width = e["width"].astype(np.float64)
    sidewalk = e["sidewalk"]
    carriageway = street & (e["road_class"] >= 2)
    crossing_kind = e["crossing_kind"]
    c = where(crossing)
    node_crossing = n["crossing_kind"] > at.CROSSING_NONE
    crossing_nodes = where(node_crossing)
    node_pos = np.full(graph.n_nodes, -1, dtype=ids)
    node_pos[crossing_nodes] = np.arange(len(crossing_nodes))
    charged = where(np.isin(kind, _FOOT_KINDS) & node_crossing[v])
    # Nodes whose facts (_node_facts) can be non-zero for some profile.
    kerb_height = n["kerb_height"].astype(np.float64)
    has_fact = (
        n["elevator"] | n["closed"] | n["out_of_service"] | n["has_kerb"]
        | (n["kerb"] == at.KERB_RAISED) | (n["kerb"] == at.KERB_ROLLED)
        | np.isfinite(kerb_height)
        | n["wheelchair_barrier"] | (n["wheelchair"] == NO)
    )  # fmt: skip
    fact_nodes = where(has_fact)
    fact_pos = np.full(graph.n_nodes, -1, dtype=ids)
    fact_pos[fact_nodes] = np.arange(len(fact_nodes))
    into_fact, out_of_fact = where(has_fact[v]), where(has_fact[u])
    # Distinct crossings: priced once each (kerb height nan keyed as -1 to group them).
    way_fields = ("crossing_kind", "crossing_sound", "crossing_tactile", "crossing_road_class",
                  "crossing_kerb", "crossing_kerb_height", "crossing_island")  # fmt: skip
    way_columns = [e[k][c] for k in way_fields]
    key = np.zeros(len(c), dtype=np.int64)
    for column in way_columns:  # mixed-radix code of each column's value number
        _, code = np.unique(np.nan_to_num(column.astype(np.float64), nan=-1.0),
                            return_inverse=True)  # fmt: skip
        key = key * (int(code.max(initial=0)) + 1) + code
    _, first, way_kind = np.unique(key, return_index=True, return_inverse=True)
    return EdgeFacts(
        n_edges=graph.n_edges,
        length=e["length"].astype(np.float64, copy=False),
        share=e["crossing_share"].astype(np.float64),
        tobler=np.exp(-3.5 * np.abs(flat + 0.05)),
        climb=np.clip(flat, 0.0, None),
        descent_factor=np.exp(-4.0 * np.clip(-flat - 0.04, 0.0, None)),
        always_blocked=always,
        steps=where(steps),
        step_count=step_count[steps],
        steps_no_ramp=where(steps & (e["ramp"] != YES)),
        steps_uncounted=where(steps & (step_count < 0)),
        conveying=select(e["conveying"]),
        elevator=where(elevator_kind),
        signal_way=where(crossing & (crossing_kind == at.CROSSING_SIGNALS)),
        up_known=up_known,
        up_max=up_max[up_known],
        down_known=down_known,
        down_max=down_max[down_known],
        grade_unknown=select(np.isnan(grade)),
        steepness=np.where(steps, np.nan, np.fmax(up_max, down_max)),
        rough=select(surface == at.SURFACE_ROUGH),
        firm=select((surface == at.SURFACE_FIRM) | (smooth == 3)),
        loose=select((surface == at.SURFACE_LOOSE) | (smooth >= 4)),
        surface_unknown=select(surface_unknown),
        surface_unknown_not_steps=select(surface_unknown & ~steps),
        width_known=where(np.isfinite(width)),
        width=width[np.isfinite(width)],
        wheelchair_no=select(e["wheelchair"] == NO),
        wheelchair_limited=select(e["wheelchair_limited"]),
        no_sidewalk=select(carriageway & (sidewalk == at.SIDEWALK_NO)),
        separate=select(carriageway & (sidewalk == at.SIDEWALK_SEPARATE)),
        rails_along=select((street | (kind == at.WAY_KIND["pedestrian street"])) & e["rails"]),
        sidewalk_unknown=select(
            (carriageway | (kind == at.WAY_KIND["sidewalk"])) & (sidewalk == at.SIDEWALK_UNKNOWN)
        ),
        unlit=select(e["lit"] == NO),
        lit_unknown=select(e["lit"] == UNKNOWN),
        tactile_guide=select(e["tactile_guide"] == YES),
        crossing_way=c,
        crossing_way_kind=way_kind,
        crossing_way_facts=tuple(column[first] for column in way_columns[:6]),
        crossing_way_island=way_columns[6][first],
        rail_crossing=select(e["rail_crossings"] > 0),
        crossing_node_facts=tuple(
            n[k][crossing_nodes]
            for k in (
                "crossing_kind",
                "crossing_sound",
                "crossing_tactile",
                "crossing_road_class",
                "kerb",
                "kerb_height",
            )
        ),  # fmt: skip
        charged=charged,
        charged_node=node_pos[v[charged]],
        charged_signal=charged[n["crossing_kind"][v[charged]] == at.CROSSING_SIGNALS],
        fact_nodes={k: n[k][fact_nodes] for k in n},
        into_fact=into_fact,
        into_fact_node=fact_pos[v[into_fact]],
        out_of_fact=out_of_fact,
        out_of_fact_node=fact_pos[u[out_of_fact]],
        out_degree=np.bincount(u, minlength=graph.n_nodes),
        in_degree=np.bincount(v, minlength=graph.n_nodes),
    )
