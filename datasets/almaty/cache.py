"""The default Almaty feed, built from the shared data and cached by a hash of its inputs."""

from __future__ import annotations

from pathlib import Path

from datasets.almaty._common import resolve_almaty_dir
from datasets.almaty.feed import build_almaty_feed, write_gtfs_zip
from datasets.almaty.service import DEFAULT_SERVICE_CONFIG
from routing.transit.feed_cache import ensure_cached_feed

#: Bump when the builder's output changes for the same inputs.
BUILDER_VERSION = 3


def feed_inputs(data_dir: Path, service_config: Path | None = None) -> list[Path]:
    """Every file the Almaty build reads, in a fixed order."""
    base = resolve_almaty_dir(Path(data_dir))
    files = [base / "metro" / n for n in ("stations.json", "schedule.json", "holidays.json")]
    files.append(base / "bus" / "bus_stops_overpass.json")
    files.extend(sorted((base / "bus" / "routes").glob("*.json")))
    files.append(Path(service_config or DEFAULT_SERVICE_CONFIG))
    return files


def ensure_almaty_gtfs(
    data_dir: str | Path, cache_dir: str | Path, *, service_config: str | Path | None = None
) -> Path:
    """Path of the Almaty GTFS zip, building it into ``cache_dir`` when inputs changed.

    Parameters
    ----------
    data_dir : str or Path
        The shared data directory (holding ``almaty/``) or its ``almaty`` folder.
    cache_dir : str or Path
        Folder of cached feeds.
    service_config : str or Path, optional
        Service assumptions (default: the packaged ``service.json``).

    Returns
    -------
    Path
        The GTFS zip.
    """
    data_dir = Path(data_dir)
    config = Path(service_config) if service_config else None
    return ensure_cached_feed(
        cache_dir,
        name="almaty-gtfs",
        inputs=feed_inputs(data_dir, config),
        build=lambda out: write_gtfs_zip(build_almaty_feed(data_dir, service_config=config), out),
        salt=f"builder={BUILDER_VERSION}",
    )
