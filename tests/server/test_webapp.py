"""The resident's web app on the server side: /places, /basemap, languages, the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from routing.router import StreetRouter
from server import create_app
from server.i18n import LANGUAGES, LOCALE_DIR

SERVER_DIR = Path(__file__).resolve().parents[2] / "server"
REPUBLIC_SQUARE = "43.2383,76.9453"
ABAY_STATION = "43.2425,76.9484"
CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@pytest.fixture(scope="module")
def web_app(almaty_router: StreetRouter, almaty_gtfs: Path, shared_data: Path) -> Flask:
    almaty = shared_data / "almaty"
    return create_app({
        "TESTING": True, "OSM": str(almaty / "osm" / "almaty-2012.osm.pbf"),
        "GTFS": str(almaty_gtfs),
        "PLACE_OVERPASS": [str(almaty / "bus" / "bus_stops_overpass.json")],
        "PLACE_STATIONS": [str(almaty / "metro" / "stations.json")],
    }, router=almaty_router)  # fmt: skip


@pytest.fixture()
def web(web_app: Flask) -> FlaskClient:
    return web_app.test_client()


# -- /places ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "name"), [("ru", "Абая"), ("kk", "Абай"), ("en", "Abay")])
def test_places_names_a_station_in_the_asked_language(web: FlaskClient, lang: str,
                                                      name: str) -> None:  # fmt: skip
    body = web.get("/places", query_string={"q": "Abay", "lang": lang}).get_json()
    top = body["places"][0]
    assert (top["kind"], top["name"], top["name_lang"]) == ("metro_station", name, lang)
    assert top["names"] == {"ru": "Абая", "kk": "Абай", "en": "Abay"}
    assert body["lang"] == lang and body["unmatched"] == []


def test_places_language_from_accept_language(web: FlaskClient) -> None:
    body = web.get("/places?q=almaly", headers={"Accept-Language": "kk-KZ,kk;q=0.9"}).get_json()
    assert body["lang"] == "kk" and body["places"][0]["name"] == "Алмалы"


def test_places_offers_the_street_when_a_house_number_is_not_mapped(web: FlaskClient) -> None:
    body = web.get("/places", query_string={"q": "Абая 150"}).get_json()
    assert body["unmatched"] == ["150"]
    top = body["places"][0]
    assert top["kind"] == "street" and "Абая" in top["name"]


@pytest.mark.parametrize(("query", "field"), [
    ({}, "q"), ({"q": " "}, "q"), ({"q": "x" * 101}, "q"), ({"q": "abay", "limit": "0"}, "limit"),
    ({"q": "abay", "limit": "a"}, "limit"), ({"q": "abay", "kind": "castle"}, "kind"),
    ({"q": "abay", "lang": "de"}, "lang"),
])  # fmt: skip
def test_places_bad_input_is_400_naming_the_field(web: FlaskClient, query: dict,
                                                  field: str) -> None:  # fmt: skip
    response = web.get("/places", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == field


# The README's example trips, asked by name as a resident would in each language.
README_TRIPS = {
    "ru": (("Площадь Республики", "Театр оперы Абая"), ("Райымбек батыра", "Бауыржан Момышулы")),
    "kk": (("Республика алаңы", "Абай атындағы опера театры"),
           ("Райымбек батыр", "Бауыржан Момышұлы")),
    "en": (("Republic Square", "Abai Opera"), ("Raiymbek batyr", "Bauyrjan Momyshuly")),
}  # fmt: skip
README_POINTS = ((43.2380, 76.9455), (43.2497, 76.9454), (43.2725, 76.9440), (43.2150, 76.8390))


def _near(place: dict, point: tuple[float, float], metres: float) -> bool:
    dlat = (place["lat"] - point[0]) * 111_320
    dlon = (place["lon"] - point[1]) * 111_320 * 0.728  # cos 43.2°
    return (dlat**2 + dlon**2) ** 0.5 <= metres


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_readme_trips_work_from_place_names(web: FlaskClient, lang: str) -> None:
    (a, b), (c, d) = README_TRIPS[lang]
    found = [web.get("/places", query_string={"q": q, "lang": lang}).get_json()["places"][0]
             for q in (a, b, c, d)]  # fmt: skip
    for place, point in zip(found, README_POINTS, strict=True):
        assert _near(place, point, 400), (place, point)
    start, end, station_a, station_b = (f"{p['lat']},{p['lon']}" for p in found)
    route = web.get("/route", query_string={"from": start, "to": end, "lang": lang,
                                            "profile": "wheelchair_manual"})  # fmt: skip
    assert route.status_code == 200
    assert route.get_json()["steps"][-1]["instruction_lang"] == lang
    plan = web.get("/plan", query_string={"from": station_a, "to": station_b, "lang": lang,
                                          "profile": "wheelchair_manual",
                                          "time": "2026-12-07T08:00"})  # fmt: skip
    assert plan.status_code == 200
    rides = [leg for it in plan.get_json()["itineraries"] for leg in it["legs"]
             if leg["mode"] == "metro"]  # fmt: skip
    assert rides  # the metro line joins the two stations


# -- /basemap --------------------------------------------------------------------------------
def test_basemap_of_a_street_block_has_named_ways_stops_and_stations(web: FlaskClient) -> None:
    south, west, north, east = 43.236, 76.940, 43.246, 76.955
    body = web.get(f"/basemap?bbox={south},{west},{north},{east}").get_json()
    assert body["type"] == "FeatureCollection" and body["detailed"] and not body["truncated"]
    lines = [f for f in body["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in body["features"] if f["geometry"]["type"] == "Point"]
    assert any(f["properties"]["name"] for f in lines)
    assert {f["properties"]["kind"] for f in points} == {"bus_stop", "metro_station"}
    for feature in lines:  # every way touches the box
        lons = [c[0] for c in feature["geometry"]["coordinates"]]
        lats = [c[1] for c in feature["geometry"]["coordinates"]]
        assert min(lats) <= north and max(lats) >= south and min(lons) <= east and max(lons) >= west
    for feature in points:
        lon, lat = feature["geometry"]["coordinates"]
        assert south <= lat <= north and west <= lon <= east


def test_basemap_of_the_city_keeps_major_roads_and_stations(web: FlaskClient) -> None:
    body = web.get("/basemap?bbox=43.15,76.80,43.35,77.05&lang=en").get_json()
    assert not body["detailed"]
    lines = [f for f in body["features"] if f["geometry"]["type"] == "MultiLineString"]
    # one feature per road class, secondary roads and above in a box this wide
    assert sorted(f["properties"]["road_class"] for f in lines) == [4, 5]
    for feature in lines:
        assert all(len(piece) == 2 for piece in feature["geometry"]["coordinates"])
    stations = {f["properties"]["name"] for f in body["features"]
                if f["properties"]["kind"] == "metro_station"}  # fmt: skip
    assert {"Abay", "Almaly", "Raiymbek batyr"} <= stations


@pytest.mark.parametrize("bbox", ["", "1,2", "a,b,c,d", "43.3,76.9,43.2,77.0", "40,70,45,75",
                                  "nan,76.9,43.2,77.0"])  # fmt: skip
def test_basemap_bad_bbox_is_400(web: FlaskClient, bbox: str) -> None:
    response = web.get("/basemap", query_string={"bbox": bbox})
    assert response.status_code == 400 and response.get_json()["error"]["field"] == "bbox"


# -- languages of the API --------------------------------------------------------------------
def _route(web: FlaskClient, **extra: str) -> dict:
    query = {"from": REPUBLIC_SQUARE, "to": ABAY_STATION, "profile": "wheelchair_manual", **extra}
    response = web.get("/route", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_route_texts_in_russian_and_kazakh(web: FlaskClient) -> None:
    english = _route(web)
    assert not any(CYRILLIC.search(s["instruction"].replace(s["name"], ""))
                   for s in english["steps"])  # fmt: skip
    for lang, depart_word in (("ru", "Начните"), ("kk", "бастап")):
        body = _route(web, lang=lang)
        assert body["lang"] == lang
        assert [s["maneuver"] for s in body["steps"]] == [s["maneuver"] for s in english["steps"]]
        first = body["steps"][0]
        assert first["instruction_lang"] == lang and depart_word in first["instruction"]
        assert body["steps"][-1]["instruction"] != english["steps"][-1]["instruction"]
        for step in body["steps"]:  # a text left English says so
            assert step["instruction_lang"] in (lang, "en")
            if step["instruction_lang"] == "en":
                assert step["instruction"] in {s["instruction"] for s in english["steps"]}
        assert body["warnings"] and all(w["message_lang"] == lang and CYRILLIC.search(w["message"])
                                        for w in body["warnings"])  # fmt: skip


@pytest.mark.parametrize(("lang", "word"), [("ru", "Перейдите"), ("kk", "өтіңіз")])
def test_every_crossing_and_side_of_a_blind_route_is_said_in_the_language(
    web: FlaskClient, lang: str, word: str
) -> None:
    # Republic Square -> Abai Opera (the README's example) crosses several major roads.
    query = {"from": "43.2380,76.9455", "to": "43.2497,76.9454", "profile": "blind"}
    english = web.get("/route", query_string=query).get_json()["steps"]
    steps = web.get("/route", query_string={**query, "lang": lang}).get_json()["steps"]
    crossings = [s for s in steps if s["code"] == "cross"]
    assert len(crossings) >= 3 and any(s["code"] == "walk_side" for s in steps)
    for step, source in zip(steps, english, strict=True):
        assert step["instruction_lang"] == lang, source["instruction"]
        assert "Note:" not in step["instruction"] and " m." not in step["instruction"]
        if step["code"] == "cross":
            assert word in step["instruction"] and step["params"]["road"] in step["instruction"]
            # as many facts as the English sentence, separated the same way
            assert step["instruction"].count(";") == source["instruction"].count(";")


def test_route_language_from_accept_language_and_english_unchanged(web: FlaskClient) -> None:
    english = _route(web)  # no language asked: the engine's body, untouched
    assert "lang" not in english and "instruction_lang" not in english["steps"][0]
    asked = _route(web, lang="en")
    assert asked["lang"] == "en"
    assert [s.pop("instruction_lang") for s in asked["steps"]] == ["en"] * len(english["steps"])
    assert asked["steps"] == english["steps"]
    response = web.get("/route", headers={"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"},
                       query_string={"from": REPUBLIC_SQUARE, "to": ABAY_STATION,
                                     "profile": "walk"})  # fmt: skip
    assert response.get_json()["lang"] == "ru"
    bad = web.get("/route", query_string={"from": REPUBLIC_SQUARE, "to": ABAY_STATION,
                                          "profile": "walk", "lang": "fr"})  # fmt: skip
    assert bad.status_code == 400 and bad.get_json()["error"]["field"] == "lang"


def test_errors_in_the_asked_language(web: FlaskClient) -> None:
    response = web.get("/route", query_string={"from": "43.2383,79.0", "to": ABAY_STATION,
                                               "profile": "walk", "lang": "kk"})  # fmt: skip
    error = response.get_json()["error"]
    assert response.status_code == 400 and error["code"] == "outside_area"
    assert error["message_lang"] == "kk" and CYRILLIC.search(error["message"])
    assert "m away" in error["detail"]  # the engine's English is kept for support
    english = web.get("/route", query_string={"from": "43.2383,79.0", "to": ABAY_STATION,
                                              "profile": "walk", "lang": "en"}).get_json()
    assert english["error"]["message"] == "This point is outside the area the service covers."


# -- the page ------------------------------------------------------------------------------
@pytest.mark.parametrize(("lang", "title"), [("ru", "Доступные маршруты по Алматы"),
                                             ("kk", "Алматыда қолжетімді бағыттар"),
                                             ("en", "Inclusive routing in Almaty")])  # fmt: skip
def test_page_in_three_languages(web: FlaskClient, lang: str, title: str) -> None:
    response = web.get("/", query_string={"lang": lang})
    html = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in html and f"<h1>{title}</h1>" in html
    assert response.headers["Content-Language"] == lang
    # the language switcher names each language in itself, marked with its language
    for code in LANGUAGES:
        assert re.search(rf'<a href="\?lang={code}" lang="{code}"', html)


def test_page_language_from_accept_language(web: FlaskClient) -> None:
    html = web.get("/", headers={"Accept-Language": "kk"}).get_data(as_text=True)
    assert '<html lang="kk">' in html


def _js_messages() -> set[str]:
    text = "".join((SERVER_DIR / "static" / name).read_text(encoding="utf-8")
                   for name in ("app.js", "dispatch.js"))  # fmt: skip
    return set(re.findall(r'\b(?:t|N|tNodes)\("((?:[^"\\]|\\.)*)"', text))


def _python_and_template_messages() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"gettext": (2,), "_N": None, "N_": None, "_": None}
    found = set()
    for _path, _line, message, _comments, _context in extract_from_dir(
            str(SERVER_DIR), method_map, keywords=keywords):  # fmt: skip
        found.add(message if isinstance(message, str) else message[0])
    return found


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_catalogue_translates_every_text_with_the_same_placeholders(lang: str) -> None:
    with (LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    translated = {m.id: m.string for m in catalog if m.id}
    wanted = _js_messages() | _python_and_template_messages()
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if not translated.get(m))
    assert missing == []
    for msgid in wanted:
        assert sorted(re.findall(r"%\((\w+)\)s", msgid)) == sorted(
            re.findall(r"%\((\w+)\)s", translated[msgid])), msgid  # fmt: skip


def test_dispatcher_page_without_plans_and_with_a_bad_plan_number(web: FlaskClient) -> None:
    html = web.get("/dispatcher", query_string={"lang": "kk"}).get_data(as_text=True)
    assert '<html lang="kk">' in html and "Әзірге жоспар жоқ." in html
    assert '<a href="/?lang=kk">' in html  # back to the trip planner
    assert '<a href="/dispatcher?lang=kk">' in web.get("/?lang=kk").get_data(as_text=True)
    error = web.get("/dispatcher", query_string={"plan": "x"}).get_json()["error"]
    assert error["field"] == "plan"
    assert web.get("/dispatcher", query_string={"plan": "99"}).status_code == 404
