"""``python -m datasets.almaty build``: build the Almaty GTFS zip and print its report."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from datasets.almaty.feed import build_almaty_feed, write_gtfs_zip
from routing.errors import DataError


def default_data_dir() -> Path:
    """``$INCLUSIVE_ROUTING_SHARED_DATA`` or ``../shared/data`` beside the repository."""
    env = os.environ.get("INCLUSIVE_ROUTING_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[3] / "shared" / "data"


def gtfs_build_command(out: Path, data_dir: Path, service_config: Path | None) -> dict:
    """Build the feed, write it to ``out`` and return the report (for the CLI).

    Parameters
    ----------
    out : Path
        The GTFS zip to write.
    data_dir : Path
        Shared data directory (see :func:`build_almaty_feed`).
    service_config : Path or None
        Service assumptions file; None for the packaged one.

    Returns
    -------
    dict
        The build report, plus ``out`` (path written) and ``zip_bytes``.
    """
    result = build_almaty_feed(Path(data_dir), service_config=service_config)
    path = write_gtfs_zip(result, Path(out))
    report = dict(result.report)
    report["out"] = str(path)
    report["zip_bytes"] = path.stat().st_size
    return report


def main(argv: Sequence[str] | None = None) -> int:
    """``inclusive-routing gtfs build --out FILE [--data DIR] [--service-config PATH]``.

    Prints the build report as JSON; returns the exit status (2 on a data error).
    """
    parser = argparse.ArgumentParser(
        prog="inclusive-routing gtfs", description="GTFS feeds built from Almaty data"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the Almaty metro + bus GTFS zip")
    build.add_argument(
        "--out",
        type=Path,
        default=Path("almaty-gtfs.zip"),
        help="GTFS zip to write (default: almaty-gtfs.zip)",
    )
    build.add_argument(
        "--data",
        type=Path,
        default=None,
        help="shared data directory (default: $INCLUSIVE_ROUTING_SHARED_DATA or ../shared/data)",
    )
    build.add_argument(
        "--service-config",
        type=Path,
        default=None,
        help="service assumptions JSON (default: packaged datasets/almaty/service.json)",
    )
    args = parser.parse_args(argv)
    try:
        report = gtfs_build_command(args.out, args.data or default_data_dir(), args.service_config)
    except DataError as exc:
        print(json.dumps({"error": exc.to_dict()}, ensure_ascii=False), file=sys.stderr)
        return 2
    print(json.dumps(report, ensure_ascii=False, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
