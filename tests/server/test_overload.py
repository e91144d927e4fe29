"""Load shedding (issue 12): a bounded queue, fast 503 + Retry-After, one warning per episode."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from server_places import KAIVOKATU, VILHONKATU, latlon

from routing.router import StreetRouter
from server import create_app
from server.overload import LoadShedder, OverloadedError, SheddingOptions


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
    assert len(failed) == 1 and "no turn within 0.05 s" in str(failed[0])


def test_overloaded_route_is_a_json_503_with_retry_after_and_health_still_answers(
    router: StreetRouter,
) -> None:
    app = create_app({"TESTING": True, "SHEDDING": SheddingOptions(max_waiting=0)},
                     router=router)  # fmt: skip
    client = app.test_client()
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    with app.extensions["inclusive_routing"]["router_lock"].admit():  # a request computing
        busy = client.get("/route", query_string=query)
        health = client.get("/health")
    assert busy.status_code == 503
    assert busy.headers["Retry-After"] == "1"
    assert busy.get_json()["error"]["code"] == "overloaded"
    assert busy.headers["Cache-Control"] == "no-store"
    assert health.status_code == 200
    assert client.get("/route", query_string=query).status_code == 200  # free again
