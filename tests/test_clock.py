"""Times of day as text (``routing.clock``): GTFS times and clock times."""

from __future__ import annotations

import pytest

from routing.clock import format_hhmm, format_time, parse_clock, parse_time


def test_gtfs_times() -> None:
    assert parse_time("8:06:00") == 8 * 3600 + 360
    assert parse_time(" 25:01:02 ") == 90062
    assert format_time(90062) == "25:01:02"
    assert format_time(-600) == "-00:10:00"
    for bad in ("8:6x:00", "08:60:00", "0800", "08:00", "08:00:00\n1", ""):
        with pytest.raises(ValueError):
            parse_time(bad)


def test_clock_times() -> None:
    assert parse_clock("7:05") == 7 * 3600 + 300
    assert parse_clock("25:30") == 25 * 3600 + 1800  # past midnight
    assert parse_clock("06:00:30") == 6 * 3600 + 30
    with pytest.raises(ValueError):
        parse_clock("06:00:30", with_seconds=False)
    for bad in ("7:5", "07:60", "07:00:60", "100:00", " 07:00", "07:00\n", "-1:00", "7"):
        with pytest.raises(ValueError):
            parse_clock(bad)
    assert format_hhmm(7 * 3600 + 29) == "07:00"
    assert format_hhmm(7 * 3600 + 31) == "07:01"  # rounded to the minute
    assert format_hhmm(25 * 3600) == "25:00"
