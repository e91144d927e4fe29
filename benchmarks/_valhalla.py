"""Valhalla as a benchmark peer: tiles from our own OSM (and DEM) files, an in-process
``Actor`` and a ``valhalla_service`` HTTP server, all from the ``pyvalhalla-weekly`` wheel
(the optional ``bench`` extra; ``make bench`` installs it). Nothing here is used by the
server or the tests.

Tiles are built once per input into ``<cache>/valhalla-<hash>/``, the hash covering the OSM
and DEM bytes, the build options and Valhalla's version. A directory is used only when its
manifest (written last) lists every tile with the right size; anything else is rebuilt.

Elevation: Valhalla reads 3601 x 3601 (SRTM1) ``.hgt`` tiles only and rejects our 1201 x 1201
(SRTM3) ones as corrupt, so each is resampled to 3601 x 3601 by bilinear interpolation. A
bilinear surface stays the same surface on a grid refined by a whole factor (3), so Valhalla
samples the heights our engine samples, up to rounding to whole metres; a void stays a void
wherever it has weight.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import http.client
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: SRTM cell value of a void (no data).
VOID = -32768
_SRTM3, _SRTM1 = 1201, 3601
#: What every request may ask: large matrices, three contours (the defaults cap a matrix
#: at 2,500 pairs, which would hide our 1,000 x 1,000 comparison).
SERVICE_LIMITS = {"max_matrix_location_pairs": 4_000_000, "max_matrix_distance": 400_000.0,
                  "max_locations": 1_000}  # fmt: skip


def unavailable() -> str | None:
    """Why Valhalla cannot run here, or None when it can."""
    if importlib.util.find_spec("valhalla") is None:
        return ("Valhalla not installed: `make bench` installs the optional `bench` extra "
                "(pyvalhalla-weekly: the wheel with valhalla_build_tiles and "
                "valhalla_service)")  # fmt: skip
    for tool in ("valhalla_build_tiles", "valhalla_service"):
        if not (bin_dir() / tool).is_file():
            return f"the installed Valhalla package has no {tool} (pyvalhalla-weekly has it)"
    return None


def bin_dir() -> Path:
    from valhalla._scripts import PYVALHALLA_BIN_DIR

    return Path(PYVALHALLA_BIN_DIR)


def version() -> str:
    from valhalla import __version__

    return str(__version__)


# -- elevation ----------------------------------------------------------------------------
def srtm1_from_srtm3(heights: np.ndarray) -> np.ndarray:
    """A 1201 x 1201 SRTM3 grid as the 3601 x 3601 grid of the same bilinear surface.

    Each refined sample is the bilinear value at its position (rounded to whole metres, as
    ``.hgt`` holds int16); a sample next to a void cell that has weight there is a void.
    """
    z = heights.astype(np.float64)
    z[heights == VOID] = np.nan
    for axis in (0, 1):
        fine = np.arange(_SRTM1) / 3.0
        lo = np.minimum(fine.astype(np.intp), _SRTM3 - 2)
        w = fine - lo
        a, b = np.take(z, lo, axis=axis), np.take(z, lo + 1, axis=axis)
        shape = (-1, 1) if axis == 0 else (1, -1)
        w = w.reshape(shape)
        # Only a neighbour with weight counts: a sample on a coarse node is that node.
        z = np.where(w == 0, a, np.where(w == 1, b, (1 - w) * a + w * b))
    out = np.where(np.isnan(z), VOID, np.rint(z)).astype(">i2")
    return out


def write_elevation(dem: Sequence[Path], folder: Path) -> None:
    """Our DEM tiles as Valhalla's layout: ``<folder>/N43/N43E076.hgt`` (SRTM1)."""
    for path in dem:
        if path.suffix.lower() == ".zip":
            with zipfile.ZipFile(path) as archive:
                member = next(m for m in archive.namelist() if m.lower().endswith(".hgt"))
                raw = archive.read(member)
        else:
            raw = path.read_bytes()
        name = path.name.split(".")[0].upper()
        side = int(round((len(raw) // 2) ** 0.5))
        heights = np.frombuffer(raw, dtype=">i2").reshape(side, side)
        if side == _SRTM3:
            heights = srtm1_from_srtm3(heights)
        (folder / name[:3]).mkdir(parents=True, exist_ok=True)
        (folder / name[:3] / f"{name}.hgt").write_bytes(heights.astype(">i2").tobytes())


# -- tiles ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tiles:
    """A built tile set: its config file (for the Actor) and what the build reported."""

    folder: Path
    config_path: Path
    manifest: dict

    @property
    def config(self) -> dict:
        return json.loads(self.config_path.read_text())

    def config_variant(self, name: str, *, matrix_algorithm: str) -> Path:
        """A config file beside the default one with another ``sources_to_targets``
        algorithm (``timedistancematrix``: one-to-many searches; ``costmatrix``)."""
        config = self.config
        config["thor"]["source_to_target_algorithm"] = matrix_algorithm
        path = self.folder / f"valhalla-{name}.json"
        path.write_text(json.dumps(config))
        return path


def base_config(tile_dir: Path) -> dict:
    """Valhalla's default config on ``tile_dir``: quiet, limits raised (see above)."""
    from valhalla import get_config

    config = get_config(tile_extract="", tile_dir=tile_dir)
    config["mjolnir"]["logging"]["type"] = ""
    for section in ("loki", "thor", "odin", "meili"):
        config[section]["logging"]["type"] = ""
    config["service_limits"]["pedestrian"].update(SERVICE_LIMITS)
    return config


def _key(osm: Path, dem: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in (osm, *dem):
        digest.update(path.name.encode())
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    digest.update(json.dumps({"valhalla": version(), "srtm1_from_srtm3": 1,
                              "limits": SERVICE_LIMITS}, sort_keys=True).encode())  # fmt: skip
    return digest.hexdigest()[:16]


def _manifest_ok(folder: Path) -> dict | None:
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
        ok = manifest["tiles"] and all((folder / name).stat().st_size == size
                                       for name, size in manifest["tiles"].items())  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest if ok else None


def build_tiles(osm: Path, dem: Sequence[Path], cache_root: Path) -> Tiles:
    """Valhalla tiles of ``osm`` (heights from ``dem``), built once per input and reused.

    A directory whose manifest is missing, unreadable or does not match its tiles (a build
    cut short, a truncated or deleted tile) is removed and built again.
    """
    folder = cache_root / f"valhalla-{osm.name.split('.')[0]}-{_key(osm, dem)}"
    manifest = _manifest_ok(folder)
    if manifest is None:
        shutil.rmtree(folder, ignore_errors=True)
        manifest = _build(osm, dem, folder)
    config_path = folder / "valhalla.json"
    config_path.write_text(json.dumps(base_config(folder / "tiles")))
    return Tiles(folder, config_path, manifest)


def _build(osm: Path, dem: Sequence[Path], folder: Path) -> dict:
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        tiles = work / "tiles"
        tiles.mkdir()
        config = base_config(tiles)
        config["mjolnir"]["logging"]["type"] = "std_out"  # the counts below come from it
        if dem:
            write_elevation(dem, work / "elevation")
            config["additional_data"]["elevation"] = str(work / "elevation")
        (work / "build.json").write_text(json.dumps(config))
        started = time.perf_counter()
        out = subprocess.run([str(bin_dir() / "valhalla_build_tiles"), "-c",
                              str(work / "build.json"), "-j", "1", str(osm)],
                             capture_output=True, text=True, check=True,
                             cwd=work)  # it writes duplicateways.txt where it runs  # fmt: skip
        seconds = time.perf_counter() - started
        log = out.stdout + out.stderr
        found = {name: int(m.group(1)) for name, pattern in (
            ("ways", r"Finished with (\d+) routable ways"),
            ("graph_nodes", r"Finished with (\d+) graph nodes"),
            ("graph_edges", r"Finished with (\d+) graph edges"),
        ) if (m := re.search(pattern, log))}  # fmt: skip
        found["elevation_rejected"] = len(re.findall(r"Corrupt elevation data", log))
        shutil.rmtree(work / "elevation", ignore_errors=True)
        (work / "build.json").unlink()
        files = sorted(p for p in tiles.rglob("*") if p.is_file())
        manifest = {"valhalla": version(), "osm": str(osm), "dem": [str(p) for p in dem],
                    "build_s": round(seconds, 2), "counts": found,
                    "tiles": {str(p.relative_to(work)): p.stat().st_size
                              for p in files}}  # fmt: skip
        (work / "manifest.json").write_text(json.dumps(manifest, indent=1))
        work.rename(folder)  # a reader sees a whole directory or none
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


# -- HTTP servers ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, port: int, path: str, *, timeout_s: float = 180) -> None:
    """Poll ``GET path`` until it answers 200; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(OSError, http.client.HTTPException):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                conn.close()
                return
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"server on port {port} did not start (exit {proc.poll()})")
        time.sleep(0.3)


@contextlib.contextmanager
def valhalla_service(tiles: Tiles, *, threads: int = 1) -> Iterator[tuple[int, int]]:
    """``valhalla_service`` on ``tiles`` with ``threads`` workers: yields (port, pid).

    Its internal sockets get paths of their own, so two servers never share one.
    """
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="valhalla-service-") as tmp:
        config = copy.deepcopy(tiles.config)
        config["httpd"]["service"].update(listen=f"tcp://127.0.0.1:{port}",
                                          loopback=f"ipc://{tmp}/loopback",
                                          interrupt=f"ipc://{tmp}/interrupt")  # fmt: skip
        for section in ("loki", "thor", "odin", "meili"):
            config[section]["service"]["proxy"] = f"ipc://{tmp}/{section}"
        path = Path(tmp) / "service.json"
        path.write_text(json.dumps(config))
        proc = subprocess.Popen([str(bin_dir() / "valhalla_service"), str(path), str(threads)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            wait_until_up(proc, port, "/status")
            yield port, proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def memory_mb(pid: int) -> dict[str, float]:
    """RSS, PSS (shared pages split between their users) and private memory of ``pid``, MB:
    RSS counts every shared library page and, for a forked worker, the pages it shares
    with its parent, so PSS and private say more when two servers are compared."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split(":", 1)
        fields[name] = int(value.split()[0]) / 1024
    return {"rss_mb": round(fields["Rss"], 1), "pss_mb": round(fields["Pss"], 1),
            "private_mb": round(fields["Private_Clean"] + fields["Private_Dirty"], 1)}  # fmt: skip


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (e.g. gunicorn's workers)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(x) for x in (task / "children").read_text().split()]
    return found


def load_average() -> float:
    return round(os.getloadavg()[0], 2)
