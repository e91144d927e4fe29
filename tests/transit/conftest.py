"""The hand-written GTFS fixture (``tests/fixtures/gtfs/almaty_mini``) of the transit tests."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from routing.transit.gtfs import Feed, load_feed
from routing.transit.timetable import Timetable

MINI_FEED = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"
MINI_TUESDAY = dt.date(2024, 3, 5)


@pytest.fixture(scope="module")
def feed() -> Feed:
    """The fixture feed, loaded once per test module."""
    return load_feed(MINI_FEED)


@pytest.fixture(scope="module")
def tt(feed: Feed) -> Timetable:
    """The fixture feed's timetable for its ordinary Tuesday."""
    return Timetable.from_feed(feed, MINI_TUESDAY)
