"""The car network on a hand-made grid: speeds, one-ways, turn restrictions, kerbside
snapping, matrices, and the disk cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routing.dispatch.carnet import (
    CAR_SPEEDS_KMH,
    MAXSPEED_SHARE,
    build_car_network,
    load_car_network,
    period_factor,
    time_of_day_factor,
)
from routing.geo import haversine_m

GRID = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "car_grid.osm.xml"
A_SPEED = 36 * MAXSPEED_SHARE / 3.6
B_SPEED = CAR_SPEEDS_KMH["residential"] / 3.6


@pytest.fixture(scope="module")
def grid():
    return build_car_network(GRID)


def length(a, b):
    return haversine_m(a[0], a[1], b[0], b[1])


N1, N2, N3 = (43.0, 76.0), (43.0, 76.002), (43.0, 76.004)
N4, N5, N6 = (43.002, 76.002), (43.002, 76.0), (43.002, 76.004)


def test_speeds_from_maxspeed_and_class(grid):
    # Two doors on the south kerb of A (eastbound), 0.0005 and 0.0015 deg east of node 1.
    kerbs = grid.snap([(42.9999, 76.0005), (42.9999, 76.0015)])
    times, dist = grid.matrices(kerbs)
    gap = length((43.0, 76.0005), (43.0, 76.0015))
    assert dist[0, 1] == pytest.approx(gap, rel=1e-3)
    assert times[0, 1] == pytest.approx(gap / A_SPEED, rel=1e-3)


def test_kerbside_snapping_takes_the_direction_with_the_door_on_the_right(grid):
    south, north = grid.snap([(42.9999, 76.0010), (43.0001, 76.0010)])
    assert (grid.tail[south.edge], grid.head[south.edge]) != (
        grid.tail[north.edge],
        grid.head[north.edge],
    )
    lon_of = grid.node_lon
    assert lon_of[grid.head[south.edge]] > lon_of[grid.tail[south.edge]]  # eastbound
    assert lon_of[grid.head[north.edge]] < lon_of[grid.tail[north.edge]]  # westbound
    assert south.gap_m == pytest.approx(length((42.9999, 76.001), (43.0, 76.001)), rel=1e-3)


def test_no_stopping_on_a_motorway(grid):
    (kerb,) = grid.snap([(42.9990, 76.0050)])  # beside the motorway spur, nearer to it
    assert grid.stoppable[kerb.edge]
    assert grid.node_lat[grid.tail[kerb.edge]] == pytest.approx(43.0)


def test_one_way_street_forces_the_way_round(grid):
    # On E (one-way north), from near node 6 back to near node 3: round the block
    # 6 -> 4 -> 2 -> 3 (C west, B south, A east) instead of 222 m south on E.
    up, down = grid.snap([(43.0018, 76.0041), (43.0002, 76.0041)])
    times, dist = grid.matrices([up, down])
    rest_of_e = length((43.0018, 76.004), N6)
    detour = rest_of_e + length(N6, N4) + length(N4, N2) + length(N2, (43.0, 76.004))
    # ... then along E again from 3 up to the door.
    detour += length(N3, (43.0002, 76.004))
    assert dist[0, 1] == pytest.approx(detour, rel=2e-3)
    assert dist[1, 0] == pytest.approx(length((43.0002, 76.004), (43.0018, 76.004)), rel=2e-3)


def test_turn_restriction_is_obeyed(grid):
    # From A's south kerb (eastbound, west of node 2) to B's west kerb (southbound): the
    # left turn at 2 is forbidden, so the car goes on to 3, up E, west on C to 4, down B.
    start, goal = grid.snap([(42.9999, 76.0010), (43.0010, 76.00195)])
    assert grid.node_lat[grid.head[goal.edge]] < grid.node_lat[grid.tail[goal.edge]]
    _, dist = grid.matrices([start, goal])
    via = (
        length((43.0, 76.001), N3) + length(N3, N6) + length(N6, N4) + length(N4, (43.001, 76.002))
    )
    assert dist[0, 1] == pytest.approx(via, rel=2e-3)
    # The right turn from A westbound into B northbound is allowed: B's east kerb is
    # reached from node 3's side directly.
    east_kerb, from_3 = grid.snap([(43.0010, 76.00205), (43.0001, 76.0030)])
    assert grid.node_lat[grid.head[east_kerb.edge]] > grid.node_lat[grid.tail[east_kerb.edge]]
    _, dist = grid.matrices([from_3, east_kerb])
    assert dist[0, 1] == pytest.approx(
        length((43.0, 76.003), N2) + length(N2, (43.001, 76.002)), rel=2e-3
    )


def test_cache_round_trip_and_damaged_cache_is_rebuilt(tmp_path):
    built = load_car_network(GRID, cache_dir=tmp_path)
    (cached_file,) = tmp_path.glob("car-*.npz")
    again = load_car_network(GRID, cache_dir=tmp_path)
    assert np.array_equal(again.turn_to, built.turn_to) and again.report == built.report
    cached_file.write_bytes(b"not a zip")
    rebuilt = load_car_network(GRID, cache_dir=tmp_path)
    assert np.array_equal(rebuilt.time_s, built.time_s)


def test_time_of_day_factor_is_documented_and_conservative_over_a_period():
    assert time_of_day_factor(8 * 3600) == 1.4 and time_of_day_factor(3 * 3600) == 0.9
    assert period_factor(7 * 3600, 19 * 3600) == 1.45
    assert period_factor(11 * 3600, 15 * 3600) == 1.2
