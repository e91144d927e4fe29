"""``inclusive-routing matrix``: travel times between many points, like ``POST /matrix``.

Points come from a CSV file (columns ``lat`` and ``lon``, or the first two columns) or
inline as ``"lat,lon;lat,lon"``. The command has no request-size limit: memory stays at a
few ``batch x nodes`` arrays besides the answer.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path
from typing import Any

from routing.errors import InvalidInputError
from routing.matrix import REASONS, travel_matrix
from server.cli import (
    EXIT_OK,
    add_graph_arguments,
    command,
    graph_sources,
    load_router,
    progress_printer,
)
from server.jsonio import dumps
from server.params import parse_key_value, parse_point, parse_profile

LatLon = tuple[float, float]


def read_points(text: str, field: str) -> list[LatLon]:
    """Points from a CSV file path or an inline ``lat,lon;lat,lon`` list."""
    path = Path(text)
    if path.is_file():
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
        rows = [r for r in rows if r and any(c.strip() for c in r)]
        if not rows:
            raise InvalidInputError(f"{field} file {path} has no points", field=field)
        header = [c.strip().lower() for c in rows[0]]
        if "lat" in header and "lon" in header:
            i, j = header.index("lat"), header.index("lon")
            rows = [[r[i], r[j]] for r in rows[1:]]
        points = []
        for n, row in enumerate(rows, 1):
            if len(row) < 2:
                raise InvalidInputError(f"{path} row {n}: expected lat,lon", field=field)
            points.append(parse_point(row[:2], f"{field}[{n - 1}]"))
        return points
    parts = [p for p in text.split(";") if p.strip()]
    if not parts:
        raise InvalidInputError(f"no points in --{field}", field=field)
    return [parse_point(p, f"{field}[{i}]") for i, p in enumerate(parts)]


def _profile_from(args: argparse.Namespace, reserved: tuple[str, ...] = ("profile",)):
    values: dict[str, Any] = {"profile": args.profile}
    for text in args.param:
        key, value = parse_key_value(text)
        if key in values:
            raise InvalidInputError(f"'{key}' is given more than once", field=key)
        values[key] = value
    return parse_profile(values, reserved)


@command("matrix")
def _add_matrix(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "matrix", help="travel times and distances between many points",
        description="Seconds and metres from every source to every target for one profile "
                    "(the POST /matrix body with --json, else CSV rows "
                    "source,target,seconds,metres,usable,reason).",
    )  # fmt: skip
    add_graph_arguments(parser)
    parser.add_argument("--sources", required=True, metavar="CSV|POINTS",
                        help="CSV file with lat,lon columns, or 'lat,lon;lat,lon;...'")  # fmt: skip
    parser.add_argument("--targets", metavar="CSV|POINTS",
                        help="the same; default: the sources")  # fmt: skip
    parser.add_argument("--profile", required=True, metavar="NAME")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile parameter, repeatable")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print the /matrix JSON body")
    parser.set_defaults(func=run_matrix)
    return parser


def run_matrix(args: argparse.Namespace) -> int:
    sources = read_points(args.sources, "sources")
    targets = sources if args.targets is None else read_points(args.targets, "targets")
    profile = _profile_from(args)
    router = load_router(graph_sources(args), progress_printer())
    found = travel_matrix(router.network, sources, targets, profile)
    if args.json:
        print(dumps(found.to_dict()))
        return EXIT_OK
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["source", "target", "seconds", "metres", "usable", "reason"])
    seconds, metres, reason = found.values.seconds, found.values.metres, found.reason
    for i in range(len(sources)):
        for j in range(len(targets)):
            r = int(reason[i, j])
            usable = r < 0
            out.writerow([i, j, f"{seconds[i, j]:.1f}" if usable else "",
                          f"{metres[i, j]:.1f}" if usable else "", int(usable),
                          REASONS[r] if r >= 0 else ""])  # fmt: skip
    return EXIT_OK


@command("isochrone")
def _add_isochrone(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "isochrone", help="the area reachable on foot within given minutes (GeoJSON)",
        description="Print the GET /isochrone body (mode=walk): one MultiPolygon per limit.",
    )  # fmt: skip
    add_graph_arguments(parser)
    parser.add_argument("--from", dest="origin", required=True, metavar="LAT,LON")
    parser.add_argument("--minutes", required=True, metavar="M[,M...]", help="e.g. 10,20,30")
    parser.add_argument("--profile", required=True, metavar="NAME")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                        help="override a profile parameter, repeatable")  # fmt: skip
    parser.set_defaults(func=run_isochrone)
    return parser


def run_isochrone(args: argparse.Namespace) -> int:
    from routing.isochrone import isochrone
    from server.isochrone import parse_minutes

    origin = parse_point(args.origin, "from")
    minutes = parse_minutes(args.minutes)
    profile = _profile_from(args)
    network = load_router(graph_sources(args), progress_printer()).network
    found = isochrone(network, network.snap(origin, profile, "from"), profile, minutes)
    print(found.to_json())
    return EXIT_OK
