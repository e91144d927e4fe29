"""Each rule of the trip clean-up on hand-made stop sequences."""

from __future__ import annotations

import numpy as np

from datasets.almaty.cleanup import CleanupReport, clean_visits
from datasets.almaty.service import StopMatching

CFG = StopMatching(merge_distance_m=30.0, max_hop_m=5000.0, min_matched_stops=2)


def clean(along, ids, xs, real=None, score=None):
    report = CleanupReport()
    xy = np.column_stack([np.asarray(xs, dtype=float), np.zeros(len(xs))])
    keep = clean_visits("7/0", along, ids, xy, real or [True] * len(ids),
                        score or (lambda i: (0,)), CFG, report)  # fmt: skip
    return keep, report


def test_a_stop_twice_in_a_row_becomes_one_visit() -> None:
    keep, report = clean([0, 400, 600, 900], ["a", "b", "b", "c"], [0, 400, 400, 900])
    assert keep == [0, 1, 3]
    assert report.repeated_stops == [{"direction": "7/0", "stop_id": "b"}]


def test_close_stops_merge_into_the_better_one() -> None:
    keep, report = clean([0, 300, 320, 900], ["a", "b", "b2", "c"], [0, 300, 320, 900],
                         score=lambda i: (i == 2,))  # fmt: skip
    assert keep == [0, 2, 3]
    (merged,) = report.merged_stops
    assert (merged["kept"], merged["merged"], merged["distance_m"]) == ("b2", "b", 20.0)
    # 31 m apart is kept: the threshold is a strict "closer than".
    assert clean([0, 31], ["a", "b"], [0, 31])[0] == [0, 1]


def test_a_long_hop_cuts_the_trip_keeping_the_larger_part() -> None:
    along = [0, 500, 900, 7000, 7400]
    keep, report = clean(along, list("abcde"), along)
    assert keep == [0, 1, 2]
    (cut,) = report.cut_hops
    assert (cut["from"], cut["to"], cut["hop_m"], cut["kept_part"]) == ("c", "d", 6100, "start")


def test_directions_of_synthetic_ends_or_one_stop_left_are_dropped() -> None:
    keep, report = clean([0, 42000], ["syn:start", "syn:end"], [0, 42000], real=[False, False])
    assert keep is None and report.dropped_directions[0]["direction"] == "7/0"
    keep, report = clean([0, 9000], ["a", "b"], [0, 9000])  # the hop leaves one stop
    assert keep is None and "fewer than two stops" in report.dropped_directions[0]["reason"]
