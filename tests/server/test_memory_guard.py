"""Memory bounded by size (issue 12): malloc arenas capped, workers over budget recycled."""

from __future__ import annotations

import logging
import sys

import pytest

from server.serving import MemoryGuard, limit_malloc_arenas, resident_mb


class GunicornWorker:
    """The part of a gunicorn worker the guard uses (pid, log, alive)."""

    def __init__(self) -> None:
        self.pid = 4242
        self.alive = True
        self.log = logging.getLogger("test.worker")


def test_a_worker_over_its_memory_budget_is_recycled_gracefully(
    caplog: pytest.LogCaptureFixture,
) -> None:
    held = resident_mb()
    assert held > 10  # this test process holds numpy, flask, ...
    roomy, tight = GunicornWorker(), GunicornWorker()
    with caplog.at_level(logging.WARNING, logger="test.worker"):
        MemoryGuard(held * 10)(roomy, None, None, None)
        MemoryGuard(1)(tight, None, None, None)
        MemoryGuard(1)(tight, None, None, None)  # already leaving: no second line
    assert roomy.alive and not tight.alive
    assert len(caplog.records) == 1 and "limit 1 MB" in caplog.records[0].getMessage()
    MemoryGuard(0)(roomy, None, None, None)  # 0: off
    assert roomy.alive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_arenas_can_be_capped() -> None:
    assert limit_malloc_arenas(2) is True
    assert limit_malloc_arenas(0) is False  # 0 means: leave glibc's default
