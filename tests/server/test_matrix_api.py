"""``POST /matrix`` and ``inclusive-routing matrix`` on the real central Helsinki extract."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from server_places import ALMATY, KAIVOKATU, TUNNEL_CORRIDOR, VILHONKATU, latlon

from routing.router import StreetRouter
from server import cli, create_app

POINTS = [list(KAIVOKATU), list(VILHONKATU), list(TUNNEL_CORRIDOR)]


def test_matrix_agrees_with_route_and_names_blocked_pairs(client: FlaskClient) -> None:
    r = client.post("/matrix", json={"sources": POINTS, "profile": "wheelchair_manual"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["profile"] == "wheelchair_manual"
    assert len(body["seconds"]) == 3 and all(len(row) == 3 for row in body["seconds"])
    route = client.get("/route", query_string={"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU),
                                                "profile": "wheelchair_manual"}).get_json()
    assert body["seconds"][0][1] == pytest.approx(route["duration_s"], abs=0.11)
    assert body["metres"][0][1] == pytest.approx(route["distance_m"], abs=0.11)
    # The corridor is only reachable by steps (see server_places): walkable, not for this
    # profile; a walker gets there.
    assert body["reason"][0][2] == "blocked_for_profile" and body["seconds"][0][2] is None
    walk = client.post("/matrix", json={"sources": POINTS, "profile": "walk"}).get_json()
    assert walk["reason"][0][2] is None and walk["seconds"][0][2] > 0


def test_targets_and_overrides(client: FlaskClient) -> None:
    slow = client.post("/matrix", json={"sources": [POINTS[0]], "targets": [POINTS[1]],
                                        "profile": "walk", "speed_mps": 0.5}).get_json()
    fast = client.post("/matrix?speed_mps=2.0", json={"sources": [POINTS[0]],
                       "targets": [POINTS[1]], "profile": "walk"}).get_json()  # fmt: skip
    assert slow["seconds"][0][0] > 3 * fast["seconds"][0][0]
    assert slow["metres"] == fast["metres"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile": "walk"}, "sources"),
        ({"sources": [], "profile": "walk"}, "sources"),
        ({"sources": "not a list", "profile": "walk"}, "sources[0]"),
        ({"sources": [POINTS[0], [91, 0]], "profile": "walk"}, "sources[1]"),
        ({"sources": [POINTS[0]], "targets": {"lat": 1}, "profile": "walk"}, "targets"),
        ({"sources": [POINTS[0]], "profile": "flying"}, "profile"),
        ({"sources": [POINTS[0]], "profile": "walk", "max_uphill": 0.05}, "max_uphill"),
        ({"sources": [POINTS[0]], "profile": "wheelchair_manual", "max_uphill": 5}, "max_uphill"),
    ],
)
def test_bad_requests_are_400_naming_the_field(client: FlaskClient, body, field) -> None:
    r = client.post("/matrix", json=body)
    assert r.status_code == 400
    assert r.get_json()["error"]["field"] == field


def test_request_size_is_bounded(router: StreetRouter) -> None:
    app = create_app({"TESTING": True, "MATRIX_MAX_POINTS": 3, "MATRIX_MAX_PAIRS": 6},
                     router=router)  # fmt: skip
    client = app.test_client()
    r = client.post("/matrix", json={"sources": POINTS * 2, "profile": "walk"})
    assert r.status_code == 400 and r.get_json()["error"]["field"] == "sources"
    assert "at most 3" in r.get_json()["error"]["message"]
    r = client.post("/matrix", json={"sources": POINTS, "profile": "walk"})  # 9 pairs > 6
    assert r.status_code == 400 and "at most 6" in r.get_json()["error"]["message"]
    r = client.post("/matrix", json={"sources": POINTS[:2], "targets": POINTS, "profile": "walk"})
    assert r.status_code == 200


def test_get_is_not_allowed(client: FlaskClient) -> None:
    assert client.get("/matrix").status_code == 405


def test_outside_point_is_reported_not_fatal(client: FlaskClient) -> None:
    body = client.post("/matrix", json={"sources": [POINTS[0], list(ALMATY)],
                                        "profile": "walk"}).get_json()  # fmt: skip
    assert body["reason"][1] == ["outside_area", "outside_area"]
    assert body["reason"][0][0] is None


def test_cli_json_is_the_http_body_and_csv_has_every_pair(
    capsys: pytest.CaptureFixture, client: FlaskClient, helsinki_osm: Path, graph_cache: Path,
    tmp_path: Path,
) -> None:  # fmt: skip
    points = tmp_path / "points.csv"
    points.write_text("name,lat,lon\n" + "".join(f"p{i},{a},{b}\n" for i, (a, b) in
                                                 enumerate(POINTS)))  # fmt: skip
    graph = ["--osm", str(helsinki_osm), "--cache-dir", str(graph_cache)]
    code = cli.main(["matrix", *graph, "--sources", str(points), "--profile", "blind", "--json"])
    out, _ = capsys.readouterr()
    assert code == 0
    http = client.post("/matrix", json={"sources": POINTS, "profile": "blind"}).get_json()
    assert json.loads(out) == http
    code = cli.main(["matrix", *graph, "--sources", ";".join(latlon(p) for p in POINTS[:2]),
                     "--profile", "blind"])  # fmt: skip
    out, _ = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == 4
    assert float(rows[1]["seconds"]) == pytest.approx(http["seconds"][0][1], abs=0.051)


def test_cli_bad_point_exits_2(capsys, helsinki_osm: Path, graph_cache: Path) -> None:
    code = cli.main(["matrix", "--osm", str(helsinki_osm), "--cache-dir", str(graph_cache),
                     "--sources", "60.17,24.93;abc", "--profile", "walk"])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 2 and "sources[1]" in err
