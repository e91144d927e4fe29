"""The engine-side feed cache: built once per distinct input, rebuilt when an input changes."""

from __future__ import annotations

from pathlib import Path

from routing.transit.feed_cache import ensure_cached_feed


def test_feed_is_built_once_per_input_and_rebuilt_when_an_input_changes(tmp_path: Path) -> None:
    source = tmp_path / "stops.json"
    source.write_text("[1]")
    built: list[Path] = []

    def build(out: Path) -> None:
        built.append(out)
        out.write_bytes(source.read_bytes())

    first = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    again = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    assert first == again and built == [first] and first.read_text() == "[1]"
    source.write_text("[1, 2]")
    changed = ensure_cached_feed(tmp_path / "cache", name="city", inputs=[source], build=build)
    assert changed != first and built == [first, changed] and changed.read_text() == "[1, 2]"
    salted = ensure_cached_feed(
        tmp_path / "cache", name="city", inputs=[source], build=build, salt="v2"
    )
    assert salted not in (first, changed) and len(built) == 3
