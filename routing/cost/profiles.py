"""Travel profiles: immutable parameter sets with documented defaults and allowed ranges.

A profile is a frozen value. A request may override named parameters; overrides are
validated here, once, at the boundary (unknown name or out-of-range value ->
``InvalidParameterError`` naming the parameter). Cost models read profiles, never requests.

Where a default is taken from another engine or a standard, ``source`` says so; where it
is our assumption, it says that instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from routing.errors import InvalidInputError, InvalidParameterError

PROFILE_NAMES = (
    "walk",
    "wheelchair_manual",
    "wheelchair_electric",
    "blind",
    "low_vision",
    "reduced_mobility",
)


@dataclass(frozen=True)
class Parameter:
    """One tunable parameter: meaning, unit and allowed range."""

    name: str
    description: str
    unit: str
    minimum: float
    maximum: float
    kind: type = float

    def parse(self, raw: Any) -> float | bool:
        if self.kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off"):
                return False
            raise InvalidParameterError(
                f"parameter '{self.name}' must be true or false, got {raw!r}", field=self.name
            )
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise InvalidParameterError(
                f"parameter '{self.name}' must be a number, got {raw!r}", field=self.name
            ) from None
        if not math.isfinite(value) or not self.minimum <= value <= self.maximum:
            raise InvalidParameterError(
                f"parameter '{self.name}' = {raw} is outside its allowed range "
                f"[{self.minimum:g}, {self.maximum:g}] {self.unit}".rstrip(),
                field=self.name,
            )
        return value


_P = Parameter
PARAMETERS: dict[str, Parameter] = {
    p.name: p
    for p in [
        _P("speed_mps", "travel speed on flat, smooth ground", "m/s", 0.2, 3.0),
        _P("max_uphill", "steepest uphill grade allowed (rise/run)", "ratio", 0.0, 1.0),
        _P("max_downhill", "steepest downhill grade allowed (drop/run)", "ratio", 0.0, 1.0),
        _P(
            "uphill_speed_factor_at_limit",
            "share of flat speed left at the uphill limit",
            "ratio",
            0.05,
            1.0,
        ),
        _P("max_kerb_height", "highest kerb that can be passed", "m", 0.0, 0.3),
        _P("min_width", "narrowest way that can be used (when width is mapped)", "m", 0.0, 3.0),
        _P("allow_steps", "whether steps without a ramp may be used", "", 0, 1, bool),
        _P("max_step_count", "longest flight of steps allowed", "steps", 0, 1000),
        _P("stairs_reluctance", "cost multiplier on steps (OTP stairsReluctance)", "x", 1.0, 100.0),
        _P("allow_loose_surface", "whether gravel, sand, dirt, grass may be used", "", 0, 1, bool),
        _P(
            "rough_surface_reluctance",
            "cost multiplier on sett, cobblestone and other rough paving",
            "x",
            1.0,
            20.0,
        ),
        _P(
            "unpaved_reluctance",
            "cost multiplier on firm unpaved surfaces and bad smoothness",
            "x",
            1.0,
            20.0,
        ),
        _P(
            "unknown_surface_reluctance",
            "cost multiplier where the surface is not mapped",
            "x",
            1.0,
            10.0,
        ),
        _P(
            "unknown_cost_s",
            "extra cost for each crossing or kerb whose accessibility is unknown",
            "s",
            0.0,
            3600.0,
        ),
        _P(
            "no_sidewalk_reluctance",
            "cost multiplier for walking on a carriageway with no sidewalk",
            "x",
            1.0,
            20.0,
        ),
        _P(
            "crossing_no_sound_s",
            "extra cost of a signalled crossing without an audible signal",
            "s",
            0.0,
            3600.0,
        ),
        _P(
            "crossing_unsignalled_s",
            "extra cost of a marked crossing without signals (scaled by road)",
            "s",
            0.0,
            3600.0,
        ),
        _P(
            "crossing_unmarked_s",
            "extra cost of an unmarked crossing (scaled by road)",
            "s",
            0.0,
            3600.0,
        ),
        _P("no_tactile_s", "extra cost of a crossing without tactile paving", "s", 0.0, 3600.0),
        _P(
            "tactile_guide_reluctance",
            "cost multiplier on ways with a tactile guide line (<1 favours)",
            "x",
            0.3,
            1.0,
        ),
        _P("unlit_reluctance", "cost multiplier on unlit ways (Valhalla use_lit)", "x", 1.0, 10.0),
        _P("signal_wait_s", "mean wait at a signalled crossing (real time)", "s", 0.0, 300.0),
        _P("elevator_wait_s", "mean wait for and ride in an elevator (real time)", "s", 0.0, 600.0),
        _P(
            "carriageway_reluctance",
            "cost multiplier for walking on a carriageway whose sidewalks are mapped apart",
            "x",
            1.0,
            20.0,
        ),
        _P(
            "allow_carriageway",
            "whether a carriageway whose sidewalks are mapped apart may be walked along",
            "",
            0,
            1,
            bool,
        ),
        _P("rail_crossing_s", "extra cost of crossing tram or railway tracks", "s", 0.0, 3600.0),
        _P(
            "allow_embedded_rails",
            "whether a carriageway with rails set in it may be travelled along",
            "",
            0,
            1,
            bool,
        ),
        _P(
            "steep_reluctance",
            "cost multiplier on ways whose steepest sustained stretch exceeds comfortable_grade",
            "x",
            1.0,
            10.0,
        ),
        _P("comfortable_grade", "grade above which steep_reluctance applies", "ratio", 0.0, 0.5),
        _P(
            "island_factor",
            "share of an unsignalled crossing's cost left when it has a refuge island",
            "ratio",
            0.1,
            1.0,
        ),
    ]
}


@dataclass(frozen=True)
class Profile:
    """A travel profile: who travels, and every parameter of its cost model."""

    name: str
    label: str
    wheelchair: bool = False
    speed_mps: float = 1.33
    max_uphill: float = 1.0
    max_downhill: float = 1.0
    uphill_speed_factor_at_limit: float = 0.5
    max_kerb_height: float = 0.3
    min_width: float = 0.0
    allow_steps: bool = True
    max_step_count: float = 1000
    stairs_reluctance: float = 2.0
    allow_loose_surface: bool = True
    rough_surface_reluctance: float = 1.0
    unpaved_reluctance: float = 1.0
    unknown_surface_reluctance: float = 1.0
    unknown_cost_s: float = 0.0
    no_sidewalk_reluctance: float = 1.2
    crossing_no_sound_s: float = 0.0
    crossing_unsignalled_s: float = 0.0
    crossing_unmarked_s: float = 0.0
    no_tactile_s: float = 0.0
    tactile_guide_reluctance: float = 1.0
    unlit_reluctance: float = 1.0
    signal_wait_s: float = 20.0
    elevator_wait_s: float = 45.0
    # Not request parameters: what else differs between profiles (see PROFILES' sources).
    warn_steep: bool = True
    warn_unknown_sidewalk: bool = False
    min_transfer_s: int = 60
    transfer_penalty_s: float = 120.0
    stop_no_tactile_s: float = 0.0
    stop_unknown_tactile_s: float = 0.0
    carriageway_reluctance: float = 2.0
    allow_carriageway: bool = True
    rail_crossing_s: float = 0.0
    allow_embedded_rails: bool = True
    island_factor: float = 0.7
    steep_reluctance: float = 1.0
    comfortable_grade: float = 0.05
    #: Longest whole walk to the first vehicle and from the last one (seconds), transit only.
    max_access_walk_s: float = 1200.0
    #: Scenario reports count the unsignalled major-road crossings on this profile's trips.
    counts_unsignalled_crossings: bool = False
    parameters: tuple[str, ...] = field(default=(), compare=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    def with_overrides(self, overrides: Mapping[str, Any]) -> Profile:
        """A copy with validated overrides; unknown or out-of-range values raise."""
        changes: dict[str, Any] = {}
        for key, raw in overrides.items():
            if key not in self.parameters:
                raise InvalidParameterError(
                    f"profile '{self.name}' has no parameter '{key}' "
                    f"(it has: {', '.join(self.parameters)})",
                    field=key,
                )
            changes[key] = PARAMETERS[key].parse(raw)
        return replace(self, **changes) if changes else self

    def describe(self) -> dict[str, Any]:
        """JSON-ready description for ``GET /profiles``."""
        params = []
        for key in self.parameters:
            spec = PARAMETERS[key]
            params.append(
                {
                    "name": key,
                    "description": spec.description,
                    "unit": spec.unit,
                    "default": getattr(self, key),
                    "type": "boolean" if spec.kind is bool else "number",
                    "minimum": spec.minimum,
                    "maximum": spec.maximum,
                    "source": self.sources.get(key, "assumption of this project"),
                }
            )
        return {
            "name": self.name,
            "label": self.label,
            "wheelchair": self.wheelchair,
            "parameters": params,
        }


_OTP_WALK = "OpenTripPlanner walkSpeed default 1.33 m/s"
_OTP_STAIRS = "OpenTripPlanner stairsReluctance default 2.0"
_ACCESSMAP_MANUAL = "AccessMap manual wheelchair profile (uphill 8 %, downhill 10 %)"
_ACCESSMAP_POWERED = "AccessMap powered wheelchair profile (12 %)"
_ADA_WIDTH = "ADA 2010 Standards §403.5.1: 36 in (0.915 m) clear width"
_DIN_KERB = "DIN 18040-3: 3 cm kerb at crossings, the compromise for wheelchairs and canes"
_ORS_KERB = "openrouteservice maximum_sloped_kerb choices 0.03 / 0.06 / 0.1 m"

_COMMON = (
    "speed_mps",
    "signal_wait_s",
    "elevator_wait_s",
    "no_sidewalk_reluctance",
    "carriageway_reluctance",
    "allow_carriageway",
    "rail_crossing_s",
    "island_factor",
)
_PPR_RAIL = (
    "PPR default profile: crossing_tram 30 s, crossing_rail 60 s (doubled for wheels: assumption)"
)
_WHEELCHAIR = _COMMON + (
    "max_uphill",
    "max_downhill",
    "uphill_speed_factor_at_limit",
    "max_kerb_height",
    "min_width",
    "allow_loose_surface",
    "rough_surface_reluctance",
    "unpaved_reluctance",
    "unknown_surface_reluctance",
    "unknown_cost_s",
    "allow_embedded_rails",
)

PROFILES: dict[str, Profile] = {
    "walk": Profile(
        name="walk",
        warn_steep=False,
        label="Walking",
        speed_mps=1.33,
        stairs_reluctance=2.0,
        parameters=_COMMON + ("stairs_reluctance", "allow_steps"),
        sources={
            "speed_mps": _OTP_WALK,
            "stairs_reluctance": _OTP_STAIRS,
            "signal_wait_s": "half of a typical 40 s pedestrian red phase (assumption)",
        },
    ),
    "wheelchair_manual": Profile(
        name="wheelchair_manual",
        warn_unknown_sidewalk=True,
        min_transfer_s=180,
        transfer_penalty_s=300.0,
        label="Manual wheelchair",
        wheelchair=True,
        speed_mps=0.9,
        max_uphill=0.08,
        max_downhill=0.10,
        uphill_speed_factor_at_limit=0.4,
        max_kerb_height=0.03,
        min_width=0.9,
        allow_steps=False,
        stairs_reluctance=1.0,
        allow_loose_surface=False,
        rough_surface_reluctance=2.5,
        unpaved_reluctance=2.0,
        unknown_surface_reluctance=1.3,
        unknown_cost_s=120.0,
        no_sidewalk_reluctance=2.0,
        allow_carriageway=False,
        rail_crossing_s=120.0,
        allow_embedded_rails=False,
        parameters=_WHEELCHAIR,
        sources={
            "rail_crossing_s": _PPR_RAIL,
            "allow_embedded_rails": "casters drop into flangeway gaps (assumption)",
            "max_uphill": _ACCESSMAP_MANUAL + "; OTP maxSlope 0.083",
            "max_downhill": _ACCESSMAP_MANUAL,
            "min_width": _ADA_WIDTH,
            "max_kerb_height": _DIN_KERB + "; " + _ORS_KERB,
            "unknown_cost_s": "like OTP's inaccessible/unknown street cost: priced, "
            "not forbidden (value is an assumption)",
        },
    ),
    "wheelchair_electric": Profile(
        name="wheelchair_electric",
        warn_unknown_sidewalk=True,
        min_transfer_s=180,
        transfer_penalty_s=300.0,
        label="Electric wheelchair",
        wheelchair=True,
        speed_mps=1.5,
        max_uphill=0.12,
        max_downhill=0.12,
        uphill_speed_factor_at_limit=0.7,
        max_kerb_height=0.06,
        min_width=0.9,
        allow_steps=False,
        stairs_reluctance=1.0,
        allow_loose_surface=False,
        rough_surface_reluctance=1.5,
        unpaved_reluctance=1.5,
        unknown_surface_reluctance=1.2,
        unknown_cost_s=90.0,
        no_sidewalk_reluctance=2.0,
        allow_carriageway=False,
        rail_crossing_s=60.0,
        allow_embedded_rails=False,
        parameters=_WHEELCHAIR,
        sources={
            "rail_crossing_s": _PPR_RAIL,
            "max_uphill": _ACCESSMAP_POWERED,
            "max_downhill": _ACCESSMAP_POWERED,
            "min_width": _ADA_WIDTH,
            "max_kerb_height": _ORS_KERB + " (middle value)",
            "speed_mps": "5.4 km/h, below the 6 km/h pedestrian-speed cap many countries "
            "set for powered wheelchairs (assumption)",
        },
    ),
    "blind": Profile(
        name="blind",
        warn_unknown_sidewalk=True,
        counts_unsignalled_crossings=True,
        min_transfer_s=180,
        transfer_penalty_s=300.0,
        stop_no_tactile_s=120.0,
        stop_unknown_tactile_s=60.0,
        label="Blind (cane or guide dog)",
        speed_mps=1.0,
        stairs_reluctance=3.0,
        unknown_cost_s=60.0,
        no_sidewalk_reluctance=3.0,
        crossing_no_sound_s=90.0,
        crossing_unsignalled_s=120.0,
        crossing_unmarked_s=300.0,
        no_tactile_s=45.0,
        tactile_guide_reluctance=0.8,
        allow_carriageway=False,
        rail_crossing_s=60.0,
        parameters=_COMMON
        + (
            "stairs_reluctance",
            "unknown_cost_s",
            "crossing_no_sound_s",
            "crossing_unsignalled_s",
            "crossing_unmarked_s",
            "no_tactile_s",
            "tactile_guide_reluctance",
        ),
        sources={
            "crossing_no_sound_s": "Valhalla type=blind favours signalled crossings; "
            "values are assumptions",
            "stairs_reluctance": _OTP_STAIRS + " (raised for canes: assumption)",
        },
    ),
    "low_vision": Profile(
        name="low_vision",
        label="Low vision",
        speed_mps=1.15,
        stairs_reluctance=2.5,
        unknown_cost_s=20.0,
        unlit_reluctance=1.5,
        crossing_unsignalled_s=20.0,
        crossing_unmarked_s=90.0,
        no_sidewalk_reluctance=1.5,
        allow_carriageway=False,
        rail_crossing_s=30.0,
        crossing_no_sound_s=0.0,
        parameters=_COMMON
        + (
            "stairs_reluctance",
            "unknown_cost_s",
            "unlit_reluctance",
            "crossing_unsignalled_s",
            "crossing_unmarked_s",
        ),
        sources={"unlit_reluctance": "Valhalla use_lit (0..1 preference; 1.5x is an assumption)"},
    ),
    "reduced_mobility": Profile(
        name="reduced_mobility",
        label="Reduced mobility (cane, walker)",
        speed_mps=0.9,
        max_uphill=1.0,
        uphill_speed_factor_at_limit=0.5,
        max_step_count=30,
        stairs_reluctance=6.0,
        rough_surface_reluctance=1.3,
        unpaved_reluctance=1.5,
        unknown_cost_s=30.0,
        no_sidewalk_reluctance=1.5,
        rail_crossing_s=30.0,
        crossing_unsignalled_s=30.0,
        crossing_unmarked_s=60.0,
        carriageway_reluctance=3.0,
        steep_reluctance=2.0,
        parameters=_COMMON
        + (
            "crossing_unsignalled_s",
            "crossing_unmarked_s",
            "steep_reluctance",
            "comfortable_grade",
            "max_step_count",
            "stairs_reluctance",
            "allow_steps",
            "rough_surface_reluctance",
            "unpaved_reluctance",
            "unknown_cost_s",
            "max_uphill",
        ),
        sources={
            "speed_mps": "older adults walk 3.2-4.7 km/h (assumption at the low end)",
            "stairs_reluctance": _OTP_STAIRS + " (tripled: assumption)",
        },
    ),
}


def get_profile(name: str | None, overrides: Mapping[str, Any] | None = None) -> Profile:
    """The named profile with validated overrides (400-class errors name the field)."""
    if not name:
        raise InvalidInputError(
            "missing 'profile' (one of: " + ", ".join(PROFILE_NAMES) + ")", field="profile"
        )
    if name not in PROFILES:
        raise InvalidInputError(
            f"unknown profile '{name}' (one of: {', '.join(PROFILE_NAMES)})", field="profile"
        )
    return PROFILES[name].with_overrides(overrides or {})
