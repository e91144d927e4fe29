"""Transit accessibility overlays: parsing, errors, low-floor thinning."""

from __future__ import annotations

import numpy as np
import pytest

from routing.errors import OverlayError
from routing.transit.accessibility import read_transit_overlays, thin_by_share
from routing.tristate import NO, UNKNOWN, YES


def test_route_and_stop_files(tmp_path):
    routes = tmp_path / "routes.csv"
    routes.write_text("route,low_floor_share,note\n32,0.6,\n*,40%,city default\n")
    stops = tmp_path / "stops.csv"
    stops.write_text(
        "stop_id,wheelchair_boarding,elevator,tactile_navigation\n"
        "metro:ABA,,yes,yes\nmetro:ALM,,out_of_service,\nbus:1,no,,\n"
        "bus:2,2,,1\nbus:3,1,,0\n"  # GTFS's numbers: 2 no, 1 yes, 0 unknown
    )
    acc = read_transit_overlays([routes, stops])
    assert acc.share_for("bus:32", "32") == 0.6
    assert acc.share_for("bus:12", "12") == 0.4
    assert acc.stops["metro:ABA"].wheelchair == YES
    assert acc.stops["metro:ABA"].tactile_navigation == YES
    assert acc.stops["metro:ALM"].wheelchair == NO
    assert acc.stops["bus:1"].wheelchair == NO
    assert acc.stops["metro:ALM"].tactile_navigation == UNKNOWN
    assert acc.stops["metro:ALM"].elevator_out_of_service
    assert (acc.stops["bus:2"].wheelchair, acc.stops["bus:2"].tactile_navigation) == (NO, YES)
    assert (acc.stops["bus:3"].wheelchair, acc.stops["bus:3"].tactile_navigation) == (YES, UNKNOWN)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("route,low_floor_share\n32,1.5\n", 2, "low_floor_share"),
        ("route,low_floor_share\n32,lots\n", 2, "low_floor_share"),
        ("route,low_floor_share\n,0.5\n", 2, "route"),
        ("route,low_floor_share,colour\n32,0.5,red\n", 1, "colour"),
        ("stop_id,elevator\nmetro:ABA,maybe\n", 2, "elevator"),
        ("stop_id,step_free\nmetro:ABA,-1\n", 2, "step_free"),  # not a GTFS number
        ("stop_id,lift\nmetro:ABA,yes\n", 1, "lift"),
        ("name,share\nx,1\n", 1, "header"),
    ],
)
def test_bad_rows_name_file_line_and_field(tmp_path, text, line, field):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(OverlayError) as exc:
        read_transit_overlays([path])
    err = exc.value
    assert err.line == line and err.field == field
    assert str(path) in err.message and f"line {line}" in err.message


def test_thinning_keeps_exactly_the_share_evenly_spread():
    departures = np.arange(0, 600 * 20, 600)[::-1].copy()  # 20 trips, given out of order
    picked = thin_by_share(departures, 0.6)
    assert picked.sum() == 12
    order = np.argsort(departures)
    gaps = np.diff(np.flatnonzero(picked[order]))
    assert gaps.max() <= 2  # never more than one inaccessible bus in a row at 60 %
    assert thin_by_share(departures, 0.0).sum() == 0
    assert thin_by_share(departures, 1.0).sum() == 20
