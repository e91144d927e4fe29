"""Place search: folding rules on hand-made places, then the real Almaty names."""

from __future__ import annotations

from pathlib import Path

import pytest

from routing.errors import DataError
from routing.places import Place, PlaceIndex, build_place_index, fold


def test_fold_merges_scripts_spellings_and_street_words() -> None:
    assert fold("проспект Абая 150") == fold("Abaya avenue 150") == ["abaia", "150"]
    assert fold("Абай") == fold("Abay") == fold("abai") == ["abai"]
    assert fold("Жібек жолы") == fold("Жибек жолы") == fold("Zhibek Joly") == ["jibek", "joli"]
    assert fold("Қайрат көшесі") == ["kairat"]  # Kazakh letters and the word for street
    assert fold("улица") == ["ulica"]  # a query of only a street word is kept


def _index() -> PlaceIndex:
    return PlaceIndex([
        Place("Абая", {"ru": "Абая", "kk": "Абай", "en": "Abay"}, "metro_station",
              43.2425, 76.9484),
        Place("Абая", {}, "bus_stop", 43.2430, 76.9490),
        Place("Абая", {}, "bus_stop", 43.2432, 76.9500),  # the other side of the road
        Place("проспект Абая", {}, "street", 43.2400, 76.9000),
        Place("Тимирязева", {}, "street", 43.2300, 76.9200),
        Place("Театр оперы и балета им. Абая", {}, "poi", 43.2490, 76.9456, "amenity=theatre"),
        Place("Фурманова 50", {}, "address", 43.2500, 76.9500),
    ])  # fmt: skip


def test_search_ranks_exact_names_and_kinds_and_merges_both_sides_of_a_stop() -> None:
    found = _index().search("Abay", limit=10)
    kinds = [place.kind for place, _ in found]
    assert kinds[:2] == ["metro_station", "bus_stop"]  # equal names: station, then stop
    assert kinds.count("bus_stop") == 1  # two stops of one name 100 m apart are one result
    scores = [score for _, score in found]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", ["Абай", "абая", "ABAI", "Abay"])
def test_search_finds_a_name_in_any_script(query: str) -> None:
    place, _ = _index().search(query)[0]
    assert place.kind == "metro_station"


def test_search_takes_prefixes_and_typos_but_not_unrelated_words() -> None:
    index = _index()
    assert index.search("тимир")[0][0].name == "Тимирязева"  # typing in progress
    assert index.search("timiriazva")[0][0].name == "Тимирязева"  # a letter lost
    assert index.search("Abai opera")[0][0].detail == "amenity=theatre"
    assert index.search("фурманова 50")[0][0].kind == "address"
    assert index.search("фурманова 51") == []  # house numbers never match loosely
    assert index.search("zzzz") == []
    assert index.search("  ") == []


def test_search_filters_by_kind_and_limit() -> None:
    index = _index()
    assert {p.kind for p, _ in index.search("абая", kinds=["street"])} == {"street"}
    assert len(index.search("абая", limit=2)) == 2


def test_missing_or_broken_sources_are_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="not found"):
        build_place_index(stations=[tmp_path / "nowhere.json"])
    broken = tmp_path / "stations.json"
    broken.write_text('[{"name": {"ru": "X"}}]', encoding="utf-8")
    with pytest.raises(DataError, match="lat"):
        build_place_index(stations=[broken])


# -- the real Almaty names ----------------------------------------------------------------
@pytest.fixture(scope="module")
def almaty_places(shared_data: Path) -> PlaceIndex:
    almaty = shared_data / "almaty"
    return build_place_index(osm=almaty / "osm" / "almaty-2012.osm.pbf",
                             overpass=[almaty / "bus" / "bus_stops_overpass.json"],
                             stations=[almaty / "metro" / "stations.json"])  # fmt: skip


def test_almaty_index_holds_every_kind(almaty_places: PlaceIndex) -> None:
    counts = almaty_places.counts()
    assert counts["metro_station"] == 11
    assert counts["bus_stop"] > 1500
    assert counts["street"] > 300 and counts["address"] > 100 and counts["poi"] > 100


@pytest.mark.parametrize(("query", "expected"), [
    ("Абая", "Абая"), ("Abay", "Абая"), ("Абай", "Абая"),
    ("Жібек жолы", "Жибек жолы"), ("Zhibek Joly", "Жибек жолы"),
    ("Raiymbek batyr", "Райымбек батыра"), ("almaly", "Алмалы"), ("Алмал", "Алмалы"),
])  # fmt: skip
def test_almaty_metro_stations_by_their_names_in_three_languages(
    almaty_places: PlaceIndex, query: str, expected: str
) -> None:
    place, _ = almaty_places.search(query)[0]
    assert (place.kind, place.name) == ("metro_station", expected)


def test_almaty_streets_stops_and_pois(almaty_places: PlaceIndex) -> None:
    top = almaty_places.search("Abai Opera")[0][0]
    assert top.detail == "amenity=theatre" and "Абая" in top.name
    assert any(p.kind == "street" and "Тимирязева" in p.name
               for p, _ in almaty_places.search("timiryazeva"))  # fmt: skip
    assert any(p.kind == "bus_stop" for p, _ in almaty_places.search("Momyshuly"))
