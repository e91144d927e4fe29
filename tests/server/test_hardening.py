"""Bad input a fuzzer found (issue 12): each answered with a small 400 in the JSON shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from server_places import KAIVOKATU, VILHONKATU, latlon
from test_app import assert_error

from routing.errors import InvalidInputError
from routing.router import StreetRouter
from server import create_app
from server.params import parse_time

HUGE = 10**400  # float() overflows on it
HUGER = int("9" * 4299)  # just under Python's 4300-digit limit for int <-> str


def post_json(client: FlaskClient, path: str, text: str) -> Any:
    return client.post(path, data=text, content_type="application/json")


def route_body(**extra: Any) -> dict[str, Any]:
    body = {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "wheelchair_manual"}
    body.update(extra)
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (route_body(**{"from": [HUGE, 24.94]}), "from"),
        (route_body(to={"lat": 60.17, "lon": HUGER}), "to"),
        (route_body(max_uphill=HUGE), "max_uphill"),
        (route_body(speed_mps=-HUGER), "speed_mps"),
    ],
    ids=["from-list", "to-object", "max_uphill", "speed_mps-negative"],
)
@pytest.mark.parametrize(("path", "app_client"), [("/route", "client"), ("/plan", "plan_client")])
def test_huge_json_integers_are_a_400_naming_the_field(
    request: pytest.FixtureRequest, path: str, app_client: str, body: dict, field: str
) -> None:
    client = request.getfixturevalue(app_client)
    response = post_json(client, path, json.dumps(body))
    assert_error(response, 400, response.get_json()["error"]["code"], field)


@pytest.mark.parametrize("depth", [990, 100_000])
def test_deeply_nested_json_is_a_400(client: FlaskClient, depth: int) -> None:
    text = '{"from": ' + "[" * depth + "]" * depth + "}"
    response = post_json(client, "/route", text)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("invalid_json", "invalid_input")


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda big: route_body(**{big: 1}), id="unknown-key"),
        pytest.param(lambda big: route_body(profile=big), id="profile-name"),
        pytest.param(lambda big: route_body(**{"from": big}), id="from-text"),
        pytest.param(lambda big: route_body(format=big), id="format"),
    ],
)
def test_echoed_input_is_capped(client: FlaskClient, make: Any) -> None:
    big = "x" * 200_000
    response = post_json(client, "/route", json.dumps(make(big)))
    assert response.status_code == 400
    assert len(response.get_data()) < 2000, "the error must not echo 200 KB of input"
    assert response.get_json()["error"]["message"]


def test_a_huge_key_repeated_in_the_query_is_capped(client: FlaskClient) -> None:
    big = "k" * 100_000
    response = client.get(f"/route?{big}=1&{big}=2&from={latlon(KAIVOKATU)}")
    assert response.status_code == 400
    assert len(response.get_data()) < 2000


def test_a_huge_time_is_capped() -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_time("2026-12-07T08:00" + "0" * 200_000)
    assert len(info.value.message) < 300


# -- headers: caching, security, CORS (off by default) -----------------------------------
def test_security_and_cache_headers_on_every_answer(client: FlaskClient) -> None:
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk"}
    route = client.get("/route", query_string=query)
    assert route.status_code == 200
    assert route.headers["Cache-Control"] == "no-cache"
    profiles = client.get("/profiles")
    assert profiles.headers["Cache-Control"].startswith("public, max-age=")
    error = client.get("/route?from=x")
    assert error.status_code == 400 and error.headers["Cache-Control"] == "no-store"
    for response in (route, profiles, error, client.get("/"), client.get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "Access-Control-Allow-Origin" not in response.headers  # CORS is off by default


def test_cors_is_off_by_default_and_configurable(router: StreetRouter) -> None:
    origin = {"Origin": "https://city.example"}
    plain = create_app({"TESTING": True}, router=router).test_client()
    assert "Access-Control-Allow-Origin" not in plain.get("/profiles", headers=origin).headers
    allowed = create_app({"TESTING": True, "CORS_ORIGINS": ["https://city.example"]},
                         router=router).test_client()  # fmt: skip
    response = allowed.get("/profiles", headers=origin)
    assert response.headers["Access-Control-Allow-Origin"] == "https://city.example"
    assert "Origin" in response.headers["Vary"]
    asks = {**origin, "Access-Control-Request-Method": "POST"}
    preflight = allowed.options("/route", headers=asks)
    assert preflight.headers["Access-Control-Allow-Methods"] == "GET, POST"
    other = allowed.get("/profiles", headers={"Origin": "https://elsewhere.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


# -- one default port; bounded per-override caches ---------------------------------------
def test_serve_defaults_to_port_8080_like_make_run() -> None:
    from server import cli

    args = cli.build_parser().parse_args(["serve"])
    assert args.port == 8080
    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "PORT ?= 8080" in makefile


def test_per_override_preparations_stay_within_the_configured_bound(
    helsinki_osm: Path, graph_cache: Path
) -> None:
    app = create_app({"TESTING": True, "OSM": str(helsinki_osm), "CACHE_DIR": str(graph_cache),
                      "PROFILE_CACHE_SIZE": 3})  # fmt: skip
    client = app.test_client()
    for i in range(8):  # eight different overrides: eight profiles to prepare
        query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "walk",
                 "speed_mps": f"{1.0 + i / 10:.1f}"}  # fmt: skip
        assert client.get("/route", query_string=query).status_code == 200
    network = app.extensions["inclusive_routing"]["router"].network
    assert network.cache_size == 3
    assert len(network._prepared) == 3


def test_plan_caches_stay_within_the_configured_bounds(
    almaty_router: StreetRouter, almaty_gtfs: Path
) -> None:
    bounds = {"cache_days": 1, "cache_views": 1, "cache_profiles": 1, "cache_walks": 2}
    app = create_app({"TESTING": True, "GTFS": str(almaty_gtfs), "PLAN_CACHE": bounds},
                     router=almaty_router)  # fmt: skip
    client = app.test_client()
    # Two profiles (speeds), two service days, three (day, profile) views.
    for speed, day in (("1.0", "2026-12-07"), ("1.1", "2026-12-07"), ("1.1", "2026-12-08")):
        query = {"from": "43.2725,76.9440", "to": "43.2760,76.9480", "profile": "walk",
                 "speed_mps": speed, "time": f"{day}T08:00"}  # fmt: skip
        assert client.get("/plan", query_string=query).status_code in (200, 422)
    planner = app.extensions["inclusive_routing"]["planner"]
    assert (planner.cache_days, planner.cache_views, planner.cache_profiles) == (1, 1, 1)
    assert len(planner._timetables) == len(planner._profiled) == len(planner._links) == 1
    assert planner.cache_walks == 2 and len(planner._walks) <= 2
