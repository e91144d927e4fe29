"""Tests of routing.transit.gtfs: reading feeds from folders and zips, and every error."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from routing.clock import parse_time
from routing.errors import GtfsError
from routing.transit.gtfs import NO_TIME, Feed, active_service_ids, load_feed
from routing.tristate import NO, UNKNOWN

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"


def copy_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "feed"
    shutil.copytree(FIXTURE, folder)
    return folder


def set_line(folder: Path, name: str, line: int, text: str) -> None:
    """Replace line ``line`` (1 = header) of ``name``; ``text`` may be several lines."""
    lines = (folder / name).read_text(encoding="utf-8").splitlines()
    lines[line - 1] = text
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def zip_folder(folder: Path, path: Path, *, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, prefix + file.name)
    return path


# --------------------------------------------------------------------------------------
# Reading a good feed
# --------------------------------------------------------------------------------------


def test_reads_every_table(feed: Feed) -> None:
    assert list(feed.agencies) == ["ALA"]
    assert feed.agencies["ALA"].agency_timezone == "Asia/Almaty"
    assert len(feed.stops) == 12
    assert feed.stops["B5"].stop_name == "Abai, metro bus"  # quoted comma
    assert feed.stops["M_ABAI"].parent_station == "ST_ABAI"
    assert feed.stops["M_ABAI"].wheelchair_boarding == UNKNOWN  # as written; inheritance is later
    assert feed.stops["ST_ABAI"].location_type == 1
    assert feed.stops["E_ABAI"].location_type == 2
    assert feed.stops["M_RAIYM"].platform_code == "1"
    assert feed.routes["M1"].route_type == 1
    assert feed.routes["R12"].route_short_name == "12"
    assert feed.trips["R12_0900"].wheelchair_accessible == NO  # GTFS 2
    assert feed.trips["N1_2340"].wheelchair_accessible == UNKNOWN  # GTFS 0
    assert feed.trips["X9_1000"].direction_id is None
    assert feed.trips["R12_0800"].shape_id == "SH12"
    assert feed.calendars["WD"].weekdays == (True,) * 5 + (False,) * 2
    assert feed.calendars["WE"].start_date == dt.date(2024, 1, 1)
    assert [(c.service_id, c.exception_type) for c in feed.calendar_dates] == [
        ("WD", 2), ("WE", 1), ("SPECIAL", 1),
    ]  # fmt: skip
    assert feed.frequencies_of("M1_FREQ")[1].headway_secs == 600
    assert [f.exact_times for f in feed.frequencies_of("M1_FREQ")] == [1, 0]
    assert feed.frequencies_of("R12_0800") == ()
    b5_to_abai = feed.transfers[0]
    assert (b5_to_abai.from_stop_id, b5_to_abai.to_stop_id) == ("B5", "M_ABAI")
    assert (b5_to_abai.transfer_type, b5_to_abai.min_transfer_time) == (2, 180)
    assert feed.transfers[3].min_transfer_time is None  # ST_ALMALY, type 3
    shape = feed.shapes["SH12"]
    assert shape.lat.tolist() == [43.24, 43.245, 43.25, 43.26]
    assert shape.dist_traveled[-1] == 2900
    assert "transfers.txt" in feed.files and "shapes.txt" in feed.files


def test_timezone_is_the_agencies_one(feed: Feed) -> None:
    assert feed.timezone == "Asia/Almaty"
    (agency,) = feed.agencies.values()
    other = dataclasses.replace(agency, agency_id="B", agency_timezone="Europe/Helsinki")
    for agencies in ({}, {"A": agency, "B": other}):  # the loader lets neither through
        with pytest.raises(GtfsError, match="agency_timezone"):
            _ = dataclasses.replace(feed, agencies=agencies).timezone


def test_stop_times_are_columns_sorted_by_trip_and_sequence(feed: Feed) -> None:
    st = feed.stop_times
    assert len(st) == 22
    rows = st.rows_of(feed.trip_index["N1_2340"])
    assert [feed.stop_ids[s] for s in st.stop[rows]] == ["B1", "B2", "B4"]
    assert st.departure[rows].tolist() == [parse_time("23:40:00"), 87000, 88800]  # past 24h
    r32 = st.rows_of(feed.trip_index["R32_0802"])
    assert st.arrival[r32].tolist() == [28920, NO_TIME, 29520]  # untimed stop stays empty
    r12 = st.rows_of(feed.trip_index["R12_0800"])
    assert st.drop_off_type[r12].tolist() == [1, 0, 0, 0]
    assert st.pickup_type[r12].tolist() == [0, 0, 0, 1]
    assert st.shape_dist_traveled[r12].tolist() == [0, 700, 1400, 2900]
    assert st.line[r12].tolist() == [2, 3, 4, 5]
    assert np.all(np.diff(st.trip) >= 0)


def test_feed_is_read_only(feed: Feed) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        feed.path = "elsewhere"  # type: ignore[misc]
    with pytest.raises(TypeError):
        feed.stops["NEW"] = feed.stops["B1"]  # type: ignore[index]
    with pytest.raises(ValueError):
        feed.stop_times.arrival[0] = 0
    with pytest.raises(dataclasses.FrozenInstanceError):
        feed.stops["B1"].stop_name = "x"  # type: ignore[misc]


def test_zip_reads_like_the_folder(tmp_path: Path, feed: Feed) -> None:
    for prefix in ("", "almaty_mini/"):  # files at the root, or zipped with their folder
        zipped = load_feed(zip_folder(FIXTURE, tmp_path / f"feed{len(prefix)}.zip", prefix=prefix))
        assert zipped.stop_ids == feed.stop_ids
        assert zipped.trips == feed.trips
        assert zipped.calendar_dates == feed.calendar_dates
        assert zipped.transfers == feed.transfers
        for column in ("trip", "stop", "arrival", "departure", "pickup_type", "line"):
            assert np.array_equal(
                getattr(zipped.stop_times, column), getattr(feed.stop_times, column)
            )


def test_bom_crlf_blank_lines_and_spaces_are_accepted(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    text = (folder / "stops.txt").read_text(encoding="utf-8")
    text = text.replace("B1,101,Dostyk", " B1 , 101 ,Dostyk").replace("stop_id,", "stop_id ,", 1)
    text = text.replace("\nB2,", "\n\nB2,")  # a blank line inside
    (folder / "stops.txt").write_bytes(("\ufeff" + text + "\n").replace("\n", "\r\n").encode())
    feed = load_feed(folder)
    assert feed.stop_ids[0] == "B1"
    assert feed.stops["B1"].stop_code == "101"


@pytest.mark.parametrize(
    ("date", "services"),
    [
        ("2024-03-05", {"WD"}),  # Tuesday
        ("2024-03-08", {"WE"}),  # Friday holiday: weekday service removed, weekend added
        ("2024-03-09", {"WE"}),  # Saturday
        ("2024-03-22", {"WD", "SPECIAL"}),  # Friday + a service that only calendar_dates adds
        ("2023-12-31", set()),  # before the calendar starts
        ("2025-01-01", set()),
    ],
)
def test_active_service_ids(feed: Feed, date: str, services: set[str]) -> None:
    assert active_service_ids(feed, dt.date.fromisoformat(date)) == services


# --------------------------------------------------------------------------------------
# Broken feeds: each error names the file, the line and the field
# --------------------------------------------------------------------------------------

# (file, line to replace, new text, expected line, field, message after "file line N: ")
BROKEN = [
    ("stop_times.txt", 3, "R12_0800,08:10:00,8:6x:00,B2,2,0,0,700", 3, "departure_time",
     "departure_time '8:6x:00' is not HH:MM:SS"),
    ("stop_times.txt", 5, "R12_0800,08:50:00,08:50:00,B99,4,1,0,2900", 5, "stop_id",
     "stop_id 'B99' is not in stops.txt"),
    ("stop_times.txt", 2, "R12_0700,08:00:00,08:00:00,B1,1,0,1,0", 2, "trip_id",
     "trip_id 'R12_0700' is not in trips.txt"),
    ("stop_times.txt", 4, "R12_0800,08:30:00,08:30:00,B3,2,0,0,1400", 4, "stop_sequence",
     "stop_sequence 2 repeats in trip (first at line 3)"),
    ("stop_times.txt", 4, "R12_0800,08:05:00,08:30:00,B3,3,0,0,1400", 4, "arrival_time",
     "arrival_time 08:05:00 is before the previous stop's time 08:10:00"),
    ("stop_times.txt", 4, "R12_0800,08:30:00,08:20:00,B3,3,0,0,1400", 4, "departure_time",
     "departure_time 08:20:00 is before arrival_time 08:30:00"),
    ("stop_times.txt", 13, "M1_FREQ,06:00:00,06:00:00,ST_ABAI,1,,,", 13, "stop_id",
     "stop_id 'ST_ABAI' has location_type 1; stop_times must use stops or platforms (0)"),
    ("stop_times.txt", 19, "N1_2340,,,B1,1,,,", 19, "arrival_time",
     "arrival_time and departure_time are empty at the first stop of the trip"),
    ("stop_times.txt", 9, "R12_0900,09:50:00,09:50:00,B4,four,1,0,2900", 9, "stop_sequence",
     "stop_sequence 'four' is not a non-negative integer"),
    ("stop_times.txt", 9, "R12_0900,09:50:00,09:50:00,B4,4,7,0,2900", 9, "pickup_type",
     "pickup_type '7' is not 0-3"),
    ("stop_times.txt", 6, "R12_0900,09:00:00,09:00:00,B1,1,0,1,0,extra", 6, None,
     "row has 9 fields but the header has 8"),
    ("trips.txt", 2, "R99,WD,R12_0800,Raiymbek,0,SH12,1", 2, "route_id",
     "route_id 'R99' is not in routes.txt"),
    ("trips.txt", 3, "R12,HOLIDAY,R12_0900,Raiymbek,0,SH12,2", 3, "service_id",
     "service_id 'HOLIDAY' is not in calendar.txt or calendar_dates.txt"),
    ("trips.txt", 3, "R12,WD,R12_0900,Raiymbek,0,SH12,5", 3, "wheelchair_accessible",
     "wheelchair_accessible '5' is not one of 0, 1, 2"),
    ("trips.txt", 3, "R12,WD,R12_0900,Raiymbek,0,SH99,2", 3, "shape_id",
     "shape_id 'SH99' is not in shapes.txt"),
    ("trips.txt", 4, "R32,WD,R12_0800,Abai metro,0,,1", 4, "trip_id",
     "trip_id 'R12_0800' duplicates line 2"),
    ("trips.txt", 1, "route_id,service_id,trip,trip_headsign,direction_id,shape_id,"
     "wheelchair_accessible", 1, "trip_id", "required field 'trip_id' is missing from the header"),
    ("stops.txt", 1, "stop_code,stop_code,stop_name,stop_lat,stop_lon,location_type,"
     "parent_station,wheelchair_boarding,platform_code", 1, "stop_id",
     "required field 'stop_id' is missing from the header"),
    ("stops.txt", 3, "B2,102,Kazybek bi,95.0,76.9450,0,,1,", 3, "stop_lat",
     "stop_lat '95.0' is outside [-90, 90]"),
    ("stops.txt", 4, "B3,103,,43.2500,76.9400,0,,2,", 4, "stop_name",
     "required field stop_name is empty"),
    ("stops.txt", 8, "M_ABAI,,Abai platform,43.2425,76.9371,0,ST_NOWHERE,0,1", 8,
     "parent_station", "parent_station 'ST_NOWHERE' is not in stops.txt"),
    ("stops.txt", 8, "M_ABAI,,Abai platform,43.2425,76.9371,0,B1,0,1", 8, "parent_station",
     "parent_station 'B1' has location_type 0, expected 1"),
    ("stops.txt", 9, "E_ABAI,,Abai entrance 1,43.2427,76.9368,2,,1,", 9, "parent_station",
     "parent_station is required for location_type 2"),
    ("stops.txt", 6, "B1,105,Copy,43.2420,76.9380,0,,0,", 6, "stop_id",
     "stop_id 'B1' duplicates line 2"),
    ("stops.txt", 6, "B5,105,Abai,43.2420,76.9380,0,,3,", 6, "wheelchair_boarding",
     "wheelchair_boarding '3' is not one of 0, 1, 2"),
    ("routes.txt", 2, "R12,ALA,,,3", 2, "route_short_name",
     "route_short_name and route_long_name are both empty"),
    ("routes.txt", 3, "R32,BUS,32,Dostyk - Abai metro,3", 3, "agency_id",
     "agency_id 'BUS' is not in agency.txt"),
    ("routes.txt", 4, "M1,ALA,M1,Metro line 1,99", 4, "route_type",
     "route_type '99' is not a valid route_type"),
    ("agency.txt", 2, "ALA,Almaty Transport,https://example.kz,Asia/Alma_Ata_Nowhere,ru", 2,
     "agency_timezone", "agency_timezone 'Asia/Alma_Ata_Nowhere' is not an IANA time zone"),
    ("calendar.txt", 2, "WD,1,1,1,1,1,0,0,2024-01-01,20241231", 2, "start_date",
     "start_date '2024-01-01' is not a YYYYMMDD date"),
    ("calendar.txt", 3, "WE,0,0,0,0,0,1,2,20240101,20241231", 3, "sunday",
     "sunday '2' is not one of 0, 1"),
    ("calendar.txt", 3, "WE,0,0,0,0,0,1,1,20240101,20231231", 3, "end_date",
     "end_date 20231231 is before start_date 20240101"),
    ("calendar_dates.txt", 3, "WE,20240308,3", 3, "exception_type",
     "exception_type '3' is not one of 1, 2"),
    ("calendar_dates.txt", 3, "WD,20240308,1", 3, "date", "date '20240308' duplicates line 2"),
    ("frequencies.txt", 3, "M1_FREQ,10:00:00,23:00:00,0,0", 3, "headway_secs",
     "headway_secs '0' is less than 1"),
    ("frequencies.txt", 4, "M1_NIGHT,07:00:00,22:00:00,600,0", 4, "trip_id",
     "trip_id 'M1_NIGHT' is not in trips.txt"),
    ("frequencies.txt", 3, "M1_FREQ,09:00:00,23:00:00,600,0", 3, "start_time",
     "interval of trip 'M1_FREQ' overlaps the one at line 2"),
    ("frequencies.txt", 4, "M1_WE,22:00:00,07:00:00,600,0", 4, "end_time",
     "end_time 07:00:00 is not after start_time 22:00:00"),
    ("transfers.txt", 2, "B5,M_NOWHERE,2,180", 2, "to_stop_id",
     "to_stop_id 'M_NOWHERE' is not in stops.txt"),
    ("transfers.txt", 3, "M_ABAI,B5,2,-5", 3, "min_transfer_time",
     "min_transfer_time '-5' is less than 0"),
    ("transfers.txt", 4, ",B2,2,120", 4, "from_stop_id", "required field from_stop_id is empty"),
    ("shapes.txt", 3, "SH12,43.2450,76.9450,1,700", 3, "shape_pt_sequence",
     "shape_pt_sequence 1 repeats in shape 'SH12'"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "line", "text", "error_line", "field", "message"),
    BROKEN,
    ids=[f"{b[0]}:{b[1]}:{b[4]}" for b in BROKEN],
)
def test_broken_feed_errors_name_file_line_and_field(
    tmp_path: Path,
    name: str,
    line: int,
    text: str,
    error_line: int,
    field: str | None,
    message: str,
) -> None:
    folder = copy_fixture(tmp_path)
    set_line(folder, name, line, text)
    with pytest.raises(GtfsError) as caught:
        load_feed(folder)
    error = caught.value
    assert str(error) == f"{name} line {error_line}: {message}"
    assert error.path == str(folder / name)
    assert error.line == error_line
    assert error.field == field
    assert error.to_dict()["code"] == "gtfs_error"


def test_errors_in_a_zip_name_the_member(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    set_line(folder, "stop_times.txt", 3, "R12_0800,08:10:00,8:6x:00,B2,2,0,0,700")
    archive = zip_folder(folder, tmp_path / "broken.zip")
    with pytest.raises(GtfsError, match=r"^stop_times.txt line 3: departure_time") as caught:
        load_feed(archive)
    assert caught.value.path == str(archive / "stop_times.txt")


@pytest.mark.parametrize("name", ["agency.txt", "stops.txt", "routes.txt", "trips.txt",
                                  "stop_times.txt"])  # fmt: skip
def test_missing_required_file(tmp_path: Path, name: str) -> None:
    folder = copy_fixture(tmp_path)
    (folder / name).unlink()
    with pytest.raises(GtfsError, match=f"^{name}: required file is missing") as caught:
        load_feed(folder)
    assert caught.value.path == str(folder / name)
    assert caught.value.line is None


def test_feed_needs_calendar_or_calendar_dates(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    (folder / "calendar.txt").unlink()
    # calendar_dates alone is enough when it defines every service...
    set_line(folder, "calendar_dates.txt", 2, "WD,20240308,1")
    load_feed(folder)
    # ...and a trip whose service only calendar.txt defined is an error without it.
    set_line(folder, "calendar_dates.txt", 2, "XX,20240308,1")
    with pytest.raises(GtfsError, match=r"^trips.txt line 2: service_id 'WD'"):
        load_feed(folder)
    (folder / "calendar_dates.txt").unlink()
    with pytest.raises(GtfsError, match="neither calendar.txt nor calendar_dates.txt"):
        load_feed(folder)


def test_empty_file_and_missing_feed(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    (folder / "routes.txt").write_text("", encoding="utf-8")
    with pytest.raises(GtfsError, match=r"^routes.txt: file is empty"):
        load_feed(folder)
    with pytest.raises(GtfsError, match="GTFS feed not found"):
        load_feed(tmp_path / "nowhere")
    (tmp_path / "not.zip").write_text("hello", encoding="utf-8")
    with pytest.raises(GtfsError, match="not a GTFS zip file or folder"):
        load_feed(tmp_path / "not.zip")


def test_agency_id_is_required_with_two_agencies(tmp_path: Path) -> None:
    folder = copy_fixture(tmp_path)
    set_line(folder, "agency.txt", 2,
             ",Almaty Transport,https://example.kz,Asia/Almaty,ru\n"
             "METRO,Almaty Metro,https://metro.kz,Asia/Almaty,ru")  # fmt: skip
    with pytest.raises(GtfsError) as caught:
        load_feed(folder)
    assert str(caught.value) == (
        "agency.txt line 2: agency_id is required when there are 2+ agencies"
    )
