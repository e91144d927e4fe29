"""Transit accessibility overlays: low-floor shares per route, facts per stop or station.

Two CSV kinds, told apart by their header:

- **routes** (``route,low_floor_share``): ``route`` is a GTFS ``route_id`` or
  ``route_short_name``; ``low_floor_share`` is the share (0..1) of the route's vehicles that
  are low-floor with a ramp. ``*`` sets the default for every route not listed.
- **stops** (``stop_id`` plus any of ``wheelchair_boarding``, ``step_free``, ``elevator``,
  ``tactile_navigation``): ``yes``/``no``/``unknown``; ``elevator`` also takes
  ``out_of_service``. A metro station's facts apply to its platforms.

How a low-floor share becomes trips. On a route served every *h* minutes where a share *p*
of vehicles is accessible, a wheelchair user waits on average for the next accessible one,
so the accessible service runs every *h / p* minutes. We mark trips accessible so that
exactly that share, evenly spread, is: in each route direction, in departure order, trip *i*
is accessible when ``floor((i + 1) * p) > floor(i * p)``. Wheelchair plans then ride only
those, and the wait for an accessible bus grows accordingly. An unknown share leaves the
trips unknown: allowed, priced and warned.

Every bad row is an ``OverlayError`` naming the file, line and field.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from routing.errors import OverlayError
from routing.transit.gtfs import ACCESSIBILITY_FROM_GTFS
from routing.tristate import CODES, NO, UNKNOWN, YES

# A fact's words, and GTFS's numbers as the same files may use them (2 is no).
_TRI = {
    **CODES,
    "true": YES,
    "false": NO,
    "": UNKNOWN,
    **{str(number): code for number, code in ACCESSIBILITY_FROM_GTFS.items()},
}
_OUT_OF_SERVICE = "out_of_service"
_STOP_FIELDS = ("wheelchair_boarding", "step_free", "elevator", "tactile_navigation", "note")


@dataclass(frozen=True)
class StopFacts:
    """Accessibility facts of one stop or station (:mod:`routing.tristate` codes)."""

    wheelchair_boarding: int = UNKNOWN
    step_free: int = UNKNOWN
    elevator: int = UNKNOWN
    elevator_out_of_service: bool = False
    tactile_navigation: int = UNKNOWN

    @property
    def wheelchair(self) -> int:
        """Can a wheelchair user board here: yes, no or unknown."""
        if self.wheelchair_boarding == NO or self.step_free == NO or self.elevator_out_of_service:
            return NO
        if self.wheelchair_boarding == YES or self.step_free == YES or self.elevator == YES:
            return YES
        return UNKNOWN


@dataclass
class TransitAccessibility:
    """Everything the overlays say, keyed by route and stop."""

    low_floor_share: dict[str, float] = field(default_factory=dict)
    default_low_floor_share: float | None = None
    stops: dict[str, StopFacts] = field(default_factory=dict)
    sources: list[str] = field(default_factory=list)

    def share_for(self, route_id: str, short_name: str) -> float | None:
        for key in (route_id, short_name):
            if key in self.low_floor_share:
                return self.low_floor_share[key]
        return self.default_low_floor_share


def _tri(path: Path, line: int, name: str, value: str, *, extra: tuple[str, ...] = ()) -> int:
    text = value.strip().lower()
    if text not in _TRI:
        allowed = "yes, no, unknown" + "".join(f", {e}" for e in extra)
        raise _row_error(path, line, name, f"{name} '{value}' is not one of {allowed}")
    return _TRI[text]


def _row_error(path: Path, line: int, field: str, message: str) -> OverlayError:
    return OverlayError(f"{path} line {line}: {message}", path=str(path), line=line, field=field)


def read_transit_overlays(paths) -> TransitAccessibility:
    """Read route and stop overlay CSV files into one :class:`TransitAccessibility`."""
    result = TransitAccessibility()
    for raw in paths:
        path = Path(raw)
        if not path.is_file():
            raise OverlayError(f"transit overlay not found: {path}", path=str(path))
        result.sources.append(str(path))
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = [h.strip() for h in (reader.fieldnames or [])]
            if "low_floor_share" in header:
                _read_routes(path, reader, header, result)
            elif "stop_id" in header:
                _read_stops(path, reader, header, result)
            else:
                raise _row_error(
                    path, 1, "header", "header needs 'route,low_floor_share' or 'stop_id,...'"
                )
    return result


def _read_routes(path, reader, header, result: TransitAccessibility) -> None:
    unknown = set(header) - {"route", "low_floor_share", "note"}
    if unknown or "route" not in header:
        bad = sorted(unknown)[0] if unknown else "route"
        raise _row_error(path, 1, bad, f"unexpected or missing column '{bad}'")
    for line, row in enumerate(reader, start=2):
        route = (row.get("route") or "").strip()
        if not route:
            raise _row_error(path, line, "route", "route is empty")
        text = (row.get("low_floor_share") or "").strip()
        try:
            share = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
        except ValueError:
            share = math.nan
        if not 0.0 <= share <= 1.0:
            message = f"low_floor_share '{text}' is not a share from 0 to 1"
            raise _row_error(path, line, "low_floor_share", message)
        if route == "*":
            result.default_low_floor_share = share
        else:
            result.low_floor_share[route] = share


def _read_stops(path, reader, header, result: TransitAccessibility) -> None:
    unknown = set(header) - {"stop_id", *_STOP_FIELDS}
    if unknown:
        bad = sorted(unknown)[0]
        allowed = ", ".join(("stop_id", *_STOP_FIELDS))
        raise _row_error(path, 1, bad, f"unexpected column '{bad}' (allowed: {allowed})")
    for line, row in enumerate(reader, start=2):
        stop_id = (row.get("stop_id") or "").strip()
        if not stop_id:
            raise _row_error(path, line, "stop_id", "stop_id is empty")
        elevator_text = row.get("elevator") or ""
        out_of_service = elevator_text.strip().lower() == _OUT_OF_SERVICE
        elevator = NO if out_of_service else _tri(
            path, line, "elevator", elevator_text, extra=(_OUT_OF_SERVICE,)
        )
        result.stops[stop_id] = StopFacts(
            wheelchair_boarding=_tri(
                path, line, "wheelchair_boarding", row.get("wheelchair_boarding") or ""
            ),
            step_free=_tri(path, line, "step_free", row.get("step_free") or ""),
            elevator=elevator,
            elevator_out_of_service=out_of_service,
            tactile_navigation=_tri(
                path, line, "tactile_navigation", row.get("tactile_navigation") or ""
            ),
        )


def thin_by_share(departures: np.ndarray, share: float) -> np.ndarray:
    """Which of a route direction's trips (by departure) are accessible for a share p.

    Exactly ``floor(n * p)`` of ``n`` trips, evenly spread in departure order.
    """
    order = np.argsort(departures, kind="stable")
    i = np.arange(len(order))
    picked = np.floor((i + 1) * share + 1e-9) > np.floor(i * share + 1e-9)
    out = np.zeros(len(order), dtype=bool)
    out[order] = picked
    return out
