"""Times of day as text, in seconds since midnight: GTFS's ``HH:MM:SS`` and the ``HH:MM``
clock times of configuration files, scenarios and requests.

It imports nothing of ours, so every layer (feeds, scenarios, dispatch, the Almaty
builders, the server) reads and writes these times the same way.
"""

from __future__ import annotations

import re

#: GTFS ``H:MM:SS`` / ``HH:MM:SS``; hours may pass 24 (trips after midnight).
_GTFS_TIME = re.compile(r"(\d{1,3}):([0-5]\d):([0-5]\d)")
#: ``H:MM`` / ``HH:MM``, optionally ``:SS``; hours may pass 23.
_CLOCK = re.compile(r"(\d{1,2}):([0-5]\d)(?::([0-5]\d))?")


def parse_time(text: str) -> int:
    """Seconds of a GTFS ``H:MM:SS``/``HH:MM:SS`` time (hours may exceed 24).

    Raises
    ------
    ValueError
        If ``text`` is not such a time.
    """
    match = _GTFS_TIME.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not HH:MM:SS")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_time(seconds: int) -> str:
    """``HH:MM:SS`` of whole seconds since midnight; negative values get a leading ``-``."""
    sign = "-" if seconds < 0 else ""
    seconds = abs(int(seconds))
    return f"{sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def parse_clock(text: str, *, with_seconds: bool = True) -> int:
    """Seconds of a clock time ``H:MM`` or ``HH:MM`` (hours may pass 23), and with
    ``with_seconds`` also ``HH:MM:SS``.

    The text is taken as given (callers strip it if they allow spaces).

    Raises
    ------
    ValueError
        If ``text`` is not such a time; callers raise their own error naming the field.
    """
    match = _CLOCK.fullmatch(text)
    if match is None or (match.group(3) is not None and not with_seconds):
        raise ValueError(f"{text!r} is not HH:MM")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_hhmm(seconds: float) -> str:
    """``HH:MM`` of seconds since midnight, rounded to the minute."""
    minutes = int(round(seconds / 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"
