"""Load shedding: a bounded queue in front of the router, and a fast 503 when it is full.

One process computes one route at a time (the router's caches are not thread-safe, and
the work holds the GIL anyway); several processes use several cores (see
:mod:`server.serving`). Past that, waiting longer helps nobody: a caller waiting half a
minute has given up. So each process lets at most ``max_waiting`` requests wait, each for
at most ``max_wait_s``, and answers everything else at once with 503 ``overloaded`` and
``Retry-After``. An overload *episode* logs one warning when it starts and one line with
the count when it ends, not a line per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from routing.errors import RoutingError

log = logging.getLogger(__name__)


class OverloadedError(RoutingError):
    """Too many requests are waiting; the client should retry after ``retry_after_s``."""

    code = "overloaded"
    http_status = 503

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class SheddingOptions:
    """Limits of one process's queue (config key ``SHEDDING``).

    Attributes
    ----------
    max_waiting
        Requests that may wait for the router while one computes.
    max_wait_s
        Longest wait; a request still waiting then is answered 503.
    retry_after_s
        The ``Retry-After`` given with a 503.
    quiet_s
        An episode ends after this long without shedding.
    """

    max_waiting: int = 4
    max_wait_s: float = 1.0
    retry_after_s: int = 1
    quiet_s: float = 5.0


class LoadShedder:
    """One computing slot, a bounded wait for it, and overload episodes logged once."""

    def __init__(self, options: SheddingOptions = SheddingOptions()) -> None:
        self.options = options
        self._slot = threading.Lock()
        self._state = threading.Lock()
        self._waiting = 0
        self._episode_start: float | None = None
        self._episode_shed = 0
        self._last_shed = 0.0
        self.shed_total = 0

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold the computing slot for the ``with`` block, or raise :class:`OverloadedError`."""
        if not self._slot.acquire(blocking=False):
            with self._state:
                full = self._waiting >= self.options.max_waiting
                if not full:
                    self._waiting += 1
            if full:
                raise self._shed("the queue is full")
            try:
                admitted = self._slot.acquire(timeout=self.options.max_wait_s)
            finally:
                with self._state:
                    self._waiting -= 1
            if not admitted:
                raise self._shed(f"no turn within {self.options.max_wait_s:g} s")
        try:
            yield
        finally:
            self._slot.release()
            self._maybe_end_episode()

    def _shed(self, why: str) -> OverloadedError:
        now = time.monotonic()
        with self._state:
            self.shed_total += 1
            self._last_shed = now
            if self._episode_start is None:
                self._episode_start = now
                self._episode_shed = 0
                log.warning("overloaded (%s): answering 503 with Retry-After %d s until the "
                            "queue drains (at most %d waiting, %g s each)", why,
                            self.options.retry_after_s, self.options.max_waiting,
                            self.options.max_wait_s)  # fmt: skip
            self._episode_shed += 1
        return OverloadedError(
            f"the server is busy ({why}); retry after {self.options.retry_after_s} s",
            retry_after_s=self.options.retry_after_s,
        )

    def _maybe_end_episode(self) -> None:
        if self._episode_start is None:
            return
        now = time.monotonic()
        with self._state:
            if self._episode_start is None or now - self._last_shed < self.options.quiet_s:
                return
            log.warning("overload over: %d request(s) answered 503 in %.1f s",
                        self._episode_shed, self._last_shed - self._episode_start)  # fmt: skip
            self._episode_start = None
