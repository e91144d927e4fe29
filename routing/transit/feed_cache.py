"""A built GTFS feed cached on disk by a hash of its inputs.

The engine knows nothing of how a city's feed is built: a dataset package
(``datasets/<city>/``) passes its input files and a build function, and the zip is
rebuilt only when an input, the options or the builder version changes.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from routing.cache import load_or_build


def feed_key(inputs: Iterable[Path], *, salt: str = "") -> str:
    """Hash of the input files' names and bytes and of ``salt`` (builder version, options).

    Parameters
    ----------
    inputs : iterable of Path
        Every file the build reads.
    salt : str
        Anything else the output depends on.

    Returns
    -------
    str
        20 hex digits.
    """
    h = hashlib.sha256(salt.encode())
    for path in inputs:
        path = Path(path)
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:20]


def ensure_cached_feed(
    cache_dir: str | Path,
    *,
    name: str,
    inputs: Iterable[Path],
    build: Callable[[Path], object],
    salt: str = "",
) -> Path:
    """Path of ``<cache_dir>/<name>-<key>.zip``, calling ``build(path)`` when it is absent.

    Parameters
    ----------
    cache_dir : str or Path
        Folder of cached feeds (created when missing).
    name : str
        Stem of the zip's name (e.g. ``"almaty-gtfs"``).
    inputs : iterable of Path
        The files the build reads; their bytes key the cache.
    build : callable
        Writes the zip to the path it is given (a unique temporary name, renamed into place
        under a lock by :func:`routing.cache.load_or_build`).
    salt : str
        Builder version and options that change the output.

    Returns
    -------
    Path
        The cached zip.
    """
    cache_dir = Path(cache_dir)
    out = cache_dir / f"{name}-{feed_key(inputs, salt=salt)}.zip"
    # A damaged zip is rebuilt with a warning; two processes starting at once build it once.
    load_or_build(out, load=check_zip, build=lambda: None,
                  save=lambda _nothing, tmp: build(tmp))  # fmt: skip
    return out


def check_zip(path: Path) -> Path:
    """``path`` when every member of the zip reads back with the right CRC, else raise.

    Raises
    ------
    zipfile.BadZipFile
        The file is not a zip, is truncated, or a member fails its CRC check.
    """
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
    if bad is not None:
        raise zipfile.BadZipFile(f"member {bad} fails its CRC check")
    return path
