"""A generated Almaty day is planned validly; transit substitution on the real feed."""

from __future__ import annotations

import datetime as dt

import pytest

from routing.dispatch.carnet import load_car_network
from routing.dispatch.city import build_city_problem
from routing.dispatch.day import DayAssumptions, generate_day
from routing.dispatch.kpis import plan_kpis
from routing.dispatch.solver import SolveOptions, solve
from routing.dispatch.substitution import find_substitutions, substitution_summary
from routing.dispatch.validator import validate


@pytest.fixture(scope="module")
def almaty_osm(shared_data):
    return shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"


@pytest.fixture(scope="module")
def car_network(almaty_osm, tmp_path_factory):
    return load_car_network(almaty_osm, cache_dir=tmp_path_factory.mktemp("car-cache"))


def test_generated_day_is_seeded_and_follows_its_assumptions(almaty_osm, car_network):
    day = generate_day(almaty_osm, car_network, bookings=40, vehicles=6, seed=7)
    assert day == generate_day(almaty_osm, car_network, bookings=40, vehicles=6, seed=7)
    assert day != generate_day(almaty_osm, car_network, bookings=40, vehicles=6, seed=8)
    bookings = day["bookings"]
    assert len(bookings) == 40 and len({b["id"] for b in bookings}) == 40
    assert {b["purpose"] for b in bookings} <= set(DayAssumptions().purpose_share)
    for b in bookings:
        assert ("earliest_pickup" in b) != ("latest_arrival" in b)
        if b["id"].endswith("-back"):  # the return of a round trip swaps the places
            out = next(o for o in bookings if o["id"] == b["id"].replace("-back", "-out"))
            assert (b["pickup"], b["dropoff"]) == (out["dropoff"], out["pickup"])
    assert [v["wheelchair_places"] for v in day["vehicles"]] == [2] * 6


def test_a_small_almaty_day_is_planned_validly(almaty_osm, car_network):
    day = generate_day(almaty_osm, car_network, bookings=24, vehicles=4, seed=1)
    city = build_city_problem(day, car_network)
    plan = solve(city.problem, SolveOptions(time_limit=3.0))
    kpis = plan_kpis(city.problem, plan)
    assert validate(city.problem, plan, kpis=kpis) == []
    assert kpis["served"] >= 20  # 4 vans for 24 trips: nearly all fit
    assert kpis["empty_distance"] < kpis["distance"]


def test_transit_substitution_known_is_a_subset_of_allowing_unknowns(almaty_planner, car_network):
    # Raiymbek batyr metro -> Bauyrjan Momyshuly metro (the README's /plan example) in the
    # morning, and the same trip at 02:00, when neither the metro nor the buses run.
    day = {
        "bookings": [
            {
                "id": "metro",
                "pickup": [43.2725, 76.9440],
                "dropoff": [43.2150, 76.8390],
                "earliest_pickup": "10:00",
                "passengers": {"wheelchair": 1},
            },
            {
                "id": "night",
                "pickup": [43.2725, 76.9440],
                "dropoff": [43.2150, 76.8390],
                "earliest_pickup": "02:00",
                "passengers": {"ambulant": 1},
            },
        ],
        "vehicles": [
            {
                "id": "v1",
                "depot": [43.245, 76.935],
                "shift": ["07:00", "19:00"],
                "wheelchair_places": 2,
                "seats": 3,
            }
        ],
    }
    city = build_city_problem(day, car_network)
    subs = {s.booking_id: s for s in find_substitutions(city, almaty_planner, dt.date(2026, 12, 7))}
    assert subs["night"].any_s is None and subs["night"].known_s is None
    assert subs["night"].profile == "reduced_mobility"
    assert subs["metro"].profile == "wheelchair_manual" and subs["metro"].any_s is not None
    for s in subs.values():
        assert s.known_s is None or (s.any_s is not None and s.any_s <= s.known_s)
    summary = substitution_summary(list(subs.values()))
    assert summary["substitutable_allowing_unknowns"] >= summary["substitutable_known_accessible"]
