"""The /dispatch endpoints on the real Almaty car network: store, plan, re-plan, restart."""

from __future__ import annotations

import time

import pytest

from routing.dispatch.storage import DispatchStore
from server import create_app

VEHICLES = [
    {
        "id": "v1",
        "depot": [43.2450, 76.9350],
        "shift": ["07:00", "19:00"],
        "wheelchair_places": 2,
        "seats": 3,
        "breaks": [{"earliest": "12:00", "latest": "14:00", "minutes": 30}],
    },
    {
        "id": "v2",
        "depot": [43.2620, 76.8700],
        "shift": ["07:00", "19:00"],
        "wheelchair_places": 1,
        "seats": 3,
    },
]
BOOKINGS = [
    {
        "id": "b1",
        "pickup": [43.2380, 76.9455],
        "dropoff": [43.2497, 76.9454],
        "latest_arrival": "09:30",
        "passengers": {"wheelchair": 1},
        "priority": 3,
    },
    {
        "id": "b2",
        "pickup": [43.2560, 76.9280],
        "dropoff": [43.2380, 76.9100],
        "earliest_pickup": "09:00",
        "passengers": {"ambulant": 1, "escort": 1},
    },
    {
        "id": "b3",
        "pickup": [43.2497, 76.9454],
        "dropoff": [43.2380, 76.9455],
        "earliest_pickup": "11:00",
        "passengers": {"wheelchair": 1},
    },
]


@pytest.fixture()
def dispatch_app(router, shared_data, tmp_path):
    def make():
        return create_app(
            {
                "TESTING": True,
                "DISPATCH_OSM": str(shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"),
                "CACHE_DIR": str(tmp_path / "cache"),
                "DISPATCH_DB": f"sqlite:///{tmp_path / 'dispatch.sqlite'}",
            },
            router=router,
        )

    return make


def test_plan_replan_and_restart(dispatch_app, tmp_path):
    client = dispatch_app().test_client()
    assert client.post("/dispatch/vehicles", json={"vehicles": VEHICLES}).status_code == 201
    assert client.post("/dispatch/bookings", json={"bookings": BOOKINGS}).status_code == 201

    done = client.post("/dispatch/plan?wait=true", json={"time_limit": 1}).get_json()
    assert done["status"] == "done", done
    result = done["result"]
    assert result["violations"] == [] and result["kpis"]["served"] == 3
    stops = {
        (s["booking_id"], s["action"]): (r["vehicle_id"], s)
        for r in result["plan"]["routes"]
        for s in r["stops"]
    }
    assert stops[("b1", "dropoff")][1]["start"] <= 9.5 * 3600
    for route in result["plan"]["routes"]:  # v1's driver has a 30-minute break
        expected = 1 if route["vehicle_id"] == "v1" else 0
        assert len(route["breaks"]) == expected
        for rest in route["breaks"]:
            assert 12 * 3600 <= rest["start"] <= 14 * 3600
            assert rest["end"] - rest["start"] == pytest.approx(1800)
    geo = client.get(f"/dispatch/plans/{done['id']}/geojson")
    assert geo.status_code == 200 and geo.mimetype == "application/geo+json"
    kinds = {f["properties"]["kind"] for f in geo.get_json()["features"]}
    assert kinds == {"route", "pickup", "dropoff"}

    # A late booking, re-planned when b1's pickup has begun: that stop (and any other
    # whose vehicle has left for it) must not move.
    vehicle_b1, pickup_b1 = stops[("b1", "pickup")]
    now = int(pickup_b1["start"] // 60) * 60
    held = [
        (r["vehicle_id"], s)
        for r in result["plan"]["routes"]
        for s in r["stops"]
        if s["arrival"] - 1 <= now
    ]
    late = {
        "id": "b4",
        "pickup": [43.2400, 76.9300],
        "dropoff": [43.2550, 76.9500],
        "earliest_pickup": "10:30",
        "passengers": {"ambulant": 1},
    }
    assert client.post("/dispatch/bookings", json=late).status_code == 201
    assert client.delete("/dispatch/bookings/b3").status_code == 200
    again = client.post(
        "/dispatch/plan?wait=true", json={"time_limit": 1, "replan": True, "now": now}
    ).get_json()
    assert again["status"] == "done", again
    assert again["parent_id"] == done["id"]
    new = {
        (s["booking_id"], s["action"]): (r["vehicle_id"], s)
        for r in again["result"]["plan"]["routes"]
        for s in r["stops"]
    }
    assert ("b4", "pickup") in new and ("b3", "pickup") not in new
    assert new[("b1", "pickup")][0] == vehicle_b1
    assert new[("b1", "pickup")][1]["start"] == pytest.approx(pickup_b1["start"])
    for vehicle, stop in held:
        key = (stop["booking_id"], stop["action"])
        assert new[key][0] == vehicle and new[key][1]["start"] == pytest.approx(stop["start"])
    assert again["result"]["plan"]["locked"]
    assert all(s["start"] >= 9 * 3600 + 300 for key, (_, s) in new.items() if key[0] == "b4")

    # A restart (a new app on the same database) still has everything, and runs the plan
    # queued when the server stopped.
    queued = DispatchStore(f"sqlite:///{tmp_path / 'dispatch.sqlite'}").new_plan(
        {"time_limit": 1.0}, None
    )
    client2 = dispatch_app().test_client()
    assert [b["id"] for b in client2.get("/dispatch/bookings").get_json()["bookings"]] == [
        "b1",
        "b2",
        "b4",
    ]
    give_up = time.monotonic() + 600  # only keeps a broken job from hanging the suite
    while (plan := client2.get(f"/dispatch/plans/{queued}").get_json())["status"] in (
        "queued", "running"
    ) and time.monotonic() < give_up:
        time.sleep(0.2)
    assert plan["status"] == "done", plan
    assert plan["result"]["kpis"]["served"] == 3  # b1, b2 and the late b4
    plans = client2.get("/dispatch/plans").get_json()["plans"]
    assert [p["status"] for p in plans] == ["done", "done", "done"]
    assert client2.get(f"/dispatch/plans/{again['id']}").get_json()["result"]["kpis"]["served"] == 3


def test_bad_input_names_the_field(dispatch_app):
    client = dispatch_app().test_client()
    bad = dict(BOOKINGS[0], passengers={"horse": 1})
    answer = client.post("/dispatch/bookings", json=bad)
    assert answer.status_code == 400
    assert answer.get_json()["error"]["field"] == "passengers"
    both = dict(BOOKINGS[1], latest_arrival="10:00")
    assert client.post("/dispatch/bookings", json=both).get_json()["error"]["field"] == (
        "earliest_pickup"
    )
    vehicle = dict(VEHICLES[0], shift=["19:00", "07:00"])
    assert client.post("/dispatch/vehicles", json=vehicle).get_json()["error"]["field"] == "shift"
    rest = dict(VEHICLES[0], breaks=[{"earliest": "12:00", "latest": "13:00", "minutes": 0}])
    answer = client.post("/dispatch/vehicles", json=rest)
    assert answer.get_json()["error"]["field"] == "breaks[0].minutes"
    assert client.delete("/dispatch/bookings/nope").status_code == 404
    assert client.post("/dispatch/plan", json={"time_limit": 0}).status_code == 400
    assert client.post("/dispatch/plan", json={"replan": True, "now": "09:00"}).status_code == 409
