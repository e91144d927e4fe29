"""Parsing helpers shared by the Almaty builders (geometry and times of day: the engine's,
``routing.geo`` and ``routing.clock``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from routing.clock import parse_clock
from routing.errors import DataError

TIMEZONE = "Asia/Almaty"

SERVICE_DAY_START_S = 4 * 3600  # times before 04:00 belong to the previous service day
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
ACCESS_TAGS = ("wheelchair", "tactile_paving", "shelter", "bench", "lit", "departures_board")
UNNAMED_STOP = ("Остановка без названия", "Unnamed stop")  # ru (feed_lang), en


def strip_comments(obj: Any) -> Any:
    """Drop ``_``-prefixed keys (comments) recursively."""
    if isinstance(obj, dict):
        return {k: strip_comments(v) for k, v in obj.items() if not str(k).startswith("_")}
    if isinstance(obj, list):
        return [strip_comments(v) for v in obj]
    return obj


def parse_hhmm(text: Any, *, path: str, field_name: str) -> int:
    """Seconds from ``HH:MM`` or ``HH:MM:SS`` (hours may exceed 23)."""
    try:
        return parse_clock(str(text).strip())
    except ValueError:
        raise DataError(
            f"{path}: {field_name} must be HH:MM, got {text!r}", path=path, field=field_name
        ) from None


def parse_date(text: Any, *, path: str, field_name: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise DataError(
            f"{path}: {field_name} must be a YYYY-MM-DD date, got {text!r}",
            path=path,
            field=field_name,
        ) from None


def number_in(value: Any, *, path: str, field_name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not (low <= value <= high):
        raise DataError(
            f"{path}: {field_name} must be a number in [{low}, {high}], got {value!r}",
            path=path,
            field=field_name,
        )
    return float(value)


def load_json(path: Path) -> Any:
    """Parse a JSON file, raising DataError naming the file (and line) when broken."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found", path=str(path)) from None
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{path}: not valid JSON ({exc.msg}, line {exc.lineno})",
            path=str(path),
            line=exc.lineno,
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: cannot read ({exc})", path=str(path)) from None


def resolve_almaty_dir(data_dir: Path) -> Path:
    """Accept the shared data root (holding ``almaty/``) or the ``almaty`` folder itself."""
    data_dir = Path(data_dir)
    for candidate in (data_dir / "almaty", data_dir):
        if (candidate / "metro").is_dir() and (candidate / "bus").is_dir():
            return candidate
    raise DataError(
        f"{data_dir}: no Almaty data (expected metro/ and bus/ under it or under almaty/)",
        path=str(data_dir),
    )
