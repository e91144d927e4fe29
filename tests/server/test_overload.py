"""Load shedding (issue 12): admission on expected queueing delay, fast 503 + Retry-After,
one warning per episode.

The admission rule is proved on :class:`~server.overload.Lane` with chosen times (no clock,
no threads) and on :class:`~server.overload.LoadShedder` with a fake clock.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from server_places import KAIVOKATU, VILHONKATU, latlon

from routing.router import StreetRouter
from server import create_app
from server.overload import (
    HEAVY,
    ROUTE,
    Lane,
    LoadShedder,
    OverloadedError,
    Shed,
    SheddingOptions,
    threads_needed,
)


class FakeClock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def learned(lane: Lane, service_s: float, at: float = 0.0) -> float:
    """Run one request of ``service_s`` through an idle ``lane``; returns when it ended."""
    assert lane.arrive(at).admitted
    assert lane.finish(at + service_s) is None
    return at + service_s


def test_a_burst_of_quick_requests_waits_where_a_queue_length_rule_shed_it() -> None:
    # 12 routes arrive at once behind one computing; at 5 ms each the last waits ~60 ms.
    # A rule of "at most 4 waiting" (before this change) shed 8 of them.
    lane = Lane(ROUTE, SheddingOptions(max_waiting=16, max_wait_s=1.0))
    t = learned(lane, 0.005)
    first = lane.arrive(t)
    burst = [lane.arrive(t) for _ in range(12)]
    assert first.admitted and not any(ticket.admitted for ticket in burst)
    assert lane.expected_wait(t) == pytest.approx(0.005 + 12 * 0.005)
    # They run in arrival order as the slot frees, and the queue drains.
    now = t
    for ticket in burst:
        now += 0.005
        assert lane.finish(now) is ticket and ticket.started == now
    assert lane.finish(now + 0.005) is None and not lane.queue
    assert lane.nonempty_since is None


def test_a_newcomer_expected_to_wait_past_the_budget_is_refused_at_once() -> None:
    # A heavy lane whose requests take 2 s (a /plan with a new override), budget 1 s.
    lane = Lane(HEAVY, SheddingOptions(heavy_max_wait_s=1.0))
    t = learned(lane, 2.0)
    assert lane.arrive(t).admitted
    with pytest.raises(Shed, match=r"expected wait in the heavy lane 1900 ms, over its budget "
                                   r"of 1000 ms \(0 waiting\)"):  # fmt: skip
        lane.arrive(t + 0.1)
    # What remains of the running request counts, not its whole time: 1.5 s in, 0.5 s left.
    waiter = lane.arrive(t + 1.5)
    assert not waiter.admitted and waiter.until == pytest.approx(t + 2.5)
    assert lane.finish(t + 2.0) is waiter


def test_a_standing_queue_gets_the_short_budget_until_the_lane_has_room_again() -> None:
    opts = SheddingOptions(max_waiting=16, max_wait_s=1.0, standing_wait_s=0.02,
                           standing_after_s=0.5)  # fmt: skip
    lane = Lane(ROUTE, opts)
    t = learned(lane, 0.01)
    lane.arrive(t)  # computing
    lane.arrive(t)  # the queue becomes non-empty at t
    # A burst: 5 waiting (~50 ms expected) is within the 1 s budget.
    assert not any(lane.arrive(t + 0.005).admitted for _ in range(4))
    # Requests keep coming as fast as they finish (10 ms each): the queue never empties.
    for step in range(1, 50):
        now = t + step * 0.01
        assert lane.arrive(now).budget_s == 1.0  # not standing yet: the long budget
        lane.finish(now)
    # Non-empty for 0.5 s: standing, and 50 ms expected is over its 20 ms budget.
    now = t + 0.5
    assert lane.standing(now) and len(lane.queue) == 5
    with pytest.raises(Shed, match=r"\(standing queue, 5 waiting\)"):
        lane.arrive(now)
    for _ in range(3):  # 2 waiting
        lane.finish(now)
        now += 0.01
    # Overloaded for a second more: twice as many newcomers as the lane serves; those
    # expected within 20 ms wait, the others are refused at once.
    for _ in range(100):
        lane.finish(now)
        assert lane.arrive(now + 0.001).budget_s == pytest.approx(0.02)  # 9 + 10 ms
        with pytest.raises(Shed, match="standing queue, 2 waiting"):
            lane.arrive(now + 0.001)  # 9 + 20 ms
        now += 0.01
    assert lane.busy_share(now) > 0.9
    while lane.queue:  # the queue empties for a moment, a request still computing:
        now += 0.01
        lane.finish(now)
    assert lane.running is not None and lane.standing(now)  # still overloaded
    assert lane.arrive(now).budget_s == pytest.approx(0.02)
    for _ in range(2):
        now += 0.01
        lane.finish(now)
    assert lane.running is None and not lane.queue  # all done: the lane is idle
    # 0.1 s idle: busy less than 90 % of the time lately, the overload is over.
    assert lane.busy_share(now + 0.1) < 0.9 and not lane.standing(now + 0.1)
    assert lane.arrive(now + 0.1).admitted
    assert lane.arrive(now + 0.1).budget_s == pytest.approx(1.0)


def test_the_time_limit_caps_the_wait_and_the_queue_length_stays_bounded() -> None:
    lane = Lane(ROUTE, SheddingOptions(max_waiting=2, max_wait_s=1.0))
    t = learned(lane, 0.001)
    lane.arrive(t)
    assert lane.arrive(t, limit_s=0.3).until == pytest.approx(t + 0.3)
    lane.arrive(t)
    with pytest.raises(Shed, match="the route queue is full"):
        lane.arrive(t)  # 2 waiting: a safety bound whatever the expected wait


def test_a_waiter_out_of_budget_leaves_the_queue_unless_its_turn_came() -> None:
    lane = Lane(HEAVY, SheddingOptions(heavy_max_wait_s=0.5))
    t = learned(lane, 0.1)
    lane.arrive(t)
    late, turn = lane.arrive(t), lane.arrive(t)
    with pytest.raises(Shed, match=r"no turn in the heavy lane within 0.5 s"):
        lane.give_up(late, t + 0.5)
    assert list(lane.queue) == [turn]
    assert lane.finish(t + 0.5) is turn
    lane.give_up(turn, t + 0.5)  # it was started meanwhile: it runs
    assert lane.running is turn


def test_the_service_estimate_follows_recent_requests() -> None:
    lane = Lane(ROUTE, SheddingOptions())
    assert lane.service_s is None and lane.expected_wait(0.0) == 0.0
    t = learned(lane, 0.010)
    assert lane.service_s == pytest.approx(0.010)
    learned(lane, 0.020, at=t)
    assert lane.service_s == pytest.approx(0.012)  # 0.2 weight on the newest


def test_threads_needed_covers_every_request_a_lane_can_hold() -> None:
    assert threads_needed(SheddingOptions(max_waiting=16)) == 2 * 17 + 4
    assert threads_needed(SheddingOptions(max_waiting=0)) == 2 + 4


def test_an_overload_sheds_at_once_serves_waiters_in_order_and_logs_one_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    shedder = LoadShedder(SheddingOptions(max_waiting=8, heavy_max_wait_s=0.025, quiet_s=5.0),
                          clock=clock)  # fmt: skip
    with shedder.admit():  # learn: a request takes 10 ms
        clock.now += 0.010
    holding, release = threading.Event(), threading.Event()
    served: list[int] = []

    def hold() -> None:
        with shedder.admit():
            holding.set()
            release.wait(10)
            clock.now += 0.010

    def wait(n: int) -> None:
        with shedder.admit():
            served.append(n)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    waiters = []
    for n in range(2):  # 10 then 20 ms expected: within the 25 ms budget (and the fake
        waiters.append(threading.Thread(target=wait, args=(n,)))  # clock never passes it)
        waiters[-1].start()
        while shedder.waiting(HEAVY) == n:
            time.sleep(0.001)
    with caplog.at_level(logging.WARNING, logger="server.overload"):
        for _ in range(50):  # 30 ms expected: over budget, refused without waiting
            with pytest.raises(OverloadedError) as info, shedder.admit():
                pass
        assert info.value.http_status == 503 and info.value.retry_after_s == 1
        assert "expected wait in the heavy lane 30 ms" in str(info.value)
        release.set()
        holder.join(10)
        for thread in waiters:
            thread.join(10)
        clock.now += 5.0
        with shedder.admit():  # quiet again: the episode ends with one summary line
            pass
    assert served == [0, 1]  # those that could wait were served, in arrival order
    assert shedder.shed_total == 50
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("overloaded") and "50 request(s) answered 503" in lines[1]


def test_a_wait_longer_than_the_limit_is_shed() -> None:
    shedder = LoadShedder(SheddingOptions(max_waiting=4, heavy_max_wait_s=0.05))
    with shedder.admit():
        failed: list[BaseException] = []

        def late() -> None:
            try:
                with shedder.admit():
                    pass
            except OverloadedError as exc:
                failed.append(exc)

        thread = threading.Thread(target=late)
        thread.start()
        thread.join(10)
    assert len(failed) == 1 and "no turn in the heavy lane within 0.05 s" in str(failed[0])


def test_overloaded_route_is_a_json_503_with_retry_after_and_health_still_answers(
    router: StreetRouter,
) -> None:
    app = create_app({"TESTING": True, "SHEDDING": SheddingOptions(max_waiting=0)},
                     router=router)  # fmt: skip
    client = app.test_client()
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    with app.extensions["inclusive_routing"]["router_lock"].admit(ROUTE):  # a route computing
        busy = client.get("/route", query_string=query)
        health = client.get("/health")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.get_json()["error"]["code"] == "overloaded"
    assert busy.headers["Cache-Control"] == "no-store"
    assert health.status_code == 200
    assert client.get("/route", query_string=query).status_code == 200  # free again


def test_a_busy_heavy_lane_leaves_route_answering(router: StreetRouter) -> None:
    """A /plan or /matrix holding its lane (e.g. a new override, seconds) never starves
    /route; a second heavy request is shed."""
    app = create_app({"TESTING": True, "SHEDDING": SheddingOptions(max_waiting=0)},
                     router=router)  # fmt: skip
    client = app.test_client()
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    matrix = {"sources": [latlon(KAIVOKATU)], "targets": [latlon(VILHONKATU)],
              "profile": "walk"}  # fmt: skip
    with app.extensions["inclusive_routing"]["router_lock"].admit(HEAVY):  # a slow plan
        routed = client.get("/route", query_string=query)
        shed = client.post("/matrix", json=matrix)
    assert routed.status_code == 200, routed.get_json()
    assert shed.status_code == 503 and shed.get_json()["error"]["code"] == "overloaded"
    assert client.post("/matrix", json=matrix).status_code == 200


def test_a_request_past_its_time_limit_is_a_json_503_with_retry_after(
    router: StreetRouter, caplog: pytest.LogCaptureFixture
) -> None:
    limits = SheddingOptions(time_limit_s=1e-9, heavy_time_limit_s=1e-9, quiet_s=60.0)
    app = create_app({"TESTING": True, "SHEDDING": limits}, router=router)
    client = app.test_client()
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    with caplog.at_level(logging.WARNING):
        answers = [client.get("/route", query_string=query) for _ in range(3)]
        matrix = client.post("/matrix", json={"sources": [latlon(KAIVOKATU)],
                                              "targets": [latlon(VILHONKATU)],
                                              "profile": "walk"})  # fmt: skip
    for answer in [*answers, matrix]:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "1"
        assert answer.headers["Cache-Control"] == "no-store"
        error = answer.get_json()["error"]
        assert error["code"] == "deadline_exceeded" and error["limit_s"] == 1e-9
    assert "street search" in answers[0].get_json()["error"]["message"]
    assert "matrix batch" in matrix.get_json()["error"]["message"]
    # One warning for the episode, no line per request.
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "passed its" in lines[0], lines
    # The lanes are free again: a normal limit answers.
    relaxed = create_app({"TESTING": True}, router=router).test_client()
    assert relaxed.get("/route", query_string=query).status_code == 200


def test_a_plan_past_its_time_limit_stops_in_the_planner(plan_app, caplog) -> None:
    state = plan_app.extensions["inclusive_routing"]
    app = create_app({"TESTING": True, "SHEDDING": SheddingOptions(heavy_time_limit_s=1e-9)},
                     router=state["router"], planner=state["planner"])  # fmt: skip
    answer = app.test_client().get("/plan", query_string={
        "from": "43.2389,76.9454", "to": "43.2620,76.9120", "profile": "walk",
        "time": "2026-12-08T08:00"})  # fmt: skip
    assert answer.status_code == 503, answer.get_json()
    assert answer.get_json()["error"]["code"] == "deadline_exceeded"
    assert answer.headers["Retry-After"] == "1"
