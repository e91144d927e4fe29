"""``/plan`` (DESIGN §5): journeys by walking, bus and metro on the real Almaty data."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_places import (
    HELSINKI,
    KAIVOKATU,
    MOMYSHULY,
    MOMYSHULY_STATION,
    MONDAY_0800,
    NEAR_RAIYMBEK,
    RAIYMBEK,
    RAIYMBEK_STATION,
    VILHONKATU,
    latlon,
)
from test_app import assert_error

from routing.cost.profiles import PROFILE_NAMES
from routing.errors import DataError, OverlayError
from routing.router import StreetRouter
from server import BLUEPRINTS, create_app
from server.state import EXTENSION

ITINERARY_KEYS = {
    "departure", "arrival", "duration_s", "walk_s", "wait_s", "ride_s", "walk_distance_m",
    "transfers", "generalized_cost", "legs", "warnings",
}  # fmt: skip
STOP_KEYS = {"stop_id", "name", "lat", "lon", "wheelchair_boarding", "tactile_guidance"}
TRI = {"yes", "no", "unknown"}


def plan_query(**extra: Any) -> dict[str, Any]:
    query = {"from": latlon(RAIYMBEK), "to": latlon(MOMYSHULY), "profile": "walk",
             "time": MONDAY_0800}  # fmt: skip
    query.update(extra)
    return {k: v for k, v in query.items() if v is not None}


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (m)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)  # fmt: skip
    return 2 * 6371000 * math.asin(math.sqrt(h))


def times(text: str) -> dt.datetime:
    when = dt.datetime.fromisoformat(text)
    assert when.utcoffset() == dt.timedelta(hours=5), text  # Asia/Almaty, UTC+05:00
    return when


def assert_itineraries_consistent(body: dict, requested: dt.datetime) -> None:
    """Shapes, and times that only move forward: leg by leg and within each leg."""
    assert body["itineraries"], "at least one itinerary"
    for itinerary in body["itineraries"]:
        assert ITINERARY_KEYS <= set(itinerary)
        legs = itinerary["legs"]
        assert legs
        start, end = times(itinerary["departure"]), times(itinerary["arrival"])
        assert start >= requested
        assert times(legs[0]["departure"]) == start
        assert times(legs[-1]["arrival"]) == end
        assert itinerary["duration_s"] == round((end - start).total_seconds())
        previous = start
        for leg in legs:
            leg_start, leg_end = times(leg["departure"]), times(leg["arrival"])
            assert previous <= leg_start <= leg_end, (leg["mode"], legs)
            previous = leg_end
            if leg["mode"] == "walk":
                assert leg.get("steps") is None or all(s["instruction"] for s in leg["steps"])
            else:
                assert leg["mode"] in ("bus", "metro", "trolleybus")
                assert leg_start < leg_end
                assert STOP_KEYS <= set(leg["from"]) and STOP_KEYS <= set(leg["to"])
                for stop in (leg["from"], leg["to"]):
                    assert stop["wheelchair_boarding"] in TRI
                    assert stop["tactile_guidance"] in TRI
                assert leg["accessible_vehicle"] in TRI
                assert leg["route"] and leg["geometry"]["type"] == "LineString"
        rides = [leg for leg in legs if leg["mode"] != "walk"]
        assert itinerary["transfers"] == max(0, len(rides) - 1)
        for warning in itinerary["warnings"]:
            assert warning["code"] and warning["message"]


# -- the app -----------------------------------------------------------------------------
def test_plan_is_a_registered_blueprint(plan_app: Flask, almaty_router: StreetRouter) -> None:
    assert "server.plan" in BLUEPRINTS
    assert "/plan" in {rule.rule for rule in plan_app.url_map.iter_rules()}
    services = plan_app.extensions[EXTENSION]
    assert services["router"] is almaty_router
    assert services["planner"] is not None and services["planner"].router is almaty_router


def test_health_reports_the_planner(plan_client: FlaskClient, almaty_gtfs: Path) -> None:
    body = plan_client.get("/health").get_json()
    planner = body["planner"]
    assert planner["gtfs"] == almaty_gtfs.name
    assert planner["stops"] > 1500  # 11 metro stations + the matched bus stops
    assert planner["routes"] == 190  # metro line 1 + 189 bus routes
    assert planner["transit_overlays"] == []


def test_app_without_gtfs_answers_503(client: FlaskClient) -> None:
    # The Helsinki app of the other tests has no GTFS feed.
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    for response in (client.get("/plan", query_string=query), client.post("/plan", json=query)):
        error = assert_error(response, 503, "transit_unavailable")
        assert "GTFS" in error["message"]
    assert client.get("/health").get_json()["planner"] is False


def test_create_app_names_a_missing_gtfs(almaty_router: StreetRouter, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.zip"
    with pytest.raises(DataError, match="GTFS feed not found") as info:
        create_app({"GTFS": str(missing)}, router=almaty_router)
    assert info.value.path == str(missing)


# -- journeys ----------------------------------------------------------------------------
def test_weekday_morning_rides_the_metro(plan_client: FlaskClient) -> None:
    response = plan_client.get("/plan", query_string=plan_query())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["profile"] == "walk"
    assert body["time"] == "2026-12-07T08:00:00+05:00"  # no offset given: Almaty local time
    requested = times(body["time"])
    assert_itineraries_consistent(body, requested)
    metro = [leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] == "metro"]
    assert metro, "the metro line runs between the two ends"
    leg = metro[0]
    # Boards at Raiymbek batyr, alights at Bauyrjan Momyshuly, going towards it.
    assert metres((leg["from"]["lat"], leg["from"]["lon"]), RAIYMBEK_STATION) < 300
    assert metres((leg["to"]["lat"], leg["to"]["lon"]), MOMYSHULY_STATION) < 300
    assert leg["headsign"]
    assert times(leg["departure"]) - requested < dt.timedelta(minutes=30)
    assert dt.timedelta(minutes=15) < times(leg["arrival"]) - times(leg["departure"])
    # The first walk leads from the start to the station, with spoken-style steps.
    first = body["itineraries"][0]["legs"][0]
    assert first["mode"] == "walk" and first["steps"] and first["distance_m"] > 0
    assert first["geometry"]["type"] == "LineString"


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_every_profile_gets_consistent_itineraries(plan_client: FlaskClient, profile: str) -> None:
    response = plan_client.get("/plan", query_string=plan_query(profile=profile))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["profile"] == profile
    assert_itineraries_consistent(body, times(body["time"]))


def test_wheelchair_plan_warns_about_unknown_boarding(plan_client: FlaskClient) -> None:
    body = plan_client.get("/plan", query_string=plan_query(profile="wheelchair_manual")).get_json()
    codes = {w["code"] for it in body["itineraries"] for w in it["warnings"]}
    assert "unknown_stop_accessibility" in codes  # the data does not say; never shown as yes


def test_post_json_equals_get(plan_client: FlaskClient) -> None:
    get = plan_client.get("/plan", query_string=plan_query(max_transfers="1"))
    post = plan_client.post("/plan", json={
        "from": list(RAIYMBEK), "to": {"lat": MOMYSHULY[0], "lon": MOMYSHULY[1]},
        "profile": "walk", "time": MONDAY_0800, "max_transfers": 1,
    })  # fmt: skip
    assert get.status_code == post.status_code == 200
    assert post.get_json() == get.get_json()
    form = plan_client.post("/plan", data=plan_query(max_transfers="1"))
    assert form.get_json() == get.get_json()


def test_time_with_an_offset_is_converted(plan_client: FlaskClient) -> None:
    local = plan_client.get("/plan", query_string=plan_query()).get_json()
    utc = plan_client.get("/plan", query_string=plan_query(time="2026-12-07T03:00:00Z"))
    offset = plan_client.get("/plan", query_string=plan_query(time="2026-12-07T08:00+05:00"))
    assert utc.get_json() == local == offset.get_json()


def test_missing_time_means_now(plan_client: FlaskClient) -> None:
    # Near enough that walking is an itinerary whatever the date: the answer never depends on
    # whether today is in the feed's calendar.
    before = dt.datetime.now(ZoneInfo("Asia/Almaty")).replace(microsecond=0)
    response = plan_client.get("/plan", query_string=plan_query(
        to=latlon(NEAR_RAIYMBEK), time=None))  # fmt: skip
    after = dt.datetime.now(ZoneInfo("Asia/Almaty"))
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert before <= times(body["time"]) <= after
    assert_itineraries_consistent(body, times(body["time"]))
    assert any(all(leg["mode"] == "walk" for leg in it["legs"]) for it in body["itineraries"])


def test_max_transfers_zero_gives_direct_rides_only(plan_client: FlaskClient) -> None:
    body = plan_client.get("/plan", query_string=plan_query(max_transfers="0")).get_json()
    assert body["itineraries"]
    assert all(it["transfers"] == 0 for it in body["itineraries"])
    assert any(leg["mode"] == "metro" for it in body["itineraries"] for leg in it["legs"])


def test_profile_overrides_are_validated(plan_client: FlaskClient) -> None:
    slow = plan_client.get("/plan", query_string=plan_query(speed_mps="0.8"))
    assert slow.status_code == 200
    error = assert_error(plan_client.get("/plan", query_string=plan_query(speed_mps="99")),
                         400, "invalid_parameter", "speed_mps")  # fmt: skip
    assert "speed_mps" in error["message"]
    unknown = assert_error(plan_client.get("/plan", query_string=plan_query(arriveBy="true")),
                           400, "unknown_option", "arriveBy")  # fmt: skip
    assert "unknown option 'arriveBy'" in unknown["message"] and "arrive_by" in unknown["message"]


def test_a_date_outside_the_feed_is_422_naming_the_dates_it_covers(
    plan_client: FlaskClient,
) -> None:
    response = plan_client.get("/plan", query_string=plan_query(time="2030-06-03T08:00"))
    error = assert_error(response, 422, "outside_feed_calendar", "time")
    assert "2030-06-03" in error["message"] and "2026-01-01 to 2027-12-31" in error["message"]
    assert (error["feed_start_date"], error["feed_end_date"]) == ("2026-01-01", "2027-12-31")


# -- bad input ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"time": "tomorrow morning"}, "time"),
        ({"time": "2026-13-01T08:00"}, "time"),
        ({"time": "2026-12-07T25:00"}, "time"),
        ({"time": "0001-01-01T00:00+05:00"}, "time"),
        ({"time": "9999-12-31T23:59-05:00"}, "time"),
        ({"time": "1066-10-14T09:00"}, "time"),
        ({"max_transfers": "7"}, "max_transfers"),
        ({"max_transfers": "-1"}, "max_transfers"),
        ({"max_transfers": "two"}, "max_transfers"),
        ({"max_transfers": "1.5"}, "max_transfers"),
        ({"to": None}, "to"),
        ({"from": "43.27"}, "from"),
        ({"profile": "bike"}, "profile"),
        ({"profile": None}, "profile"),
    ],
    ids=["words", "month-13", "hour-25", "year-1-offset", "year-9999-offset", "year-1066",
         "transfers-7", "transfers-negative", "transfers-word", "transfers-fraction",
         "missing-to", "malformed-from", "unknown-profile", "missing-profile"],
)  # fmt: skip
def test_bad_input_is_400_naming_the_field(
    plan_client: FlaskClient, extra: dict, field: str
) -> None:
    response = plan_client.get("/plan", query_string=plan_query(**extra))
    assert_error(response, 400, "invalid_input", field)


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"time": 20261207}, "time"),
        ({"time": ["2026-12-07T08:00"]}, "time"),
        ({"max_transfers": True}, "max_transfers"),
        ({"max_transfers": 1.5}, "max_transfers"),
        ({"max_transfers": [1]}, "max_transfers"),
        ({"max_transfers": 10**30}, "max_transfers"),
    ],
)
def test_bad_json_values_are_400(plan_client: FlaskClient, extra: dict, field: str) -> None:
    response = plan_client.post("/plan", json=plan_query(**extra))
    assert_error(response, 400, "invalid_input", field)


def test_point_outside_the_area_is_400(plan_client: FlaskClient) -> None:
    response = plan_client.get("/plan", query_string=plan_query(to=latlon(HELSINKI)))
    error = assert_error(response, 400, "outside_area", "to")
    assert "outside the area" in error["message"]


def test_malformed_json_body_is_400(plan_client: FlaskClient) -> None:
    response = plan_client.post("/plan", data=b"{bad", content_type="application/json")
    assert_error(response, 400, "invalid_json", "body")


def test_wrong_method_is_405(plan_client: FlaskClient) -> None:
    response = plan_client.delete("/plan")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"] and "POST" in response.headers["Allow"]


# -- transit overlays --------------------------------------------------------------------
def test_transit_overlays_reach_the_itineraries(
    almaty_router: StreetRouter, almaty_gtfs: Path, tmp_path: Path
) -> None:
    stations = tmp_path / "stations.csv"
    stations.write_text("stop_id,wheelchair_boarding,tactile_navigation\n"
                        "metro:RMBK,yes,yes\nmetro:BM,yes,yes\n", encoding="utf-8")  # fmt: skip
    routes = tmp_path / "routes.csv"
    routes.write_text("route,low_floor_share\nmetro:L1,1\n", encoding="utf-8")
    app = create_app({"TESTING": True, "GTFS": str(almaty_gtfs),
                      "TRANSIT_OVERLAYS": [str(stations), str(routes)]},
                     router=almaty_router)  # fmt: skip
    client = app.test_client()
    assert client.get("/health").get_json()["planner"]["transit_overlays"] == [
        stations.name, routes.name]  # fmt: skip
    body = client.get("/plan", query_string=plan_query(profile="wheelchair_manual")).get_json()
    metro = [leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] == "metro"]
    assert metro
    for leg in metro:
        assert leg["from"]["wheelchair_boarding"] == leg["to"]["wheelchair_boarding"] == "yes"
        assert leg["from"]["tactile_guidance"] == "yes"
        assert leg["accessible_vehicle"] == "yes"


def test_a_broken_transit_overlay_is_named(
    almaty_router: StreetRouter, almaty_gtfs: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("route,low_floor_share\n55,lots\n", encoding="utf-8")
    with pytest.raises(OverlayError, match=re.escape(f"{bad} line 2")) as info:
        create_app({"GTFS": str(almaty_gtfs), "TRANSIT_OVERLAYS": [str(bad)]},
                   router=almaty_router)  # fmt: skip
    assert info.value.field == "low_floor_share"


# -- the web page ------------------------------------------------------------------------
def test_web_page_has_an_accessible_journey_form(plan_client: FlaskClient) -> None:
    html = plan_client.get("/").get_data(as_text=True)
    assert '<form id="trip-form"' in html  # one form: on foot, or with bus and metro
    assert 'name="mode" value="transit"' in html
    for control in ("from", "to", "time", "profile", "max-transfers"):
        assert f'id="{control}"' in html and f'for="{control}"' in html
    assert 'id="status"' in html and 'aria-live="polite"' in html
    script = plan_client.get("/static/app.js").get_data(as_text=True)
    assert '"/plan?"' in script and '"/route?"' in script
    assert "Asia/Almaty" in script  # the time box starts at now, in Almaty


# -- arrive-by, windows and the travel-time distribution ---------------------------------


def test_arrive_by_and_window_answer_pareto_journeys_with_cursors(plan_client: FlaskClient) -> None:
    by = plan_client.get("/plan", query_string=plan_query(time="2026-12-08T09:00",
                                                          arrive_by="true")).get_json()  # fmt: skip
    assert by["arrive_by"] is True and by["itineraries"]
    deadline = times("2026-12-08T09:00:00+05:00")
    assert all(times(it["arrival"]) <= deadline for it in by["itineraries"])
    later = plan_client.get("/plan", query_string=plan_query(time=by["later"]["time"])).get_json()
    assert all(times(it["departure"]) > times(by["itineraries"][0]["departure"])
               for it in later["itineraries"] if it["ride_s"])  # fmt: skip
    window = plan_client.get("/plan", query_string=plan_query(
        time="2026-12-08T08:00", window="20", num_itineraries="12")).get_json()  # fmt: skip
    departures = [times(it["departure"]) for it in window["itineraries"]]
    assert window["window_s"] == 1200 and departures == sorted(departures)
    assert len({d for d in departures}) >= 2  # a choice of departures, not one moment
    # Whole seconds everywhere, walks included (no fractional timestamps).
    stamps = [leg[k] for it in window["itineraries"] + by["itineraries"] for leg in it["legs"]
              for k in ("departure", "arrival")]  # fmt: skip
    assert stamps and not any("." in s for s in stamps)
    assert_error(plan_client.get("/plan", query_string=plan_query(window="999")),
                 400, "invalid_input", "window")  # fmt: skip
    assert_error(plan_client.get("/plan", query_string=plan_query(arrive_by="maybe")),
                 400, "invalid_input", "arrive_by")  # fmt: skip


def test_distribution_reports_travel_times_per_departure_and_percentiles(
    plan_client: FlaskClient,
) -> None:
    body = {"from": list(RAIYMBEK), "targets": [list(MOMYSHULY), list(NEAR_RAIYMBEK)],
            "profile": "walk", "time": "2026-12-08T08:00", "window": 30, "step": 10}  # fmt: skip
    response = plan_client.post("/plan/distribution", json=body)
    assert response.status_code == 200, response.get_data(as_text=True)
    got = response.get_json()
    assert len(got["departures"]) == 4 and got["step_s"] == 600
    far, near = got["targets"]
    assert all(t is not None for t in far["travel_time_s"]) and far["reachable_share"] == 1.0
    assert far["percentile_s"]["p10"] <= far["percentile_s"]["p50"] <= far["percentile_s"]["p90"]
    assert sorted(far["travel_time_s"])[0] == far["percentile_s"]["p10"]
    assert max(near["travel_time_s"]) < min(far["travel_time_s"])
    # The first moment's travel time is the planner's best arrival for that departure.
    plan = plan_client.get("/plan", query_string=plan_query(time="2026-12-08T08:00")).get_json()
    best = min(times(it["arrival"]) for it in plan["itineraries"])
    assert far["travel_time_s"][0] <= (best - times(plan["time"])).total_seconds()
    too_many = dict(body, targets=[list(MOMYSHULY)] * 51)
    assert_error(plan_client.post("/plan/distribution", json=too_many),
                 400, "invalid_input", "targets")  # fmt: skip
