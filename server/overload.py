"""Load shedding and time limits: bounded queues in front of the engine, fast 503s.

Two **lanes** per process, each with its own computing slot and its own bounded queue:

``route``
    ``/route``: short street searches (milliseconds).
``heavy``
    Everything else that computes: ``/plan``, ``/plan/distribution``, ``/matrix``,
    ``/isochrone`` (and any new endpoint that does not choose). A ``/plan`` with a new
    override value can take seconds.

So a slow request can hold at most its own lane: ``/plan`` can never take the thread that
``/route`` needs, and a burst of routes cannot starve the planner. At most two computations
run at once per process (they share the GIL, so this buys isolation, not throughput; more
cores come from more processes, see :mod:`server.serving`). The engine state both lanes
touch is the street network's per-profile cache, which is safe for that; the planner's
caches are only used from the heavy lane, one request at a time.

Past a lane's slot, waiting longer helps nobody: a caller waiting half a minute has given
up. So each lane lets at most ``max_waiting`` requests wait, each for at most
``max_wait_s``, and answers everything else at once with 503 ``overloaded`` and
``Retry-After``.

Each admitted request also gets a **time limit** (``time_limit_s`` for the route lane,
``heavy_time_limit_s`` for the heavy one), counted from its arrival at the queue: the
engine checks it between steps (RAPTOR rounds, matrix batches, street searches; see
:mod:`routing.deadline`) and gives up with 503 ``deadline_exceeded`` and ``Retry-After``.

An overload *episode* (requests shed, or stopped at their limit) logs one warning when it
starts and one line with the count when it ends, not a line per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from routing.deadline import Deadline, within
from routing.errors import DeadlineExceededError, RoutingError

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
    time_limit_s: float = 5.0
    heavy_time_limit_s: float = 30.0

    def limit_for(self, lane: str) -> float:
        """The time limit of a request in ``lane``."""
        return self.time_limit_s if lane == ROUTE else self.heavy_time_limit_s


#: The lanes (see the module docstring).
ROUTE, HEAVY = "route", "heavy"
LANES = (ROUTE, HEAVY)


class LoadShedder:
    """Per lane: one computing slot and a bounded wait for it; a time limit per request;
    overload episodes logged once.

    ``waiting(lane)`` tells how many requests wait in a lane; ``shed_total`` counts 503s.
    """

    def __init__(self, options: SheddingOptions = SheddingOptions()) -> None:
        self.options = options
        self._slots = {lane: threading.Lock() for lane in LANES}
        self._waiting = dict.fromkeys(LANES, 0)
        self._state = threading.Lock()
        self._episode_start: float | None = None
        self._episode_shed = 0
        self._last_shed = 0.0
        self.shed_total = 0

    def waiting(self, lane: str = ROUTE) -> int:
        return self._waiting[lane]

    @contextmanager
    def admit(self, lane: str = HEAVY) -> Iterator[Deadline]:
        """Hold ``lane``'s computing slot for the ``with`` block, under the lane's time limit.

        Yields the request's :class:`~routing.deadline.Deadline` (also in force for the
        engine's checkpoints inside the block).

        Raises
        ------
        OverloadedError
            The lane's queue is full, or no turn came within ``max_wait_s`` (or the time
            limit, if shorter).
        DeadlineExceededError
            From the engine, when the computation passed the time limit.
        """
        opts = self.options
        deadline = Deadline(opts.limit_for(lane))
        slot = self._slots[lane]
        if not slot.acquire(blocking=False):
            with self._state:
                full = self._waiting[lane] >= opts.max_waiting
                if not full:
                    self._waiting[lane] += 1
            if full:
                raise self._shed(f"the {lane} queue is full")
            wait_s = max(0.0, min(opts.max_wait_s, deadline.remaining()))
            try:
                admitted = slot.acquire(timeout=wait_s)
            finally:
                with self._state:
                    self._waiting[lane] -= 1
            if not admitted:
                raise self._shed(f"no turn in the {lane} lane within {wait_s:g} s")
        try:
            with within(deadline):
                yield deadline
        except DeadlineExceededError as exc:
            exc.retry_after_s = opts.retry_after_s  # type: ignore[attr-defined]
            self._episode(f"a {lane} request passed its {deadline.seconds:g} s limit")
            raise
        finally:
            slot.release()
            self._maybe_end_episode()

    def _shed(self, why: str) -> OverloadedError:
        self._episode(why)
        return OverloadedError(
            f"the server is busy ({why}); retry after {self.options.retry_after_s} s",
            retry_after_s=self.options.retry_after_s,
        )

    def _episode(self, why: str) -> None:
        now = time.monotonic()
        with self._state:
            self.shed_total += 1
            self._last_shed = now
            if self._episode_start is None:
                self._episode_start = now
                self._episode_shed = 0
                log.warning("overloaded (%s): answering 503 with Retry-After %d s until the "
                            "queues drain (at most %d waiting per lane, %g s each)", why,
                            self.options.retry_after_s, self.options.max_waiting,
                            self.options.max_wait_s)  # fmt: skip
            self._episode_shed += 1

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
