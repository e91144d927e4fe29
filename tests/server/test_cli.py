"""The ``inclusive-routing`` command: ``route`` and ``serve`` on the real Helsinki extract;
``plan`` and ``gtfs build`` on the real Almaty data."""

from __future__ import annotations

import datetime as dt
import json
import re
import socket
import subprocess
import sys
import zipfile
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from live_server import get_json, serve_command, serving
from server_places import (
    HELSINKI,
    KAIVOKATU,
    MOMYSHULY,
    MONDAY_0800,
    RAIYMBEK,
    TUNNEL_CORRIDOR,
    VILHONKATU,
    latlon,
)

from routing.errors import DataError, InvalidInputError
from server import cli
from server.defaults import DATA_ENV, REPO_ROOT, resolve_defaults


@pytest.fixture()
def graph_args(helsinki_osm: Path, graph_cache: Path) -> list[str]:
    return ["--osm", str(helsinki_osm), "--cache-dir", str(graph_cache)]


def run_route(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli.main(["route", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_console_script_is_declared() -> None:
    scripts = entry_points(group="console_scripts")
    assert scripts["inclusive-routing"].value == "server.cli:main"


def test_route_json_is_the_http_body(
    capsys: pytest.CaptureFixture, client: FlaskClient, graph_args: list[str]
) -> None:
    query = {"from": latlon(KAIVOKATU), "to": latlon(VILHONKATU), "profile": "wheelchair_manual",
             "max_uphill": "0.06", "unknown_cost_s": "300"}  # fmt: skip
    code, out, _ = run_route(
        capsys, *graph_args, "--from", query["from"], "--to", query["to"],
        "--profile", "wheelchair_manual", "--param", "max_uphill=0.06",
        "--param", "unknown_cost_s=300", "--json",
    )  # fmt: skip
    assert code == 0
    http = client.get("/route", query_string=query)
    assert http.status_code == 200
    assert json.loads(out) == http.get_json()


def test_route_prints_readable_steps(capsys: pytest.CaptureFixture, graph_args: list[str]) -> None:
    code, out, _ = run_route(capsys, *graph_args, "--from", latlon(KAIVOKATU),
                             "--to", latlon(VILHONKATU), "--profile", "blind")  # fmt: skip
    assert code == 0
    assert out.startswith("Route for Blind")
    assert "  1. " in out and "Steps:" in out
    assert "arrived" in out.lower()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--from", "60.17,abc", "--to", latlon(VILHONKATU), "--profile", "walk"], "'from'"),
        (["--from", "91,24.9", "--to", latlon(VILHONKATU), "--profile", "walk"], "'from'"),
        (["--from", latlon(KAIVOKATU), "--to", latlon(VILHONKATU), "--profile", "bike"],
         "unknown profile 'bike'"),
        (["--from", latlon(KAIVOKATU), "--to", latlon(VILHONKATU), "--profile", "walk",
          "--param", "warp=9"], "'warp'"),
        (["--from", latlon(KAIVOKATU), "--to", latlon(VILHONKATU), "--profile", "walk",
          "--param", "speed_mps=99"], "'speed_mps'"),
        (["--from", latlon(KAIVOKATU), "--to", latlon(VILHONKATU), "--profile", "walk",
          "--param", "speed_mps"], "KEY=VALUE"),
        (["--from", latlon(KAIVOKATU), "--to", "43.2383,76.9453", "--profile", "walk"],
         "outside the area"),
    ],
    ids=["malformed-from", "lat-range", "profile", "unknown-param", "param-range",
         "param-syntax", "outside-area"],
)  # fmt: skip
def test_route_bad_input_exits_2(
    capsys: pytest.CaptureFixture, graph_args: list[str], args: list[str], needle: str
) -> None:
    code, out, err = run_route(capsys, *graph_args, *args)
    assert code == cli.EXIT_BAD_INPUT == 2
    assert out == ""
    assert needle in err


def test_no_route_exits_3(capsys: pytest.CaptureFixture, graph_args: list[str]) -> None:
    code, out, err = run_route(
        capsys, *graph_args, "--from", latlon(KAIVOKATU), "--to", latlon(TUNNEL_CORRIDOR),
        "--profile", "wheelchair_manual",
    )  # fmt: skip
    assert code == cli.EXIT_NO_ROUTE == 3
    assert out == ""
    assert "no route for profile 'wheelchair_manual'" in err
    assert "steps without a ramp" in err


def test_no_route_json_prints_the_error_body(
    capsys: pytest.CaptureFixture, client: FlaskClient, graph_args: list[str]
) -> None:
    query = {
        "from": latlon(KAIVOKATU),
        "to": latlon(TUNNEL_CORRIDOR),
        "profile": "wheelchair_manual",
    }
    code, out, _ = run_route(capsys, *graph_args, "--from", query["from"], "--to", query["to"],
                             "--profile", query["profile"], "--json")  # fmt: skip
    assert code == 3
    assert json.loads(out) == client.get("/route", query_string=query).get_json()


def test_missing_default_data_says_how_to_get_it(
    capsys: pytest.CaptureFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    code, _, err = run_route(capsys, "--from", "43.2383,76.9453", "--to", "43.25,76.95",
                             "--profile", "walk")  # fmt: skip
    assert code == cli.EXIT_FAILURE
    assert "make data" in err and "--osm" in err
    assert str(tmp_path / "osm" / "almaty-2012.osm.pbf") in err


def test_missing_given_file_is_named(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    code, _, err = run_route(capsys, "--osm", str(tmp_path / "x.osm.pbf"), "--from", "1,2",
                             "--to", "1,2", "--profile", "walk")  # fmt: skip
    assert code == 1
    assert "x.osm.pbf" in err


def test_defaults_resolve_in_one_place(
    shared_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DATA_ENV, raising=False)
    repo = resolve_defaults()
    assert repo.osm == REPO_ROOT / "data" / "osm" / "almaty-2012.osm.pbf"
    assert repo.dem == tuple(REPO_ROOT / "data" / "osm" / "dem" / n
                             for n in ("N43E076.hgt.zip", "N43E077.hgt.zip"))  # fmt: skip
    assert repo.cache_dir == REPO_ROOT / "data" / "cache"
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    assert resolve_defaults().osm == tmp_path / "osm" / "almaty-2012.osm.pbf"
    # The shared data folder itself (read-only) also works; the cache stays in the repo.
    monkeypatch.setenv(DATA_ENV, str(shared_data))
    shared = resolve_defaults()
    assert shared.osm == shared_data / "almaty" / "osm" / "almaty-2012.osm.pbf"
    assert not shared.missing()
    assert shared.cache_dir == REPO_ROOT / "data" / "cache"


def test_no_command_prints_help(capsys: pytest.CaptureFixture) -> None:
    assert cli.main([]) == 2
    assert "serve" in capsys.readouterr().err


def test_subcommands_are_registered() -> None:
    assert {"serve", "route"} <= set(cli.COMMANDS)
    help_text = cli.build_parser().format_help()
    assert "serve" in help_text and "route" in help_text


# -- serve ----------------------------------------------------------------------------------
def test_serve_answers_with_gunicorn_workers_and_refuses_a_taken_port(
    helsinki_osm: Path, graph_cache: Path, tmp_path: Path
) -> None:
    args = ["--osm", str(helsinki_osm), "--cache-dir", str(graph_cache)]
    with serving(args, tmp_path / "serve.log") as (base, log_path):
        status, headers, body = get_json(base + "/health")
        assert status == 200
        assert body["status"] == "ok" and body["graph"]["nodes"] > 1000
        assert headers.get("Server") == "gunicorn"
        assert body["planner"] is False  # --osm without --gtfs: no transit
        status, _, body = get_json(f"{base}/route?from={latlon(KAIVOKATU)}"
                                   f"&to={latlon(VILHONKATU)}&profile=walk")  # fmt: skip
        assert status == 200 and body["steps"]
        status, _, body = get_json(base + "/nowhere")
        assert status == 404 and body["error"]["code"] == "not_found"
        status, _, body = get_json(f"{base}/plan?from={latlon(KAIVOKATU)}"
                                   f"&to={latlon(VILHONKATU)}&profile=walk")  # fmt: skip
        assert status == 503 and body["error"]["code"] == "transit_unavailable"
        # What gunicorn refuses before the app sees it is in the JSON error shape too.
        host, port = base.removeprefix("http://").split(":")
        for raw in (b"GARBAGE\r\n\r\n", b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
                    b"GET /route?from=" + b"1" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"):
            with socket.create_connection((host, int(port)), timeout=10) as conn:
                conn.sendall(raw)
                answer = b"".join(iter(lambda c=conn: c.recv(65536), b""))
            head, _, payload = answer.partition(b"\r\n\r\n")
            assert head.split(b" ")[1] in (b"400", b"414") and b"application/json" in head
            assert json.loads(payload)["error"]["code"] and len(payload) < 400
        # A second server on the same port: a one-line error before loading anything.
        port = base.rsplit(":", 1)[1]
        taken = subprocess.run([*serve_command(), "serve", *args, "--port", port],
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert taken.returncode == cli.EXIT_FAILURE
        assert f"127.0.0.1:{port} is already in use" in taken.stderr
        assert "Traceback" not in taken.stderr and "serving on" not in taken.stderr
    log = log_path.read_text()
    assert "loading the walking graph" in log
    assert "/plan answers 503" in log
    assert "with 2 worker(s)" in log


def test_serve_plans_journeys_with_gtfs_and_transit_overlays(
    almaty_args: list[str], almaty_gtfs: Path, plan_client: FlaskClient, tmp_path: Path
) -> None:
    overlay = tmp_path / "low-floor.csv"
    overlay.write_text("route,low_floor_share\n*,0.5\n", encoding="utf-8")
    args = [*almaty_args, "--transit-overlay", str(overlay)]
    with serving(args, tmp_path / "serve.log") as (base, log_path):
        status, _, body = get_json(base + "/health")
        assert status == 200
        assert body["planner"]["gtfs"] == almaty_gtfs.name
        assert body["planner"]["stops"] > 1500 and body["planner"]["routes"] == 190
        assert body["planner"]["transit_overlays"] == [overlay.name]
        query = (f"from={latlon(RAIYMBEK)}&to={latlon(MOMYSHULY)}&time={MONDAY_0800}"
                 "&profile=walk")  # fmt: skip
        status, _, body = get_json(f"{base}/plan?{query}")
        assert status == 200
        # Half the vehicles are low-floor: each ride now says yes or no instead of unknown.
        rides = [leg for it in body["itineraries"] for leg in it["legs"] if leg["mode"] != "walk"]
        assert rides and {leg["accessible_vehicle"] for leg in rides} <= {"yes", "no"}
        # Otherwise the walking traveller's journeys are those of the app without overlays.
        for leg in rides:
            del leg["accessible_vehicle"]
        plain = plan_client.get(f"/plan?{query}").get_json()
        for leg in (leg for it in plain["itineraries"] for leg in it["legs"]):
            assert leg.pop("accessible_vehicle", "unknown") == "unknown"
        assert body == plain
        status, _, body = get_json(f"{base}/plan?{query}&max_transfers=9")
        assert status == 400 and body["error"]["field"] == "max_transfers"
    assert "transit planner ready" in log_path.read_text()


def test_a_module_can_register_a_subcommand(
    capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def add_hello(subparsers: object) -> object:
        parser = subparsers.add_parser("hello", help="say hello")  # type: ignore[attr-defined]
        parser.set_defaults(func=lambda args: print("hello") or 0)
        return parser

    monkeypatch.setitem(cli.COMMANDS, "hello", add_hello)
    assert cli.main(["hello"]) == 0
    assert capsys.readouterr().out == "hello\n"


# -- plan and gtfs build (public transport) ------------------------------------------------
@pytest.fixture()
def almaty_graph_args(almaty_osm: Path, almaty_dem: list[Path], graph_cache: Path) -> list[str]:
    """The graph options for the real Almaty extract (no transit feed)."""
    args = ["--osm", str(almaty_osm), "--cache-dir", str(graph_cache)]
    for tile in almaty_dem:
        args += ["--dem", str(tile)]
    return args


@pytest.fixture()
def almaty_args(almaty_graph_args: list[str], almaty_gtfs: Path) -> list[str]:
    """The graph options and ``--gtfs`` with the session's Almaty feed."""
    return [*almaty_graph_args, "--gtfs", str(almaty_gtfs)]


PLAN_POINTS = ["--from", latlon(RAIYMBEK), "--to", latlon(MOMYSHULY), "--time", MONDAY_0800]


def run_cli(capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_transit_subcommands_are_registered() -> None:
    assert {"plan", "gtfs"} <= set(cli.COMMANDS)
    help_text = cli.build_parser().format_help()
    assert "plan" in help_text and "gtfs" in help_text


def test_plan_json_is_the_http_body(
    capsys: pytest.CaptureFixture, plan_client: FlaskClient, almaty_args: list[str]
) -> None:
    options = ["--profile", "blind", "--max-transfers", "2", "--param", "speed_mps=1.0"]
    code, out, _ = run_cli(capsys, "plan", *almaty_args, *PLAN_POINTS, *options, "--json")
    assert code == 0
    query = {"from": latlon(RAIYMBEK), "to": latlon(MOMYSHULY), "time": MONDAY_0800,
             "profile": "blind", "max_transfers": "2", "speed_mps": "1.0"}  # fmt: skip
    http = plan_client.get("/plan", query_string=query)
    assert http.status_code == 200
    assert json.loads(out) == http.get_json()


def test_plan_prints_readable_itineraries(
    capsys: pytest.CaptureFixture, almaty_args: list[str]
) -> None:
    code, out, _ = run_cli(capsys, "plan", *almaty_args, *PLAN_POINTS, "--profile", "walk")
    assert code == 0
    assert out.startswith("Journeys for Walking (walk), leaving 2026-12-07 08:00 (UTC+05:00)")
    assert "Itinerary 1: 08:" in out
    assert re.search(r"^  1\. Walk \d+ m to \S", out, re.MULTILINE), out
    # "Almaty Metro Line 1 from Райымбек батыра 08:10 to Б. Момышулы 08:37 (towards ...)."
    assert re.search(r"Metro Line 1 from .+ \d\d:\d\d to .+ \d\d:\d\d \(towards .+\)\.", out), out
    assert "to your destination" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--time", "soon"], "'time'"),
        (["--max-transfers", "9"], "'max_transfers'"),
        (["--param", "time=2026-12-07T08:00"], "--time"),
        (["--param", "warp=9"], "'warp'"),
        (["--to", latlon(HELSINKI)], "outside the area"),
        (["--profile", "bike"], "unknown profile 'bike'"),
    ],
    ids=["time", "max-transfers", "param-is-an-option", "unknown-param", "outside", "profile"],
)
def test_plan_bad_input_exits_2(
    capsys: pytest.CaptureFixture, almaty_args: list[str], args: list[str], needle: str
) -> None:
    base = {"--from": latlon(RAIYMBEK), "--to": latlon(MOMYSHULY), "--time": MONDAY_0800,
            "--profile": "walk"}  # fmt: skip
    extra: list[str] = []
    for i in range(0, len(args), 2):
        if args[i] in base:
            base[args[i]] = args[i + 1]
        else:
            extra += args[i : i + 2]
    options = [text for pair in base.items() for text in pair]
    code, out, err = run_cli(capsys, "plan", *almaty_args, *options, *extra)
    assert code == cli.EXIT_BAD_INPUT == 2, err
    assert out == ""
    assert needle in err


def test_plan_no_service_exits_3_and_json_prints_the_error_body(
    capsys: pytest.CaptureFixture, plan_client: FlaskClient, almaty_args: list[str]
) -> None:
    later = ["--from", latlon(RAIYMBEK), "--to", latlon(MOMYSHULY), "--time", "2030-06-03T08:00",
             "--profile", "walk"]  # fmt: skip
    code, out, err = run_cli(capsys, "plan", *almaty_args, *later)
    assert code == cli.EXIT_NO_ROUTE == 3
    assert out == "" and "outside the transit feed's calendar" in err
    code, out, _ = run_cli(capsys, "plan", *almaty_args, *later, "--json")
    assert code == 3
    query = {"from": latlon(RAIYMBEK), "to": latlon(MOMYSHULY), "time": "2030-06-03T08:00",
             "profile": "walk"}  # fmt: skip
    assert json.loads(out) == plan_client.get("/plan", query_string=query).get_json()


def test_plan_needs_a_feed_with_another_extract(
    capsys: pytest.CaptureFixture, almaty_graph_args: list[str], almaty_args: list[str],
    tmp_path: Path,
) -> None:  # fmt: skip
    query = [*PLAN_POINTS, "--profile", "walk"]
    code, _, err = run_cli(capsys, "plan", *almaty_graph_args, *query)
    assert code == cli.EXIT_FAILURE == 1
    assert "--gtfs" in err
    missing = tmp_path / "none.zip"
    code, _, err = run_cli(capsys, "plan", *almaty_graph_args, "--gtfs", str(missing), *query)
    assert code == 1 and str(missing) in err
    missing = tmp_path / "none.csv"
    code, _, err = run_cli(capsys, "plan", *almaty_args, "--transit-overlay", str(missing), *query)
    assert code == 1 and str(missing) in err


def test_plan_defaults_to_the_almaty_feed_built_from_the_data(
    capsys: pytest.CaptureFixture, plan_client: FlaskClient, shared_data: Path,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    # The shared data folder itself as the data folder: graph and feed come from it.
    monkeypatch.setenv(DATA_ENV, str(shared_data))
    cache = tmp_path / "cache"
    code, out, err = run_cli(capsys, "plan", "--cache-dir", str(cache), *PLAN_POINTS,
                             "--profile", "walk", "--json")  # fmt: skip
    assert code == 0, err
    feeds = list(cache.glob("almaty-gtfs-*.zip"))
    assert len(feeds) == 1 and zipfile.is_zipfile(feeds[0])
    assert "transit: the Almaty feed from" in err
    query = {"from": latlon(RAIYMBEK), "to": latlon(MOMYSHULY), "time": MONDAY_0800,
             "profile": "walk"}  # fmt: skip
    assert json.loads(out) == plan_client.get("/plan", query_string=query).get_json()


def test_transit_feed_for_serve(
    almaty_graph_args: list[str], almaty_args: list[str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    parser = cli.build_parser()
    args = parser.parse_args(["serve", *almaty_args])
    sources = cli.graph_sources(args)
    assert cli.transit_feed(args, sources, required=False) == args.gtfs
    args = parser.parse_args(["serve", *almaty_args, "--no-transit"])
    with pytest.raises(InvalidInputError, match="--no-transit"):
        cli.transit_feed(args, sources, required=False)
    # --osm without --gtfs: no transit for serve (plan would need one).
    no_gtfs = almaty_graph_args
    args = parser.parse_args(["serve", *no_gtfs, "--no-transit"])
    assert cli.transit_feed(args, sources, required=False) is None
    args = parser.parse_args(["serve", *no_gtfs])
    assert cli.transit_feed(args, sources, required=False) is None
    with pytest.raises(InvalidInputError, match="--transit-overlay"):
        overlay = tmp_path / "o.csv"
        overlay.write_text("route,low_floor_share\n*,0.5\n", encoding="utf-8")
        cli.transit_feed(parser.parse_args(["serve", *no_gtfs, "--transit-overlay", str(overlay)]),
                         sources, required=False)  # fmt: skip
    # No --osm, data folder without transit data: serve has no transit, plan says what to do.
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    args = parser.parse_args(["serve"])
    assert cli.transit_feed(args, sources, required=False) is None
    with pytest.raises(DataError, match="make data") as info:
        cli.transit_feed(args, sources, required=True)
    assert "--gtfs" in info.value.message and str(tmp_path / "osm" / "almaty") in info.value.message


def test_gtfs_build_writes_a_zip_and_reports_counts(
    capsys: pytest.CaptureFixture, shared_data: Path, tmp_path: Path
) -> None:
    out_path = tmp_path / "x.zip"
    code, out, _ = run_cli(capsys, "gtfs", "build", "--out", str(out_path),
                           "--data", str(shared_data / "almaty"))  # fmt: skip
    assert code == 0
    assert zipfile.is_zipfile(out_path)
    with zipfile.ZipFile(out_path) as feed:
        assert {"stops.txt", "routes.txt", "trips.txt", "stop_times.txt"} <= set(feed.namelist())
    report = json.loads(out)
    assert report["out"] == str(out_path)
    assert report["zip_bytes"] == out_path.stat().st_size
    assert report["metro"]["stations"] == 11 and report["metro"]["trips"] > 0
    assert report["bus"]["route_files"] == 189 and report["bus"]["stops_matched"] > 1000
    assert report["rows"]["routes"] == 190


def test_gtfs_build_defaults_to_the_data_folder(
    capsys: pytest.CaptureFixture, shared_data: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.setenv(DATA_ENV, str(shared_data))
    code, out, _ = run_cli(capsys, "gtfs", "build", "--out", str(tmp_path / "a.zip"))
    assert code == 0 and json.loads(out)["metro"]["stations"] == 11
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    code, out, err = run_cli(capsys, "gtfs", "build", "--out", str(tmp_path / "b.zip"))
    assert code == cli.EXIT_FAILURE and out == ""
    assert str(tmp_path / "osm" / "almaty") in err
    with pytest.raises(SystemExit):
        cli.main(["gtfs"])


def test_module_entry_point_sees_every_subcommand() -> None:
    result = subprocess.run([sys.executable, "-m", "server.cli", "plan", "--help"],
                            capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "--max-transfers" in result.stdout and "--transit-overlay" in result.stdout


def test_legs_read_as_sentences() -> None:
    from server.transit_cli import describe_leg

    stop = {"stop_id": "bus:1", "name": "Абая", "lat": 43.24, "lon": 76.91}
    walk = {"mode": "walk", "from": {"name": "origin", "lat": 43.2, "lon": 76.9}, "to": stop,
            "departure": "2026-12-07T08:00:00+05:00", "arrival": "2026-12-07T08:05:00+05:00",
            "duration_s": 300, "distance_m": 350.4}  # fmt: skip
    assert describe_leg(walk) == "Walk 350 m to Абая (5 min)."
    del walk["distance_m"]  # no street route could be drawn: time only
    assert describe_leg(walk) == "Walk about 5 min to Абая."
    ride = {"mode": "trolleybus", "route": "19", "headsign": "", "from": stop,
            "to": {**stop, "name": "Сайран"}, "departure": "2026-12-07T23:55:00+05:00",
            "arrival": "2026-12-08T00:10:00+05:00"}  # fmt: skip
    day = dt.date(2026, 12, 7)
    assert describe_leg(ride, day) == "Trolleybus 19 from Абая 23:55 to Сайран 00:10 (Tue 08 Dec)."
    ride.update(mode="metro", route="Almaty Metro Line 1", headsign="Б. Момышулы")
    assert describe_leg(ride, day).startswith("Almaty Metro Line 1 from Абая 23:55 to Сайран")
    assert describe_leg(ride, day).endswith("(towards Б. Момышулы).")
