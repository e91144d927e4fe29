"""The store keeps bookings, vehicles and plan versions across a restart; re-planning keeps
what is under way."""

from __future__ import annotations

from routing.dispatch.storage import DispatchStore


def test_store_survives_a_restart(tmp_path):
    url = f"sqlite:///{tmp_path / 'dispatch.sqlite'}"
    store = DispatchStore(url)
    store.put_vehicle({"id": "v1", "depot": [43.25, 76.93], "shift": ["07:00", "19:00"],
                       "wheelchair_places": 2, "seats": 3})  # fmt: skip
    store.put_booking({"id": "b1", "pickup": [43.25, 76.92], "dropoff": [43.24, 76.95],
                       "earliest_pickup": "09:00", "passengers": {"wheelchair": 1}})  # fmt: skip
    store.put_booking({"id": "b2", "pickup": [43.26, 76.92], "dropoff": [43.24, 76.90],
                       "earliest_pickup": "10:00", "passengers": {"ambulant": 1}})  # fmt: skip
    store.cancel_booking("b2")
    store.lock_booking("b1")
    plan_id = store.new_plan({"time_limit": 1})
    store.update_plan(plan_id, status="done", day={"bookings": []}, result={"plan": {"routes": []}})
    del store

    again = DispatchStore(url)
    assert [b["id"] for b in again.bookings()] == ["b1"]
    assert [b["id"] for b in again.bookings(include_cancelled=True)] == ["b1", "b2"]
    assert again.locked_booking_ids() == {"b1"}
    assert again.vehicles()[0]["wheelchair_places"] == 2
    stored = again.plan(plan_id)
    assert stored["status"] == "done" and stored["params"] == {"time_limit": 1}
    assert stored["finished_at"] is not None
    assert again.latest_done_plan()["id"] == plan_id
