"""``inclusive-routing dispatch solve|plan|validate``."""

from __future__ import annotations

import json
from pathlib import Path

from server.cli import main

DARP = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "darp" / "a2-16.txt"


def test_solve_prints_cost_and_routes_in_the_instance_numbering(capsys, tmp_path):
    plan_file = tmp_path / "plan.json"
    code = main(
        [
            "dispatch",
            "solve",
            "--darp",
            str(DARP),
            "--time-limit",
            "1",
            "--json",
            "--plan-out",
            str(plan_file),
        ]
    )
    assert code == 0
    answer = json.loads(capsys.readouterr().out)
    assert sorted(n for r in answer["routes"] for n in r) == list(range(1, 33))
    for route in answer["routes"]:
        for i in (n for n in route if n <= 16):  # each pickup before its drop-off
            assert route.index(i) < route.index(i + 16)
    assert answer["cost"] >= 294.25 - 0.01
    assert main(["dispatch", "validate", "--darp", str(DARP), "--plan", str(plan_file)]) == 0
    broken = json.loads(plan_file.read_text())
    broken["routes"][0]["stops"].reverse()
    plan_file.write_text(json.dumps(broken))
    assert main(["dispatch", "validate", "--darp", str(DARP), "--plan", str(plan_file)]) == 1
    assert "precedence" in capsys.readouterr().out


def test_plan_a_generated_day_with_figures(shared_data, tmp_path, capsys):
    osm = shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"
    args = ["--osm", str(osm), "--cache-dir", str(tmp_path / "cache")]
    code = main(
        [
            "dispatch",
            "plan",
            "--generate",
            "12",
            "--vehicles",
            "3",
            "--seed",
            "5",
            "--time-limit",
            "2",
            "--save-day",
            str(tmp_path / "day.json"),
            "--out",
            str(tmp_path / "plan.json"),
            "--geojson",
            str(tmp_path / "p.geojson"),
            "--figures",
            str(tmp_path / "fig"),
            *args,
        ]
    )
    assert code == 0
    assert "served" in capsys.readouterr().out
    for name in ("timeline.png", "map.png"):
        assert (tmp_path / "fig" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    geo = json.loads((tmp_path / "p.geojson").read_text())
    assert geo["type"] == "FeatureCollection" and geo["features"]
    assert (
        main(
            [
                "dispatch",
                "validate",
                "--day",
                str(tmp_path / "day.json"),
                "--plan",
                str(tmp_path / "plan.json"),
                *args,
            ]
        )
        == 0
    )
