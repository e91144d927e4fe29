"""``inclusive-routing scenario run|validate|rank``: planners' before/after scenarios.

``run`` writes the JSON result and the HTML report (``--out DIR``: ``result.json`` and
``report.html``), with a progress bar on stderr; ``validate`` checks a file against the
published schema (``--schema`` prints the schema); ``rank`` ranks candidate sites for one
kind of improvement. Batches run in local processes (``--workers``) or on a Dask cluster
(``--scheduler tcp://host:8786``) with identical results.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from routing.scenario import load_scenario, scenario_schema
from routing.scenario.spec import PROFILES_DEFAULT
from server.cli import (
    EXIT_OK,
    add_graph_arguments,
    add_transit_arguments,
    command,
    graph_sources,
    load_router,
    transit_feed,
)
from server.cli import progress_printer as _printer
from server.defaults import resolve_defaults


def progress_bar(label: str):
    """A (done, total) callback drawing a bar on stderr: tqdm when installed, else plain."""
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency; the fallback stays simple
        tqdm = None
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if tqdm is not None:
            bar = state.get("bar")
            if bar is None:
                bar = state["bar"] = tqdm(total=total, desc=label, unit="batch", file=sys.stderr)
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
            return
        width = 30
        fill = int(width * done / max(total, 1))
        end = "\n" if done >= total else "\r"
        print(f"{label} [{'#' * fill}{'.' * (width - fill)}] {done}/{total}", end=end,
              file=sys.stderr, flush=True)  # fmt: skip

    return update


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    add_graph_arguments(parser)
    parser.add_argument("--stations", type=Path, metavar="JSON",
                        help="metro stations list (default: the Almaty metro data)")  # fmt: skip
    parser.add_argument("--profiles", metavar="P[,P...]",
                        help=f"profiles to measure (default: {','.join(PROFILES_DEFAULT)})")
    parser.add_argument("--cell-m", type=float, metavar="M", help="grid cell size (default 1000)")
    parser.add_argument("--districts", metavar="GEOJSON", help="district polygons to sum by")
    parser.add_argument("--max-origins", type=int, metavar="N",
                        help="measure only N grid origins, evenly spread")  # fmt: skip
    parser.add_argument("--workers", type=int, metavar="N",
                        help="local processes (default: one per core; 1 = in this process)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                        help="run the batches on this Dask distributed scheduler")  # fmt: skip
    parser.add_argument("--transit", action="store_true",
                        help="also measure journeys with transit (always when the scenario "
                             "has transit edits)")  # fmt: skip
    add_transit_arguments(parser)


@command("scenario")
def _add_scenario(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "scenario", help="planners' scenarios: before/after accessibility per profile",
        description="Run, validate or rank planners' scenarios (see docs/scenarios.md).",
    )  # fmt: skip
    sub = parser.add_subparsers(dest="scenario_command", metavar="run|validate|rank")
    run = sub.add_parser("run", help="measure a scenario before and after; JSON + HTML report")
    run.add_argument("file", type=Path, help="scenario file (.yaml, .yml or .json)")
    run.add_argument("--out", type=Path, default=Path("scenario-report"), metavar="DIR",
                     help="folder for result.json and report.html (default ./scenario-report)")
    _add_run_options(run)
    run.set_defaults(func=run_run)
    val = sub.add_parser("validate", help="check scenario files against the schema")
    val.add_argument("files", type=Path, nargs="*", help="scenario files")
    val.add_argument("--schema", action="store_true", help="print the JSON Schema")
    val.set_defaults(func=run_validate)
    rank = sub.add_parser("rank", help="rank candidate sites for one kind of improvement")
    rank.add_argument("--feature", required=True,
                      choices=["audible_signal", "tactile_paving", "signals", "lowered_kerb",
                               "ramp"])  # fmt: skip
    rank.add_argument("--budget", type=int, default=10, metavar="N", help="sites to choose")
    rank.add_argument("--profile", default=None, metavar="NAME",
                      help="profile whose metric is optimised (default: the feature's)")
    rank.add_argument("--candidates", type=int, default=60, metavar="N",
                      help="candidate sites considered (the N nearest metro stations)")
    rank.add_argument("--base", type=Path, metavar="FILE",
                      help="a scenario applied first (rank on top of it)")
    rank.add_argument("--out", type=Path, metavar="JSON", help="write the ranking here")
    _add_run_options(rank)
    rank.set_defaults(func=run_rank)
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), 2)[1])
    return parser


def _data(args: argparse.Namespace, *, transit: bool = False):
    from routing.scenario import ScenarioData

    progress = _printer()
    sources = graph_sources(args)
    router = load_router(sources, progress)
    stations = args.stations
    if stations is None:
        default = resolve_defaults().transit_dir / "metro" / "stations.json"
        stations = default if default.is_file() else None
    planner = None
    if transit:
        from routing.transit.accessibility import read_transit_overlays
        from routing.transit.planner import TransitPlanner

        gtfs = transit_feed(args, sources, required=True, progress=progress)
        overlays = list(args.transit_overlay or ())
        progress(f"transit: loading {gtfs}")
        planner = TransitPlanner.from_gtfs(
            router, gtfs, accessibility=read_transit_overlays(overlays) if overlays else None)
    return ScenarioData.from_files(router.network.graph, osm=sources.osm, stations=stations,
                                   network=router.network, transit=planner)  # fmt: skip


def _profiles(args: argparse.Namespace) -> tuple[str, ...] | None:
    if not args.profiles:
        return None
    from routing.cost import PROFILE_NAMES
    from routing.errors import InvalidInputError

    names = tuple(p.strip() for p in args.profiles.split(",") if p.strip())
    for name in names:
        if name not in PROFILE_NAMES:
            raise InvalidInputError(f"unknown profile '{name}' in --profiles", field="profiles")
    return names


def run_run(args: argparse.Namespace) -> int:
    from routing.scenario import run_scenario

    scenario = load_scenario(args.file)
    data = _data(args, transit=args.transit or bool(scenario.transit))
    result = run_scenario(scenario, data=data, workers=args.workers, scheduler=args.scheduler,
                          progress=progress_bar("batches"), profiles=_profiles(args),
                          cell_m=args.cell_m, districts=args.districts,
                          max_origins=args.max_origins)  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "result.json").write_text(result.to_json(), encoding="utf-8")
    (args.out / "report.html").write_text(result.to_html(), encoding="utf-8")
    print(f"wrote {args.out / 'result.json'} and {args.out / 'report.html'}")
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    if args.schema:
        print(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))
        return EXIT_OK
    if not args.files:
        from routing.errors import InvalidInputError

        raise InvalidInputError("give scenario files to validate, or --schema", field="files")
    for path in args.files:
        sc = load_scenario(path)
        print(f"{path}: valid ({len(sc.street)} street edit(s), {len(sc.transit)} transit "
              f"edit(s){', illustrative' if sc.illustrative else ''})")  # fmt: skip
    return EXIT_OK


def run_rank(args: argparse.Namespace) -> int:
    from routing.scenario.rank import rank_sites

    base = load_scenario(args.base) if args.base else None
    data = _data(args)
    ranking = rank_sites(data, feature=args.feature, budget=args.budget, profile=args.profile,
                         candidates=args.candidates, base=base, cell_m=args.cell_m,
                         max_origins=args.max_origins, workers=args.workers,
                         scheduler=args.scheduler,
                         progress=progress_bar("evaluations"))  # fmt: skip
    text = json.dumps(ranking, indent=2, ensure_ascii=False)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)
    return EXIT_OK
