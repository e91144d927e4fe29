"""``GET|POST /isochrone`` on the real central Helsinki extract."""

from __future__ import annotations

import pytest
import shapely
from flask.testing import FlaskClient
from server_places import (
    KAIVOKATU,
    MOMYSHULY_STATION,
    MONDAY_0800,
    RAIYMBEK,
    VILHONKATU,
    latlon,
)

from routing.cost import get_profile


def test_get_and_post_answer_the_same_feature_collection(client: FlaskClient) -> None:
    query = {"from": latlon(KAIVOKATU), "profile": "wheelchair_manual", "minutes": "5,10"}
    r = client.get("/isochrone", query_string=query)
    assert r.status_code == 200
    body = r.get_json()
    assert [f["properties"]["minutes"] for f in body["features"]] == [10, 5]
    assert all(f["geometry"]["type"] == "MultiPolygon" for f in body["features"])
    body_json = {"from": list(KAIVOKATU), "minutes": [10, 5], "profile": "wheelchair_manual"}
    posted = client.post("/isochrone", json=body_json).get_json()
    assert posted == body


def test_ten_minutes_reach_a_place_300_m_away_and_five_of_walk_do_not_reach_far(
    client: FlaskClient,
) -> None:
    body = client.get("/isochrone", query_string={"from": latlon(KAIVOKATU), "profile": "walk",
                                                  "minutes": "1,10"}).get_json()  # fmt: skip
    ten, one = (shapely.geometry.shape(f["geometry"]) for f in body["features"])
    target = shapely.Point(VILHONKATU[1], VILHONKATU[0])
    assert ten.distance(target) < 3e-4  # within ~30 m of Vilhonkatu
    assert not one.covers(target)


def test_an_override_shrinks_the_area(client: FlaskClient) -> None:
    def area(**extra):
        body = client.get("/isochrone", query_string={"from": latlon(KAIVOKATU),
                          "profile": "walk", "minutes": "10", **extra}).get_json()  # fmt: skip
        return shapely.geometry.shape(body["features"][0]["geometry"]).area

    assert area(speed_mps="0.5") < 0.5 * area()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"profile": "walk", "minutes": "10"}, "from"),
        ({"from": latlon(KAIVOKATU), "minutes": "10"}, "profile"),
        ({"from": latlon(KAIVOKATU), "profile": "walk"}, "minutes"),
        ({"from": latlon(KAIVOKATU), "profile": "walk", "minutes": "0"}, "minutes"),
        ({"from": latlon(KAIVOKATU), "profile": "walk", "minutes": "10,abc"}, "minutes"),
        ({"from": latlon(KAIVOKATU), "profile": "walk", "minutes": "500"}, "minutes"),
        ({"from": latlon(KAIVOKATU), "profile": "walk", "minutes": "1,2,3,4,5,6,7"}, "minutes"),
        ({"from": latlon(KAIVOKATU), "profile": "walk", "minutes": "5", "mode": "car"}, "mode"),
        ({"from": "43.2383,76.9453", "profile": "walk", "minutes": "5"}, "from"),  # Almaty
    ],
)
def test_bad_requests_are_400_naming_the_field(client: FlaskClient, query, field) -> None:
    r = client.get("/isochrone", query_string=query)
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field


def test_transit_mode_without_a_feed_is_503(client: FlaskClient) -> None:
    r = client.get("/isochrone", query_string={"from": latlon(KAIVOKATU), "profile": "walk",
                                               "minutes": "10", "mode": "transit"})  # fmt: skip
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "transit_unavailable"


def test_transit_mode_rides_the_metro(plan_client: FlaskClient, almaty_router) -> None:
    # Raiymbek batyr at 08:00 on a Monday: the metro reaches Momyshuly (11 km) in ~37 min.
    query = {"from": latlon(RAIYMBEK), "profile": "walk", "minutes": "45",
             "time": MONDAY_0800}  # fmt: skip
    body = plan_client.get("/isochrone", query_string={**query, "mode": "transit"}).get_json()
    walk = plan_client.get("/isochrone", query_string=query).get_json()
    assert body["features"][0]["properties"]["mode"] == "transit"
    by_metro = shapely.geometry.shape(body["features"][0]["geometry"])
    on_foot = shapely.geometry.shape(walk["features"][0]["geometry"])
    station = almaty_router.network.snap(MOMYSHULY_STATION, get_profile("walk"))
    point = shapely.Point(station.lon, station.lat)
    assert by_metro.covers(point) and not on_foot.covers(point)
    assert by_metro.area > 2 * on_foot.area
    r = plan_client.get("/isochrone", query_string={**query, "mode": "transit",
                                                   "time": "2031-01-01T08:00"})  # fmt: skip
    assert r.status_code == 422 and r.get_json()["error"]["code"] == "outside_feed_calendar"


def test_cli_prints_the_http_body(capsys, client: FlaskClient, helsinki_osm, graph_cache) -> None:
    import json

    from server import cli

    code = cli.main(["isochrone", "--osm", str(helsinki_osm), "--cache-dir", str(graph_cache),
                     "--from", latlon(KAIVOKATU), "--minutes", "5,10", "--profile", "blind"])
    out, _ = capsys.readouterr()
    assert code == 0
    http = client.get("/isochrone", query_string={"from": latlon(KAIVOKATU), "minutes": "5,10",
                                                  "profile": "blind"}).get_json()  # fmt: skip
    assert json.loads(out) == http
