"""Dispatch subcommands: ``dispatch solve`` (a DARP instance), ``dispatch plan`` (a city day)
and ``dispatch validate`` (check a plan). Registered through :data:`server.cli.COMMAND_MODULES`.

Exit codes: 0 success (``validate``: the plan is valid), 1 failure or an invalid plan,
2 bad input.

The dispatch engine (OR-Tools, osmium: ~30 MB) is imported by the command that runs, not
when the parser is built: ``serve`` builds the same parser and keeps its memory.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from routing.errors import DataError, InvalidInputError
from server.cli import (
    EXIT_FAILURE,
    EXIT_OK,
    add_graph_arguments,
    add_transit_arguments,
    command,
    graph_sources,
    load_router,
    progress_printer,
    transit_feed,
)
from server.defaults import resolve_defaults
from server.jsonio import dumps


@command("dispatch")
def _add_dispatch(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "dispatch",
        help="plan Invataxi trips (dial-a-ride)",
        description="Plan a day of door-to-door trips, solve a literature DARP instance, or "
        "check a plan with the independent validator.",
    )
    sub = parser.add_subparsers(dest="dispatch_command", metavar="ACTION", required=True)

    solve_p = sub.add_parser(
        "solve",
        help="solve a Cordeau DARP instance",
        description="Solve a DARP instance in the Cordeau format and print "
        "the total distance and the routes.",
    )
    solve_p.add_argument("--darp", type=Path, required=True, metavar="FILE")
    solve_p.add_argument("--time-limit", type=float, default=30.0, metavar="S")
    solve_p.add_argument(
        "--json", action="store_true", help='print {"cost": ..., "routes": [[node ids], ...]}'
    )
    solve_p.add_argument(
        "--plan-out",
        type=Path,
        metavar="FILE",
        help="also write the full plan (with times) as JSON",
    )
    solve_p.set_defaults(func=_solve)

    plan_p = sub.add_parser(
        "plan",
        help="plan a city day on the car network",
        description="Plan a day of bookings (a JSON day file, or a generated "
        "Almaty day) and print the KPIs.",
    )
    source = plan_p.add_mutually_exclusive_group(required=True)
    source.add_argument("--day", type=Path, metavar="FILE", help="a day as JSON")
    source.add_argument("--generate", type=int, metavar="N", help="generate N bookings")
    plan_p.add_argument("--vehicles", type=int, default=40, metavar="V")
    plan_p.add_argument("--seed", type=int, default=0)
    plan_p.add_argument("--save-day", type=Path, metavar="FILE", help="write the day used")
    _add_network_arguments(plan_p)
    plan_p.add_argument("--time-limit", type=float, default=60.0, metavar="S")
    plan_p.add_argument("--out", type=Path, metavar="FILE", help="write the plan as JSON")
    plan_p.add_argument("--geojson", type=Path, metavar="FILE", help="write the plan as GeoJSON")
    plan_p.add_argument(
        "--figures",
        type=Path,
        metavar="DIR",
        help="write timeline.png (per vehicle) and map.png (the day)",
    )
    plan_p.add_argument("--json", action="store_true", help="print plan and KPIs as JSON")
    plan_p.set_defaults(func=_plan)

    check_p = sub.add_parser(
        "validate",
        help="check a plan against every constraint",
        description="Check a plan (JSON, as written by plan --out or "
        "solve --plan-out) with the independent validator.",
    )
    what = check_p.add_mutually_exclusive_group(required=True)
    what.add_argument("--darp", type=Path, metavar="FILE")
    what.add_argument("--day", type=Path, metavar="FILE")
    check_p.add_argument("--plan", type=Path, required=True, metavar="FILE")
    _add_network_arguments(check_p)
    check_p.set_defaults(func=_validate)

    sub_p = sub.add_parser(
        "substitute",
        help="find bookings accessible public transport could serve",
        description="For each booking of a day, search journeys for the passenger's profile "
        "(known-accessible only, and allowing unknowns) and report which fit the booking's "
        "window within the documented factor of the taxi time, and the vehicle-hours freed.",
    )
    sub_p.add_argument("--day", type=Path, required=True, metavar="FILE")
    sub_p.add_argument(
        "--plan",
        type=Path,
        metavar="FILE",
        help="the day's plan (JSON) for the vehicle-hours freed",
    )
    sub_p.add_argument(
        "--replan-time-limit",
        type=float,
        metavar="S",
        help="with --plan: plan the day again without the substitutable bookings (S seconds "
        "per solve) and report the vehicle-hours freed by the re-plan",
    )
    sub_p.add_argument("--date", metavar="YYYY-MM-DD", help="service date (default today)")
    sub_p.add_argument("--json", action="store_true")
    add_graph_arguments(sub_p)
    add_transit_arguments(sub_p)
    sub_p.set_defaults(func=_substitute)
    return parser


def _add_network_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = resolve_defaults()
    parser.add_argument(
        "--osm",
        type=Path,
        default=None,
        metavar="PATH",
        help=f"OSM extract for the car network; default {defaults.osm}",
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"where the car network is cached; default {defaults.cache_dir}",
    )


def _network(args: argparse.Namespace):
    from routing.dispatch.carnet import load_car_network

    defaults = resolve_defaults()
    osm = args.osm or defaults.osm
    if not Path(osm).is_file():
        raise DataError(f"OSM file not found: {osm}")
    return osm, load_car_network(osm, cache_dir=args.cache_dir or defaults.cache_dir)


def _read_json(path: Path, field: str) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{path} is not JSON: {exc}", field=field) from exc


def _solve(args: argparse.Namespace) -> int:
    from routing.dispatch.darp import darp_answer, read_darp
    from routing.dispatch.plan_io import plan_to_dict
    from routing.dispatch.solver import darp_options, solve
    from routing.dispatch.validator import validate

    problem = read_darp(args.darp)
    plan = solve(problem, darp_options(args.time_limit))
    violations = validate(problem, plan)
    if args.plan_out:
        args.plan_out.write_text(dumps(plan_to_dict(problem, plan)))
    if args.json:
        print(json.dumps(darp_answer(plan)))
    else:
        print(
            f"{problem.name}: {len(problem.bookings)} requests, {len(plan.routes)} routes, "
            f"total distance {plan.cost:.2f} ({plan.solve_seconds:.1f} s)"
        )
        for route in plan.routes:
            print(
                f"  vehicle {route.vehicle_id}: " + " ".join(str(s.location) for s in route.stops)
            )
    if violations:
        for v in violations:
            print(f"INVALID: {v.code}: {v.message}", file=sys.stderr)
        return EXIT_FAILURE
    return EXIT_OK


def _plan(args: argparse.Namespace) -> int:
    from routing.dispatch.city import build_city_problem
    from routing.dispatch.day import generate_day
    from routing.dispatch.kpis import plan_kpis
    from routing.dispatch.plan_io import plan_geojson, plan_to_dict
    from routing.dispatch.solver import SolveOptions, solve
    from routing.dispatch.validator import validate

    osm, network = _network(args)
    if args.day:
        day = _read_json(args.day, "day")
    else:
        day = generate_day(
            osm, network, bookings=args.generate, vehicles=args.vehicles, seed=args.seed
        )
    if args.save_day:
        args.save_day.write_text(json.dumps(day, indent=1))
    city = build_city_problem(day, network)
    plan = solve(city.problem, SolveOptions(time_limit=args.time_limit))
    kpis = plan_kpis(city.problem, plan)
    violations = validate(city.problem, plan, kpis=kpis)
    body = plan_to_dict(city.problem, plan)
    if args.out:
        args.out.write_text(dumps(body))
    if args.geojson:
        args.geojson.write_text(dumps(plan_geojson(city.problem, plan, city.points)))
    if args.figures:
        from routing.dispatch.figures import map_figure, timeline_figure

        args.figures.mkdir(parents=True, exist_ok=True)
        timeline_figure(city.problem, plan, args.figures / "timeline.png")
        map_figure(city.problem, plan, city.points, args.figures / "map.png")
    if args.json:
        print(dumps({"kpis": kpis, "plan": body, "valid": not violations}))
    else:
        print(_kpi_text(kpis, plan.solve_seconds, city.factor))
    for v in violations:
        print(f"INVALID: {v.code}: {v.message}", file=sys.stderr)
    return EXIT_FAILURE if violations else EXIT_OK


def _kpi_text(kpis: dict[str, Any], seconds: float, factor: float) -> str:
    reasons = ", ".join(f"{k} {n}" for k, n in kpis["unserved_by_reason"].items()) or "none"
    return "\n".join(
        [
            f"served {kpis['served']} of {kpis['bookings']} bookings with "
            f"{kpis['vehicles_used']} of {kpis['vehicles']} vehicles "
            f"(solved in {seconds:.1f} s, travel-time factor {factor:g})",
            f"unserved: {kpis['unserved']} ({reasons})",
            f"vehicle-hours {kpis['vehicle_time'] / 3600:.1f}, km {kpis['distance'] / 1000:.1f}, "
            f"empty km {kpis['empty_distance'] / 1000:.1f}",
            f"ride time / direct time: mean {kpis['mean_ride_ratio']:.2f}, "
            f"max {kpis['max_ride_ratio']:.2f}",
        ]
    )


def _substitute(args: argparse.Namespace) -> int:
    import datetime as dt

    from routing.dispatch.carnet import load_car_network
    from routing.dispatch.city import build_city_problem
    from routing.dispatch.plan_io import plan_from_dict
    from routing.dispatch.solver import SolveOptions
    from routing.dispatch.substitution import (
        find_substitutions,
        replanned_hours_freed,
        substitution_rows,
        substitution_summary,
    )
    from routing.dispatch.validator import validate
    from routing.transit.planner import TransitPlanner

    try:
        date = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError:
        raise InvalidInputError("--date must be YYYY-MM-DD", field="date") from None
    sources = graph_sources(args)
    network = load_car_network(sources.osm, cache_dir=sources.cache_dir)
    city = build_city_problem(_read_json(args.day, "day"), network)
    plan = plan_from_dict(_read_json(args.plan, "plan")) if args.plan else None
    if plan is not None and validate(city.problem, plan):
        raise InvalidInputError(
            "the plan does not belong to this day (it fails validation)", field="plan"
        )
    progress = progress_printer()
    gtfs = transit_feed(args, sources, required=True, progress=progress)
    planner = TransitPlanner.from_gtfs(load_router(sources, progress), gtfs)
    subs = find_substitutions(city, planner, date, plan=plan)
    summary = substitution_summary(subs)
    if args.replan_time_limit is not None:
        if plan is None:
            raise InvalidInputError("--replan-time-limit needs --plan", field="plan")
        options = SolveOptions(time_limit=args.replan_time_limit)
        replanned = replanned_hours_freed(city.problem, plan, subs, options, control=True)
        for kind, freed in replanned.items():
            summary[f"vehicle_hours_freed_{kind}_replanned"] = freed.freed / 3600.0
            summary[f"served_after_replan_{kind}"] = freed.served_after
    if args.json:
        print(dumps({"summary": summary, "bookings": substitution_rows(subs)}))
    else:
        print(
            f"{summary['substitutable_known_accessible']} of {summary['bookings']} bookings "
            f"have a known-accessible transit journey, "
            f"{summary['substitutable_allowing_unknowns']} allowing unknown accessibility "
            f"(at most {summary['factor']:g} x taxi time + {summary['slack_s']:g} s)"
        )
        if plan is not None:
            print(
                f"vehicle-hours freed (sum of each booking's vehicle time): "
                f"{summary['vehicle_hours_freed_known']:.1f} known-accessible, "
                f"{summary['vehicle_hours_freed_allowing_unknowns']:.1f} allowing unknowns"
            )
        if "vehicle_hours_freed_known_replanned" in summary:
            print(
                f"vehicle-hours freed (re-planned without them): "
                f"{summary['vehicle_hours_freed_known_replanned']:.1f} known-accessible "
                f"({summary['served_after_replan_known']} served), "
                f"{summary['vehicle_hours_freed_allowing_unknowns_replanned']:.1f} allowing "
                f"unknowns ({summary['served_after_replan_allowing_unknowns']} served); "
                f"the whole day re-planned as a control: "
                f"{summary['vehicle_hours_freed_control_replanned']:.1f} "
                f"({summary['served_after_replan_control']} served)"
            )
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    from routing.dispatch.city import build_city_problem
    from routing.dispatch.darp import read_darp
    from routing.dispatch.plan_io import plan_from_dict
    from routing.dispatch.validator import validate

    if args.darp:
        problem = read_darp(args.darp)
    else:
        _osm, network = _network(args)
        problem = build_city_problem(_read_json(args.day, "day"), network).problem
    plan = plan_from_dict(_read_json(args.plan, "plan"))
    violations = validate(problem, plan)
    for v in violations:
        print(f"{v.code}: {v.message}")
    print(
        f"{'valid' if not violations else 'INVALID'}: {len(violations)} violation(s); "
        f"{len(plan.served_ids())} served, {len(plan.unserved)} unserved, cost {plan.cost:.2f}"
    )
    return EXIT_OK if not violations else EXIT_FAILURE
