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

from dataclasses import dataclass

import numpy as np

from routing.cost.profiles import Profile
from routing.graph import attributes as at
from routing.graph.compiled import CompiledGraph

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
        p = self.profile
        e, n = graph.edge, graph.node
        u, v = graph.edge_u, graph.edge_v
        length = e["length"].astype(np.float64)
        grade = e["grade"].astype(np.float64)
        kind = e["kind"]
        steps = kind == at.WAY_KIND["steps"]
        crossing = kind == at.WAY_KIND["crossing"]
        street = kind == at.WAY_KIND["street"]
        share = e["crossing_share"].astype(np.float64)
        blocked = np.zeros(graph.n_edges, dtype=np.uint16)
        unknown = np.zeros(graph.n_edges, dtype=np.uint16)

        # Real seconds.
        speed = self.speed(np.where(steps, 0.0, grade))
        seconds = length / speed
        seconds = np.where(steps, length / (0.5 * p.speed_mps), seconds)
        seconds += np.where(kind == at.WAY_KIND["elevator"], p.elevator_wait_s, 0.0)
        seconds += np.where(
            crossing & (e["crossing_kind"] == at.CROSSING_SIGNALS), p.signal_wait_s * share, 0.0
        )

        reluctance = np.ones(graph.n_edges)
        penalty = np.zeros(graph.n_edges)

        # Hard limits common to all.
        blocked |= np.where(e["closed"], BLOCK_CLOSED, 0).astype(np.uint16)
        blocked |= np.where(
            e["closed"] & (kind == at.WAY_KIND["elevator"]), BLOCK_ELEVATOR, 0
        ).astype(np.uint16)

        # Steps.
        step_count = e["step_count"]
        reluctance = np.where(steps, reluctance * p.stairs_reluctance, reluctance)
        if p.wheelchair:
            blocked |= np.where(steps & (e["ramp"] != at.YES), BLOCK_STEPS, 0).astype(np.uint16)
            blocked |= np.where(e["conveying"], BLOCK_ESCALATOR, 0).astype(np.uint16)
        elif not p.allow_steps:
            blocked |= np.where(steps, BLOCK_STEPS, 0).astype(np.uint16)
        if p.max_step_count < 1000:
            blocked |= np.where(
                steps & (step_count > p.max_step_count), BLOCK_LONG_STEPS, 0
            ).astype(np.uint16)
            unknown |= np.where(steps & (step_count < 0), UNKNOWN_STEP_COUNT, 0).astype(np.uint16)
            penalty += np.where(steps & (step_count < 0), p.unknown_cost_s, 0.0)

        # Grade (directional). Unknown grade is only a problem where limits apply.
        if p.max_uphill < 1.0:
            known = np.isfinite(grade) & ~steps
            blocked |= np.where(known & (grade > p.max_uphill), BLOCK_UPHILL, 0).astype(np.uint16)
        if p.max_downhill < 1.0:
            known = np.isfinite(grade) & ~steps
            blocked |= np.where(known & (-grade > p.max_downhill), BLOCK_DOWNHILL, 0).astype(
                np.uint16
            )
        # The steepest sustained stretch inside an edge decides, not its average.
        up_max = np.fmax(e["grade_max_up"].astype(np.float64), grade)
        down_max = np.fmax(e["grade_max_down"].astype(np.float64), -grade)
        if p.max_uphill < 1.0:
            known = np.isfinite(up_max) & ~steps
            blocked |= np.where(known & (up_max > p.max_uphill), BLOCK_UPHILL, 0).astype(np.uint16)
        if p.max_downhill < 1.0:
            known = np.isfinite(down_max) & ~steps
            blocked |= np.where(known & (down_max > p.max_downhill), BLOCK_DOWNHILL, 0).astype(
                np.uint16
            )
        if p.wheelchair or p.max_uphill < 1.0:
            unknown |= np.where(np.isnan(grade), UNKNOWN_GRADE, 0).astype(np.uint16)
        if p.steep_reluctance > 1.0:  # climbing and descending both tire (reduced mobility)
            steep = (np.fmax(up_max, down_max) > p.comfortable_grade) & ~steps
            reluctance = np.where(steep, reluctance * p.steep_reluctance, reluctance)

        # Surface, smoothness, width, wheelchair tag.
        if p.wheelchair or p.rough_surface_reluctance > 1.0:
            surface, smooth = e["surface"], e["smoothness"]
            rough = surface == at.SURFACE_ROUGH
            firm = (surface == at.SURFACE_FIRM) | (smooth == 3)
            loose = (surface == at.SURFACE_LOOSE) | (smooth >= 4)
            reluctance = np.where(rough, reluctance * p.rough_surface_reluctance, reluctance)
            reluctance = np.where(firm, reluctance * p.unpaved_reluctance, reluctance)
            if not p.allow_loose_surface:
                blocked |= np.where(loose, BLOCK_SURFACE, 0).astype(np.uint16)
            else:
                reluctance = np.where(loose, reluctance * p.unpaved_reluctance**2, reluctance)
            unknown_surface = (surface == at.SURFACE_UNKNOWN) & (e["wheelchair"] != at.YES)
            if p.wheelchair:
                unknown |= np.where(unknown_surface & ~steps, UNKNOWN_SURFACE, 0).astype(np.uint16)
                reluctance = np.where(
                    unknown_surface, reluctance * p.unknown_surface_reluctance, reluctance
                )
        if p.wheelchair:
            width = e["width"].astype(np.float64)
            blocked |= np.where(np.isfinite(width) & (width < p.min_width), BLOCK_WIDTH, 0).astype(
                np.uint16
            )
            blocked |= np.where(e["wheelchair"] == at.NO, BLOCK_WHEELCHAIR_NO, 0).astype(np.uint16)
            reluctance = np.where(e["wheelchair_limited"], reluctance * 1.5, reluctance)

        # Walking on a carriageway: with no sidewalk at all, or beside a separate one.
        sidewalk = e["sidewalk"]
        carriageway = street & (e["road_class"] >= 2)
        no_sidewalk = carriageway & (sidewalk == at.SIDEWALK_NO)
        separate = carriageway & (sidewalk == at.SIDEWALK_SEPARATE)
        reluctance = np.where(no_sidewalk, reluctance * p.no_sidewalk_reluctance, reluctance)
        reluctance = np.where(separate, reluctance * p.carriageway_reluctance, reluctance)
        if not p.allow_carriageway:
            blocked |= np.where(separate, BLOCK_CARRIAGEWAY, 0).astype(np.uint16)
        if not p.allow_embedded_rails:
            along = street | (kind == at.WAY_KIND["pedestrian street"])
            blocked |= np.where(along & e["rails"], BLOCK_RAILS, 0).astype(np.uint16)
        if p.warn_unknown_sidewalk:
            unknown |= np.where(
                (carriageway | (kind == at.WAY_KIND["sidewalk"]))
                & (sidewalk == at.SIDEWALK_UNKNOWN),
                UNKNOWN_SIDEWALK,
                0,
            ).astype(np.uint16)

        # Lighting and tactile guidance.
        if p.unlit_reluctance > 1.0:
            reluctance = np.where(e["lit"] == at.NO, reluctance * p.unlit_reluctance, reluctance)
            unknown |= np.where(e["lit"] == at.UNKNOWN, UNKNOWN_LIT, 0).astype(np.uint16)
        if p.tactile_guide_reluctance < 1.0:
            reluctance = np.where(
                e["tactile_guide"] == at.YES, reluctance * p.tactile_guide_reluctance, reluctance
            )

        # Crossing ways: cost by control, sound, tactile, kerb; spread by length share.
        c_cost, c_unknown, c_block = self._crossing_cost(
            e["crossing_kind"],
            e["crossing_sound"],
            e["crossing_tactile"],
            e["crossing_road_class"],
            e["crossing_kerb"],
            e["crossing_kerb_height"],
            island=e["crossing_island"],
        )
        penalty += np.where(crossing, c_cost * share, 0.0)
        # Rails crossed by an edge's line (a crossing edge, or a path over a tram line):
        # one price per edge, wherever the rails are (see sidewalks.count_rail_crossings).
        penalty += np.where(e["rail_crossings"] > 0, p.rail_crossing_s, 0.0)
        unknown |= np.where(crossing, c_unknown, 0).astype(np.uint16)
        blocked |= np.where(crossing, c_block, 0).astype(np.uint16)

        # Node facts, charged to the edges entering the node.
        n_cost, n_unknown, _ = self._crossing_cost(
            n["crossing_kind"],
            n["crossing_sound"],
            n["crossing_tactile"],
            n["crossing_road_class"],
            n["kerb"],
            n["kerb_height"],
            nodes=True,
        )
        foot_entry = np.isin(kind, _FOOT_KINDS)
        node_is_crossing = n["crossing_kind"] > at.CROSSING_NONE
        charge = foot_entry & node_is_crossing[v]
        penalty += np.where(charge, n_cost[v], 0.0)
        unknown |= np.where(charge, n_unknown[v], 0).astype(np.uint16)
        seconds += np.where(
            charge & (n["crossing_kind"][v] == at.CROSSING_SIGNALS), p.signal_wait_s, 0.0
        )
        node_block, node_seconds, node_penalty = self._node_facts(n)
        seconds += node_seconds[v]
        penalty += node_penalty[v]
        blocked |= node_block[u] | node_block[v]

        cost = seconds * reluctance + penalty
        cost = np.where(blocked > 0, np.inf, np.maximum(cost, 1e-6))
        allowed = np.isfinite(cost)
        usable = np.zeros(graph.n_nodes, dtype=bool)
        usable[u[allowed]] = True
        has_in = np.zeros(graph.n_nodes, dtype=bool)
        has_in[v[allowed]] = True
        return EdgeCosts(
            seconds=seconds,
            cost=cost,
            blocked=blocked,
            unknown=unknown,
            node_usable=usable & has_in,
        )

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
        cost += np.where(signals & (sound != at.YES), p.crossing_no_sound_s, 0.0)
        cost += np.where(kind == at.CROSSING_MARKED, p.crossing_unsignalled_s * factor, 0.0)
        cost += np.where(kind == at.CROSSING_UNMARKED, p.crossing_unmarked_s * factor, 0.0)
        cost += np.where(
            kind == at.CROSSING_UNKNOWN, (p.crossing_unsignalled_s * factor) + p.unknown_cost_s, 0.0
        )
        is_crossing = kind > at.CROSSING_NONE
        if p.crossing_no_sound_s > 0:
            unknown |= np.where(signals & (sound == at.UNKNOWN), UNKNOWN_SIGNAL_SOUND, 0).astype(
                np.uint16
            )
            cost += np.where(signals & (sound == at.UNKNOWN), p.unknown_cost_s, 0.0)
        if p.no_tactile_s > 0:
            cost += np.where(is_crossing & (tactile == at.NO), p.no_tactile_s, 0.0)
            cost += np.where(
                is_crossing & (tactile == at.UNKNOWN), p.no_tactile_s + p.unknown_cost_s, 0.0
            )
            unknown |= np.where(is_crossing & (tactile == at.UNKNOWN), UNKNOWN_TACTILE, 0).astype(
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
            block |= np.where(n["wheelchair"] == at.NO, BLOCK_WHEELCHAIR_NO, 0).astype(np.uint16)
        return block, seconds, penalty
