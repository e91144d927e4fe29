"""Cooperative time limits (issue 12): long computations stop between steps, not at the end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from routing.clock import parse_time
from routing.deadline import Deadline, checkpoint, current, within
from routing.errors import DeadlineExceededError
from routing.transit.gtfs import load_feed
from routing.transit.raptor import RaptorOptions, range_raptor
from routing.transit.timetable import Timetable

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "gtfs" / "almaty_mini"


class StepClock:
    """A clock that advances one second each time it is read: a deadline of k seconds
    passes at the k-th check after it was set."""

    def __init__(self) -> None:
        self.now = 0.0
        self.reads = 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += 1.0
        return self.now


def test_checkpoint_is_free_without_a_deadline_and_raises_after_one() -> None:
    checkpoint()  # no deadline: nothing happens
    assert current() is None
    clock = StepClock()
    deadline = Deadline(2, clock=clock)  # set at t=1, passes at t=3
    with within(deadline):
        checkpoint("step one")  # t=2
        with pytest.raises(DeadlineExceededError, match="limit of 2 s .stopped during step two"):
            checkpoint("step two")  # t=3
    assert current() is None


def test_an_inner_deadline_never_extends_an_outer_one() -> None:
    outer, later = Deadline(1.0), Deadline(60.0)
    with within(outer):
        with within(later) as used:
            assert used is outer and current() is outer
        with within(0.5) as sooner:
            assert sooner is not outer and current() is sooner
        assert current() is outer


@pytest.fixture(scope="module")
def timetable() -> Timetable:
    import datetime as dt

    return Timetable.from_feed(load_feed(FIXTURE), dt.date(2024, 3, 5))


def test_range_raptor_stops_between_rounds(timetable: Timetable) -> None:
    s = timetable.stop_index
    access, egress = {s["B1"]: 120}, {s["B4"]: 60, s["M_RAIYM"]: 120}
    args = (timetable, access, egress, parse_time("07:30:00"), parse_time("09:00:00"),
            RaptorOptions())  # fmt: skip
    full = range_raptor(*args)
    assert full  # the fixture has journeys in this window
    clock = StepClock()
    with pytest.raises(DeadlineExceededError, match="RAPTOR round"):
        range_raptor(*args, deadline=Deadline(4, clock=clock))
    assert clock.reads == 5  # stopped at the 4th round checked, not at the end
    # A deadline that does not pass changes nothing.
    assert range_raptor(*args, deadline=Deadline(3600.0)) == full


def test_matrix_stops_between_batches(helsinki_router) -> None:
    net = helsinki_router.network
    g = net.graph
    nodes = np.linspace(0, g.n_nodes - 1, 6).astype(int)
    points = [net.at_node(int(n)) for n in nodes]
    from routing.cost.profiles import PROFILES

    walk = PROFILES["walk"]
    # Dijkstra's batches (a hierarchy left by an earlier test would answer without them).
    whole = net.matrix(points, points, walk, batch=2, hierarchy=False)
    clock = StepClock()
    with pytest.raises(DeadlineExceededError, match="matrix batch"):
        net.matrix(points, points, walk, batch=2, hierarchy=False,
                   deadline=Deadline(2, clock=clock))
    assert clock.reads == 3  # the second of three batches was not started
    again = net.matrix(points, points, walk, batch=2, hierarchy=False, deadline=60.0)
    assert np.array_equal(again.cost, whole.cost)


class StopAt(Deadline):
    """A deadline that passes at the first checkpoint named ``where`` (None: never), and
    records the name of every checkpoint it is asked about."""

    def __init__(self, where: str | None = None) -> None:
        super().__init__(3600.0)
        self.where, self.seen = where, []

    def check(self, where: str = "") -> None:
        self.seen.append(where)
        if where == self.where:
            self.expires = float("-inf")
        super().check(where)


#: The planner's steps for a new profile, in order (each has a checkpoint after or before it).
PLAN_STEPS = ["the profile's edge costs", "the day's trips", "the day's patterns",
              "the feed's footpaths", "the day's timetable", "snapping the stops",
              "the transfer walks", "the stop links", "the profile's footpaths",
              "the chained footpaths", "the service view", "the access walks",
              "the egress walks", "a McRAPTOR round", "the journeys", "an itinerary"]  # fmt: skip


def test_a_plan_stops_at_each_planner_step_and_its_caches_stay_sound(almaty_router) -> None:
    from routing.cost.profiles import get_profile
    from routing.transit.planner import TransitPlanner, parse_departure

    ends = ((43.2395, 76.9505), (43.2597, 76.9305))  # near stops B1 and B4 of the fixture
    when = parse_departure("2024-03-05T07:45", tz=None)  # the fixture's Tuesday

    def plan(planner: TransitPlanner, speed: float, deadline: Deadline | None = None):
        profile = get_profile("walk", {"speed_mps": speed})  # new: every step runs
        return planner.plan(*ends, when, profile, deadline=deadline).to_dict()

    recorder = StopAt()
    plan(TransitPlanner.from_gtfs(almaty_router, FIXTURE), 1.201, recorder)
    names = iter(recorder.seen)
    assert all(step in names for step in PLAN_STEPS), recorder.seen  # in this order
    for n, step in enumerate(["the profile's edge costs", "the day's patterns",
                              "the transfer walks", "the stop links", "a McRAPTOR round",
                              "an itinerary"]):  # fmt: skip
        speed = 1.202 + n / 1000
        planner = TransitPlanner.from_gtfs(almaty_router, FIXTURE)
        with pytest.raises(DeadlineExceededError, match=f"stopped during {step}"):
            plan(planner, speed, StopAt(step))
        # Stopped mid-way, the planner and the network still answer as fresh ones do.
        fresh = plan(TransitPlanner.from_gtfs(almaty_router, FIXTURE), speed)
        assert plan(planner, speed) == fresh
        assert any(i["legs"][0]["mode"] != "walk" or len(i["legs"]) > 1
                   for i in fresh["itineraries"])  # fmt: skip
