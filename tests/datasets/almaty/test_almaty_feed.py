"""The Almaty GTFS feed built from the real data, checked with gtfs_kit (an independent reader).

gtfs_kit 13 has no GTFS validator (``assess_quality`` only rates a feed), so the
structural rules of the GTFS reference (keys, references, time and distance order,
frequencies) are checked here on the tables gtfs_kit read back from the zip.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
import zipfile
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import gtfs_kit as gk
import numpy as np
import pandas as pd
import pytest

from datasets.almaty.bus_stops import wheelchair_boarding_code
from datasets.almaty.command import gtfs_build_command, main
from datasets.almaty.feed import FIELDS, FeedBuildResult, build_almaty_feed, write_gtfs_zip
from datasets.almaty.service import load_service_config
from routing.errors import DataError
from routing.transit.gtfs import ACCESSIBILITY_FROM_GTFS, load_feed
from routing.tristate import NO, UNKNOWN, YES

pytestmark = pytest.mark.integration

REQUIRED_FILES = {
    "agency.txt",
    "stops.txt",
    "routes.txt",
    "trips.txt",
    "stop_times.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "frequencies.txt",
    "shapes.txt",
    "feed_info.txt",
    "stop_accessibility.txt",
}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def built(shared_data: Path) -> FeedBuildResult:
    return build_almaty_feed(shared_data)


@pytest.fixture(scope="module")
def feed_zip(built: FeedBuildResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gtfs_zip(built, tmp_path_factory.mktemp("gtfs") / "almaty-gtfs.zip")


@pytest.fixture(scope="module")
def feed(feed_zip: Path) -> gk.Feed:
    return gk.read_feed(feed_zip, dist_units="km")


@pytest.fixture(scope="module")
def schedule(shared_data: Path) -> dict:
    return json.loads((shared_data / "almaty/metro/schedule.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def osm_stops(shared_data: Path) -> dict[int, dict]:
    raw = json.loads((shared_data / "almaty/bus/bus_stops_overpass.json").read_text("utf-8"))
    return {e["id"]: e for e in raw["elements"]}


def _secs(text: str) -> int:
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def _timed(feed: gk.Feed) -> pd.DataFrame:
    st = feed.stop_times.sort_values(["trip_id", "stop_sequence"]).copy()
    st["arr"] = st["arrival_time"].map(_secs)
    st["dep"] = st["departure_time"].map(_secs)
    return st


# --------------------------------------------------------------------------- validity


def _gtfs_errors(feed: gk.Feed) -> list[str]:
    """Violations of the GTFS reference's structural rules (empty when valid)."""
    errors: list[str] = []

    def unique(df: pd.DataFrame, cols: list[str], name: str) -> None:
        dup = df.duplicated(subset=cols)
        if dup.any():
            errors.append(f"{name}: duplicate {cols}: {df[dup].head(3).to_dict('records')}")

    def refs(values: pd.Series, known: pd.Series, name: str) -> None:
        bad = set(values.dropna()) - set(known)
        if bad:
            errors.append(f"{name}: unknown references {sorted(bad)[:5]}")

    def required(df: pd.DataFrame, cols: list[str], name: str) -> None:
        for c in cols:
            if c not in df.columns or df[c].isna().any():
                errors.append(f"{name}: required field {c} missing or empty")

    for name in ("agency", "stops", "routes", "trips", "stop_times", "feed_info"):
        if getattr(feed, name) is None:
            errors.append(f"{name}.txt missing")
    if errors:
        return errors
    ag, stops, routes, trips = feed.agency, feed.stops, feed.routes, feed.trips
    required(ag, ["agency_id", "agency_name", "agency_url", "agency_timezone"], "agency")
    unique(ag, ["agency_id"], "agency")
    for tz in ag["agency_timezone"]:
        ZoneInfo(tz)  # raises on an unknown zone
    if ag["agency_timezone"].nunique() != 1:
        errors.append("agency: agencies must share one timezone")

    required(stops, ["stop_id", "stop_name", "stop_lat", "stop_lon"], "stops")
    unique(stops, ["stop_id"], "stops")
    if not (
        stops["stop_lat"].between(-90, 90).all() and stops["stop_lon"].between(-180, 180).all()
    ):
        errors.append("stops: coordinates out of range")
    if not stops["wheelchair_boarding"].isin(list(ACCESSIBILITY_FROM_GTFS)).all():
        errors.append("stops: wheelchair_boarding not in 0/1/2")

    required(routes, ["route_id", "agency_id", "route_type"], "routes")
    unique(routes, ["route_id"], "routes")
    refs(routes["agency_id"], ag["agency_id"], "routes.agency_id")
    if (routes["route_short_name"].isna() & routes["route_long_name"].isna()).any():
        errors.append("routes: a route has neither short nor long name")
    if not routes["route_type"].isin([0, 1, 2, 3, 4, 5, 6, 7, 11, 12]).all():
        errors.append("routes: invalid route_type")

    services = set(feed.calendar["service_id"]) | set(feed.calendar_dates["service_id"])
    required(trips, ["route_id", "service_id", "trip_id"], "trips")
    unique(trips, ["trip_id"], "trips")
    refs(trips["route_id"], routes["route_id"], "trips.route_id")
    refs(trips["service_id"], pd.Series(sorted(services)), "trips.service_id")
    refs(trips["shape_id"], feed.shapes["shape_id"], "trips.shape_id")
    if not trips["direction_id"].isin([0, 1]).all():
        errors.append("trips: direction_id not in 0/1")
    missing = set(routes["route_id"]) - set(trips["route_id"])
    if missing:
        errors.append(f"routes without trips: {sorted(missing)[:5]}")

    st = _timed(feed)
    required(st, ["trip_id", "stop_id", "stop_sequence"], "stop_times")
    unique(st, ["trip_id", "stop_sequence"], "stop_times")
    refs(st["trip_id"], trips["trip_id"], "stop_times.trip_id")
    refs(st["stop_id"], stops["stop_id"], "stop_times.stop_id")
    sizes = st.groupby("trip_id").size()
    if (sizes < 2).any() or set(sizes.index) != set(trips["trip_id"]):
        errors.append("stop_times: every trip needs at least two stop times")
    same = st["trip_id"].eq(st["trip_id"].shift())
    if (st["dep"] < st["arr"]).any():
        errors.append("stop_times: departure before arrival")
    if (same & (st["arr"] < st["dep"].shift())).any():
        errors.append("stop_times: times go backwards within a trip")
    if (same & (st["shape_dist_traveled"] <= st["shape_dist_traveled"].shift())).any():
        errors.append("stop_times: shape_dist_traveled does not increase")
    shape_len = feed.shapes.groupby("shape_id")["shape_dist_traveled"].max()
    st_len = st.merge(trips[["trip_id", "shape_id"]], on="trip_id")
    if (st_len["shape_dist_traveled"] > st_len["shape_id"].map(shape_len) + 1e-6).any():
        errors.append("stop_times: shape_dist_traveled beyond the shape's length")

    sh = feed.shapes.sort_values(["shape_id", "shape_pt_sequence"])
    unique(sh, ["shape_id", "shape_pt_sequence"], "shapes")
    same = sh["shape_id"].eq(sh["shape_id"].shift())
    if (same & (sh["shape_dist_traveled"] <= sh["shape_dist_traveled"].shift())).any():
        errors.append("shapes: shape_dist_traveled does not increase")
    if (sh.groupby("shape_id").size() < 2).any():
        errors.append("shapes: a shape has fewer than two points")

    cal = feed.calendar
    unique(cal, ["service_id"], "calendar")
    if (cal["start_date"] > cal["end_date"]).any():
        errors.append("calendar: end_date before start_date")
    cd = feed.calendar_dates
    unique(cd, ["service_id", "date"], "calendar_dates")
    if not cd["exception_type"].isin([1, 2]).all():
        errors.append("calendar_dates: exception_type not in 1/2")
    for d in pd.concat([cal["start_date"], cal["end_date"], cd["date"]]):
        date(int(d[:4]), int(d[4:6]), int(d[6:]))  # raises on an invalid date

    fr = feed.frequencies.copy()
    refs(fr["trip_id"], trips["trip_id"], "frequencies.trip_id")
    fr["s"], fr["e"] = fr["start_time"].map(_secs), fr["end_time"].map(_secs)
    if (fr["e"] <= fr["s"]).any() or (fr["headway_secs"] <= 0).any():
        errors.append("frequencies: empty interval or non-positive headway")
    if not fr["exact_times"].isin([0, 1]).all():
        errors.append("frequencies: exact_times not in 0/1")
    fr = fr.sort_values(["trip_id", "s"])
    if (fr["trip_id"].eq(fr["trip_id"].shift()) & (fr["s"] < fr["e"].shift())).any():
        errors.append("frequencies: overlapping intervals for one trip")

    required(
        feed.feed_info, ["feed_publisher_name", "feed_publisher_url", "feed_lang"], "feed_info"
    )
    return errors


def test_zip_reads_in_gtfs_kit_as_a_valid_good_feed(feed: gk.Feed, feed_zip: Path) -> None:
    with zipfile.ZipFile(feed_zip) as zf:
        assert REQUIRED_FILES <= set(zf.namelist())
    assert _gtfs_errors(feed) == []
    quality = gk.assess_quality(feed).set_index("indicator")["value"]
    assert quality["assessment"] == "good feed", quality.to_dict()
    described = feed.describe().set_index("indicator")["value"]
    assert described["timezone"] == "Asia/Almaty"
    assert (described["start_date"], described["end_date"]) == ("20260101", "20271231")
    # every service runs on some date of the feed
    dates = feed.get_dates()
    active = set()
    for d in ("20260105", "20260110", "20260309"):  # Monday, Saturday, a Monday holiday
        assert d in dates or dates[0] <= d <= dates[-1]
        active |= set(feed.get_trips(d)["service_id"])
    assert active == set(feed.trips["service_id"])


def test_stop_accessibility_file_covers_every_stop(feed_zip: Path, feed: gk.Feed) -> None:
    with zipfile.ZipFile(feed_zip) as zf:
        text = zf.read("stop_accessibility.txt").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == FIELDS["stop_accessibility"]
    assert {r["stop_id"] for r in rows} == set(feed.stops["stop_id"])
    assert {"tactile_paving", "shelter", "bench", "lit", "departures_board"} <= set(rows[0])


def test_zip_is_reproducible(built: FeedBuildResult, feed_zip: Path, tmp_path: Path) -> None:
    again = write_gtfs_zip(built, tmp_path / "again.zip")
    assert again.read_bytes() == feed_zip.read_bytes()


# --------------------------------------------------------------------------- metro


def _metro(feed: gk.Feed) -> tuple[pd.DataFrame, pd.DataFrame]:
    trips = feed.trips[feed.trips["route_id"] == "metro:L1"]
    st = _timed(feed)
    st = st[st["trip_id"].isin(trips["trip_id"])].merge(
        trips[["trip_id", "service_id", "direction_id"]], on="trip_id"
    )
    return trips, st


def test_metro_has_eleven_stations_and_one_line(feed: gk.Feed) -> None:
    metro = feed.stops[feed.stops["stop_id"].str.startswith("metro:")]
    assert len(metro) == 11
    assert "metro:RMBK" in set(metro["stop_id"]) and "metro:BM" in set(metro["stop_id"])
    route = feed.routes[feed.routes["route_id"] == "metro:L1"]
    assert len(route) == 1 and int(route["route_type"].iloc[0]) == 1


@pytest.mark.parametrize("day", ["weekday", "weekend"])
def test_metro_first_trains_match_the_timetable(feed: gk.Feed, schedule: dict, day: str) -> None:
    _, st = _metro(feed)
    st = st[st["service_id"] == day]
    first_rmbk = st[(st["stop_id"] == "metro:RMBK") & (st["direction_id"] == 0)]["dep"].min()
    first_bm = st[(st["stop_id"] == "metro:BM") & (st["direction_id"] == 1)]["dep"].min()
    assert first_rmbk == _secs(schedule["stations"]["RMBK"][day]["forward"][0])
    assert first_bm == _secs(schedule["stations"]["BM"][day]["backward"][0])


def test_metro_times_increase_and_run_times_are_consistent(
    feed: gk.Feed, built: FeedBuildResult
) -> None:
    _, st = _metro(feed)
    same = st["trip_id"].eq(st["trip_id"].shift())
    run = (st["arr"] - st["dep"].shift())[same]
    assert (run > 0).all()
    seg = (st["stop_id"].shift() + ">" + st["stop_id"] + "@" + st["service_id"])[same]
    median = run.groupby(seg).transform("median")
    # the timetable's run times are constant except for a few first trains (30 s shorter)
    assert (run - median).abs().max() <= 30
    assert (run == median).mean() > 0.99
    assert built.report["metro"]["max_run_time_spread_s"] <= 30
    for s in built.report["metro"]["segments"].values():
        assert s["run_time_s"] > 0


def test_metro_trip_counts_dedupe_and_after_midnight(
    feed: gk.Feed, schedule: dict, built: FeedBuildResult
) -> None:
    report = built.report["metro"]
    raw = schedule["stations"]["RMBK"]["weekday"]["forward"]
    assert len(raw) == 256
    assert report["duplicate_departures_dropped"] == len(raw) - len(set(raw)) == 128
    _, st = _metro(feed)
    rmbk = st[
        (st["stop_id"] == "metro:RMBK")
        & (st["service_id"] == "weekday")
        & (st["direction_id"] == 0)
    ]
    assert len(rmbk) == len(set(raw)) == 128  # one trip per distinct departure
    assert rmbk["departure_time"].max() == "24:02:00"  # 00:02 belongs to the day before
    trips = feed.trips[feed.trips["route_id"] == "metro:L1"]
    assert trips.groupby("service_id").size().to_dict() == report["trips_per_service"]
    matched, unmatched = report["departures_matched"], report["departures_unmatched"]
    assert matched + unmatched + report["departures_into_terminal"] == report["departures"]
    assert unmatched == report["trips_ending_short"] <= 0.01 * report["departures"]


def test_metro_holidays_run_the_weekend_timetable(feed: gk.Feed, shared_data: Path) -> None:
    holidays = json.loads((shared_data / "almaty/metro/holidays.json").read_text("utf-8"))
    weekday_holidays = [d for d in holidays["dates"] if date.fromisoformat(d).weekday() < 5]
    assert weekday_holidays
    for d in (weekday_holidays[0], weekday_holidays[-1]):
        services = set(feed.get_trips(d.replace("-", ""))["service_id"])
        assert "weekend" in services and "weekday" not in services, d
    ordinary = set(feed.get_trips("20260310")["service_id"])  # a Tuesday, no holiday
    assert "weekday" in ordinary and "weekend" not in ordinary


# --------------------------------------------------------------------------- buses


def test_every_route_file_yields_a_route_with_shapes_and_trips(
    feed: gk.Feed, shared_data: Path, built: FeedBuildResult
) -> None:
    files = sorted(p.stem for p in (shared_data / "almaty/bus/routes").glob("*.json"))
    bus_routes = feed.routes[feed.routes["route_id"].str.startswith("bus:")]
    assert sorted(bus_routes["route_short_name"]) == files
    assert built.report["bus"]["routes_kept"] == len(files) == 189
    trips = feed.trips[feed.trips["route_id"].str.startswith("bus:")]
    n_dirs = sum(
        len(json.loads(p.read_text("utf-8")))
        for p in (shared_data / "almaty/bus/routes").glob("*.json")
    )
    dropped = built.report["bus"]["cleanup"]["dropped_directions"]
    assert n_dirs == built.report["bus"]["directions"]
    assert trips["shape_id"].nunique() == n_dirs - len(dropped)
    assert set(trips["trip_id"]) == set(feed.frequencies["trip_id"])
    report = built.report["bus"]
    assert report["directions_with_2plus_stops"] + len(report["directions_lt2_stops"]) == n_dirs
    assert report["directions_with_2plus_stops"] >= 0.95 * n_dirs


def test_most_stops_are_matched_to_lines(feed: gk.Feed, built: FeedBuildResult) -> None:
    served = set(feed.stop_times["stop_id"])
    osm_served = {s for s in served if s.startswith("bus:") and s[4:].isdigit()}
    assert len(osm_served) == built.report["bus"]["stops_matched"] >= 1400
    assert built.report["bus"]["stops_in_source"] == 1843


def _interpolate(shape: pd.DataFrame, km: float) -> tuple[float, float]:
    return (
        float(np.interp(km, shape["shape_dist_traveled"], shape["shape_pt_lat"])),
        float(np.interp(km, shape["shape_dist_traveled"], shape["shape_pt_lon"])),
    )


def test_stop_sequences_follow_the_line(feed: gk.Feed) -> None:
    """Each stop lies beside the line where its shape_dist_traveled says, in line order."""
    shapes = {k: g.sort_values("shape_pt_sequence") for k, g in feed.shapes.groupby("shape_id")}
    stops = feed.stops.set_index("stop_id")
    trips = feed.trips[feed.trips["trip_id"].str.endswith(":midday")]
    st = _timed(feed).merge(trips[["trip_id", "shape_id"]], on="trip_id")
    worst = 0.0
    for _, row in st.iterrows():
        lat, lon = _interpolate(shapes[row["shape_id"]], float(row["shape_dist_traveled"]))
        s = stops.loc[row["stop_id"]]
        dy = (s["stop_lat"] - lat) * 111_100
        dx = (s["stop_lon"] - lon) * 111_100 * math.cos(math.radians(lat))
        worst = max(worst, math.hypot(dx, dy))
    assert worst < 31  # the matching threshold (30 m) plus rounding
    # and in order: distance along the line grows with stop_sequence (checked per trip)
    same = st["trip_id"].eq(st["trip_id"].shift())
    assert (st["shape_dist_traveled"] > st["shape_dist_traveled"].shift())[same].all()


def test_bus_timing_follows_configured_speed_and_headways(feed: gk.Feed) -> None:
    config = load_service_config()
    bands = {b.name: b for b in config.bus_default.bands}
    st = _timed(feed)
    st = st[st["trip_id"].str.startswith("bus:")]
    g = st.groupby("trip_id").agg(
        d0=("shape_dist_traveled", "first"),
        d1=("shape_dist_traveled", "last"),
        t0=("dep", "first"),
        t1=("arr", "last"),
    )
    band = g.index.str.rsplit(":", n=1).str[1]
    speed_kmh = (g["d1"] - g["d0"]) / ((g["t1"] - g["t0"]) / 3600)
    expected = band.map(lambda b: bands[b].speed_mps * 3.6)
    assert np.allclose(speed_kmh, expected, rtol=0.02)
    assert (g["t0"] == band.map(lambda b: bands[b].start_s)).all()
    fr = feed.frequencies.set_index("trip_id")
    headway = fr["headway_secs"].astype(int)
    names = fr.index.str.rsplit(":", n=1).str[1]
    assert (headway == names.map(lambda b: bands[b].headway_s)).all()
    assert (fr["exact_times"] == 0).all()


def test_wheelchair_boarding_follows_the_osm_tag(feed: gk.Feed, osm_stops: dict) -> None:
    stops = feed.stops.set_index("stop_id")
    expected = {"yes": YES, "no": NO, "limited": UNKNOWN, None: UNKNOWN}
    seen = set()
    for osm_id, e in osm_stops.items():
        tag = e.get("tags", {}).get("wheelchair")
        if tag in seen:
            continue
        seen.add(tag)
        written = int(stops.loc[f"bus:{osm_id}", "wheelchair_boarding"])
        assert ACCESSIBILITY_FROM_GTFS[written] == expected[tag], osm_id
    assert seen == set(expected)
    assert wheelchair_boarding_code("designated") == YES
    assert wheelchair_boarding_code("limited", limited_as=YES) == YES
    assert wheelchair_boarding_code("bogus") == UNKNOWN


def test_accessibility_tags_are_kept(feed_zip: Path, osm_stops: dict) -> None:
    with zipfile.ZipFile(feed_zip) as zf:
        rows = {
            r["stop_id"]: r
            for r in csv.DictReader(io.StringIO(zf.read("stop_accessibility.txt").decode("utf-8")))
        }
    tactile = [i for i, e in osm_stops.items() if e.get("tags", {}).get("tactile_paving") == "yes"]
    assert len(tactile) == 30
    for osm_id in tactile[:5]:
        tags = osm_stops[osm_id]["tags"]
        row = rows[f"bus:{osm_id}"]
        assert row["tactile_paving"] == "yes" and row["source"] == "osm"
        for key in ("shelter", "bench", "lit", "departures_board"):
            assert row[key] == tags.get(key, "")


def test_directions_made_of_synthetic_ends_are_dropped_and_reported(
    feed: gk.Feed, built: FeedBuildResult
) -> None:
    report = built.report["bus"]
    dropped = {d["direction"] for d in report["cleanup"]["dropped_directions"]}
    # Route 248 direction 1 was one 42 km hop between two invented line ends; 214/1 and
    # 229/0 were 2-stop trips with one OSM stop.
    assert {"214/1", "229/0", "248/1"} <= dropped <= set(report["directions_lt2_stops"])
    for route_dir in dropped:
        route, direction = route_dir.split("/")
        trips = feed.trips[(feed.trips["route_id"] == f"bus:{route}")
                           & (feed.trips["direction_id"] == int(direction))]  # fmt: skip
        assert trips.empty
    synthetic = feed.stops[feed.stops["stop_id"].str.startswith("bus:synthetic:")]
    assert len(synthetic) == report["synthetic_stops"] == 0


def test_cleaned_trips_have_no_repeats_close_pairs_or_long_hops(
    feed: gk.Feed, built: FeedBuildResult
) -> None:
    cleanup = built.report["bus"]["cleanup"]
    limits = cleanup["thresholds"]
    st = feed.stop_times.merge(feed.stops[["stop_id", "stop_lat", "stop_lon"]], on="stop_id")
    st = st[st["trip_id"].str.startswith("bus:")].sort_values(["trip_id", "stop_sequence"])
    same_trip = st["trip_id"].to_numpy()[1:] == st["trip_id"].to_numpy()[:-1]
    ids = st["stop_id"].to_numpy()
    assert not (same_trip & (ids[1:] == ids[:-1])).any()
    lat, lon = np.radians(st["stop_lat"].to_numpy()), np.radians(st["stop_lon"].to_numpy())
    h = (np.sin(np.diff(lat) / 2) ** 2
         + np.cos(lat[1:]) * np.cos(lat[:-1]) * np.sin(np.diff(lon) / 2) ** 2)  # fmt: skip
    metres = 2 * 6_371_008.8 * np.arcsin(np.sqrt(h))
    assert (metres[same_trip] >= limits["merge_distance_m"]).all()
    hop_km = np.diff(st["shape_dist_traveled"].to_numpy())
    assert (hop_km[same_trip] * 1000 <= limits["max_hop_m"]).all()
    assert (st.groupby("trip_id").size() >= 2).all()
    # What changed is listed: the 6 repeated stops and the close pairs, by direction.
    assert cleanup["repeated_stops_removed"] == len(cleanup["repeated_stops"]) >= 6
    assert cleanup["close_stops_merged"] == len(cleanup["merged_stops"]) >= 9
    assert all(m["distance_m"] < limits["merge_distance_m"] for m in cleanup["merged_stops"])


# --------------------------------------------------------------------------- bad input


def _data_copy(shared_data: Path, tmp_path: Path) -> Path:
    """A data dir with the real metro and stops and a routes/ folder to fill."""
    root = tmp_path / "data" / "almaty"
    (root / "bus" / "routes").mkdir(parents=True)
    (root / "metro").symlink_to(shared_data / "almaty" / "metro")
    (root / "bus" / "bus_stops_overpass.json").symlink_to(
        shared_data / "almaty" / "bus" / "bus_stops_overpass.json"
    )
    shutil.copy(shared_data / "almaty/bus/routes/1.json", root / "bus/routes/1.json")
    return tmp_path / "data"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (
            '[{"routeId": 1, "directionIndex": 0, "line": [[43.2, 76.9], ["x", 76.9]]}]',
            "[0].line[1]",
        ),
        ('[{"routeId": 1, "directionIndex": 0, "line": [[43.2, 76.9]]}]', "[0].line"),
        ('[{"routeId": 1, "directionIndex": 0, "line": [[43.2], [43.3, 76.9]]}]', "[0].line[0]"),
        (
            '[{"routeId": 1, "directionIndex": 0, "line": [[143.2, 76.9], [43.3, 76.9]]}]',
            "[0].line[0]",
        ),
        (
            '[{"routeId": 1, "directionIndex": 3, "line": [[43.2, 76.9], [43.3, 76.9]]}]',
            "[0].directionIndex",
        ),
        ('{"line": []}', None),
        ('[{"routeId": 1,\n "line": [[43.2, 76.9],, ]}]', None),
    ],
)
def test_malformed_route_file_names_the_file(
    shared_data: Path, tmp_path: Path, content: str, field: str | None
) -> None:
    data = _data_copy(shared_data, tmp_path)
    bad = data / "almaty/bus/routes/77.json"
    bad.write_text(content, encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_almaty_feed(data)
    assert info.value.path == str(bad)
    assert "77.json" in info.value.message
    if field is not None:
        assert info.value.field == field
    if ",," in content:
        assert info.value.line == 2


def test_inconsistent_metro_timetable_raises(shared_data: Path, tmp_path: Path) -> None:
    data = _data_copy(shared_data, tmp_path)
    metro = data / "almaty" / "metro"
    metro.unlink()
    metro.mkdir()
    for name in ("stations.json", "holidays.json"):
        (metro / name).symlink_to(shared_data / "almaty/metro" / name)
    sched = json.loads((shared_data / "almaty/metro/schedule.json").read_text("utf-8"))
    alm = sched["stations"]["ALM"]["weekday"]["forward"]
    # shift every other departure by 100 s: half the trains no longer line up
    shifted = [(_secs(t) + (100 if k % 2 else 0)) % 86400 for k, t in enumerate(alm)]
    sched["stations"]["ALM"]["weekday"]["forward"] = [
        f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in shifted
    ]
    (metro / "schedule.json").write_text(json.dumps(sched), encoding="utf-8")
    with pytest.raises(DataError, match="inconsistent|ambiguous") as info:
        build_almaty_feed(data)
    assert info.value.path == str(metro / "schedule.json")


def test_service_config_overrides_and_errors(shared_data: Path, tmp_path: Path) -> None:
    raw = json.loads(Path(load_service_config().path).read_text("utf-8"))
    raw["bus"]["routes"] = {
        "1": {
            "bands": [
                {
                    "name": "allday",
                    "start": "05:30",
                    "end": "24:30",
                    "headway_min": 5,
                    "speed_kmh": 15,
                }
            ],
            "low_floor_share": 1,
        }
    }
    # GTFS numbers in the config (2 no, 1 yes): read as facts, written back as numbers.
    raw["metro"].update(wheelchair_boarding=2, wheelchair_accessible=1)
    raw["stops"]["wheelchair_limited_as"] = 1
    path = tmp_path / "service.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    result = build_almaty_feed(shared_data, service_config=path)
    freq = [f for f in result.table("frequencies") if f["trip_id"].startswith("bus:1:")]
    assert {(f["start_time"], f["end_time"], f["headway_secs"]) for f in freq} == {
        ("05:30:00", "24:30:00", 300)
    }
    trips = [t for t in result.table("trips") if t["route_id"] == "bus:1"]
    assert {t["wheelchair_accessible"] for t in trips} == {YES}
    assert result.report["bus"]["route_overrides"] == ["1"]
    written = load_feed(write_gtfs_zip(result, tmp_path / "feed.zip"))
    by_route = {
        route: {t.wheelchair_accessible for t in written.trips.values() if t.route_id == route}
        for route in ("bus:1", "metro:L1")
    }
    assert by_route == {"bus:1": {YES}, "metro:L1": {YES}}
    stops = written.stops.values()
    assert {s.wheelchair_boarding for s in stops if s.stop_id.startswith("metro:")} == {NO}
    limited = [s for s in result.table("stop_accessibility") if s["wheelchair"] == "limited"]
    assert limited and all(written.stops[s["stop_id"]].wheelchair_boarding == YES for s in limited)
    with zipfile.ZipFile(tmp_path / "feed.zip") as z:
        stops_txt = z.read("stops.txt").decode("utf-8")
    numbers = {row["wheelchair_boarding"] for row in csv.DictReader(io.StringIO(stops_txt))}
    assert numbers == {"0", "1", "2"}  # GTFS's numbers on disk

    raw["metro"]["wheelchair_boarding"] = -1  # a tristate code is not a GTFS number
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_almaty_feed(shared_data, service_config=path)
    assert info.value.field == "metro.wheelchair_boarding"
    raw["metro"]["wheelchair_boarding"] = 0

    raw["bus"]["default"]["bands"][1]["start"] = "08:00"  # overlaps the morning band
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(DataError) as info:
        build_almaty_feed(shared_data, service_config=path)
    assert info.value.path == str(path) and info.value.field == "bus.default.bands[1]"


# --------------------------------------------------------------------------- CLI


def test_cli_builds_the_zip_and_prints_the_report(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "almaty-gtfs.zip"
    assert main(["build", "--out", str(out), "--data", str(shared_data)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["out"] == str(out) and out.is_file()
    assert printed["metro"]["stations"] == 11
    report = gtfs_build_command(tmp_path / "b.zip", shared_data, None)
    assert report["bus"]["stops_matched"] == printed["bus"]["stops_matched"]


def test_cli_reports_data_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["build", "--out", str(tmp_path / "x.zip"), "--data", str(tmp_path)]) == 2
    assert "data_error" in capsys.readouterr().err
