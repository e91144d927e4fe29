"""The HTTP API (DESIGN §5) on a real graph of central Helsinki."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from server_places import ALMATY, KAIVOKATU, TUNNEL_CORRIDOR, VILHONKATU, latlon

from routing.cost.profiles import PROFILE_NAMES, PROFILES
from routing.errors import DataError
from routing.graph.compiled import CompiledGraph
from routing.router import StreetRouter
from server import create_app
from server.overload import SheddingOptions
from server.state import EXTENSION

ROUTE_KEYS = {"profile", "distance_m", "duration_s", "geometry", "steps", "warnings", "confidence"}


def route_query(**extra: Any) -> dict[str, Any]:
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "wheelchair_manual"}
    query.update(extra)
    return {k: v for k, v in query.items() if v is not None}


def assert_error(response: Any, status: int, code: str, field: str | None = None) -> dict:
    """The response is the JSON error shape with this status, code and field."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    if field is not None:
        assert error.get("field") == field
        assert field in error["message"]
    return error


def assert_route_body(body: dict, profile: str) -> None:
    assert ROUTE_KEYS <= set(body)
    assert body["profile"] == profile
    assert body["distance_m"] > 0 and body["duration_s"] > 0
    assert 0.0 <= body["confidence"] <= 1.0
    geometry = body["geometry"]
    assert geometry["type"] == "LineString"
    assert len(geometry["coordinates"]) >= 2
    for lon, lat in geometry["coordinates"]:  # GeoJSON order: lon, lat
        assert 60.16 < lat < 60.18 and 24.93 < lon < 24.96
    assert body["steps"], "a route has steps"
    for step in body["steps"]:
        assert isinstance(step["instruction"], str) and step["instruction"].strip()
    assert isinstance(body["warnings"], list)


# -- /health and /profiles ----------------------------------------------------------------
def test_health_reports_the_graph(client: FlaskClient, helsinki_graph: CompiledGraph) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    graph = body["graph"]
    assert graph["nodes"] == helsinki_graph.n_nodes > 1000
    assert graph["edges"] == helsinki_graph.n_edges > 1000
    assert graph["osm"].endswith("helsinki-center.osm.pbf")
    assert graph["source"] in ("built", "cache")
    assert graph["import_report"]["dangling_node_refs"] > 0
    assert graph["import_report"]["ways_read"] == 5130
    bounds = graph["bounds"]
    assert bounds["min_lat"] < KAIVOKATU[0] < bounds["max_lat"]
    assert body["planner"] is False


def test_profiles_lists_all_six_with_ranges(client: FlaskClient) -> None:
    response = client.get("/profiles")
    assert response.status_code == 200
    body = response.get_json()
    assert [p["name"] for p in body] == list(PROFILE_NAMES)
    assert len(body) == 6
    for profile in body:
        assert profile["label"]
        assert profile["parameters"], profile["name"]
        assert [p["name"] for p in profile["parameters"]] == list(
            PROFILES[profile["name"]].parameters
        )
        for param in profile["parameters"]:
            assert param["minimum"] <= param["maximum"]
            assert param["type"] in ("number", "boolean")
            if param["type"] == "number":
                assert param["minimum"] <= param["default"] <= param["maximum"]
            assert param["description"]
    manual = next(p for p in body if p["name"] == "wheelchair_manual")
    uphill = next(p for p in manual["parameters"] if p["name"] == "max_uphill")
    assert uphill["default"] == pytest.approx(0.08)
    assert (uphill["minimum"], uphill["maximum"]) == (0.0, 1.0)


# -- /route happy paths -------------------------------------------------------------------
def test_route_get(client: FlaskClient) -> None:
    response = client.get("/route", query_string=route_query())
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert_route_body(response.get_json(), "wheelchair_manual")


@pytest.mark.parametrize("profile", PROFILE_NAMES)
def test_route_every_profile(client: FlaskClient, profile: str) -> None:
    response = client.get("/route", query_string=route_query(profile=profile))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert_route_body(response.get_json(), profile)


@pytest.mark.parametrize(
    ("origin", "destination"),
    [
        (latlon(KAIVOKATU), latlon(VILHONKATU)),
        (list(KAIVOKATU), list(VILHONKATU)),
        ({"lat": KAIVOKATU[0], "lon": KAIVOKATU[1]}, {"lat": VILHONKATU[0], "lon": VILHONKATU[1]}),
    ],
    ids=["strings", "lists", "objects"],
)
def test_route_post_json_equals_get(client: FlaskClient, origin: Any, destination: Any) -> None:
    expected = client.get("/route", query_string=route_query()).get_json()
    response = client.post(
        "/route", json={"from": origin, "to": destination, "profile": "wheelchair_manual"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == expected


def test_route_post_form(client: FlaskClient) -> None:
    response = client.post("/route", data=route_query())
    assert response.status_code == 200
    assert_route_body(response.get_json(), "wheelchair_manual")


def test_overrides_change_the_route(client: FlaskClient) -> None:
    default = client.get("/route", query_string=route_query()).get_json()
    slow = client.get("/route", query_string=route_query(speed_mps="0.45")).get_json()
    # Half the speed halves the mean speed (fixed signal waits aside). The route itself may
    # change: per-crossing prices are fixed, so a slower traveller accepts longer detours.
    speed = default["distance_m"] / default["duration_s"]
    assert slow["distance_m"] / slow["duration_s"] == pytest.approx(speed / 2, rel=0.1)
    # JSON numbers work as overrides too.
    posted = client.post("/route", json={**route_query(), "speed_mps": 0.45}).get_json()
    assert posted == slow


def test_route_geojson(client: FlaskClient) -> None:
    response = client.get("/route", query_string=route_query(format="geojson"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["type"] == "FeatureCollection"
    line = body["features"][0]
    assert line["geometry"]["type"] == "LineString"
    assert line["properties"]["profile"] == "wheelchair_manual"
    points = [f for f in body["features"][1:] if f["geometry"]["type"] == "Point"]
    assert points and all("instruction" in f["properties"] for f in points)


def test_route_body_is_strict_json(client: FlaskClient) -> None:
    text = client.get("/route", query_string=route_query()).get_data(as_text=True)
    json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in the body"))


# -- /route errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "field"),
    [
        (route_query(**{"from": None}), "from"),
        (route_query(**{"from": ""}), "from"),
        (route_query(to=None), "to"),
        (route_query(to="60.17"), "to"),
        (route_query(to="abc,def"), "to"),
        (route_query(to="60.17,24.94,5"), "to"),
        (route_query(to="nan,24.94"), "to"),
        (route_query(to="60.17;24.94"), "to"),
        (route_query(to="1_0,24.94"), "to"),
        (route_query(**{"from": "91,24.94"}), "from"),
        (route_query(**{"from": "-90.5,24.94"}), "from"),
        (route_query(to="60.17,181"), "to"),
        (route_query(profile=None), "profile"),
        (route_query(profile="skateboard"), "profile"),
        (route_query(format="kml"), "format"),
    ],
    ids=[
        "missing-from", "empty-from", "missing-to", "one-number", "letters", "three-numbers",
        "nan", "semicolon", "underscore", "lat-over-90", "lat-under-90", "lon-over-180",
        "missing-profile", "unknown-profile", "unknown-format",
    ],
)  # fmt: skip
def test_route_bad_input_is_400_naming_the_field(
    client: FlaskClient, query: dict, field: str
) -> None:
    error = assert_error(client.get("/route", query_string=query), 400, "invalid_input", field)
    assert error["field"] == field


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"allow_steps": "true"}, "allow_steps"),  # a parameter of other profiles only
        ({"max_uphill": "1.5"}, "max_uphill"),
        ({"max_uphill": "-0.1"}, "max_uphill"),
        ({"speed_mps": "fast"}, "speed_mps"),
        ({"speed_mps": "inf"}, "speed_mps"),
        ({"allow_loose_surface": "maybe"}, "allow_loose_surface"),
    ],
)
def test_route_bad_parameter_is_400_naming_it(client: FlaskClient, extra: dict, field: str) -> None:
    response = client.get("/route", query_string=route_query(**extra))
    assert_error(response, 400, "invalid_parameter", field)


def test_route_unknown_option_is_400_naming_it_as_unknown(client: FlaskClient) -> None:
    response = client.get("/route", query_string=route_query(no_such_knob="1"))
    error = assert_error(response, 400, "unknown_option", "no_such_knob")
    assert "unknown option 'no_such_knob'" in error["message"]


def test_point_outside_the_graph_is_400_outside_area(client: FlaskClient) -> None:
    response = client.get("/route", query_string=route_query(to=latlon(ALMATY)))
    assert_error(response, 400, "outside_area", "to")


def test_no_route_for_wheelchair_is_422_with_barriers(client: FlaskClient) -> None:
    # Walking reaches the underground corridor, down a flight of steps...
    walk = client.get(
        "/route", query_string=route_query(to=latlon(TUNNEL_CORRIDOR), profile="walk")
    )
    assert walk.status_code == 200
    # ...which a manual wheelchair cannot use: 422, naming the steps.
    response = client.get(
        "/route", query_string=route_query(to=latlon(TUNNEL_CORRIDOR), profile="wheelchair_manual")
    )
    error = assert_error(response, 422, "no_route")
    assert "steps without a ramp" in error["message"]
    assert error["profile"] == "wheelchair_manual"
    barriers = error["barriers"]
    assert barriers and all(b["reasons"] and b["description"] for b in barriers)
    assert any(
        b["osm_way"] == 23654430 and "steps without a ramp" in b["reasons"] for b in barriers
    )
    walking = error["walking_route"]
    assert walking["profile"] == "walk"
    assert walking["geometry"]["type"] == "LineString"
    assert walking["steps"]


def test_unknown_path_is_404_json(client: FlaskClient) -> None:
    error = assert_error(client.get("/no/such/thing"), 404, "not_found")
    assert "/no/such/thing" in error["message"]


@pytest.mark.parametrize(("method", "path"), [("delete", "/route"), ("post", "/health"),
                                              ("put", "/profiles")])  # fmt: skip
def test_wrong_method_is_405_json(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert_error(response, 405, "method_not_allowed")
    assert response.headers["Allow"]


@pytest.mark.parametrize(
    "body",
    ["{bad json", '{"from": "60.1699,24.9384",}', "[1, 2]", '"text"', "", "NaN", "\xff\xfe"],
    ids=["broken", "trailing-comma", "array", "string", "empty", "nan", "not-utf8"],
)
def test_malformed_json_body_is_400(client: FlaskClient, body: str) -> None:
    data = body.encode("latin-1")
    response = client.post("/route", data=data, content_type="application/json")
    assert_error(response, 400, "invalid_json", "body")


def test_huge_body_is_413_json(client: FlaskClient) -> None:
    response = client.post("/route", data=b"{" + b" " * (2 << 20) + b"}",
                           content_type="application/json")  # fmt: skip
    assert_error(response, 413, "request_entity_too_large")


def test_repeated_query_key_is_400(client: FlaskClient) -> None:
    response = client.get(
        f"/route?from={latlon(KAIVOKATU)}&from={latlon(VILHONKATU)}&to={latlon(VILHONKATU)}"
        "&profile=walk"
    )
    assert_error(response, 400, "invalid_input", "from")


@pytest.mark.parametrize(
    "body",
    [
        {"from": True, "to": list(VILHONKATU), "profile": "walk"},
        {"from": None, "to": list(VILHONKATU), "profile": "walk"},
        {"from": [60.17], "to": list(VILHONKATU), "profile": "walk"},
        {"from": [60.17, "x"], "to": list(VILHONKATU), "profile": "walk"},
        {"from": [True, False], "to": list(VILHONKATU), "profile": "walk"},
        {"from": {"lat": 60.17}, "to": list(VILHONKATU), "profile": "walk"},
        {"from": {"lat": 60.17, "lng": 24.94}, "to": list(VILHONKATU), "profile": "walk"},
        {"from": 60.17, "to": list(VILHONKATU), "profile": "walk"},
        {"from": list(KAIVOKATU), "to": [[60.17, 24.94]], "profile": "walk"},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": 3},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": ["walk"]},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk", "speed_mps": [1]},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk", "speed_mps": True},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk", "speed_mps": None},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk",
         "allow_steps": {"x": 1}},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk", "format": 1},
        {"from": list(KAIVOKATU), "to": list(VILHONKATU), "profile": "walk", "": 1},
    ],
)  # fmt: skip
def test_garbage_json_is_400_never_500(client: FlaskClient, body: dict) -> None:
    response = client.post("/route", json=body)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.get_json()["error"]["code"] in ("invalid_input", "invalid_parameter",
                                                    "unknown_option")


def test_unexpected_exception_is_500_json_without_details(router: StreetRouter) -> None:
    app = create_app({"TESTING": True}, router=router)

    @app.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in response.get_data(as_text=True)
    assert "RuntimeError" not in error["message"]


# -- the app factory ----------------------------------------------------------------------
def test_app_keeps_the_router_and_a_planner_hook(app: Flask, router: StreetRouter) -> None:
    services = app.extensions[EXTENSION]
    assert services["router"] is router
    assert services["planner"] is None


def test_create_app_loads_the_graph_from_config(helsinki_osm: Any, graph_cache: Any) -> None:
    app = create_app({"OSM": str(helsinki_osm), "CACHE_DIR": str(graph_cache), "TESTING": True})
    response = app.test_client().get("/health")
    body = response.get_json()
    assert body["graph"]["osm"] == helsinki_osm.name
    assert body["graph"]["nodes"] > 1000
    # No server file paths: neither the data folder nor the cache folder is shown.
    text = response.get_data(as_text=True)
    assert str(helsinki_osm.parent) not in text and str(graph_cache) not in text


def test_create_app_names_a_missing_file(tmp_path: Any) -> None:
    with pytest.raises(DataError, match="not found") as info:
        create_app({"OSM": str(tmp_path / "nowhere.osm.pbf")})
    assert info.value.path == str(tmp_path / "nowhere.osm.pbf")
    with pytest.raises(DataError, match="OSM"):
        create_app({})


# -- the web page -------------------------------------------------------------------------
def test_web_page_is_served_and_accessible(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "<main" in html and "<h1>" in html
    # Every form control has a label.
    for control_id in re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id
    assert 'aria-live="polite"' in html and 'role="alert"' in html
    assert 'role="combobox"' in html and 'role="listbox"' in html  # place search
    assert 'id="map"' in html and 'role="region"' in html  # the map, with a name
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_web_page_needs_no_internet(app: Flask) -> None:
    assert app.static_folder
    from pathlib import Path

    # our own files; vendor/ is Leaflet from npm, whose only links are in its attribution
    # text (switched off in app.js) and its tile-layer URL templates (we add no tile layer)
    template = Path(app.root_path) / "templates" / "index.html"
    for path in [template, *Path(app.static_folder).glob("*.*")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", text), path
        assert not re.search(r"""url\(\s*["']?(?:https?:)?//|@import""", text), path
        assert not re.search(r"""fetch\(\s*["'`](?:https?:)?//""", text), path


def test_coordinates_may_have_spaces(client: FlaskClient) -> None:
    spaced = route_query(**{"from": "60.1699, 24.9384", "to": " 60.1719 , 24.9414 "})
    response = client.get("/route", query_string=spaced)
    assert response.status_code == 200
    assert response.get_json() == client.get("/route", query_string=route_query()).get_json()


def test_concurrent_requests_with_many_overrides(router: StreetRouter) -> None:
    # More (profile, overrides) combinations than the router caches, from several threads.
    # Four threads that always have a request in flight keep the route lane's queue standing,
    # where the shedder rightly refuses some (test_overload.py); here every answer must be a
    # route, so this app's lane lets them wait.
    from concurrent.futures import ThreadPoolExecutor

    patient = SheddingOptions(max_wait_s=60.0, standing_after_s=math.inf)
    app = create_app({"TESTING": True, "SHEDDING": patient}, router=router)

    def ask(i: int) -> int:
        query = route_query(speed_mps=f"{0.5 + i * 0.05:.2f}")
        return app.test_client().get("/route", query_string=query).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = list(pool.map(ask, range(40)))
    assert statuses == [200] * 40
