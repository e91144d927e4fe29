"""The ``inclusive-routing`` command: ``serve``, ``route``, and (from other modules) more.

Subcommands are registered in :data:`COMMANDS` (name -> function adding its sub-parser).
Another module adds one with the :func:`command` decorator and lists itself in
:data:`COMMAND_MODULES` so that it is imported before the parser is built: the public
transport commands ``plan`` and ``gtfs build`` live in :mod:`server.transit_cli`. Each
sub-parser sets ``func`` (``args -> exit code``). Helpers for the graph options
(:func:`add_graph_arguments`, :func:`graph_sources`, :func:`load_router`) and the transit
options (:func:`add_transit_arguments`, :func:`transit_feed`) are shared by those commands.

Exit codes: 0 success, 1 data/setup problem or failure, 2 bad input, 3 no route.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from routing.cost import PROFILE_NAMES
from routing.errors import DataError, InvalidInputError, NoRouteError, RoutingError
from routing.graph.pipeline import load_graph
from routing.router import StreetRoute, StreetRouter
from server.defaults import DATA_ENV, place_sources, resolve_defaults
from server.jsonio import dumps
from server.overload import SheddingOptions, threads_needed
from server.params import parse_key_value, parse_point, parse_profile
from server.serving import ServeOptions

EXIT_OK, EXIT_FAILURE, EXIT_BAD_INPUT, EXIT_NO_ROUTE = 0, 1, 2, 3

AddParser = Callable[[Any], argparse.ArgumentParser]  # takes the sub-parsers action

#: Subcommand name -> function that adds its sub-parser (in help order).
COMMANDS: dict[str, AddParser] = {}

#: Modules that register more subcommands with :func:`command`.
COMMAND_MODULES: list[str] = [
    "server.transit_cli", "server.network_cli", "server.dispatch_cli", "server.scenario_cli",
]


def command(name: str) -> Callable[[AddParser], AddParser]:
    """Register a subcommand: ``@command("plan")`` on ``def add(subparsers) -> parser``."""

    def register(add: AddParser) -> AddParser:
        COMMANDS[name] = add
        return add

    return register


# -- shared graph options ---------------------------------------------------------------
@dataclass(frozen=True)
class GraphSources:
    """The files a walking graph is built from, and where it is cached."""

    osm: Path
    dem: tuple[Path, ...]
    overlays: tuple[Path, ...]
    cache_dir: Path | None


def add_graph_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--osm``, ``--dem``, ``--overlay``, ``--cache-dir`` and ``--no-cache``."""
    defaults = resolve_defaults()
    group = parser.add_argument_group(
        "graph data",
        f"Without --osm the Almaty data set up by `make data` is used (under {defaults.data_dir};"
        f" set {DATA_ENV} to use another data folder).",
    )
    group.add_argument("--osm", type=Path, metavar="PATH",
                       help=f"OSM extract (.osm.pbf); default {defaults.osm}")  # fmt: skip
    group.add_argument("--dem", type=Path, action="append", default=None, metavar="PATH",
                       help="SRTM elevation tile (.hgt or .hgt.zip), repeatable; default: the "
                            "Almaty tiles when --osm is not given, else none")  # fmt: skip
    group.add_argument("--overlay", type=Path, action="append", default=None, metavar="PATH",
                       help="accessibility overlay file (CSV or GeoJSON), repeatable")  # fmt: skip
    group.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help=f"compiled-graph cache; default {defaults.cache_dir}")  # fmt: skip
    group.add_argument("--no-cache", action="store_true",
                       help="build the graph without reading or writing the cache")  # fmt: skip


def graph_sources(args: argparse.Namespace) -> GraphSources:
    """The input files from the options, with defaults; checks that they exist.

    Raises
    ------
    DataError
        A default file is missing (the message says to run ``make data`` or pass
        ``--osm``), or a given file does not exist.
    """
    defaults = resolve_defaults()
    if args.osm is None:
        if not defaults.osm.is_file() or (args.dem is None and defaults.missing()):
            raise DataError(defaults.missing_message(), path=str(defaults.osm))
        osm, dem = defaults.osm, tuple(args.dem) if args.dem is not None else defaults.dem
    else:
        osm, dem = args.osm, tuple(args.dem or ())
    overlays = tuple(args.overlay or ())
    for what, paths in (("OSM extract", (osm,)), ("DEM tile", dem), ("overlay", overlays)):
        for path in paths:
            if not path.is_file():
                raise DataError(f"{what} not found: {path}", path=str(path))
    cache_dir = None if args.no_cache else (args.cache_dir or defaults.cache_dir)
    return GraphSources(osm=osm, dem=dem, overlays=overlays, cache_dir=cache_dir)


def progress_printer(stream: TextIO | None = None) -> Callable[[str], None]:
    """A progress callback printing ``[seconds] message`` lines to stderr."""
    started = time.perf_counter()

    def say(message: str) -> None:
        out = stream or sys.stderr
        print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=out, flush=True)

    return say


def load_router(sources: GraphSources, progress: Callable[[str], None] | None = None
                ) -> StreetRouter:  # fmt: skip
    """Load (or build and cache) the graph and wrap it in a router."""
    graph = load_graph(sources.osm, dem=sources.dem, overlays=sources.overlays,
                       cache_dir=sources.cache_dir, progress=progress)  # fmt: skip
    router = StreetRouter(graph)
    router.network.cache_dir = sources.cache_dir  # matrix hierarchies are kept there too
    return router


# -- shared transit options -------------------------------------------------------------
def add_transit_arguments(parser: argparse.ArgumentParser, *, can_disable: bool = False) -> None:
    """Add ``--gtfs`` and ``--transit-overlay`` (and ``--no-transit`` with ``can_disable``)."""
    defaults = resolve_defaults()
    group = parser.add_argument_group(
        "public transport",
        "Without --gtfs (and without --osm) the Almaty metro + bus feed is built from "
        f"{defaults.transit_dir} and cached in the cache folder.",
    )
    group.add_argument("--gtfs", type=Path, metavar="PATH",
                       help="GTFS feed (zip or folder) for the transit planner")  # fmt: skip
    group.add_argument("--transit-overlay", type=Path, action="append", default=None,
                       metavar="PATH", dest="transit_overlay",
                       help="transit accessibility CSV (low-floor shares per route, or stop "
                            "and station facts), repeatable")  # fmt: skip
    if can_disable:
        group.add_argument("--no-transit", action="store_true",
                           help="no transit planner (/plan answers 503)")  # fmt: skip


def transit_feed(
    args: argparse.Namespace,
    sources: GraphSources,
    *,
    required: bool,
    progress: Callable[[str], None] | None = None,
) -> Path | None:
    """The GTFS feed the options ask for: ``--gtfs``, else the default Almaty feed.

    The default feed is built (once, cached by a hash of its inputs) from the Almaty metro
    and bus data when ``--osm`` is not given and that data exists.

    Parameters
    ----------
    args
        Parsed options (``gtfs``, ``transit_overlay``, ``osm``, maybe ``no_transit``).
    sources
        The graph sources; the default feed is cached in their cache folder.
    required
        Whether a missing feed is an error (``plan``) or means no transit (``serve``).
    progress
        Optional progress callback.

    Returns
    -------
    Path or None
        The feed; None when transit is disabled or unavailable and not ``required``.

    Raises
    ------
    DataError
        ``--gtfs`` does not exist, a transit overlay does not exist, or (``required``) no
        feed can be found; the Almaty data is broken.
    InvalidInputError
        ``--transit-overlay`` without any feed.
    """
    overlays = tuple(args.transit_overlay or ())
    for path in overlays:
        if not path.is_file():
            raise DataError(f"transit overlay not found: {path}", path=str(path))
    feed: Path | None = None
    if getattr(args, "no_transit", False):
        if args.gtfs is not None:
            raise InvalidInputError("--gtfs and --no-transit contradict each other",
                                    field="gtfs")  # fmt: skip
    elif args.gtfs is not None:
        if not args.gtfs.exists():
            raise DataError(f"GTFS feed not found: {args.gtfs}", path=str(args.gtfs))
        feed = args.gtfs
    else:
        defaults = resolve_defaults()
        if args.osm is None and defaults.has_transit_data():
            cache_dir = sources.cache_dir or defaults.cache_dir
            if progress:
                progress(f"transit: the Almaty feed from {defaults.transit_dir} "
                         f"(cached in {cache_dir})")  # fmt: skip
            from datasets.almaty.cache import ensure_almaty_gtfs  # here: it loads scipy.spatial

            feed = ensure_almaty_gtfs(defaults.transit_dir, cache_dir)
        elif required:
            message = (defaults.missing_transit_message() if args.osm is None else
                       "no GTFS feed for this extract: pass --gtfs PATH (a GTFS zip or "
                       "folder)")  # fmt: skip
            raise DataError(message, field="gtfs")
    if feed is None and overlays:
        raise InvalidInputError("--transit-overlay needs a transit feed (--gtfs PATH)",
                                field="transit_overlay")  # fmt: skip
    return feed


def add_query_arguments(parser: argparse.ArgumentParser, *, endpoint: str, example: str) -> None:
    """``--from``, ``--to``, ``--profile``, ``--param`` and ``--json``, as ``route`` and ``plan``
    share them (``endpoint`` names the HTTP body ``--json`` prints)."""
    parser.add_argument("--from", dest="origin", required=True, metavar="LAT,LON",
                        help=f"start, e.g. {example}")  # fmt: skip
    parser.add_argument("--to", dest="destination", required=True, metavar="LAT,LON",
                        help="destination")  # fmt: skip
    parser.add_argument("--profile", required=True, metavar="NAME",
                        help=", ".join(PROFILE_NAMES))  # fmt: skip
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile parameter, repeatable "
                             "(e.g. --param max_uphill=0.06)")  # fmt: skip
    parser.add_argument("--json", action="store_true",
                        help=f"print the {endpoint} JSON body (on no route, the error "
                             "body)")  # fmt: skip


# -- serve ------------------------------------------------------------------------------
@command("serve")
def _add_serve(subparsers: Any) -> argparse.ArgumentParser:
    defaults = ServeOptions()
    parser = subparsers.add_parser(
        "serve", help="serve the HTTP API and web page (gunicorn, every core)",
        description="Load the walking graph (and the transit feed for /plan) once, then serve "
                    "the HTTP API (DESIGN §5) and the web page with gunicorn worker processes "
                    "that share it. In production put nginx in front (deploy/nginx.conf).",
    )  # fmt: skip
    add_graph_arguments(parser)
    add_transit_arguments(parser, can_disable=True)
    parser.add_argument("--host", default=defaults.host,
                        help=f"address to listen on (default {defaults.host})")  # fmt: skip
    parser.add_argument("--port", type=int, default=defaults.port,
                        help=f"port (default {defaults.port})")  # fmt: skip
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="worker processes (default: one per core, here "
                             f"{os.cpu_count() or 1})")  # fmt: skip
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help=f"threads per worker that take in requests (default "
                             f"{defaults.threads})")  # fmt: skip
    parser.add_argument("--max-waiting", type=int, default=SheddingOptions().max_waiting,
                        help="most requests that may wait per lane and worker (a safety "
                             "bound; admission goes by expected wait, see --max-wait) "
                             "(default %(default)s)")  # fmt: skip
    parser.add_argument("--max-wait", type=float, default=SheddingOptions().max_wait_s,
                        metavar="SECONDS",
                        help="longest expected or actual wait for the /route lane before a "
                             "503, while its queue drains now and then (default "
                             "%(default)s)")  # fmt: skip
    parser.add_argument("--heavy-max-wait", type=float,
                        default=SheddingOptions().heavy_max_wait_s, metavar="SECONDS",
                        help="the same for /plan, /matrix, /isochrone (default "
                             "%(default)s)")  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=SheddingOptions().time_limit_s,
                        metavar="SECONDS",
                        help="longest a /route request may take, wait included, before a 503 "
                             "deadline_exceeded (default %(default)s)")  # fmt: skip
    parser.add_argument("--heavy-time-limit", type=float,
                        default=SheddingOptions().heavy_time_limit_s, metavar="SECONDS",
                        help="the same for /plan, /matrix, /isochrone (default "
                             "%(default)s)")  # fmt: skip
    parser.add_argument("--max-worker-memory", type=int, default=defaults.max_worker_rss_mb,
                        metavar="MB",
                        help="restart a worker (gracefully) whose resident memory stays above "
                             "this after a request (0: never; default %(default)s)")  # fmt: skip
    parser.add_argument("--malloc-arenas", type=int, default=defaults.malloc_arenas,
                        metavar="N",
                        help="cap glibc's malloc arenas per process (0: glibc's default of 8 "
                             "per core; default %(default)s, see server.serving)")  # fmt: skip
    parser.add_argument("--max-requests", type=int, default=defaults.max_requests,
                        help="recycle a worker after this many requests (0: never)")  # fmt: skip
    parser.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                        help="let pages from this origin (https://host[:port], or *) call the "
                             "API; repeatable; default: none (CORS off)")  # fmt: skip
    parser.set_defaults(func=run_serve)
    return parser


def run_serve(args: argparse.Namespace) -> int:
    """Load the graph (progress on stderr), then serve until interrupted."""
    from server import create_app
    from server.serving import check_port_free, serve

    if not 0 <= args.port <= 65535:
        raise InvalidInputError(f"--port {args.port} is not a port number", field="port")
    for name in ("workers", "threads"):
        if getattr(args, name) < 1:
            raise InvalidInputError(f"--{name} must be at least 1", field=name)
    if args.max_waiting < 0 or args.max_wait <= 0 or args.heavy_max_wait <= 0:
        raise InvalidInputError("--max-waiting must be >= 0, --max-wait and --heavy-max-wait > 0",
                                field="max_waiting")  # fmt: skip
    if args.time_limit <= 0 or args.heavy_time_limit <= 0:
        raise InvalidInputError("--time-limit and --heavy-time-limit must be > 0",
                                field="time_limit")  # fmt: skip
    least = threads_needed(SheddingOptions(max_waiting=args.max_waiting))
    if args.threads < least:
        # Otherwise requests queue in gunicorn's thread pool, unseen by the load shedder.
        raise InvalidInputError(f"--threads must be at least (--max-waiting + 1) per lane plus "
                                f"spare threads ({least})", field="threads")  # fmt: skip
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")  # fmt: skip
    check_port_free(args.host, args.port)
    sources = graph_sources(args)
    log = logging.getLogger("server.cli")
    gtfs = transit_feed(args, sources, required=False, progress=log.info)
    if gtfs is None:
        why = ("--no-transit" if getattr(args, "no_transit", False) else
               "--osm given without --gtfs" if args.osm is not None else
               "no default Almaty transit data")  # fmt: skip
        log.info("no transit feed (%s): /plan answers 503 transit_unavailable", why)
    app = create_app({
        "OSM": str(sources.osm), "DEM": [str(p) for p in sources.dem],
        "OVERLAYS": [str(p) for p in sources.overlays],
        "GTFS": str(gtfs) if gtfs else None,
        "TRANSIT_OVERLAYS": [str(p) for p in args.transit_overlay or ()],
        "CACHE_DIR": str(sources.cache_dir) if sources.cache_dir else None,
        **(place_sources(resolve_defaults()) if args.osm is None else {}),
        "CORS_ORIGINS": list(args.cors_origin),
        "SHEDDING": SheddingOptions(max_waiting=args.max_waiting, max_wait_s=args.max_wait,
                                    heavy_max_wait_s=args.heavy_max_wait,
                                    time_limit_s=args.time_limit,
                                    heavy_time_limit_s=args.heavy_time_limit),
    })  # fmt: skip
    options = ServeOptions(host=args.host, port=args.port, workers=args.workers,
                           threads=args.threads, max_requests=args.max_requests,
                           max_worker_rss_mb=args.max_worker_memory,
                           malloc_arenas=args.malloc_arenas)  # fmt: skip

    def ready() -> None:
        print(f"serving on http://{args.host}:{args.port}/ with {args.workers} worker(s) "
              "(Ctrl+C to stop)", file=sys.stderr, flush=True)  # fmt: skip

    serve(app, options, on_ready=ready)
    return EXIT_OK


# -- route ------------------------------------------------------------------------------
@command("route")
def _add_route(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "route", help="compute one accessible street route",
        description="Compute one route and print its steps, or with --json the exact body "
                    "GET /route would answer.",
    )  # fmt: skip
    add_graph_arguments(parser)
    add_query_arguments(parser, endpoint="/route", example="43.2383,76.9453")
    parser.set_defaults(func=run_route)
    return parser


def run_route(args: argparse.Namespace) -> int:
    """Parse like ``/route`` does, route, print."""
    origin = parse_point(args.origin, "from")
    destination = parse_point(args.destination, "to")
    values: dict[str, Any] = {"profile": args.profile}
    for text in args.param:
        key, value = parse_key_value(text)
        if key in values:
            raise InvalidInputError(f"'{key}' is given more than once", field=key)
        values[key] = value
    profile = parse_profile(values, ("profile",))
    router = load_router(graph_sources(args), progress_printer())
    try:
        found = router.route(origin, destination, profile)
    except NoRouteError as err:
        if args.json:
            print(dumps({"error": err.to_dict()}))
        raise
    print(dumps(found.to_dict()) if args.json else format_route(found, profile.label))
    return EXIT_OK


def format_route(route: StreetRoute, label: str = "") -> str:
    """The route as readable text: a summary, numbered steps, warnings."""
    body = route.to_dict()
    minutes = body["duration_s"] / 60
    who = f"{label} ({body['profile']})" if label else body["profile"]
    lines = [
        f"Route for {who}: {format_metres(body['distance_m'])}, about {minutes:.0f} min, "
        f"confidence {body['confidence'] * 100:.0f}% (share of the accessibility facts "
        "along the route that the map knows).",
        "",
        "Steps:",
    ]
    width = len(str(len(body["steps"])))
    for i, step in enumerate(body["steps"], 1):
        lines.append(f"  {i:>{width}}. {step['instruction']}")
    if body["warnings"]:
        lines += ["", "Warnings:"]
        lines += [f"  - {w['message']}" for w in body["warnings"]]
    return "\n".join(lines)


def format_metres(value: float) -> str:
    """``350 m`` or ``1.25 km``."""
    return f"{value / 1000:.2f} km" if value >= 1000 else f"{value:.0f} m"


# -- main -------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered subcommand."""
    parser = argparse.ArgumentParser(
        prog="inclusive-routing",
        description="Inclusive routing for Almaty: wheelchair-, blind- and low-vision-friendly "
                    "routes over OpenStreetMap and elevation.",
    )  # fmt: skip
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in COMMANDS.values():
        add(subparsers)
    return parser


def exit_code_for(err: RoutingError) -> int:
    """2 for bad input, 3 for no route, 1 for anything else (data problems)."""
    if isinstance(err, InvalidInputError):
        return EXIT_BAD_INPUT
    if isinstance(err, NoRouteError):
        return EXIT_NO_ROUTE
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    try:
        return args.func(args)
    except RoutingError as err:
        print(f"inclusive-routing {args.command}: error: {err.message}", file=sys.stderr)
        return exit_code_for(err)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    # Run the imported module's main: subcommand modules register into ``server.cli``, not
    # into ``__main__`` (``python -m server.cli``).
    from server import cli as _cli

    sys.exit(_cli.main())
