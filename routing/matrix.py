"""Travel-time matrices between coordinates, with the reason for every blocked pair.

:func:`travel_matrix` snaps every source and target for the profile, asks
:meth:`~routing.network.StreetNetwork.matrix` for the costs, and says why each pair without
a usable path has none:

``outside_area``
    The source or target lies off the area the graph covers.
``no_usable_way``
    Only ways the profile cannot use lie near the source or target.
``blocked_for_profile``
    The two points are connected on foot, but every walking path crosses something the
    profile cannot use (steps, a steep grade, a raised kerb...; ``/route`` names it).
``not_connected``
    Not even a walking path joins them (different parts of the map, or a gap in OSM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from routing.cost.profiles import PROFILES, Profile
from routing.deadline import accepts_deadline
from routing.errors import NoRouteError, OutsideAreaError, RoutingError
from routing.network import CostMatrix, StreetNetwork
from routing.snapping import Snap

LatLon = tuple[float, float]

#: Reason codes of blocked pairs, in the order they are checked.
REASONS = ("outside_area", "no_usable_way", "blocked_for_profile", "not_connected")


@dataclass(frozen=True)
class PointSnap:
    """Where a requested point was placed, or why it could not be."""

    point: LatLon
    snap: Snap | None
    reason: str | None = None
    message: str | None = None

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"lat": self.point[0], "lon": self.point[1]}
        if self.snap is not None:
            body["snapped"] = {
                "lat": round(self.snap.lat, 7),
                "lon": round(self.snap.lon, 7),
                "distance_m": round(self.snap.distance_m, 1),
            }
        else:
            body["error"] = {"code": self.reason, "message": self.message}
        return body


@dataclass(frozen=True)
class TravelMatrix:
    """Seconds and metres per (source, target) pair, and the reason where none is usable.

    ``reason`` is an integer array indexing :data:`REASONS` (-1 for usable pairs).
    """

    profile: Profile
    sources: list[PointSnap]
    targets: list[PointSnap]
    values: CostMatrix
    reason: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        return self.reason < 0

    def to_dict(self) -> dict[str, Any]:
        """The ``POST /matrix`` body: rows are sources, columns targets (null: blocked)."""
        usable = self.usable
        return {
            "profile": self.profile.name,
            "sources": [s.to_dict() for s in self.sources],
            "targets": [t.to_dict() for t in self.targets],
            "seconds": _rows(self.values.seconds, usable, 1),
            "metres": _rows(self.values.metres, usable, 1),
            "usable": usable.tolist(),
            "reason": [[REASONS[r] if r >= 0 else None for r in row]
                       for row in self.reason.tolist()],  # fmt: skip
        }


def _rows(values: np.ndarray, usable: np.ndarray, digits: int) -> list[list[float | None]]:
    rounded = np.round(np.where(usable, values, 0.0), digits).tolist()
    return [[v if ok else None for v, ok in zip(row, oks, strict=True)]
            for row, oks in zip(rounded, usable.tolist(), strict=True)]  # fmt: skip


def snap_points(
    network: StreetNetwork, points: Sequence[LatLon], profile: Profile, field: str
) -> list[PointSnap]:
    """Each point snapped for ``profile``; a point that cannot be says why (no exception)."""
    out = []
    for point, snap in zip(points, network.snap_all(points, profile, field), strict=True):
        if isinstance(snap, OutsideAreaError):
            out.append(PointSnap(point, None, "outside_area", snap.message))
        elif isinstance(snap, NoRouteError):
            out.append(PointSnap(point, None, "no_usable_way", snap.message))
        elif isinstance(snap, RoutingError):
            raise snap
        else:
            out.append(PointSnap(point, snap))
    return out


@accepts_deadline
def travel_matrix(
    network: StreetNetwork,
    sources: Sequence[LatLon],
    targets: Sequence[LatLon],
    profile: Profile,
) -> TravelMatrix:
    """Seconds and metres from every source to every target for ``profile``.

    Pairs without a usable path are compared with the walking network to tell a profile
    barrier (``blocked_for_profile``) from a gap in the map (``not_connected``).
    """
    src = snap_points(network, sources, profile, "sources")
    dst = snap_points(network, targets, profile, "targets")
    values = network.matrix([s.snap for s in src], [t.snap for t in dst], profile)
    reason = np.full(values.cost.shape, -1, dtype=np.int8)
    reason[~values.reachable] = REASONS.index("not_connected")
    for axis, points in ((0, src), (1, dst)):
        for code in ("no_usable_way", "outside_area"):  # outside_area wins over the other
            bad = np.array([p.reason == code for p in points], dtype=bool)
            index = (bad, slice(None)) if axis == 0 else (slice(None), bad)
            reason[index] = REASONS.index(code)
    _split_blocked(network, src, dst, profile, reason)
    return TravelMatrix(profile, src, dst, values, reason)


def _split_blocked(network, src, dst, profile, reason: np.ndarray) -> None:
    """Mark ``not_connected`` pairs that walking connects as ``blocked_for_profile``."""
    walk = PROFILES["walk"]
    rows = np.flatnonzero((reason == REASONS.index("not_connected")).any(axis=1))
    if not len(rows):
        return
    cols = np.flatnonzero((reason[rows] == REASONS.index("not_connected")).any(axis=0))
    if profile == walk:
        return
    walk_src = network.snap_all([src[i].point for i in rows.tolist()], walk)
    walk_dst = network.snap_all([dst[j].point for j in cols.tolist()], walk)
    if any(isinstance(s, RoutingError) for s in walk_src + walk_dst):
        return  # already snapped for a stricter profile: cannot happen, be safe
    walked = network.matrix(walk_src, walk_dst, walk).reachable
    sub = reason[np.ix_(rows, cols)]
    sub[(sub == REASONS.index("not_connected")) & walked] = REASONS.index("blocked_for_profile")
    reason[np.ix_(rows, cols)] = sub
