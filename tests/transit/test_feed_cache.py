"""The feed cache: built once per distinct input, rebuilt when an input changes or its zip
is damaged, and safe to build from two processes at once (issue 12)."""

from __future__ import annotations

import multiprocessing
import zipfile
from pathlib import Path

import pytest

from datasets.almaty.cache import ensure_almaty_gtfs
from routing.errors import GtfsError
from routing.transit.feed_cache import ensure_cached_feed
from routing.transit.gtfs import load_feed


def test_feed_is_built_once_per_input_and_rebuilt_when_an_input_changes(tmp_path: Path) -> None:
    source = tmp_path / "stops.json"
    source.write_text("[1]")
    built: list[Path] = []

    def build(out: Path) -> None:
        built.append(out)
        with zipfile.ZipFile(out, "w") as zf:  # the cache holds zips (and checks them)
            zf.writestr("stops.txt", source.read_bytes())

    def text(zip_path: Path) -> str:
        with zipfile.ZipFile(zip_path) as zf:
            return zf.read("stops.txt").decode()

    first = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    again = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    first_built = built[0]
    assert first == again and len(built) == 1 and text(first) == "[1]"
    source.write_text("[1, 2]")
    changed = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    assert changed != first and len(built) == 2 and text(changed) == "[1, 2]"
    assert first_built.parent == first.parent  # written beside it, then renamed into place
    salted = ensure_cached_feed(
        tmp_path / "cache", name="city", inputs=[source], build=build, salt="v2"
    )
    assert salted not in (first, changed) and len(built) == 3


MINI = Path(__file__).resolve().parents[1] / "fixtures" / "gtfs" / "almaty_mini"


def _ensure(data: str, cache: str, out: str, start) -> None:
    start.wait()
    Path(out).write_text(str(ensure_almaty_gtfs(Path(data), Path(cache))))


def test_two_starts_at_once_build_one_feed_and_a_damaged_one_is_rebuilt(
    shared_data: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    outs = [tmp_path / f"out{i}.txt" for i in range(2)]
    args = [(str(shared_data / "almaty"), str(cache), str(out), start) for out in outs]
    workers = [ctx.Process(target=_ensure, args=a) for a in args]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(timeout=300)
    assert [w.exitcode for w in workers] == [0, 0]
    (path,) = {o.read_text() for o in outs}
    feed = Path(path)
    with zipfile.ZipFile(feed) as zf:
        assert zf.testzip() is None
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".lock")) == [feed.name]

    good = feed.read_bytes()
    feed.write_bytes(good[: len(good) // 3])  # a truncated cache: rebuilt with a warning
    assert ensure_almaty_gtfs(shared_data / "almaty", cache) == feed
    assert feed.read_bytes() == good  # the builder is deterministic
    assert any("unreadable" in r.getMessage() for r in caplog.records)


def test_a_damaged_member_of_a_gtfs_zip_is_named(tmp_path: Path) -> None:
    feed = tmp_path / "feed.zip"
    with zipfile.ZipFile(feed, "w", compression=zipfile.ZIP_STORED) as zf:
        for member in sorted(MINI.iterdir()):
            zf.write(member, member.name)
    data = bytearray(feed.read_bytes())
    with zipfile.ZipFile(feed) as zf:
        info = zf.getinfo("stops.txt")
    # A byte inside the stored text (past the header row): readable, but the CRC fails.
    data[info.header_offset + 30 + len(info.filename) + len(info.extra) + 60] ^= 0x01
    feed.write_bytes(bytes(data))
    with pytest.raises(GtfsError, match="stops.txt") as exc:
        load_feed(feed)
    assert "damaged" in exc.value.message
