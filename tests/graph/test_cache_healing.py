"""Caches that heal (issue 12): damaged files rebuilt with a warning, concurrent starts safe."""

from __future__ import annotations

import logging
import multiprocessing
import zipfile
from pathlib import Path

import numpy as np
import pytest

from routing.cache import load_or_build
from routing.errors import DataError
from routing.graph.pipeline import load_graph
from server import create_app

RAMP = Path(__file__).resolve().parents[1] / "fixtures" / "osm" / "ramp.osm.xml"


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _flip_a_data_byte(path: Path) -> None:
    """Damage a stored array's bytes so that its CRC no longer matches (the zip stays valid)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("node_lat.npy")
    offset = info.header_offset + 30 + len(info.filename) + len(info.extra) + 100
    data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage", [_truncate, _empty, _flip_a_data_byte],
                         ids=["truncated", "empty", "crc"])  # fmt: skip
def test_an_unreadable_graph_cache_is_rebuilt_with_a_warning(
    tmp_path: Path, damage, caplog: pytest.LogCaptureFixture
) -> None:
    first = load_graph(RAMP, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("walk-*.npz")
    damage(cached)
    messages: list[str] = []
    with caplog.at_level(logging.WARNING, logger="routing.cache"):
        again = load_graph(RAMP, cache_dir=tmp_path, progress=messages.append)
    assert again.meta["cache"]["hit"] is False
    assert any("unreadable" in m and cached.name in m for m in messages)
    assert any("rebuilding" in r.getMessage() for r in caplog.records)
    np.testing.assert_array_equal(again.node_lat, first.node_lat)
    # ...and healed: the next start reads the cache again.
    assert load_graph(RAMP, cache_dir=tmp_path).meta["cache"]["hit"] is True
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")) == [
        cached.name]  # fmt: skip


def _slow_build(counter: Path) -> str:
    with open(counter, "a") as f:
        f.write("built\n")
    import time

    time.sleep(0.5)  # long enough that the other process arrives while this one builds
    return "value"


def _cache_worker(path: str, counter: str, out: str, start) -> None:
    start.wait()
    value, _ = load_or_build(Path(path), load=lambda p: p.read_text(),
                             build=lambda: _slow_build(Path(counter)),
                             save=lambda v, tmp: tmp.write_text(v))  # fmt: skip
    Path(out).write_text(value)


def test_concurrent_builds_under_the_lock_write_once(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    target, counter = tmp_path / "cache" / "thing.txt", tmp_path / "builds.txt"
    outs = [tmp_path / f"out{i}.txt" for i in range(2)]
    workers = [ctx.Process(target=_cache_worker, args=(str(target), str(counter), str(o), start))
               for o in outs]  # fmt: skip
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=60)
    assert [w.exitcode for w in workers] == [0, 0]
    assert [o.read_text() for o in outs] == ["value", "value"]
    assert counter.read_text().count("built") == 1
    assert target.read_text() == "value"
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(".")] == []


NO_WALKABLE_WAY = """<?xml version="1.0" encoding="UTF-8"?>
<osm version="0.6" generator="hand">
  <node id="1" lat="43.2400" lon="76.9400"/>
  <node id="2" lat="43.2400" lon="76.9412"/>
  <node id="3" lat="43.2410" lon="76.9412"/>
  <way id="1"><nd ref="1"/><nd ref="2"/><nd ref="3"/><nd ref="1"/>
    <tag k="building" v="yes"/></way>
</osm>
"""


def test_a_graph_with_no_walkable_way_is_a_start_up_error(tmp_path: Path) -> None:
    osm = tmp_path / "buildings-only.osm.xml"
    osm.write_text(NO_WALKABLE_WAY, encoding="utf-8")
    with pytest.raises(DataError, match="no walkable way") as info:
        create_app({"OSM": str(osm), "CACHE_DIR": str(tmp_path / "cache")})
    assert info.value.path == str(osm)
