"""The ``inclusive-routing`` command: ``route`` and ``serve`` on the real Helsinki extract."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from server_places import KAIVOKATU, TUNNEL_CORRIDOR, VILHONKATU, latlon

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
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str) -> tuple[int, dict, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_serve_answers_health_with_waitress(
    helsinki_osm: Path, graph_cache: Path, tmp_path: Path
) -> None:
    port = free_port()
    script = Path(sys.executable).with_name("inclusive-routing")
    command = [str(script)] if script.is_file() else [sys.executable, "-m", "server.cli"]
    command += ["serve", "--osm", str(helsinki_osm), "--cache-dir", str(graph_cache),
                "--host", "127.0.0.1", "--port", str(port), "--threads", "2"]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log_path = tmp_path / "serve.log"
    log = log_path.open("w")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"serve exited with {proc.returncode}:\n{log_path.read_text()}")
            try:
                status, headers, body = get_json(base + "/health")
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline:
                    pytest.fail(f"serve did not answer /health in 60 s:\n{log_path.read_text()}")
                time.sleep(0.2)
        assert status == 200
        assert body["status"] == "ok" and body["graph"]["nodes"] > 1000
        assert headers.get("Server") == "waitress"
        status, _, body = get_json(f"{base}/route?from={latlon(KAIVOKATU)}"
                                   f"&to={latlon(VILHONKATU)}&profile=walk")  # fmt: skip
        assert status == 200 and body["steps"]
        status, _, body = get_json(base + "/nowhere")
        assert status == 404 and body["error"]["code"] == "not_found"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
    assert "loading the walking graph" in log_path.read_text()


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
