"""A realistic, seeded Invataxi day: bookings between homes and real OSM places, and a fleet.

Assumptions (documented, not measured; :class:`DayAssumptions` holds them all):

- **Homes** are residential buildings of the OSM file (``building=apartments|house|
  residential|yes`` outside non-residential land uses), one chosen at random per passenger.
- **Purposes** and their places from OSM: medical (``amenity=hospital|clinic|doctors``)
  45 %, rehabilitation and social services (``healthcare=rehabilitation``,
  ``amenity=social_facility|community_centre|public_building``) 15 %, education
  (``amenity=school|college|university``) 15 %, work (``office=*``, ``amenity=bank``,
  ``landuse=commercial|industrial``) 15 %, other errands (``shop=*``, ``amenity=theatre|
  cinema|place_of_worship|pharmacy``) 10 %.
- **Trips** come as round trips: out with a latest arrival (appointments between 08:00 and
  16:00, most at 09:00-11:00), back with an earliest pickup after the purpose's duration
  (medical 1-3 h, rehabilitation 2-3 h, education 4-6 h, work 7-8 h, errands 1-2 h); a
  return later than 19:00 is dropped, so the day may have one booking less than asked.
- **Passengers**: 45 % of parties include a wheelchair user (Invataxi serves mainly
  wheelchair users and people with severe mobility impairments), the rest are ambulant;
  40 % travel with an escort. Profile ``wheelchair_manual`` or ``reduced_mobility``.
- **Priority**: medical 3, rehabilitation and education 2, other 1.
- **Fleet**: lift vans with 2 wheelchair places and 3 seats, in three depots (north-west,
  centre, east of the city), shifts 07:00-19:00 for two thirds of the fleet, 09:00-21:00
  for the rest.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import osmium

from routing.dispatch.carnet import CarNetwork
from routing.dispatch.city import format_clock
from routing.errors import DataError

PURPOSES = ("medical", "rehabilitation", "education", "work", "errand")


@dataclass(frozen=True)
class DayAssumptions:
    purpose_share: dict[str, float] = field(
        default_factory=lambda: {
            "medical": 0.45,
            "rehabilitation": 0.15,
            "education": 0.15,
            "work": 0.15,
            "errand": 0.10,
        }
    )
    stay_hours: dict[str, tuple[float, float]] = field(
        default_factory=lambda: {
            "medical": (1, 3),
            "rehabilitation": (2, 3),
            "education": (4, 6),
            "work": (7, 8),
            "errand": (1, 2),
        }
    )
    priority: dict[str, int] = field(
        default_factory=lambda: {
            "medical": 3,
            "rehabilitation": 2,
            "education": 2,
            "work": 1,
            "errand": 1,
        }
    )
    wheelchair_share: float = 0.45
    escort_share: float = 0.40
    first_arrival_h: float = 8.0
    last_arrival_h: float = 16.0
    last_return_h: float = 19.0
    wheelchair_places: int = 2
    seats: int = 3
    depots: tuple[tuple[float, float], ...] = ((43.262, 76.870), (43.245, 76.935), (43.230, 76.985))
    early_shift: tuple[str, str] = ("07:00", "19:00")
    late_shift: tuple[str, str] = ("09:00", "21:00")


def _place_purpose(tags: Any) -> str | None:
    amenity = tags.get("amenity")
    if amenity in ("hospital", "clinic", "doctors"):
        return "medical"
    if tags.get("healthcare") == "rehabilitation" or amenity in (
        "social_facility",
        "community_centre",
        "public_building",
    ):
        return "rehabilitation"
    if amenity in ("school", "college", "university"):
        return "education"
    if "office" in tags or amenity == "bank" or tags.get("landuse") in ("commercial", "industrial"):
        return "work"
    if "shop" in tags or amenity in ("theatre", "cinema", "place_of_worship", "pharmacy"):
        return "errand"
    return None


def read_places(osm: str | os.PathLike) -> dict[str, list[tuple[float, float]]]:
    """Purpose -> (lat, lon) of matching OSM places, and ``home`` -> residential buildings."""
    places: dict[str, list[tuple[float, float]]] = {p: [] for p in (*PURPOSES, "home")}
    residential = ("apartments", "house", "residential", "yes", "detached", "dormitory")
    try:
        for obj in osmium.FileProcessor(str(osm)).with_locations():
            if obj.is_node():
                if not obj.tags:
                    continue
                where = (obj.location.lat, obj.location.lon) if obj.location.valid() else None
            elif obj.is_way():
                if not obj.tags:
                    continue
                pts = [(n.location.lat, n.location.lon) for n in obj.nodes if n.location.valid()]
                where = tuple(np.mean(pts, axis=0)) if pts else None
            else:
                continue
            if where is None:
                continue
            purpose = _place_purpose(obj.tags)
            if purpose:
                places[purpose].append(where)
            elif obj.is_way() and obj.tags.get("building") in residential and len(obj.tags) <= 3:
                places["home"].append(where)
    except RuntimeError as exc:
        raise DataError(f"cannot read OSM file {osm}: {exc}") from exc
    return places


def _usable(
    network: CarNetwork, points: Sequence[tuple[float, float]]
) -> list[tuple[float, float]]:
    """The points that snap to the kerb of the network's connected part."""
    kerbs = network.snap_or_none(points)
    return [p for p, k in zip(points, kerbs, strict=True) if k is not None]


def generate_day(
    osm: str | os.PathLike,
    network: CarNetwork,
    *,
    bookings: int,
    vehicles: int,
    seed: int = 0,
    assumptions: DayAssumptions = DayAssumptions(),
) -> dict[str, Any]:
    """A day (see :mod:`routing.dispatch.city` for its shape) of about ``bookings`` trips."""
    a = assumptions
    rng = np.random.default_rng(seed)
    raw = read_places(osm)
    places = {}
    for name, points in raw.items():
        pool = (
            points if name != "home" else [points[i] for i in rng.permutation(len(points))[:1500]]
        )
        places[name] = _usable(network, pool)
    for name in PURPOSES:
        if not places[name]:
            raise DataError(f"{osm} has no usable places for purpose {name!r}")
    if not places["home"]:
        raise DataError(f"{osm} has no residential buildings to use as homes")
    purposes = list(a.purpose_share)
    shares = np.array([a.purpose_share[p] for p in purposes])
    out: list[dict[str, Any]] = []
    trip = 0
    while len(out) < bookings:
        trip += 1
        purpose = purposes[rng.choice(len(purposes), p=shares / shares.sum())]
        home = places["home"][rng.integers(len(places["home"]))]
        target = places[purpose][rng.integers(len(places[purpose]))]
        wheelchair = rng.random() < a.wheelchair_share
        passengers = {"wheelchair": 1} if wheelchair else {"ambulant": 1}
        if rng.random() < a.escort_share:
            passengers["escort"] = 1
        # Appointments cluster at 09:00-11:00 within [first, last] arrival hours.
        arrive_h = float(np.clip(rng.normal(10.0, 2.0), a.first_arrival_h, a.last_arrival_h))
        arrive = round(arrive_h * 3600 / 300) * 300
        common = {
            "passengers": passengers,
            "priority": a.priority[purpose],
            "purpose": purpose,
            "profile": "wheelchair_manual" if wheelchair else "reduced_mobility",
        }
        out.append(
            {
                "id": f"t{trip}-out",
                "pickup": list(home),
                "dropoff": list(target),
                "latest_arrival": format_clock(arrive),
                **common,
            }
        )
        lo, hi = a.stay_hours[purpose]
        back = arrive + round(rng.uniform(lo, hi) * 3600 / 300) * 300
        if len(out) < bookings and back <= a.last_return_h * 3600:
            out.append(
                {
                    "id": f"t{trip}-back",
                    "pickup": list(target),
                    "dropoff": list(home),
                    "earliest_pickup": format_clock(back),
                    **common,
                }
            )
    fleet = []
    for k in range(vehicles):
        shift = a.early_shift if k % 3 != 2 else a.late_shift
        fleet.append(
            {
                "id": f"v{k + 1:03d}",
                "depot": list(a.depots[k % len(a.depots)]),
                "shift": list(shift),
                "wheelchair_places": a.wheelchair_places,
                "seats": a.seats,
            }
        )
    return {"name": f"almaty-day-seed{seed}", "bookings": out, "vehicles": fleet}
