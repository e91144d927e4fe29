"""A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a unix socket only.

``initdb`` refuses to run as root, so as root the server runs as the ``postgres`` user
(``runuser -u postgres --``). The binaries come from Debian's ``postgresql`` package, which
``make test`` installs when they are missing; without them the fixture fails (never skips),
so a CI run cannot pass without having tested PostgreSQL.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]))
    dirs = [d for d in dirs if os.path.exists(os.path.join(d, "initdb"))]
    return Path(dirs[-1]) if dirs else None


@contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yield its SQLAlchemy URL (``postgresql+psycopg``); stop and delete it."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        pytest.fail("PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's "
                    "postgresql package (`make test` does it when run as root)")  # fmt: skip
    as_root = os.geteuid() == 0
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    folder = Path(tempfile.mkdtemp(prefix="dispatch-pg-"))
    if as_root:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"

    def run(*args: str) -> None:
        done = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(args[:2])} failed: {done.stderr or done.stdout}")

    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8")  # fmt: skip
        options = f"-k {folder} -c listen_addresses='' -F"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l",
            str(folder / "server.log"), "-w", "-t", "60", "start")  # fmt: skip
        try:
            yield f"postgresql+psycopg://postgres@/postgres?host={folder}"
        finally:
            run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
