"""Turn OSM tags into the small integer codes the cost models read.

Every accessibility fact is three-valued (:mod:`routing.tristate`): ``YES``, ``NO`` or
``UNKNOWN``. Unknown is never read as accessible; cost models price it and routes report it.
"""

from __future__ import annotations

import math
import re

from routing.tristate import NO, UNKNOWN, YES

# Class of a road as a barrier to cross or a carriageway to walk on (0: not a road).
ROAD_CLASS = {
    "service": 1,
    "living_street": 1,
    "track": 1,
    "residential": 2,
    "unclassified": 2,
    "road": 2,
    "tertiary": 3,
    "tertiary_link": 3,
    "secondary": 4,
    "secondary_link": 4,
    "primary": 5,
    "primary_link": 5,
    "trunk": 5,
    "trunk_link": 5,
}
ROAD_CLASS_NAMES = {
    0: "path",
    1: "service road",
    2: "street",
    3: "tertiary road",
    4: "secondary road",
    5: "major road",
}
MAJOR_ROAD_CLASS = 3  # tertiary and above: crossing it unaided is a real hazard

# Kinds of way, for costs and instructions.
WAY_KIND_NAMES = [
    "footway",
    "sidewalk",
    "crossing",
    "steps",
    "path",
    "pedestrian street",
    "street",
    "elevator",
    "platform",
    "corridor",
]
WAY_KIND = {name: i for i, name in enumerate(WAY_KIND_NAMES)}

# Crossing kinds, from least to most controlled.
CROSSING_NONE, CROSSING_UNKNOWN, CROSSING_UNMARKED, CROSSING_MARKED, CROSSING_SIGNALS = range(5)
CROSSING_NAMES = {
    CROSSING_NONE: "no crossing",
    CROSSING_UNKNOWN: "crossing of unknown type",
    CROSSING_UNMARKED: "unmarked crossing",
    CROSSING_MARKED: "marked crossing without signals",
    CROSSING_SIGNALS: "signalled crossing",
}

# Kerbs: unknown, flush, lowered, rolled, raised.
KERB_UNKNOWN, KERB_FLUSH, KERB_LOWERED, KERB_ROLLED, KERB_RAISED = range(5)
KERB_NAMES = {
    KERB_UNKNOWN: "unknown kerb",
    KERB_FLUSH: "flush kerb",
    KERB_LOWERED: "lowered kerb",
    KERB_ROLLED: "rolled kerb",
    KERB_RAISED: "raised kerb",
}

# Surfaces grouped by how they roll: unknown, smooth, rough paved, firm unpaved, loose.
SURFACE_UNKNOWN, SURFACE_SMOOTH, SURFACE_ROUGH, SURFACE_FIRM, SURFACE_LOOSE = range(5)
_SURFACE = {
    **dict.fromkeys(
        [
            "asphalt",
            "concrete",
            "paved",
            "paving_stones",
            "concrete:plates",
            "metal",
            "wood",
            "rubber",
            "tartan",
            "acrylic",
            "chipseal",
        ],
        SURFACE_SMOOTH,
    ),
    **dict.fromkeys(
        [
            "sett",
            "cobblestone",
            "unhewn_cobblestone",
            "concrete:lanes",
            "grass_paver",
            "bricks",
            "brick",
            "stone",
            "metal_grid",
        ],
        SURFACE_ROUGH,
    ),
    **dict.fromkeys(["compacted", "fine_gravel"], SURFACE_FIRM),
    **dict.fromkeys(
        [
            "gravel",
            "pebblestone",
            "dirt",
            "ground",
            "earth",
            "grass",
            "sand",
            "mud",
            "unpaved",
            "woodchips",
            "rock",
            "snow",
            "ice",
        ],
        SURFACE_LOOSE,
    ),
}
SURFACE_NAMES = {
    SURFACE_UNKNOWN: "unknown surface",
    SURFACE_SMOOTH: "smooth surface",
    SURFACE_ROUGH: "rough paving",
    SURFACE_FIRM: "firm unpaved surface",
    SURFACE_LOOSE: "loose surface",
}

# Smoothness 0 unknown .. 5 impassable.
_SMOOTHNESS = {
    "excellent": 1,
    "good": 1,
    "intermediate": 2,
    "bad": 3,
    "very_bad": 4,
    "horrible": 5,
    "very_horrible": 5,
    "impassable": 5,
}

# Sidewalk presence on a road: unknown, yes, no, separate (mapped as its own way).
SIDEWALK_UNKNOWN, SIDEWALK_YES, SIDEWALK_NO, SIDEWALK_SEPARATE = range(4)

_FEET_PER_M = 3.28084
_LENGTH = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*(mm|cm|m|ft|'|\")?\s*$")


def tri(
    value: str | None, *, yes: tuple[str, ...] = ("yes",), no: tuple[str, ...] = ("no",)
) -> int:
    """Three-valued reading of a tag value."""
    if value is None:
        return UNKNOWN
    if value in yes:
        return YES
    if value in no:
        return NO
    return UNKNOWN


def parse_length_m(value: str | None) -> float:
    """A length tag (``0.02``, ``2 cm``, ``3'``) in metres; NaN when absent or unreadable."""
    if not value:
        return math.nan
    m = _LENGTH.match(value.replace(",", "."))
    if not m:
        return math.nan
    number = float(m.group(1))
    unit = m.group(2) or "m"
    scale = {
        "mm": 0.001,
        "cm": 0.01,
        "m": 1.0,
        "ft": 1 / _FEET_PER_M,
        "'": 1 / _FEET_PER_M,
        '"': 0.0254,
    }[unit]
    return number * scale


def parse_incline(value: str | None) -> float:
    """Grade (rise/run) from a numeric ``incline`` tag in way direction; NaN for up/down/absent."""
    if not value:
        return math.nan
    text = value.strip().replace(",", ".")
    try:
        if text.endswith("%"):
            return float(text[:-1]) / 100.0
        if text.endswith("°"):
            return math.tan(math.radians(float(text[:-1])))
        number = float(text)
    except ValueError:
        return math.nan
    # A bare number is a percentage when it is larger than any plausible ratio.
    return number / 100.0 if abs(number) > 1.0 else number


def surface_code(value: str | None) -> int:
    return _SURFACE.get(value or "", SURFACE_UNKNOWN)


def smoothness_code(value: str | None) -> int:
    return _SMOOTHNESS.get(value or "", 0)


_KERB_VALUES = {
    "flush": KERB_FLUSH,
    "no": KERB_FLUSH,
    "none": KERB_FLUSH,
    "lowered": KERB_LOWERED,
    "sloped": KERB_LOWERED,
    "lowered_and_sloped": KERB_LOWERED,
    "rolled": KERB_ROLLED,
    "raised": KERB_RAISED,
    "regular": KERB_RAISED,
    "normal": KERB_RAISED,
    "yes": KERB_RAISED,
}


def kerb_code(tags: dict[str, str]) -> tuple[int, float]:
    """Kerb kind and height (m, NaN unknown) from a node's or crossing way's tags.

    ``kerb=*`` and its American spelling ``curb=*`` (used in Helsinki) are read alike;
    ``curb=regular`` is a raised kerb, ``curb=sloped`` a lowered one. A list
    (``flush;lowered``) counts as its worst value.
    """
    height = parse_length_m(tags.get("kerb:height") or tags.get("curb:height"))
    raw = tags.get("kerb") or tags.get("curb") or ""
    kinds = [_KERB_VALUES.get(v.strip(), KERB_UNKNOWN) for v in raw.split(";") if v.strip()]
    kind = max(kinds) if kinds and KERB_UNKNOWN not in kinds else KERB_UNKNOWN
    if kind == KERB_UNKNOWN and not math.isnan(height):
        kind = KERB_FLUSH if height <= 0.005 else KERB_LOWERED if height <= 0.04 else KERB_RAISED
    return kind, height


def has_kerb_info(tags: dict[str, str]) -> bool:
    return bool(_KERB_KEYS & tags.keys()) or tags.get("barrier") == "kerb"


_KERB_KEYS = frozenset({"kerb", "kerb:height", "curb", "curb:height"})


def road_class(tags: dict[str, str]) -> int:
    return ROAD_CLASS.get(tags.get("highway", ""), 0)


def is_crossing_way(tags: dict[str, str]) -> bool:
    highway = tags.get("highway")
    return (
        tags.get("footway") == "crossing"
        or highway == "crossing"
        or (tags.get("path") == "crossing")
        or (highway in ("footway", "path", "cycleway") and "crossing" in tags)
    )


def way_kind(tags: dict[str, str]) -> int:
    highway = tags.get("highway", "")
    if highway == "steps":
        return WAY_KIND["steps"]
    if highway == "elevator":
        return WAY_KIND["elevator"]
    if is_crossing_way(tags):
        return WAY_KIND["crossing"]
    if highway == "footway" and tags.get("footway") == "sidewalk":
        return WAY_KIND["sidewalk"]
    if highway == "footway":
        return WAY_KIND["footway"]
    if highway in ("path", "bridleway", "cycleway", "track"):
        return WAY_KIND["path"]
    if highway == "pedestrian":
        return WAY_KIND["pedestrian street"]
    if highway == "platform" or tags.get("public_transport") == "platform":
        return WAY_KIND["platform"]
    if highway == "corridor":
        return WAY_KIND["corridor"]
    return WAY_KIND["street"]


def sidewalk_code(tags: dict[str, str]) -> int:
    values = {tags.get(k) for k in ("sidewalk", "sidewalk:both", "sidewalk:left", "sidewalk:right")}
    values.discard(None)
    if not values:
        return SIDEWALK_UNKNOWN
    if values & {"both", "left", "right", "yes"}:
        return SIDEWALK_YES
    if "separate" in values:
        return SIDEWALK_SEPARATE
    if values & {"no", "none"}:
        return SIDEWALK_NO
    return SIDEWALK_UNKNOWN


def crossing_kind(tags: dict[str, str]) -> int:
    """Crossing control from a crossing way's or node's tags (CROSSING_NONE if not a crossing).

    ``crossing=no`` means there is no crossing here (not an unmarked one), as in PPR.
    """
    crossing = tags.get("crossing")
    highway = tags.get("highway")
    if crossing == "no":
        return CROSSING_NONE
    if (
        crossing in ("traffic_signals", "pelican", "toucan", "pegasus")
        or tags.get("crossing:signals") == "yes"
        or highway == "traffic_signals"
    ):
        return CROSSING_SIGNALS
    if crossing in ("uncontrolled", "marked", "zebra", "tiger") or tags.get(
        "crossing:markings"
    ) not in (None, "no"):
        return CROSSING_MARKED
    if crossing in ("unmarked", "informal"):
        return CROSSING_UNMARKED
    if crossing is not None or highway == "crossing" or is_crossing_way(tags):
        return CROSSING_UNKNOWN
    return CROSSING_NONE


def is_no_crossing(tags: dict[str, str]) -> bool:
    """``crossing=no``: the map says pedestrians cannot cross here."""
    return tags.get("crossing") == "no"


def has_island(tags: dict[str, str]) -> bool:
    return tags.get("crossing:island") == "yes" or tags.get("crossing") == "island"


def has_embedded_rails(tags: dict[str, str]) -> bool:
    """Rails set in this way's surface (a tram line mapped on the road, or ``embedded_rails``)."""
    return tags.get("railway") in ("tram", "light_rail", "rail") or tags.get(
        "embedded_rails", "no"
    ) not in ("no", "")


def parse_int(value: str | None, default: int = -1) -> int:
    """Leading integer of a tag such as ``lanes=4`` or ``maxspeed=60 mph`` (-1 unknown)."""
    m = re.match(r"\s*(\d+)", value or "")
    return int(m.group(1)) if m else default


def sidewalk_sides(tags: dict[str, str]) -> tuple[int, int]:
    """Sidewalk state (SIDEWALK_*) on the (left, right) of a road, from its own tags.

    ``sidewalk=left|right`` mean that side only; ``sidewalk:left``/``:right``/``:both``
    override; untagged sides stay ``SIDEWALK_UNKNOWN``.
    """
    code = {
        "yes": SIDEWALK_YES,
        "no": SIDEWALK_NO,
        "none": SIDEWALK_NO,
        "separate": SIDEWALK_SEPARATE,
    }
    left = right = SIDEWALK_UNKNOWN
    main = tags.get("sidewalk")
    if main in ("both", "yes"):
        left = right = SIDEWALK_YES
    elif main == "left":
        left, right = SIDEWALK_YES, SIDEWALK_NO
    elif main == "right":
        left, right = SIDEWALK_NO, SIDEWALK_YES
    elif main in code:
        left = right = code[main]
    both = tags.get("sidewalk:both")
    if both in code:
        left = right = code[both]
    left = code.get(tags.get("sidewalk:left", ""), left)
    right = code.get(tags.get("sidewalk:right", ""), right)
    return left, right


def merge_tri(values: list[int]) -> int:
    """Yes if any source says yes, no if some say no and none yes, else unknown."""
    if YES in values:
        return YES
    if NO in values:
        return NO
    return UNKNOWN


def no_crossing_facts() -> dict:
    """Crossing attributes of a way piece that is not a crossing (all unknown or none)."""
    return {
        "crossing_kind": CROSSING_NONE,
        "crossing_sound": UNKNOWN,
        "crossing_vibration": UNKNOWN,
        "crossing_tactile": UNKNOWN,
        "crossing_kerb": KERB_UNKNOWN,
        "crossing_kerb_height": math.nan,
        "crossing_road_class": 0,
        "crossing_island": False,
    }
