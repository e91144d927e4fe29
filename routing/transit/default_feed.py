"""The Almaty GTFS feed built from the shared data, cached by a hash of its inputs.

A damaged cached zip is rebuilt with a warning; concurrent starts build it once
(:func:`routing.cache.load_or_build`).
"""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

from routing.cache import load_or_build
from routing.transit.almaty_feed import DEFAULT_SERVICE_CONFIG, build_almaty_feed, write_gtfs_zip

#: Bump when the builder's output changes for the same inputs.
BUILDER_VERSION = 1


def _inputs(data_dir: Path) -> list[Path]:
    base = data_dir / "almaty" if (data_dir / "almaty").is_dir() else data_dir
    files = [base / "metro" / n for n in ("stations.json", "schedule.json", "holidays.json")]
    files.append(base / "bus" / "bus_stops_overpass.json")
    files.extend(sorted((base / "bus" / "routes").glob("*.json")))
    return files


def almaty_feed_key(data_dir: Path, service_config: Path | None = None) -> str:
    """Hash of the raw inputs, the service assumptions and the builder version."""
    h = hashlib.sha256(f"builder={BUILDER_VERSION}".encode())
    for path in _inputs(Path(data_dir)):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(Path(service_config or DEFAULT_SERVICE_CONFIG).read_bytes())
    return h.hexdigest()[:20]


def ensure_almaty_gtfs(
    data_dir: str | Path, cache_dir: str | Path, *, service_config: str | Path | None = None
) -> Path:
    """Path of the Almaty GTFS zip, building it into ``cache_dir`` when inputs changed."""
    data_dir, cache_dir = Path(data_dir), Path(cache_dir)
    config = Path(service_config) if service_config else None
    out = cache_dir / f"almaty-gtfs-{almaty_feed_key(data_dir, config)}.zip"
    load_or_build(out, load=_check_zip,
                  build=lambda: build_almaty_feed(data_dir, service_config=config),
                  save=write_gtfs_zip)  # fmt: skip
    return out


def _check_zip(path: Path) -> Path:
    """``path`` when every member of the zip reads back with the right CRC, else raise."""
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
    if bad is not None:
        raise zipfile.BadZipFile(f"member {bad} fails its CRC check")
    return path
