"""``/scenarios``: jobs round-trip over HTTP and survive a restart (a new app on the same DB)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
from sqlalchemy import update

from routing.jobs import JobRow, JobStore, utc_now
from server import cli, create_app

SCENARIO = {
    "name": "All buses low-floor, Almaly lift out of service",
    "illustrative": True,
    "transit": [
        {"type": "low_floor_share", "routes": ["*"], "share": 1},
        {"type": "station_access", "station": "metro:ALM", "elevator": "out_of_service"},
    ],
    "options": {
        "profiles": ["walk", "wheelchair_manual"],
        "cell_m": 5000,
        "transit": {"departure": "2026-12-07T07:30", "window_s": 1800, "step_s": 900,
                    "max_origins": 4},
    },
}  # fmt: skip


@pytest.fixture()
def make_app(almaty_router, almaty_planner, tmp_path):
    db = f"sqlite:///{tmp_path / 'scenarios.sqlite'}"

    def make():
        return create_app({"TESTING": True, "SCENARIO_DB": db}, router=almaty_router,
                          planner=almaty_planner)  # fmt: skip

    make.db = db
    return make


def _wait(client, job_id: str, limit_s: float = 600) -> dict:
    """Poll until the job ends (the limit only keeps a broken job from hanging the suite)."""
    give_up = time.monotonic() + limit_s
    while True:
        job = client.get(f"/scenarios/{job_id}").get_json()
        if job["status"] in ("done", "failed") or time.monotonic() > give_up:
            return job
        time.sleep(0.2)


def test_bad_scenarios_are_400_naming_the_field_and_big_ones_413(make_app):
    client = make_app().test_client()
    bad = json.loads(json.dumps(SCENARIO))
    bad["transit"][0]["share"] = 2
    answer = client.post("/scenarios", json=bad)
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["field"] == "share" and "$.transit[0]" in error["message"]
    unknown = dict(SCENARIO, transit=[{"type": "station_access", "station": "metro:NOPE",
                                       "elevator": "none"}])  # fmt: skip
    answer = client.post("/scenarios", json=unknown)  # a station the feed does not have
    assert answer.status_code == 400 and answer.get_json()["error"]["field"] == "station"
    assert answer.get_json()["error"]["json_path"] == "$.transit[0].station"
    big = dict(SCENARIO, description="x" * (300 * 1024))
    answer = client.post("/scenarios", json=big)
    assert answer.status_code == 413 and answer.get_json()["error"]["field"] == "body"
    assert client.get("/scenarios/0123abc").status_code == 404


def test_a_job_round_trips_and_survives_a_restart(make_app):
    client = make_app().test_client()
    answer = client.post("/scenarios", json=SCENARIO)
    assert answer.status_code == 202
    job_id = answer.get_json()["id"]
    assert answer.headers["Location"] == f"/scenarios/{job_id}"
    job = _wait(client, job_id)
    assert job["status"] == "done", job
    assert job["progress"]["done"] == job["progress"]["total"] > 0
    report = client.get(f"/scenarios/{job_id}/report.json").get_json()
    assert report["scenario"]["name"] == SCENARIO["name"]
    transit = report["transit"]
    assert transit["edits"] == [
        {"type": "low_floor_share", "routes": ["*"], "share": 1.0},
        {"type": "station_access", "station": "metro:ALM", "elevator": "out_of_service"},
    ]
    assert set(transit["profiles"]) == {"walk", "wheelchair_manual"}
    walk = transit["profiles"]["walk"]
    assert walk["before"] == walk["after"]  # these edits concern wheelchair users only
    html = client.get(f"/scenarios/{job_id}/report.html")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert b"<h2>Journeys with transit</h2>" in html.data
    # A new app (a restarted server) on the same database serves the same job and reports.
    again = make_app().test_client()
    assert again.get(f"/scenarios/{job_id}").get_json()["status"] == "done"
    assert again.get(f"/scenarios/{job_id}/report.json").get_json() == report
    assert again.get(f"/scenarios/{job_id}/report.html").data == html.data


def test_a_job_running_when_the_server_stopped_is_run_again(make_app):
    store = JobStore(make_app.db, "scenario")
    job_id = store.new({"scenario": dict(SCENARIO, transit=[], options={
        "profiles": ["walk"], "cell_m": 5000, "transit": {"max_origins": 2, "step_s": 1800,
                                                          "window_s": 1800}})})  # fmt: skip
    assert store.claim(job_id, "a-server-that-died")
    with store.engine.begin() as conn:
        conn.execute(update(JobRow).where(JobRow.id == job_id)
                     .values(heartbeat_at=utc_now() - dt.timedelta(hours=1)))  # fmt: skip
    threads = threading.active_count()
    app = make_app()
    # Made, the app runs nothing: gunicorn forks its workers from the process that made it.
    assert threading.active_count() == threads
    assert store.get(job_id)["status"] == "running"
    client = app.test_client()  # the new app resumes the job on its first request
    job = _wait(client, job_id)
    assert job["status"] == "done", job
    assert client.get(f"/scenarios/{job_id}/report.json").get_json()["transit"]["profiles"]


def test_a_job_reports_what_the_cli_reports(almaty_router, almaty_osm, almaty_dem, graph_cache,
                                            shared_data, tmp_path):  # fmt: skip
    """Same stations (the selector near the metro) and opportunities over HTTP as on the CLI."""
    stations = shared_data / "almaty" / "metro" / "stations.json"
    doc = {"name": "Audible signals at 10 signalled crossings near the metro",
           "street": [{"feature": "audible_signal", "action": "add",
                       "where": {"select": {"what": "crossings", "signalled": True,
                                            "nearest_to": "metro_stations", "count": 10}}}],
           "options": {"profiles": ["walk", "blind"], "cell_m": 4000}}  # fmt: skip
    path = tmp_path / "near-metro.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    args = ["scenario", "run", str(path), "--osm", str(almaty_osm), "--cache-dir",
            str(graph_cache), "--stations", str(stations), "--workers", "1", "--out",
            str(tmp_path / "out")]  # fmt: skip
    for tile in almaty_dem:
        args += ["--dem", str(tile)]
    assert cli.main(args) == 0
    by_cli = json.loads((tmp_path / "out" / "result.json").read_text(encoding="utf-8"))

    app = create_app({"TESTING": True, "OSM": str(almaty_osm), "PLACE_STATIONS": [str(stations)]},
                     router=almaty_router)  # fmt: skip
    client = app.test_client()
    job = _wait(client, client.post("/scenarios", json=doc).get_json()["id"])
    assert job["status"] == "done", job
    by_http = client.get(f"/scenarios/{job['id']}/report.json").get_json()
    for report in (by_cli, by_http):
        report["scenario"].pop("source")  # the file's path, or "request body"
    assert by_http["opportunities"]["metro_station"] == 11 and by_http["opportunities"]["school"]
    assert by_http["edits"][0]["sites"] == 10
    assert by_http == by_cli
