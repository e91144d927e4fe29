"""Clean-up of each bus direction's stop sequence after matching (issue 8, part 5).

Matching stops to a line from OSM leaves artefacts that a timetable must not carry. Each
rule is applied per direction, in this order, and every change is reported:

1. **Too few real stops.** A direction with fewer than ``min_matched_stops`` OSM stops
   (the rest are synthetic stops at the line's ends) is dropped: its "trip" would be a
   ride between two invented points, e.g. 42 km without a stop on route 248 direction 1.
2. **The same stop twice in a row** (a line passing a stop, turning and passing it again
   with no stop between) becomes one visit, the first.
3. **Stops closer than** ``merge_distance_m`` (straight line) one after the other, such as
   a platform and its stop position or two sides of a loop's turn, are merged into the
   better one: named, then a platform, then nearer the line.
4. **Unrealistic hops.** A hop longer than ``max_hop_m`` along the line means the stop data
   is missing there, not that the bus runs non-stop; the trip is cut at the longest such
   hop, keeping the part with more stops (then the first), and cut again while one remains.
   A part left with fewer than two stops drops the direction.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from datasets.almaty.service import StopMatching


@dataclass
class CleanupReport:
    """What the clean-up changed, per rule, as ``route/direction`` lists and counts."""

    dropped_directions: list[dict[str, Any]] = field(default_factory=list)
    repeated_stops: list[dict[str, Any]] = field(default_factory=list)
    merged_stops: list[dict[str, Any]] = field(default_factory=list)
    cut_hops: list[dict[str, Any]] = field(default_factory=list)
    dropped_routes: list[str] = field(default_factory=list)
    longest_hops: list[tuple[float, str]] = field(default_factory=list)

    def to_dict(self, cfg: StopMatching) -> dict[str, Any]:
        return {
            "thresholds": {
                "merge_distance_m": cfg.merge_distance_m,
                "max_hop_m": cfg.max_hop_m,
                "min_matched_stops": cfg.min_matched_stops,
            },
            "dropped_directions": self.dropped_directions,
            "dropped_routes": self.dropped_routes,
            "repeated_stops_removed": len(self.repeated_stops),
            "repeated_stops": self.repeated_stops,
            "close_stops_merged": len(self.merged_stops),
            "merged_stops": self.merged_stops,
            "long_hops_cut": len(self.cut_hops),
            "cut_hops": self.cut_hops,
            "longest_hops_kept": [
                {"direction": where, "hop_m": round(hop)}
                for hop, where in sorted(self.longest_hops, reverse=True)[:5]
            ],
        }


def clean_visits(
    where: str,
    along_m: Sequence[float],
    stop_ids: Sequence[str],
    xy: np.ndarray,
    real: Sequence[bool],
    score: Callable[[int], tuple],
    cfg: StopMatching,
    report: CleanupReport,
) -> list[int] | None:
    """Indices of the visits to keep, in order, or None to drop the direction.

    Parameters
    ----------
    where
        ``"<route>/<direction>"``, for the report.
    along_m
        Distance of each visit along the line (sorted).
    stop_ids
        Stop id of each visit.
    xy
        ``(n, 2)`` metres of each visit's stop in a local projection.
    real
        True for an OSM stop, False for a synthetic line end.
    score
        Larger is the better stop to keep when two are merged.
    cfg
        Thresholds.
    report
        Collects every change.
    """
    n_real = int(sum(real))
    if n_real < cfg.min_matched_stops:
        report.dropped_directions.append({
            "direction": where, "reason": f"{n_real} OSM stop(s), fewer than "
            f"{cfg.min_matched_stops}; the rest are synthetic line ends",
            "stops": len(stop_ids),
        })  # fmt: skip
        return None
    keep: list[int] = []
    for i in range(len(stop_ids)):
        if keep and stop_ids[i] == stop_ids[keep[-1]]:
            report.repeated_stops.append({"direction": where, "stop_id": stop_ids[i]})
            continue
        if keep and float(np.hypot(*(xy[i] - xy[keep[-1]]))) < cfg.merge_distance_m:
            j = keep[-1]
            better = i if score(i) > score(j) else j
            report.merged_stops.append({
                "direction": where, "kept": stop_ids[better],
                "merged": stop_ids[j if better == i else i],
                "distance_m": round(float(np.hypot(*(xy[i] - xy[j]))), 1),
            })  # fmt: skip
            keep[-1] = better
            continue
        keep.append(i)
    while len(keep) >= 2:
        hops = np.diff([along_m[k] for k in keep])
        longest = int(np.argmax(hops))
        if hops[longest] <= cfg.max_hop_m:
            break
        before, after = keep[: longest + 1], keep[longest + 1 :]
        kept = before if len(before) >= len(after) else after
        report.cut_hops.append({
            "direction": where, "from": stop_ids[keep[longest]],
            "to": stop_ids[keep[longest + 1]], "hop_m": round(float(hops[longest])),
            "kept_part": "start" if kept is before else "end",
            "stops_dropped": len(keep) - len(kept),
        })  # fmt: skip
        keep = kept
    if len(keep) >= 2:
        report.longest_hops.append((float(np.max(np.diff([along_m[k] for k in keep]))), where))
    if len(keep) < 2:
        report.dropped_directions.append({
            "direction": where, "reason": "fewer than two stops left after the clean-up",
            "stops": len(stop_ids),
        })  # fmt: skip
        return None
    return keep
