"""OSM bus stops and their accessibility tags.

Bus stops and stop sequences
----------------------------
Every OSM stop becomes a stop ``bus:<node id>`` (kept even when no route serves it, so
that its accessibility facts stay available). ``wheelchair_boarding`` comes from the
``wheelchair`` tag: yes/designated -> 1, no -> 2, limited -> 0 by default (GTFS has no
"limited"; 0 = unknown keeps a partly accessible stop from being shown as accessible;
``stops.wheelchair_limited_as`` changes it), anything else -> 0. The raw tags wheelchair,
tactile_paving, shelter, bench, lit and departures_board go to ``stop_accessibility.txt``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from datasets.almaty._common import load_json, number_in
from routing.errors import DataError
from routing.graph.attributes import tri
from routing.tristate import UNKNOWN


@dataclass(frozen=True)
class BusStop:
    osm_id: int
    lat: float
    lon: float
    tags: dict[str, str]

    @property
    def stop_id(self) -> str:
        return f"bus:{self.osm_id}"

    @property
    def named(self) -> bool:
        return bool(self.tags.get("name") or self.tags.get("name:ru"))


def load_bus_stops(path: Path) -> tuple[list[BusStop], str | None]:
    """Stop nodes of an Overpass response, and its OSM base timestamp."""
    raw = load_json(path)
    p = str(path)
    elements = raw.get("elements") if isinstance(raw, dict) else None
    if not isinstance(elements, list):
        raise DataError(
            f"{p}: expected an Overpass response with 'elements'", path=p, field="elements"
        )
    stops: dict[int, BusStop] = {}
    for k, e in enumerate(elements):
        if not isinstance(e, dict) or e.get("type") != "node":
            continue  # Overpass may add ways/areas; stops are nodes
        f = f"elements[{k}]"
        if not isinstance(e.get("id"), int):
            raise DataError(f"{p}: {f} has no integer id", path=p, field=f"{f}.id")
        lat = number_in(e.get("lat"), path=p, field_name=f"{f}.lat", low=-90, high=90)
        lon = number_in(e.get("lon"), path=p, field_name=f"{f}.lon", low=-180, high=180)
        tags = e.get("tags") or {}
        if not isinstance(tags, dict):
            raise DataError(f"{p}: {f}.tags must be an object", path=p, field=f"{f}.tags")
        stops[e["id"]] = BusStop(e["id"], lat, lon, {str(a): str(b) for a, b in tags.items()})
    if not stops:
        raise DataError(f"{p}: no stop nodes", path=p, field="elements")
    osm3s = raw.get("osm3s")
    base = osm3s.get("timestamp_osm_base") if isinstance(osm3s, dict) else None
    return list(stops.values()), base


def wheelchair_boarding_code(tag: str | None, *, limited_as: int = UNKNOWN) -> int:
    """A stop's ``wheelchair_boarding`` (a :mod:`routing.tristate` code) from its OSM tag.

    Parameters
    ----------
    tag : str or None
        The ``wheelchair`` tag's value.
    limited_as : int
        Code for ``limited`` (GTFS has none; unknown by default).

    Returns
    -------
    int
        Yes (yes, designated), no (no), ``limited_as`` (limited) or unknown (absent or other).
    """
    value = (tag or "").strip().lower()
    if value == "limited":
        return limited_as
    return tri(value, yes=("yes", "designated"))
