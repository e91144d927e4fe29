"""Disk caches that heal: atomic writes under a lock, and damaged files rebuilt.

Both the compiled-graph cache and the built GTFS feed use :func:`load_or_build`:

- a cache file that cannot be read (truncated, CRC error, empty, wrong format) is rebuilt
  with a warning, never fatal;
- a new file is written under a unique temporary name in the same folder and renamed into
  place (atomic), while holding an exclusive lock on ``<name>.lock``, so that two processes
  starting at once on an empty cache build it once and never read a half-written file.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

log = logging.getLogger(__name__)

T = TypeVar("T")


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<path>.lock`` (blocks until other holders are done)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write ``path`` via ``write(tmp)`` on a unique temporary name, then rename into place.

    The temporary file ends with ``path``'s suffix (``numpy.savez`` would add ``.npz``
    otherwise) and is removed when ``write`` fails.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_or_build(
    path: Path,
    *,
    load: Callable[[Path], T],
    build: Callable[[], T],
    save: Callable[[T, Path], None],
    warn: Callable[[str], None] | None = None,
) -> tuple[T, bool]:
    """The cached value at ``path``, or a freshly built one saved there.

    Parameters
    ----------
    path
        The cache file.
    load
        Reads the file; any exception means the file is damaged or stale.
    build
        Builds the value from the inputs.
    save
        Writes a value to a (temporary) path.
    warn
        Also told when a damaged file is rebuilt (the module logger always is).

    Returns
    -------
    value, hit
        ``hit`` is True when the value came from the cache.
    """
    value = _try_load(path, load, warn)
    if value is not None:
        return value, True
    with file_lock(path):
        # Another process may have built it while we waited for the lock.
        value = _try_load(path, load, None)
        if value is not None:
            return value, True
        built = build()
        atomic_write(path, lambda tmp: save(built, tmp))
    return built, False


def _try_load(
    path: Path, load: Callable[[Path], T], warn: Callable[[str], None] | None
) -> T | None:
    if not path.is_file():
        return None
    try:
        return load(path)
    except Exception as exc:  # any failure to read a cache means: rebuild it
        why = f"{type(exc).__name__}: {exc}"
        message = f"cache file {path.name} is unreadable ({why}); rebuilding it"
        log.warning(message)
        if warn is not None:
            warn(message)
        return None


def arrays_key(settings: Sequence[int], arrays: Iterable[np.ndarray], *,
               float_settings: Sequence[float] = ()) -> str:  # fmt: skip
    """A cache file's key: a hash of the integer settings, the float settings and the
    arrays' bytes (in that order) that the cached thing is built from."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(np.array(settings, dtype=np.int64).tobytes())
    if float_settings:
        digest.update(np.array(float_settings, dtype=np.float64).tobytes())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()
