"""Print per-query medians and ratios against osmnx from a pytest-benchmark JSON file.

Usage: python benchmarks/ratios.py path/to/benchmark.json
"""

from __future__ import annotations

import json
import sys


def main(path: str) -> None:
    data = json.load(open(path))
    rows = []
    osmnx = {}
    for b in data["benchmarks"]:
        info = b.get("extra_info", {})
        median_ms = b["stats"]["median"] * 1000
        rows.append((b["name"], info, median_ms))
        if info.get("kind") == "osmnx":
            osmnx[(info["city"], info["profile"])] = median_ms
    for name, info, median_ms in rows:
        ratio = ""
        key = (info.get("city"), info.get("profile"))
        base = osmnx.get(key) or osmnx.get((info.get("city"), "walk"))
        if info.get("kind", "").startswith("ours") and base:
            ratio = f"  osmnx/ours = {base / median_ms:6.1f}x"
        print(f"{name:70s} median {median_ms:9.3f} ms{ratio}")


if __name__ == "__main__":
    main(sys.argv[1])
