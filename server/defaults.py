"""Where the default (Almaty) data lives: the one place that names those paths.

``make data`` links the shared data into the repository's ``data/`` folder with this layout::

    data/osm/almaty-2012.osm.pbf
    data/osm/dem/N43E076.hgt.zip
    data/osm/dem/N43E077.hgt.zip
    data/osm/almaty/                 (metro/ and bus/: the transit feed is built from them)
    data/cache/                      (compiled graphs and the built GTFS feed)

The environment variable ``INCLUSIVE_ROUTING_DATA`` points at another data folder with the
same layout. It may also point at the shared data folder itself (``almaty/osm/...``,
``almaty/dem/...``, ``almaty/metro``, ``almaty/bus``), which is read-only: compiled graphs
and the built GTFS feed then go to the repository's ``data/cache``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root (this package is installed in editable mode).
REPO_ROOT = Path(__file__).resolve().parents[1]

#: Environment variable naming a data folder to use instead of ``<repo>/data``.
DATA_ENV = "INCLUSIVE_ROUTING_DATA"

OSM_NAME = "almaty-2012.osm.pbf"
DEM_NAMES = ("N43E076.hgt.zip", "N43E077.hgt.zip")


@dataclass(frozen=True)
class DataDefaults:
    """The default input files and cache folder.

    Attributes
    ----------
    data_dir
        The data folder they were resolved from.
    osm
        The OSM extract.
    dem
        The SRTM elevation tiles.
    cache_dir
        Where compiled graphs (and the GTFS feed built from ``transit_dir``) are kept.
    transit_dir
        The Almaty transit data (``metro/`` and ``bus/``) the default GTFS feed is built from.
    """

    data_dir: Path
    osm: Path
    dem: tuple[Path, ...]
    cache_dir: Path
    transit_dir: Path

    def has_transit_data(self) -> bool:
        """Whether ``transit_dir`` holds the metro and bus data."""
        return (self.transit_dir / "metro").is_dir() and (self.transit_dir / "bus").is_dir()

    def missing(self) -> list[Path]:
        """The default input files that do not exist."""
        return [p for p in (self.osm, *self.dem) if not p.is_file()]

    def missing_message(self) -> str:
        """A message that tells the user how to get the missing default data."""
        names = ", ".join(str(p) for p in self.missing())
        return (
            f"default Almaty data not found: {names}. Run `make data` in the repository "
            f"to link the shared data, set {DATA_ENV} to a data folder, or pass --osm PATH "
            "(and --dem PATH for elevation)."
        )

    def missing_transit_message(self) -> str:
        """A message that tells the user how to get a transit feed."""
        return (
            f"default Almaty transit data not found: {self.transit_dir} (it needs metro/ and "
            f"bus/). Run `make data` in the repository, set {DATA_ENV} to a data folder, or "
            "pass --gtfs PATH (a GTFS zip or folder)."
        )


def data_dir() -> Path:
    """The data folder: ``$INCLUSIVE_ROUTING_DATA`` when set, else ``<repo>/data``."""
    env = os.environ.get(DATA_ENV, "").strip()
    return Path(env).expanduser() if env else REPO_ROOT / "data"


def resolve_defaults(base: Path | None = None) -> DataDefaults:
    """The default data files under ``base`` (see the module docstring for the layouts)."""
    base = data_dir() if base is None else Path(base)
    shared_osm = base / "almaty" / "osm" / OSM_NAME
    if not (base / "osm" / OSM_NAME).is_file() and shared_osm.is_file():
        return DataDefaults(
            data_dir=base,
            osm=shared_osm,
            dem=tuple(base / "almaty" / "dem" / name for name in DEM_NAMES),
            cache_dir=REPO_ROOT / "data" / "cache",
            transit_dir=base / "almaty",
        )
    return DataDefaults(
        data_dir=base,
        osm=base / "osm" / OSM_NAME,
        dem=tuple(base / "osm" / "dem" / name for name in DEM_NAMES),
        cache_dir=base / "cache",
        transit_dir=base / "osm" / "almaty",
    )


def place_sources(defaults: DataDefaults) -> dict[str, list[str]]:
    """Config for ``/places`` beyond the OSM extract: the bus stops and metro station names."""
    stops = defaults.transit_dir / "bus" / "bus_stops_overpass.json"
    stations = defaults.transit_dir / "metro" / "stations.json"
    return {"PLACE_OVERPASS": [str(stops)] if stops.is_file() else [],
            "PLACE_STATIONS": [str(stations)] if stations.is_file() else []}  # fmt: skip
