"""Public transport subcommands: ``plan`` (one journey, like ``/plan``) and ``gtfs build``.

Both are registered with :func:`server.cli.command` and imported through
:data:`server.cli.COMMAND_MODULES`. Exit codes are those of ``route``: 0 success, 1 data
problem, 2 bad input, 3 no route.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from datasets.almaty.command import gtfs_build_command
from routing.errors import InvalidInputError, NoRouteError
from routing.transit.accessibility import read_transit_overlays
from routing.transit.planner import Plan, TransitPlanner
from server.cli import (
    EXIT_OK,
    add_graph_arguments,
    add_query_arguments,
    add_transit_arguments,
    command,
    format_metres,
    graph_sources,
    load_router,
    progress_printer,
    transit_feed,
)
from server.defaults import DATA_ENV, resolve_defaults
from server.jsonio import dumps
from server.params import PLAN_KEYS, PlanRequest, parse_key_value, parse_plan_request

#: How a ride leg's ``mode`` is named in text.
MODE_NAMES = {
    "bus": "Bus",
    "trolleybus": "Trolleybus",
    "metro": "Metro",
    "tram": "Tram",
    "rail": "Train",
}


# -- plan -------------------------------------------------------------------------------
@command("plan")
def _add_plan(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "plan", help="plan one journey by walking, bus and metro",
        description="Plan a journey with public transport for a profile and print its "
                    "itineraries, or with --json the exact body GET /plan would answer.",
    )  # fmt: skip
    add_graph_arguments(parser)
    add_transit_arguments(parser)
    add_query_arguments(parser, endpoint="/plan", example="43.2725,76.9440")
    parser.add_argument("--time", metavar="ISO",
                        help="departure, ISO 8601 (e.g. 2026-12-07T08:00; without an offset it "
                             "is the feed's local time, its agency_timezone); "
                             "default now")  # fmt: skip
    parser.add_argument("--max-transfers", dest="max_transfers", metavar="N",
                        help="vehicle changes allowed, 0 to 6 (default 3)")  # fmt: skip
    parser.add_argument("--arrive-by", dest="arrive_by", action="store_true",
                        help="--time is the latest arrival: the latest departures that arrive "
                             "by then")  # fmt: skip
    parser.add_argument("--window", metavar="MINUTES",
                        help="search every departure in this many minutes (0 to 180) and "
                             "list every Pareto journey")  # fmt: skip
    parser.add_argument("--num-itineraries", dest="num_itineraries", metavar="N",
                        help="how many itineraries to list, 1 to 12 (default 4)")  # fmt: skip
    parser.set_defaults(func=run_plan)
    return parser


def plan_values(args: argparse.Namespace) -> dict[str, Any]:
    """The options as the parameters of a ``/plan`` request (for :func:`parse_plan_request`).

    Raises
    ------
    InvalidInputError
        A ``--param`` is malformed, repeated, or names a field that has its own option.
    """
    values: dict[str, Any] = {"from": args.origin, "to": args.destination,
                              "profile": args.profile}  # fmt: skip
    if args.time is not None:
        values["time"] = args.time
    for key in ("max_transfers", "window", "num_itineraries"):
        if getattr(args, key) is not None:
            values[key] = getattr(args, key)
    if args.arrive_by:
        values["arrive_by"] = "true"
    seen: set[str] = set()
    for text in args.param:
        key, value = parse_key_value(text)
        if key in PLAN_KEYS:
            option = "--" + key.replace("_", "-")
            raise InvalidInputError(f"'{key}' is not a profile parameter: use {option}",
                                    field=key)  # fmt: skip
        if key in seen:
            raise InvalidInputError(f"'{key}' is given more than once", field=key)
        seen.add(key)
        values[key] = value
    return values


def run_plan(args: argparse.Namespace) -> int:
    """Parse like ``/plan`` does, load the graph and the feed, plan, print."""
    request = parse_plan_request(plan_values(args))
    progress = progress_printer()
    sources = graph_sources(args)
    gtfs = transit_feed(args, sources, required=True, progress=progress)
    assert gtfs is not None  # required=True raises instead
    router = load_router(sources, progress)
    overlays = list(args.transit_overlay or ())
    progress(f"transit: loading {gtfs}")
    planner = TransitPlanner.from_gtfs(
        router, gtfs, accessibility=read_transit_overlays(overlays) if overlays else None
    )
    try:
        found = plan_request(planner, request)
    except NoRouteError as err:
        if args.json:
            print(dumps({"error": err.to_dict()}))
        raise
    body = found.to_dict()
    print(dumps(body) if args.json else format_plan(body, request.profile.label))
    return EXIT_OK


def plan_request(planner: TransitPlanner, request: PlanRequest) -> Plan:
    """Answer a checked ``/plan`` request (shared by the endpoint and the CLI)."""
    return planner.plan(request.origin, request.destination, request.when, request.profile,
                        max_transfers=request.max_transfers, arrive_by=request.arrive_by,
                        window_s=request.window_s,
                        num_itineraries=request.num_itineraries)  # fmt: skip


def format_plan(body: dict[str, Any], label: str = "") -> str:
    """A ``/plan`` body as readable text: one numbered block per itinerary.

    Parameters
    ----------
    body
        ``Plan.to_dict()``.
    label
        The profile's readable name.

    Returns
    -------
    str
        A heading, then per itinerary its times and summary, its legs ("Walk 350 m to X",
        "Metro Line 1 from X 08:10 to Y 08:37 (towards Z)") and its warnings.
    """
    requested = dt.datetime.fromisoformat(body["time"])
    who = f"{label} ({body['profile']})" if label else body["profile"]
    count = len(body["itineraries"])
    found = f"{count} itinerary" if count == 1 else f"{count} itineraries"
    lines = [f"Journeys for {who}, leaving {requested:%Y-%m-%d %H:%M} "
             f"(UTC{_offset(requested)}): {found}."]  # fmt: skip
    for number, itinerary in enumerate(body["itineraries"], 1):
        lines += ["", _itinerary_heading(number, itinerary, requested.date())]
        width = len(str(len(itinerary["legs"])))
        for i, leg in enumerate(itinerary["legs"], 1):
            lines.append(f"  {i:>{width}}. {describe_leg(leg, requested.date())}")
        if itinerary["warnings"]:
            lines.append("  Warnings:")
            lines += [f"  - {w['message']}" for w in itinerary["warnings"]]
    return "\n".join(lines)


def describe_leg(leg: dict[str, Any], day: dt.date | None = None) -> str:
    """One leg as a sentence: a walk ("Walk 350 m to X") or a ride ("Bus 55 from X ...")."""
    to_name = _place(leg["to"])
    if leg["mode"] == "walk":
        minutes = _minutes(leg.get("duration_s", 0))
        if leg.get("distance_m") is None:
            return f"Walk about {minutes} to {to_name}."
        return f"Walk {format_metres(leg['distance_m'])} to {to_name} ({minutes})."
    mode = MODE_NAMES.get(leg["mode"], leg["mode"].capitalize())
    route = str(leg.get("route") or "").strip()
    name = route if mode.lower() in route.lower() else f"{mode} {route}".strip()
    text = (f"{name} from {_place(leg['from'])} {_clock(leg['departure'], day)} to {to_name} "
            f"{_clock(leg['arrival'], day)}")  # fmt: skip
    if leg.get("headsign"):
        text += f" (towards {leg['headsign']})"
    return text + "."


def _itinerary_heading(number: int, itinerary: dict[str, Any], day: dt.date) -> str:
    changes = itinerary["transfers"]
    parts = [
        f"Itinerary {number}: {_clock(itinerary['departure'], day)} to "
        f"{_clock(itinerary['arrival'], day)}, {_minutes(itinerary['duration_s'])}",
        f"{changes} change{'' if changes == 1 else 's'}",
        f"walking {format_metres(itinerary['walk_distance_m'])}",
    ]
    return "; ".join(parts) + "."


def _place(stop: dict[str, Any]) -> str:
    name = stop.get("name") or ""
    if name in ("origin", "destination") and "stop_id" not in stop:
        return "the start" if name == "origin" else "your destination"
    return name or f"{stop['lat']:.5f}, {stop['lon']:.5f}"


def _clock(text: str, day: dt.date | None) -> str:
    when = dt.datetime.fromisoformat(text)
    shown = f"{when:%H:%M}"
    if day is not None and when.date() != day:
        shown += f" ({when:%a %d %b})"
    return shown


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return "under 1 min" if minutes < 1 else f"{minutes} min"


def _offset(when: dt.datetime) -> str:
    offset = when.utcoffset() or dt.timedelta()
    sign = "-" if offset < dt.timedelta() else "+"
    total = abs(int(offset.total_seconds())) // 60
    return f"{sign}{total // 60:02d}:{total % 60:02d}"


# -- gtfs build -------------------------------------------------------------------------
@command("gtfs")
def _add_gtfs(subparsers: Any) -> argparse.ArgumentParser:
    defaults = resolve_defaults()
    parser = subparsers.add_parser(
        "gtfs", help="GTFS feeds built from the Almaty data",
        description="GTFS feeds built from the Almaty data (metro timetable, bus routes and "
                    "stops).",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="gtfs_command", metavar="COMMAND", required=True)
    build = sub.add_parser(
        "build", help="build the Almaty metro + bus GTFS zip",
        description="Build the Almaty metro + bus GTFS zip and print the build report (JSON) "
                    "with the metro and bus counts and every warning.",
    )  # fmt: skip
    build.add_argument("--out", type=Path, required=True, metavar="PATH",
                       help="GTFS zip to write")  # fmt: skip
    build.add_argument("--data", type=Path, metavar="DIR",
                       help=f"Almaty data folder holding metro/ and bus/ (default "
                            f"{defaults.transit_dir}; set {DATA_ENV} to use another data "
                            "folder)")  # fmt: skip
    build.add_argument("--service-config", type=Path, metavar="PATH", dest="service_config",
                       help="service assumptions JSON (default: the packaged "
                            "datasets/almaty/service.json)")  # fmt: skip
    build.set_defaults(func=run_gtfs_build)
    return parser


def run_gtfs_build(args: argparse.Namespace) -> int:
    """Build the feed with :func:`gtfs_build_command` and print its report as JSON."""
    data = args.data if args.data is not None else resolve_defaults().transit_dir
    report = gtfs_build_command(args.out, data, args.service_config)
    print(dumps(report, indent=2))
    return EXIT_OK
