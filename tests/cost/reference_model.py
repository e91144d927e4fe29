"""The cost model's per-edge evaluation as it was before it was made table-driven.

Kept as it was (reformatted only) as the oracle for ``test_model_tables.py``: the
table-driven :meth:`routing.cost.model.CostModel.evaluate` must give bit-identical arrays.
"""

from __future__ import annotations

import numpy as np

from routing.cost import model as cm
from routing.cost.model import (
    _FOOT_KINDS,
    BLOCK_CARRIAGEWAY,
    BLOCK_CLOSED,
    BLOCK_DOWNHILL,
    BLOCK_ELEVATOR,
    BLOCK_ESCALATOR,
    BLOCK_LONG_STEPS,
    BLOCK_RAILS,
    BLOCK_STEPS,
    BLOCK_SURFACE,
    BLOCK_UPHILL,
    BLOCK_WHEELCHAIR_NO,
    BLOCK_WIDTH,
    UNKNOWN_GRADE,
    UNKNOWN_LIT,
    UNKNOWN_SIDEWALK,
    UNKNOWN_STEP_COUNT,
    UNKNOWN_SURFACE,
    EdgeCosts,
)
from routing.graph import attributes as at
from routing.tristate import NO, UNKNOWN, YES


class ReferenceCostModel(cm.CostModel):
    """The cost model with the per-edge evaluation it had before the tables."""

    def evaluate(self, graph) -> EdgeCosts:
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
            blocked |= np.where(steps & (e["ramp"] != YES), BLOCK_STEPS, 0).astype(np.uint16)
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
            unknown_surface = (surface == at.SURFACE_UNKNOWN) & (e["wheelchair"] != YES)
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
            blocked |= np.where(e["wheelchair"] == NO, BLOCK_WHEELCHAIR_NO, 0).astype(np.uint16)
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
            reluctance = np.where(e["lit"] == NO, reluctance * p.unlit_reluctance, reluctance)
            unknown |= np.where(e["lit"] == UNKNOWN, UNKNOWN_LIT, 0).astype(np.uint16)
        if p.tactile_guide_reluctance < 1.0:
            reluctance = np.where(
                e["tactile_guide"] == YES, reluctance * p.tactile_guide_reluctance, reluctance
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
