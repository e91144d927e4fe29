"""Opportunities: the places whose reach is counted (hospitals, clinics, schools, ...).

From the OSM extract (tags below), the metro stations list, and an optional planner's POI
file (CSV ``lat,lon,category[,name]`` or GeoJSON points with a ``category`` property).
Ways and areas count at the mean of their nodes.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from routing.errors import ScenarioError

CATEGORIES = ("hospital", "clinic", "school", "pharmacy", "social_centre", "metro_station")


def category_of(tags) -> str | None:
    """The opportunity category of an OSM element's tags, or None."""
    amenity = tags.get("amenity")
    healthcare = tags.get("healthcare")
    if amenity == "hospital" or healthcare == "hospital":
        return "hospital"
    if amenity in ("clinic", "doctors") or healthcare in ("clinic", "doctor", "centre",
                                                          "rehabilitation"):  # fmt: skip
        return "clinic" if healthcare != "rehabilitation" else "social_centre"
    if amenity == "school":
        return "school"
    if amenity == "pharmacy" or healthcare == "pharmacy":
        return "pharmacy"
    if amenity in ("social_facility", "social_centre", "community_centre") and (
        amenity != "community_centre" or tags.get("community_centre") == "social"
    ):
        return "social_centre"
    return None


@dataclass(frozen=True)
class Opportunity:
    lat: float
    lon: float
    category: str
    name: str = ""


def read_osm_opportunities(path: str | Path) -> list[Opportunity]:
    """POIs of :data:`CATEGORIES` from an OSM extract (nodes, and ways at their centre)."""
    import osmium

    out: list[Opportunity] = []
    fp = osmium.FileProcessor(str(path)).with_locations().with_filter(
        osmium.filter.EmptyTagFilter())  # fmt: skip
    for obj in fp:
        if obj.is_relation():
            continue
        cat = category_of(obj.tags)
        if cat is None:
            continue
        if obj.is_node():
            if not obj.location.valid():
                continue
            lat, lon = obj.location.lat, obj.location.lon
        else:
            pts = [(n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            if not pts:
                continue
            lat, lon = sum(p[0] for p in pts) / len(pts), sum(p[1] for p in pts) / len(pts)
        out.append(Opportunity(float(lat), float(lon), cat, obj.tags.get("name", "")))
    return out


def station_opportunities(stations: list[dict]) -> list[Opportunity]:
    return [Opportunity(float(s["lat"]), float(s["lon"]), "metro_station",
                        str((s.get("name") or {}).get("en", ""))) for s in stations]  # fmt: skip


def read_poi_file(path: str | Path) -> list[Opportunity]:
    """A planner's POIs: CSV (lat,lon,category[,name]) or GeoJSON Points (category property).

    Categories may be any word (new ones are counted as their own category).
    """
    p = Path(path)
    if not p.is_file():
        raise ScenarioError(f"{path}: POI file not found", path=str(path), json_path="$",
                            field="pois")  # fmt: skip
    text = p.read_text(encoding="utf-8-sig")
    out = []
    if p.suffix.lower() in (".json", ".geojson"):
        doc = json.loads(text)
        for i, f in enumerate(doc.get("features", [])):
            geom, props = f.get("geometry") or {}, f.get("properties") or {}
            if geom.get("type") != "Point" or not props.get("category"):
                raise ScenarioError(f"{path}: $.features[{i}]: needs a Point geometry and a "
                                    "category property", path=str(path),
                                    json_path=f"$.features[{i}]", field="category")  # fmt: skip
            lon, lat = geom["coordinates"][:2]
            out.append(Opportunity(float(lat), float(lon), str(props["category"]),
                                   str(props.get("name", ""))))  # fmt: skip
        return out
    rows = list(csv.DictReader(io.StringIO(text)))
    for n, row in enumerate(rows, 2):
        try:
            lat, lon, cat = float(row["lat"]), float(row["lon"]), str(row["category"]).strip()
            out.append(Opportunity(lat, lon, cat, row.get("name") or ""))
        except (KeyError, TypeError, ValueError) as err:
            raise ScenarioError(f"{path}: line {n}: needs lat, lon and category ({err})",
                                path=str(path), json_path=f"line {n}",
                                field="category") from err  # fmt: skip
    return out
