"""Accessibility overlays: small CSV or GeoJSON files that patch OSM tags before the graph is built.

OSM rarely says that a crossing has tactile paving, how high a kerb is, or that an elevator
is out of service. Overlays carry those facts and are applied to :class:`OsmData` *before*
the walking graph is built, so that every accessibility rule reads tags in one place.

Formats (see ``data/overlays/README.md`` for examples):

CSV
    UTF-8 with a header row. The target is the ``osm`` column (``node/123``, ``way/456``) or
    the ``lat``/``lon`` columns (WGS84; nearest node, or nearest way when ``element`` is
    ``way``). ``max_distance_m`` (default 25) bounds the coordinate snap; ``note`` is free
    text. Every other column is an OSM tag key from :data:`TAG_RULES`: a blank cell leaves
    the tag unchanged and ``-`` deletes it. Line numbers are 1-based file lines (header = 1).
GeoJSON
    A FeatureCollection. Each feature's ``properties`` hold ``osm``, ``element``,
    ``max_distance_m``, ``note`` and tags as above; a Point geometry is the coordinate
    target, and geometry may be null when ``osm`` is given. The "line" of a feature is its
    0-based index in ``features``.

When a row gives both an id and a coordinate, the id is the target and the coordinate is a
check: the element must lie within ``max_distance_m`` of it.

Nothing is silently ignored: unknown columns or properties, values outside a key's rules,
targets that do not exist or are too far, rows that change nothing, and two rows giving one
tag of one element different values all raise :class:`~routing.errors.OverlayError` naming
the file, the line (or feature) and the field.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from routing.errors import OverlayError
from routing.geo import LocalProjection
from routing.graph.osm_data import OsmData, OsmWay

__all__ = [
    "DEFAULT_MAX_DISTANCE_M",
    "DELETE",
    "ELEMENTS",
    "RESERVED_COLUMNS",
    "TAG_RULES",
    "OverlayPatch",
    "apply_overlays",
    "normalize_tag",
    "read_overlay",
    "read_overlay_dir",
]

DEFAULT_MAX_DISTANCE_M = 25.0
DELETE = "-"
ELEMENTS = ("node", "way")
RESERVED_COLUMNS = ("osm", "lat", "lon", "element", "max_distance_m", "note")
CSV_SUFFIXES = (".csv",)
GEOJSON_SUFFIXES = (".geojson", ".json")

_OSM_REF = re.compile(r"^(node|way)/(-?\d+)$")
_OSM_RELATION = re.compile(r"^relation/\d+$")

# --------------------------------------------------------------------------------------------
# Tag value rules. A rule takes the raw text and returns the normalised value, or raises
# ValueError whose text completes "<key> '<value>' ...".
# --------------------------------------------------------------------------------------------

Rule = Callable[[str], str]


def _enum(*values: str) -> Rule:
    allowed = frozenset(values)

    def check(value: str) -> str:
        # OSM values are lower case; "Yes" is a typo, not a different value.
        lowered = value.lower()
        if lowered not in allowed:
            raise ValueError(f"is not one of: {', '.join(values)}")
        return lowered

    check.values = values  # type: ignore[attr-defined]  # lets docs and tests list them
    return check


_LENGTH = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(m|cm|mm)?$")
_LENGTH_SCALE = {"m": 1.0, "cm": 0.01, "mm": 0.001}


def _format_metres(metres: float) -> str:
    # Millimetre precision; "0.020" -> "0.02", "1.000" -> "1".
    text = f"{metres:.3f}".rstrip("0").rstrip(".")
    return text or "0"


def _length(*, max_m: float, what: str) -> Rule:
    def check(value: str) -> str:
        match = _LENGTH.match(value.strip().lower())
        if not match:
            raise ValueError("is not a length (write e.g. 0.02, 2 cm or 20 mm)")
        metres = float(match.group(1)) * _LENGTH_SCALE[match.group(2) or "m"]
        if metres > max_m:
            # A bare "2" meaning centimetres is the usual mistake.
            raise ValueError(f"is {metres:g} m, more than any {what} (max {max_m:g} m)")
        return _format_metres(metres)

    return check


_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
_PERCENT = re.compile(rf"^({_NUMBER})\s*%$")
_DEGREES = re.compile(rf"^({_NUMBER})\s*°$")
_BARE = re.compile(rf"^{_NUMBER}$")
_MAX_INCLINE_PERCENT = 100.0  # 45 degrees: steeper is a typo, not a walkable way


def _incline(value: str) -> str:
    text = value.strip().lower()
    if text in ("up", "down"):
        return text
    if match := _PERCENT.match(text):
        percent = float(match.group(1))
    elif match := _DEGREES.match(text):
        percent = math.tan(math.radians(float(match.group(1)))) * 100.0
    elif _BARE.match(text):
        fraction = float(text)
        if abs(fraction) > 1.0:
            raise ValueError(f"is read as a fraction (x100 %); write '{text}%' for a percentage")
        percent = fraction * 100.0
    else:
        raise ValueError("is not an incline (write up, down, 5%, -8%, 0.05 or 3°)")
    if abs(percent) > _MAX_INCLINE_PERCENT:
        raise ValueError(f"is steeper than {_MAX_INCLINE_PERCENT:g}%")
    text = f"{percent:.1f}".rstrip("0").rstrip(".")
    return ("0" if text in ("-0", "") else text) + "%"


def _count(value: str) -> str:
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        raise ValueError("is not a non-negative whole number")
    return str(int(text))


_LEVEL = re.compile(rf"^{_NUMBER}(?:;{_NUMBER})*$")


def _level(value: str) -> str:
    text = value.strip()
    if not _LEVEL.match(text):
        raise ValueError("is not a level (write e.g. 0, -1, 1.5 or 0;1)")
    return text


def _free_text(value: str) -> str:
    text = value.strip()
    if len(text) > 255:  # OSM's limit on tag values
        raise ValueError("is longer than 255 characters")
    if any(ord(c) < 32 for c in text):
        raise ValueError("contains control characters or line breaks")
    return text


_YES_NO = ("yes", "no")
_ACCESS = ("yes", "no", "private", "permissive", "designated")
_RAMP = ("yes", "no", "separate")

SURFACES = (
    # smooth
    "asphalt", "concrete", "paved", "paving_stones", "concrete:plates", "metal", "wood",
    "rubber", "tartan", "acrylic", "chipseal",
    # rough paving
    "sett", "cobblestone", "unhewn_cobblestone", "concrete:lanes", "grass_paver", "bricks",
    "brick", "stone", "metal_grid",
    # firm unpaved
    "compacted", "fine_gravel",
    # loose
    "gravel", "pebblestone", "dirt", "ground", "earth", "grass", "sand", "mud", "unpaved",
    "woodchips", "rock", "snow", "ice",
)  # fmt: skip

HIGHWAYS = (
    "footway", "path", "pedestrian", "steps", "crossing", "elevator", "corridor", "platform",
    "living_street", "residential", "service", "unclassified", "track", "cycleway",
    "tertiary", "secondary", "primary", "trunk", "traffic_signals", "bus_stop",
)  # fmt: skip

SMOOTHNESS = (
    "excellent", "good", "intermediate", "bad", "very_bad", "horrible", "very_horrible",
    "impassable",
)  # fmt: skip

CROSSING_MARKINGS = (
    "yes", "no", "zebra", "lines", "lines:paired", "dashes", "dots", "surface", "ladder",
    "skewed", "ladder:skewed", "ladder:paired", "zebra:double", "zebra:paired",
    "zebra:bicolour", "pictograms",
)  # fmt: skip

#: Accepted tag keys and the rule each value must satisfy.
TAG_RULES: Mapping[str, Rule] = MappingProxyType(
    {
        # blind and low-vision
        "tactile_paving": _enum("yes", "no", "incorrect", "partial"),
        "traffic_signals:sound": _enum("yes", "no", "locate", "walk"),
        "traffic_signals:vibration": _enum(*_YES_NO),
        "traffic_signals:arrow": _enum(*_YES_NO),
        "button_operated": _enum(*_YES_NO),
        # kerbs and ramps
        "kerb": _enum("raised", "lowered", "flush", "rolled", "no", "yes"),
        "kerb:height": _length(max_m=1.0, what="kerb"),
        "wheelchair": _enum("yes", "no", "limited", "designated"),
        "ramp": _enum(*_RAMP),
        "ramp:wheelchair": _enum(*_RAMP),
        "ramp:stroller": _enum(*_RAMP),
        # kind of way or node
        "highway": _enum(*HIGHWAYS),
        "footway": _enum("sidewalk", "crossing", "access_aisle", "link"),
        "crossing": _enum(
            "traffic_signals", "uncontrolled", "marked", "unmarked", "zebra", "no", "informal"
        ),
        "crossing:markings": _enum(*CROSSING_MARKINGS),
        "crossing:island": _enum(*_YES_NO),
        "crossing:signals": _enum(*_YES_NO),
        # steps and slopes
        "handrail": _enum(*_YES_NO),
        "handrail:left": _enum(*_YES_NO),
        "handrail:right": _enum(*_YES_NO),
        "handrail:center": _enum(*_YES_NO),
        "step_count": _count,
        "incline": _incline,
        # surface and space
        "surface": _enum(*SURFACES),
        "smoothness": _enum(*SMOOTHNESS),
        "width": _length(max_m=100.0, what="walkway width"),
        "lit": _enum(*_YES_NO),
        # access and availability
        "access": _enum(*_ACCESS),
        "foot": _enum(*_ACCESS),
        "operational_status": _enum("operational", "out_of_service", "closed"),
        "opening_hours": _free_text,
        # elevators and levels
        "level": _level,
        "conveying": _enum("yes", "no", "forward", "backward", "reversible"),
        "elevator": _enum(*_YES_NO),
    }
)


def normalize_tag(key: str, value: str) -> str:
    """Validate one tag value and return its normal form.

    Parameters
    ----------
    key
        A key of :data:`TAG_RULES`.
    value
        The raw text (not ``-``, which means delete and has no value to check).

    Returns
    -------
    str
        The value in normal form, e.g. ``kerb:height`` ``"2 cm"`` -> ``"0.02"``, ``incline``
        ``"0.05"`` -> ``"5%"``. Normal forms are fixed points: normalising twice is a no-op.

    Raises
    ------
    KeyError
        When ``key`` is not accepted.
    ValueError
        When the value breaks the key's rule; the text completes ``"<key> '<value>' ..."``.
    """
    rule = TAG_RULES[key]
    if not value.strip():
        raise ValueError("is empty (leave the cell blank to keep the tag, '-' to delete it)")
    return rule(value)


# --------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------


def _is_geojson(source: str) -> bool:
    return source.lower().endswith(GEOJSON_SUFFIXES)


def _where(source: str, line: int | None) -> str:
    """``"kerbs.csv line 4"`` or ``"ramps.geojson features[2]"``: how messages name a row."""
    if line is None:
        return source
    return f"{source} features[{line}]" if _is_geojson(source) else f"{source} line {line}"


def _coordinate_field(source: str) -> str:
    return "geometry" if _is_geojson(source) else "lat/lon"


@dataclass(frozen=True)
class OverlayPatch:
    """One validated overlay row: which element to patch and the tags to set or delete.

    Attributes
    ----------
    source
        The overlay file, as given to :func:`read_overlay`.
    line
        CSV: 1-based file line (header = 1). GeoJSON: 0-based index in ``features``.
    element
        ``"node"`` or ``"way"``.
    osm_id
        Target id, or ``None`` to target the nearest element to ``lat``/``lon``.
    lat, lon
        WGS84 coordinate: the target when ``osm_id`` is ``None``, else a check that the
        element lies within ``max_distance_m`` of it.
    max_distance_m
        How far the element may be from ``lat``/``lon``.
    tags
        Normalised tag values; ``None`` deletes the tag. Read-only.
    note
        Free text from the ``note`` column, for people; never written to tags.

    Raises
    ------
    OverlayError
        On construction, when the target is incomplete or a tag breaks :data:`TAG_RULES`,
        so that every patch in existence is valid whatever built it.
    """

    source: str
    line: int
    element: str
    osm_id: int | None
    lat: float | None
    lon: float | None
    max_distance_m: float
    tags: Mapping[str, str | None] = field(hash=False)
    note: str = ""

    def __post_init__(self) -> None:
        where = _where(self.source, self.line)

        def fail(message: str, fld: str | None) -> OverlayError:
            return OverlayError(f"{where}: {message}", path=self.source, line=self.line, field=fld)

        if self.element not in ELEMENTS:
            raise fail(f"element {self.element!r} is not one of: node, way", "element")
        if (self.lat is None) != (self.lon is None):
            raise fail("give both lat and lon, or neither", _coordinate_field(self.source))
        if self.osm_id is None and self.lat is None:
            raise fail(
                "no target: give osm (node/123 or way/456) or a coordinate",
                "osm" if not _is_geojson(self.source) else "geometry",
            )
        if not (math.isfinite(self.max_distance_m) and self.max_distance_m > 0):
            raise fail(
                f"max_distance_m {self.max_distance_m!r} is not a positive distance",
                "max_distance_m",
            )
        if not self.tags:
            raise fail("changes no tag (every tag is blank)", None)
        normal: dict[str, str | None] = {}
        for key, value in self.tags.items():
            if key not in TAG_RULES:
                raise fail(f"unknown tag key {key!r}{_suggest(key)}", key)
            if value is None:
                normal[key] = None
                continue
            if not isinstance(value, str):
                raise fail(f"{key} {value!r} is not text", key)
            try:
                normal[key] = normalize_tag(key, value)
            except ValueError as exc:
                raise fail(f"{key} {value!r} {exc}", key) from None
        object.__setattr__(self, "tags", MappingProxyType(normal))

    @property
    def target(self) -> str:
        """``"node/123"``, or ``"nearest node to (lat, lon)"``: for messages."""
        if self.osm_id is not None:
            return f"{self.element}/{self.osm_id}"
        return f"nearest {self.element} to ({self.lat:.6f}, {self.lon:.6f})"


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(name, [*RESERVED_COLUMNS, *TAG_RULES], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


class _RowError(Exception):
    """A problem with one row, raised by shared helpers and turned into an OverlayError."""

    def __init__(self, message: str, field: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def _parse_osm_ref(text: str) -> tuple[str, int]:
    match = _OSM_REF.match(text.strip())
    if match:
        return match.group(1), int(match.group(2))
    if _OSM_RELATION.match(text.strip()):
        raise _RowError(f"osm {text!r}: only node/<id> and way/<id> can be patched", "osm")
    raise _RowError(f"osm {text!r} is not node/<id> or way/<id>", "osm")


def _parse_number(text: Any, name: str) -> float:
    if isinstance(text, bool):
        raise _RowError(f"{name} {text!r} is not a number", name)
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise _RowError(f"{name} {text!r} is not a number", name) from None
    if not math.isfinite(number):
        raise _RowError(f"{name} {text!r} is not a finite number", name)
    return number


def _check_coordinate(lat: float, lon: float, fld: str) -> None:
    if not -90.0 <= lat <= 90.0:
        raise _RowError(f"latitude {lat!r} is outside -90..90", fld)
    if not -180.0 <= lon <= 180.0:
        raise _RowError(f"longitude {lon!r} is outside -180..180", fld)


def _build_patch(
    source: str,
    line: int,
    *,
    osm: str | None,
    coordinate: tuple[float, float] | None,
    element: str | None,
    max_distance: Any,
    note: str,
    tags: dict[str, str | None],
) -> OverlayPatch:
    """Shared by the CSV and GeoJSON readers: target columns -> a validated patch."""
    kind: str | None = None
    osm_id: int | None = None
    if osm:
        kind, osm_id = _parse_osm_ref(osm)
    if element:
        element = element.strip().lower()
        if element not in ELEMENTS:
            raise _RowError(f"element {element!r} is not one of: node, way", "element")
        if kind is not None and element != kind:
            raise _RowError(f"element {element!r} contradicts osm {osm!r}", "element")
    if max_distance is None or max_distance == "":
        max_distance_m = DEFAULT_MAX_DISTANCE_M
    else:
        if coordinate is None:
            raise _RowError("max_distance_m applies only to coordinate targets", "max_distance_m")
        max_distance_m = _parse_number(max_distance, "max_distance_m")
    lat, lon = coordinate if coordinate is not None else (None, None)
    return OverlayPatch(
        source=source,
        line=line,
        element=kind or element or "node",
        osm_id=osm_id,
        lat=lat,
        lon=lon,
        max_distance_m=max_distance_m,
        tags=tags,
        note=note,
    )


def _read_text(path: Path, source: str) -> str:
    try:
        # utf-8-sig: spreadsheets save a byte-order mark that must not join the first column.
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise OverlayError(
            f"{source}: not UTF-8 text (byte {exc.start}: {exc.reason})", path=source
        ) from None
    except OSError as exc:
        raise OverlayError(f"{source}: cannot read ({exc.strerror})", path=source) from None


def _read_csv(text: str, source: str) -> list[OverlayPatch]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header: list[str] | None = None
    patches: list[OverlayPatch] = []
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise OverlayError(
                f"{_where(source, reader.line_num)}: not valid CSV ({exc})",
                path=source,
                line=reader.line_num,
            ) from None
        previous_end = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # blank line
        if header is None:
            header = _parse_header(row, source, start)
            continue
        try:
            if len(row) != len(header):
                raise _RowError(f"has {len(row)} cells but the header has {len(header)}", None)
            patches.append(_csv_row(dict(zip(header, row, strict=True)), source, start))
        except _RowError as exc:
            raise OverlayError(
                f"{_where(source, start)}: {exc.message}", path=source, line=start, field=exc.field
            ) from None
    if header is None:
        raise OverlayError(f"{source}: empty file, expected a header row", path=source)
    return patches


def _parse_header(row: list[str], source: str, line: int) -> list[str]:
    names = [cell.strip() for cell in row]

    def fail(message: str, fld: str | None) -> OverlayError:
        return OverlayError(f"{_where(source, line)}: {message}", path=source, line=line, field=fld)

    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise fail(f"column {position} has no name", None)
        if name in seen:
            raise fail(f"column {name!r} appears twice", name)
        seen.add(name)
        if name not in RESERVED_COLUMNS and name not in TAG_RULES:
            raise fail(
                f"unknown column {name!r}: not a target column or an accepted tag key"
                f"{_suggest(name)}",
                name,
            )
    if ("lat" in seen) != ("lon" in seen):
        raise fail("lat and lon columns come together", "lat" if "lat" in seen else "lon")
    if "osm" not in seen and "lat" not in seen:
        raise fail("no target column: need osm, or lat and lon", "osm")
    if not seen.intersection(TAG_RULES):
        raise fail("no tag column: nothing to patch", None)
    return names


def _csv_row(cells: dict[str, str], source: str, line: int) -> OverlayPatch:
    cells = {name: value.strip() for name, value in cells.items()}
    lat_text, lon_text = cells.get("lat", ""), cells.get("lon", "")
    coordinate = None
    if lat_text or lon_text:
        if not (lat_text and lon_text):
            raise _RowError("give both lat and lon, or neither", "lat" if not lat_text else "lon")
        lat, lon = _parse_number(lat_text, "lat"), _parse_number(lon_text, "lon")
        _check_coordinate(lat, lon, "lat/lon")
        coordinate = (lat, lon)
    tags: dict[str, str | None] = {}
    for name, value in cells.items():
        if name in RESERVED_COLUMNS or not value:
            continue
        tags[name] = None if value == DELETE else value
    return _build_patch(
        source,
        line,
        osm=cells.get("osm") or None,
        coordinate=coordinate,
        element=cells.get("element") or None,
        max_distance=cells.get("max_distance_m") or None,
        note=cells.get("note", ""),
        tags=tags,
    )


def _read_geojson(text: str, source: str) -> list[OverlayPatch]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # Syntax errors have a real file line, so report it as such.
        raise OverlayError(
            f"{source} line {exc.lineno}: not valid JSON ({exc.msg})", path=source, line=exc.lineno
        ) from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise OverlayError(f"{source}: not a GeoJSON FeatureCollection", path=source, field="type")
    features = doc.get("features")
    if not isinstance(features, list):
        raise OverlayError(
            f"{source}: 'features' must be a list of Features", path=source, field="features"
        )
    patches = []
    for index, feature in enumerate(features):
        try:
            patches.append(_geojson_feature(feature, source, index))
        except _RowError as exc:
            raise OverlayError(
                f"{_where(source, index)}: {exc.message}", path=source, line=index, field=exc.field
            ) from None
    return patches


def _geojson_feature(feature: Any, source: str, index: int) -> OverlayPatch:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise _RowError("not a GeoJSON Feature", "type")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise _RowError("'properties' must be an object of osm/element/note and tags", "properties")
    coordinate = _point(feature.get("geometry"))
    for name in ("osm", "element", "note"):
        if props.get(name) is not None and not isinstance(props[name], str):
            raise _RowError(f"{name} {props[name]!r} must be a string", name)
    tags: dict[str, str | None] = {}
    for name, value in props.items():
        if name in RESERVED_COLUMNS:
            continue
        if name not in TAG_RULES:
            raise _RowError(f"unknown property {name!r}{_suggest(name)}", name)
        if value is None or value == "":
            continue  # like a blank CSV cell: leave the tag alone
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise _RowError(f"{name} {value!r} must be a string or a number", name)
        text = value.strip() if isinstance(value, str) else str(value)
        tags[name] = None if text == DELETE else text
    return _build_patch(
        source,
        index,
        osm=props.get("osm") or None,
        coordinate=coordinate,
        element=props.get("element") or None,
        max_distance=props.get("max_distance_m"),
        note=props.get("note") or "",
        tags=tags,
    )


def _point(geometry: Any) -> tuple[float, float] | None:
    if geometry is None:
        return None
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise _RowError(f"geometry must be a Point or null, not {kind!r}", "geometry")
    coords = geometry.get("coordinates")
    if not isinstance(coords, list) or len(coords) not in (2, 3):
        raise _RowError("Point coordinates must be [lon, lat]", "geometry")
    lon = _parse_number(coords[0], "geometry")
    lat = _parse_number(coords[1], "geometry")
    _check_coordinate(lat, lon, "geometry")
    return lat, lon


def read_overlay(path: str | os.PathLike[str]) -> list[OverlayPatch]:
    """Parse and validate one overlay file; no OSM data is needed.

    Parameters
    ----------
    path
        A ``.csv``, ``.geojson`` or ``.json`` overlay file.

    Returns
    -------
    list of OverlayPatch
        One patch per row or feature, in file order, with normalised tag values.

    Raises
    ------
    OverlayError
        On the first bad row, naming the file, the line (CSV) or feature index (GeoJSON)
        and the field.
    """
    source = os.fspath(path)
    file = Path(source)
    if source.lower().endswith(CSV_SUFFIXES):
        return _read_csv(_read_text(file, source), source)
    if _is_geojson(source):
        return _read_geojson(_read_text(file, source), source)
    raise OverlayError(
        f"{source}: unknown overlay format (expected .csv, .geojson or .json)", path=source
    )


def read_overlay_dir(directory: str | os.PathLike[str]) -> list[OverlayPatch]:
    """Read every ``.csv``/``.geojson``/``.json`` overlay in ``directory``, sorted by name.

    Other files (a README, say) are not overlays and are skipped.

    Raises
    ------
    OverlayError
        When ``directory`` is not a directory, or from :func:`read_overlay`.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise OverlayError(f"{folder}: not a directory of overlays", path=str(folder))
    suffixes = CSV_SUFFIXES + GEOJSON_SUFFIXES
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))
    return [patch for file in files for patch in read_overlay(file)]


# --------------------------------------------------------------------------------------------
# Applying
# --------------------------------------------------------------------------------------------


def _segment_distances(
    px: float, py: float, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Distance from one point to every segment A-B (metres in the local projection)."""
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    safe = np.where(length2 > 0, length2, 1.0)
    t = np.where(length2 > 0, ((px - ax) * dx + (py - ay) * dy) / safe, 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.hypot(ax + t * dx - px, ay + t * dy - py)


class _Locator:
    """Finds nodes and ways near a coordinate; indexes are built on first use."""

    def __init__(self, data: OsmData) -> None:
        self.data = data
        lat = np.asarray(data.node_lat, dtype=float)
        lon = np.asarray(data.node_lon, dtype=float)
        # The engine's local projection; a city-sized area keeps the error far below the
        # snapping distances used here.
        self._projection = LocalProjection(float(np.median(lat)) if lat.size else 0.0,
                                           float(np.median(lon)) if lon.size else 0.0)
        self._xy = self.project(lat, lon)
        self._tree: cKDTree | None = None
        self._tree_ids: np.ndarray | None = None
        self._segments: tuple[np.ndarray, ...] | None = None

    def project(self, lat: Any, lon: Any) -> np.ndarray:
        return self._projection.forward(np.asarray(lat), np.asarray(lon)).reshape(-1, 2)

    def _point(self, lat: float, lon: float) -> tuple[float, float]:
        x, y = self._projection.forward(lat, lon)
        return float(x), float(y)

    def way_positions(self, way: OsmWay) -> np.ndarray:
        """Positions in ``node_ids`` of the way's nodes that the data has coordinates for."""
        ids = np.asarray(way.nodes, dtype=np.int64)
        pos = np.searchsorted(self.data.node_ids, ids)
        ok = pos < len(self.data.node_ids)
        ok[ok] = self.data.node_ids[pos[ok]] == ids[ok]
        return pos[ok]

    def nearest_nodes(self, lat: float, lon: float) -> list[tuple[int, float]]:
        """The two nearest way nodes as ``(osm_id, metres)``, nearest first."""
        if self._tree_ids is None:
            # Only nodes on a kept way are walkable targets.
            used = [self.way_positions(w) for w in self.data.ways]
            pos = np.unique(np.concatenate(used)) if used else np.empty(0, dtype=np.int64)
            self._tree_ids = np.asarray(self.data.node_ids)[pos]
            self._tree = cKDTree(self._xy[pos]) if pos.size else None
        if self._tree is None:
            return []
        k = [1, 2][: min(2, len(self._tree_ids))]
        dist, idx = self._tree.query(self._point(lat, lon), k=k)
        return [(int(self._tree_ids[i]), float(d)) for d, i in zip(dist, idx, strict=True)]

    def _build_segments(self) -> tuple[np.ndarray, ...]:
        starts, ends, owner = [], [], []
        for way in self.data.ways:
            pos = self.way_positions(way)
            if pos.size == 1:
                pos = np.repeat(pos, 2)  # a one-node way is a point: a zero-length segment
            starts.append(pos[:-1])
            ends.append(pos[1:])
            owner.append(np.full(max(pos.size - 1, 0), way.id, dtype=np.int64))
        if not starts:
            empty = np.empty(0)
            return empty, empty, empty, empty, np.empty(0, dtype=np.int64)
        a = self._xy[np.concatenate(starts).astype(np.int64)]
        b = self._xy[np.concatenate(ends).astype(np.int64)]
        return a[:, 0], a[:, 1], b[:, 0], b[:, 1], np.concatenate(owner)

    def nearest_ways(self, lat: float, lon: float) -> list[tuple[int, float]]:
        """The two nearest distinct ways as ``(way id, metres)``, nearest first."""
        if self._segments is None:
            self._segments = self._build_segments()
        ax, ay, bx, by, way_id = self._segments
        if way_id.size == 0:
            return []
        px, py = self._point(lat, lon)
        dist = _segment_distances(px, py, ax, ay, bx, by)
        best = int(np.argmin(dist))
        result = [(int(way_id[best]), float(dist[best]))]
        # The runner-up must be another way, not the next segment of the same one.
        others = np.where(way_id != way_id[best], dist, np.inf)
        second = int(np.argmin(others))
        if math.isfinite(others[second]):
            result.append((int(way_id[second]), float(others[second])))
        return result

    def node_distance(self, osm_id: int, lat: float, lon: float) -> float:
        pos = int(np.searchsorted(self.data.node_ids, osm_id))
        px, py = self._point(lat, lon)
        return float(math.hypot(self._xy[pos, 0] - px, self._xy[pos, 1] - py))

    def way_distance(self, way: OsmWay, lat: float, lon: float) -> float:
        pos = self.way_positions(way)
        if pos.size == 0:
            return math.inf
        if pos.size == 1:
            pos = np.repeat(pos, 2)
        a, b = self._xy[pos[:-1]], self._xy[pos[1:]]
        px, py = self._point(lat, lon)
        return float(_segment_distances(px, py, a[:, 0], a[:, 1], b[:, 0], b[:, 1]).min())


def _has_node(data: OsmData, osm_id: int) -> bool:
    pos = int(np.searchsorted(data.node_ids, osm_id))
    return pos < len(data.node_ids) and int(data.node_ids[pos]) == osm_id


def _resolve(
    patch: OverlayPatch,
    data: OsmData,
    ways_by_id: dict[int, list[OsmWay]],
    locator: _Locator,
    tie_tolerance_m: float,
) -> int:
    """The OSM id a patch targets, checked against the data."""
    where = _where(patch.source, patch.line)
    coord_field = _coordinate_field(patch.source)

    def fail(message: str, fld: str) -> OverlayError:
        return OverlayError(f"{where}: {message}", path=patch.source, line=patch.line, field=fld)

    if patch.osm_id is not None:
        if patch.element == "node":
            found = _has_node(data, patch.osm_id)
        else:
            found = patch.osm_id in ways_by_id
        if not found:
            raise fail(f"{patch.target} is not in the OSM data (not on any walkable way)", "osm")
        if patch.lat is not None and patch.lon is not None:
            if patch.element == "node":
                d = locator.node_distance(patch.osm_id, patch.lat, patch.lon)
            else:
                d = min(locator.way_distance(w, patch.lat, patch.lon)
                        for w in ways_by_id[patch.osm_id])  # fmt: skip
            if d > patch.max_distance_m:
                raise fail(
                    f"{patch.target} is {d:.1f} m from ({patch.lat:.6f}, {patch.lon:.6f}), "
                    f"more than max_distance_m {patch.max_distance_m:g}",
                    coord_field,
                )
        return patch.osm_id

    assert patch.lat is not None and patch.lon is not None
    if patch.element == "node":
        near = locator.nearest_nodes(patch.lat, patch.lon)
    else:
        near = locator.nearest_ways(patch.lat, patch.lon)
    here = f"({patch.lat:.6f}, {patch.lon:.6f})"
    if not near or near[0][1] > patch.max_distance_m:
        nearest = (
            f"; the nearest is {patch.element}/{near[0][0]} at {near[0][1]:.1f} m" if near else ""
        )
        raise fail(
            f"no {patch.element} within {patch.max_distance_m:g} m of {here}{nearest}", coord_field
        )
    if len(near) > 1 and near[1][1] - near[0][1] <= tie_tolerance_m:
        # A point at a junction is as near to several ways: patching one at random is wrong.
        raise fail(
            f"{here} is ambiguous: {patch.element}/{near[0][0]} ({near[0][1]:.1f} m) and "
            f"{patch.element}/{near[1][0]} ({near[1][1]:.1f} m) are about as near; "
            "move the point or give osm",
            coord_field,
        )
    return near[0][0]


def _shown(value: str | None) -> str:
    return "deleted ('-')" if value is None else repr(value)


def apply_overlays(
    data: OsmData, patches: Iterable[OverlayPatch], *, tie_tolerance_m: float = 0.5
) -> dict[str, Any]:
    """Patch node and way tags of ``data`` in place.

    All patches are resolved and checked before any tag changes, so an error leaves
    ``data`` untouched.

    Parameters
    ----------
    data
        The imported OSM data. Node tags go to ``data.node_tags[id]`` (created when absent,
        dropped when a deletion empties it); way tags to ``OsmWay.tags``.
    patches
        From :func:`read_overlay`, in the order they should be reported.
    tie_tolerance_m
        A coordinate whose two nearest candidates differ in distance by no more than this
        is ambiguous and an error, rather than a coin toss.

    Returns
    -------
    dict
        ``{"patches", "nodes_patched", "ways_patched", "tags_set", "tags_deleted",
        "by_source": {source: {"patches", "nodes_patched", "ways_patched"}}}``; elements are
        counted once however many rows patch them.

    Raises
    ------
    OverlayError
        When a target id is not in ``data``, no element lies within ``max_distance_m`` of a
        coordinate (or two are about as near), or two rows give one tag of one element
        different values. The message names the file, line and field.
    """
    patches = list(patches)
    ways_by_id: dict[int, list[OsmWay]] = {}
    for way in data.ways:
        ways_by_id.setdefault(way.id, []).append(way)
    locator = _Locator(data)

    # Resolve every target and merge tags, remembering which row set what.
    merged: dict[tuple[str, int], dict[str, tuple[str | None, OverlayPatch]]] = {}
    targets: list[tuple[str, int]] = []
    for patch in patches:
        target = (patch.element, _resolve(patch, data, ways_by_id, locator, tie_tolerance_m))
        targets.append(target)
        element_tags = merged.setdefault(target, {})
        for key, value in patch.tags.items():
            if key in element_tags and element_tags[key][0] != value:
                earlier_value, earlier = element_tags[key]
                raise OverlayError(
                    f"{_where(patch.source, patch.line)}: {key} of {target[0]}/{target[1]} is "
                    f"{_shown(value)} but {_where(earlier.source, earlier.line)} sets "
                    f"{_shown(earlier_value)}",
                    path=patch.source,
                    line=patch.line,
                    field=key,
                )
            element_tags.setdefault(key, (value, patch))

    # Everything checked: now mutate.
    tags_set = tags_deleted = 0
    for (element, osm_id), changes in merged.items():
        if element == "node":
            tag_dicts = [data.node_tags.setdefault(osm_id, {})]
        else:
            tag_dicts = [way.tags for way in ways_by_id[osm_id]]
        for tags in tag_dicts:
            for key, (value, _) in changes.items():
                if value is None:
                    tags_deleted += tags.pop(key, None) is not None
                else:
                    tags[key] = value
                    tags_set += 1
        if element == "node" and not data.node_tags[osm_id]:
            del data.node_tags[osm_id]  # node_tags holds only nodes that have tags

    by_source: dict[str, dict[str, Any]] = {}
    for patch, target in zip(patches, targets, strict=True):
        entry = by_source.setdefault(patch.source, {"patches": 0, "node": set(), "way": set()})
        entry["patches"] += 1
        entry[target[0]].add(target[1])
    return {
        "patches": len(patches),
        "nodes_patched": sum(1 for element, _ in merged if element == "node"),
        "ways_patched": sum(1 for element, _ in merged if element == "way"),
        "tags_set": tags_set,
        "tags_deleted": tags_deleted,
        "by_source": {
            source: {
                "patches": entry["patches"],
                "nodes_patched": len(entry["node"]),
                "ways_patched": len(entry["way"]),
            }
            for source, entry in by_source.items()
        },
    }
