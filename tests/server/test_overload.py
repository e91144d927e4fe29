"""Load shedding (issue 12): a bounded queue, fast 503 + Retry-After, one warning per episode."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from server_places import KAIVOKATU, VILHONKATU, latlon

from routing.router import StreetRouter
from server import create_app
from server.overload import HEAVY, ROUTE, LoadShedder, OverloadedError, SheddingOptions


def test_full_queue_sheds_at_once_and_logs_one_warning_per_episode(
    caplog: pytest.LogCaptureFixture,
) -> None:
    shedder = LoadShedder(SheddingOptions(max_waiting=1, max_wait_s=5.0, quiet_s=0.0))
    holding, release = threading.Event(), threading.Event()
    waited: list[str] = []

    def hold() -> None:
        with shedder.admit():
            holding.set()
            release.wait(10)

    def wait() -> None:
        with shedder.admit():
            waited.append("admitted")

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    waiter = threading.Thread(target=wait)
    waiter.start()
    while shedder._waiting == 0:  # the waiter has taken the only waiting place
        time.sleep(0.001)
    with caplog.at_level(logging.WARNING, logger="server.overload"):
        for _ in range(50):
            with pytest.raises(OverloadedError) as info, shedder.admit():
                pass
        assert info.value.http_status == 503 and info.value.retry_after_s == 1
        release.set()
        holder.join(10)
        waiter.join(10)
        with shedder.admit():  # quiet again: the episode ends with one summary line
            pass
    assert waited == ["admitted"]  # the one that could wait was served
    assert shedder.shed_total == 50
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[0].startswith("overloaded") and "50 request(s) answered 503" in lines[1]


def test_a_wait_longer_than_the_limit_is_shed() -> None:
    shedder = LoadShedder(SheddingOptions(max_waiting=4, max_wait_s=0.05))
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
