"""The Almaty feed assembled from metro and bus tables, and written as a GTFS zip.

Files written
-------------
agency, stops, routes, trips, stop_times, calendar, calendar_dates, frequencies, shapes,
feed_info, plus attributions (OpenStreetMap, ODbL), translations (kk/en stop names from
``name:kk``/``name:en``; primary names are Russian, ``feed_lang=ru``) and the extra
``stop_accessibility.txt``. Stops without a name in OSM are called "Остановка без
названия" ("Unnamed stop"). The metro shape joins the stations with straight lines (no
track geometry in the data). The zip is byte-for-byte reproducible.
"""

from __future__ import annotations

import csv
import io
import logging
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from datasets.almaty._common import ACCESS_TAGS, TIMEZONE, WEEKDAYS, resolve_almaty_dir
from datasets.almaty.bus_lines import build_buses, bus_service_id
from datasets.almaty.metro import build_metro
from datasets.almaty.service import load_service_config
from routing.cache import atomic_write
from routing.transit.gtfs import ACCESSIBILITY_TO_GTFS

logger = logging.getLogger(__name__)

# Column order of every file written; GTFS readers match columns by name.
FIELDS: dict[str, tuple[str, ...]] = {
    "agency": ("agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang"),
    "stops": (
        "stop_id",
        "stop_code",
        "stop_name",
        "stop_desc",
        "stop_lat",
        "stop_lon",
        "location_type",
        "wheelchair_boarding",
    ),
    "routes": (
        "route_id",
        "agency_id",
        "route_short_name",
        "route_long_name",
        "route_desc",
        "route_type",
    ),
    "trips": (
        "route_id",
        "service_id",
        "trip_id",
        "trip_headsign",
        "direction_id",
        "shape_id",
        "wheelchair_accessible",
    ),
    "stop_times": (
        "trip_id",
        "arrival_time",
        "departure_time",
        "stop_id",
        "stop_sequence",
        "shape_dist_traveled",
        "timepoint",
    ),
    "calendar": (
        "service_id",
        *WEEKDAYS,
        "start_date",
        "end_date",
    ),
    "calendar_dates": ("service_id", "date", "exception_type"),
    "frequencies": ("trip_id", "start_time", "end_time", "headway_secs", "exact_times"),
    "shapes": (
        "shape_id",
        "shape_pt_lat",
        "shape_pt_lon",
        "shape_pt_sequence",
        "shape_dist_traveled",
    ),
    "feed_info": (
        "feed_publisher_name",
        "feed_publisher_url",
        "feed_lang",
        "feed_start_date",
        "feed_end_date",
        "feed_version",
    ),
    "attributions": (
        "attribution_id",
        "organization_name",
        "is_producer",
        "is_operator",
        "is_authority",
        "attribution_url",
    ),
    "translations": ("table_name", "field_name", "language", "translation", "record_id"),
    "stop_accessibility": ("stop_id", *ACCESS_TAGS, "source"),
}
"""GTFS files written, in zip order, with their columns (``stop_accessibility`` is extra)."""

# Columns that hold routing.tristate codes in the built tables and GTFS's numbers on disk.
_ACCESSIBILITY_COLUMNS = {"stops": "wheelchair_boarding", "trips": "wheelchair_accessible"}


# --------------------------------------------------------------------------- results


@dataclass
class FeedBuildResult:
    """A built feed: GTFS tables as rows, and figures describing the build.

    Attributes
    ----------
    tables : dict of str to list of dict
        GTFS file stem (``"stops"``, ``"stop_times"``, ...) to its rows; the columns of
        each file are :data:`FIELDS`. ``wheelchair_boarding`` and ``wheelchair_accessible``
        hold :mod:`routing.tristate` codes; :func:`write_gtfs_zip` writes GTFS's numbers.
    report : dict
        Figures of the build (metro trips, run-time spread, stops matched, routes kept,
        ...) and ``warnings``, a list of plain-language strings.
    """

    tables: dict[str, list[dict[str, Any]]]
    report: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> list[dict[str, Any]]:
        """Rows of one GTFS file (empty list when absent)."""
        return self.tables.get(name, [])


def build_almaty_feed(
    data_dir: Path,
    *,
    service_config: Path | None = None,
    run_time_tolerance_s: float = 45.0,
    min_match_share: float = 0.9,
) -> FeedBuildResult:
    """Build the GTFS tables of Almaty's metro and buses from the real data.

    Parameters
    ----------
    data_dir : Path
        The shared data directory (holding ``almaty/``) or its ``almaty`` folder.
    service_config : Path, optional
        Service assumptions (default: packaged ``datasets/almaty/service.json``).
    run_time_tolerance_s : float
        Metro matching window around the median run time of a segment.
    min_match_share : float
        Least share of a segment's departures that must match, else DataError.

    Returns
    -------
    FeedBuildResult
        Tables (see :data:`FIELDS`) and the build report.

    Raises
    ------
    DataError
        An input file is missing or malformed, or the metro timetable is inconsistent.
    """
    t0 = time.perf_counter()
    config = load_service_config(service_config)
    root = resolve_almaty_dir(Path(data_dir))
    metro_tables, metro_report, metro_warn = build_metro(
        root / "metro",
        config,
        run_time_tolerance_s=run_time_tolerance_s,
        min_match_share=min_match_share,
    )
    bus_tables, bus_report, bus_warn, bus_services = build_buses(root / "bus", config)

    start, end = config.start_date.strftime("%Y%m%d"), config.end_date.strftime("%Y%m%d")
    calendar = [
        {
            "service_id": "weekday",
            **{d: int(i < 5) for i, d in enumerate(WEEKDAYS)},
            "start_date": start,
            "end_date": end,
        },
        {
            "service_id": "weekend",
            **{d: int(i >= 5) for i, d in enumerate(WEEKDAYS)},
            "start_date": start,
            "end_date": end,
        },
    ]
    for sid in sorted(bus_services):
        days = next(
            svc.days
            for svc in (config.bus_default, *config.bus_routes.values())
            if bus_service_id(svc.days) == sid
        )
        calendar.append(
            {
                "service_id": sid,
                **{d: int(d in days) for d in WEEKDAYS},
                "start_date": start,
                "end_date": end,
            }
        )

    agency = [
        {
            "agency_id": key,
            "agency_name": config.agencies[key]["name"],
            "agency_url": config.agencies[key]["url"],
            "agency_timezone": TIMEZONE,
            "agency_lang": config.agencies[key].get("lang", "ru"),
        }
        for key in ("metro", "bus")
    ]
    sources = (
        ("metro", metro_report.get("schedule_generated_at")),
        ("osm", bus_report.get("osm_base")),
    )
    version = "; ".join(f"{name} {str(v)[:10]}" for name, v in sources if v)
    feed_info = [
        {
            "feed_publisher_name": config.feed_info["publisher_name"],
            "feed_publisher_url": config.feed_info["publisher_url"],
            "feed_lang": config.feed_info.get("lang", "ru"),
            "feed_start_date": start,
            "feed_end_date": end,
            "feed_version": version,
        }
    ]
    attributions = [
        {
            "attribution_id": "osm",
            "organization_name": "OpenStreetMap contributors (ODbL 1.0)",
            "is_producer": 1,
            "is_operator": 0,
            "is_authority": 0,
            "attribution_url": "https://www.openstreetmap.org/copyright",
        }
    ]
    metro_access = [
        {"stop_id": r["stop_id"], **dict.fromkeys(ACCESS_TAGS, ""), "source": "metro"}
        for r in metro_tables["stops"]
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        "agency": agency,
        "stops": metro_tables["stops"] + bus_tables["stops"],
        "routes": metro_tables["routes"] + bus_tables["routes"],
        "trips": metro_tables["trips"] + bus_tables["trips"],
        "stop_times": metro_tables["stop_times"] + bus_tables["stop_times"],
        "calendar": calendar,
        "calendar_dates": metro_tables["calendar_dates"],
        "frequencies": bus_tables["frequencies"],
        "shapes": metro_tables["shapes"] + bus_tables["shapes"],
        "feed_info": feed_info,
        "attributions": attributions,
        "translations": metro_tables["translations"] + bus_tables["translations"],
        "stop_accessibility": metro_access + bus_tables["stop_accessibility"],
    }
    warnings = metro_warn + bus_warn
    for w in warnings:
        logger.warning("%s", w)
    report = {
        "metro": metro_report,
        "bus": bus_report,
        "service_config": config.path,
        "calendar": {
            "start_date": start,
            "end_date": end,
            "services": [c["service_id"] for c in calendar],
        },
        "rows": {k: len(v) for k, v in tables.items()},
        "warnings": warnings,
        "build_seconds": round(time.perf_counter() - t0, 2),
    }
    return FeedBuildResult(tables=tables, report=report)


def _csv_bytes(rows: list[dict[str, Any]], columns: Sequence[str]) -> bytes:
    buf = io.StringIO()
    writer = csv.DictWriter(
        buf, fieldnames=list(columns), extrasaction="raise", lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_gtfs_zip(result: FeedBuildResult, out_path: Path) -> Path:
    """Write the feed as a GTFS zip (plus ``stop_accessibility.txt``).

    Parameters
    ----------
    result : FeedBuildResult
        A built feed.
    out_path : Path
        The zip to write (parent folders are created; an existing file is replaced).

    Returns
    -------
    Path
        ``out_path``.
    """
    out_path = Path(out_path)

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, columns in FIELDS.items():
                rows = result.tables.get(name)
                if not rows:
                    continue
                column = _ACCESSIBILITY_COLUMNS.get(name)
                if column:
                    rows = [{**row, column: ACCESSIBILITY_TO_GTFS[row[column]]} for row in rows]
                # fixed timestamp: the same inputs give a byte-identical zip
                info = zipfile.ZipInfo(f"{name}.txt", date_time=(2026, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, _csv_bytes(rows, columns))

    # A unique temporary name, renamed into place: never a half-written feed, and two
    # processes writing at once do not share a temporary file.
    atomic_write(out_path, write)
    return out_path
