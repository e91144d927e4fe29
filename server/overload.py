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

Past a lane's slot, a request may wait only if its turn is expected soon: admission is
decided on queueing **delay**, not on queue length, so a short burst of quick requests is
served while a queue that does not drain is refused at once. Per lane:

- each request's time in the slot feeds an estimate of the lane's service time (an
  exponentially weighted mean), so the expected wait of a newcomer is what remains of the
  request computing plus one service time per request ahead of it;
- the wait allowed (the *budget*) is ``max_wait_s`` (``heavy_max_wait_s`` in the heavy
  lane) while the lane's queue empties now and then (a burst), and only
  ``standing_wait_s`` once the queue has stayed non-empty for ``standing_after_s`` (a
  standing queue: the lane is overloaded), until the slot has been busy less than
  ``BUSY_SHARE_TO_RECOVER`` of the time lately (the overload is over; a queue that only
  empties for a moment under the short budget is still overloaded). This is CoDel adapted
  to request queues, as in Maurer, "Fail at scale" (ACM Queue 13(8), 2015): a queue is
  fine while it drains; one that never drains only adds delay;
- a newcomer whose expected wait is over the budget gets 503 ``overloaded`` with
  ``Retry-After`` at once; one that waits and has no turn within its budget gets it then;
- ``max_waiting`` still bounds the number waiting, as a safety limit: each waiting request
  holds a server thread, so the server needs at least :func:`threads_needed` threads per
  process, or requests would queue unseen in the thread pool before reaching the lane.

Each admitted request also gets a **time limit** (``time_limit_s`` for the route lane,
``heavy_time_limit_s`` for the heavy one), counted from its arrival at the queue: the
engine checks it between steps (RAPTOR rounds, matrix batches, street searches; see
:mod:`routing.deadline`) and gives up with 503 ``deadline_exceeded`` and ``Retry-After``.

An overload *episode* (requests shed, or stopped at their limit) logs one warning when it
starts and one line with the count when it ends, not a line per request.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
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
    """Limits of one process's lanes (config key ``SHEDDING``).

    Attributes
    ----------
    max_waiting
        Most requests that may wait in one lane (a safety bound: each holds a thread).
    max_wait_s, heavy_max_wait_s
        Wait budget in the route lane, in the heavy lane, while the lane's queue drains now
        and then: a request expected to wait longer is refused at once, one still waiting
        after it is refused then.
    standing_wait_s
        Wait budget once the queue has stayed non-empty for ``standing_after_s``, until the
        slot has been busy less than :data:`BUSY_SHARE_TO_RECOVER` of the time lately.
    standing_after_s
        How long a queue may stay non-empty before it counts as standing (also the time
        constant of the busy share).
    retry_after_s
        The ``Retry-After`` given with a 503.
    quiet_s
        An episode ends after this long without shedding.
    time_limit_s, heavy_time_limit_s
        Time limit of a request in the route lane, in the heavy lane (wait included).
    """

    max_waiting: int = 16
    max_wait_s: float = 0.1
    heavy_max_wait_s: float = 1.0
    standing_wait_s: float = 0.02
    standing_after_s: float = 0.5
    retry_after_s: int = 1
    quiet_s: float = 5.0
    time_limit_s: float = 5.0
    heavy_time_limit_s: float = 30.0

    def limit_for(self, lane: str) -> float:
        """The time limit of a request in ``lane``."""
        return self.time_limit_s if lane == ROUTE else self.heavy_time_limit_s

    def wait_for(self, lane: str) -> float:
        """The wait budget of a request in ``lane`` while its queue drains now and then."""
        return self.max_wait_s if lane == ROUTE else self.heavy_max_wait_s


#: The lanes (see the module docstring).
ROUTE, HEAVY = "route", "heavy"
LANES = (ROUTE, HEAVY)

#: Threads per process beyond those the lanes can hold (computing or waiting): for
#: requests that do not compute (``/health``, static files) and for answering 503s.
SPARE_THREADS = 4

#: Weight of the newest service time in a lane's estimate.
SERVICE_WEIGHT = 0.2

#: A standing queue is over once the slot was busy less than this share of the time lately
#: (weighted over about ``standing_after_s``): the lane has room again.
BUSY_SHARE_TO_RECOVER = 0.9


def threads_needed(options: SheddingOptions) -> int:
    """Fewest server threads per process so that every request reaches its lane.

    Each lane holds one computing and up to ``max_waiting`` waiting requests, each on a
    thread; with fewer threads, requests would wait unseen in the server's thread pool.
    """
    return len(LANES) * (options.max_waiting + 1) + SPARE_THREADS


class Shed(Exception):  # noqa: N818 - a decision, raised inside the shedder only
    """A lane refused a request; ``why`` says why (in the 503's message)."""

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


class Ticket:
    """One request's place in a lane: admitted (holds the slot) or waiting until ``until``."""

    __slots__ = ("admitted", "arrived", "budget_s", "event", "started", "until")

    def __init__(self, arrived: float) -> None:
        self.arrived = arrived
        self.admitted = False
        self.started = arrived
        self.budget_s = 0.0
        self.until = arrived
        self.event = threading.Event()


class Lane:
    """One lane's slot and queue, and the admission rule (see the module docstring).

    Pure bookkeeping on the times it is given (no clock, no lock): :class:`LoadShedder`
    calls it under its lock with its clock, and tests drive it with chosen times.

    Attributes
    ----------
    service_s
        Estimated time a request holds the slot (None before the first one finished).
    """

    def __init__(self, name: str, options: SheddingOptions) -> None:
        self.name = name
        self.options = options
        self.running: Ticket | None = None
        self.queue: deque[Ticket] = deque()
        self.service_s: float | None = None
        self.nonempty_since: float | None = None  # when the queue last became non-empty
        self.stood = False  # the queue stood, and the lane has had no room since
        self._busy = 0.0  # share of recent time the slot was busy, as of _busy_at
        self._busy_at: float | None = None

    def busy_share(self, now: float) -> float:
        """Share of recent time the slot was busy (exponentially weighted, time constant
        ``standing_after_s``)."""
        if self._busy_at is None:
            return 0.0
        decay = math.exp(-(now - self._busy_at) / self.options.standing_after_s)
        return self._busy * decay + (1.0 - decay) * (self.running is not None)

    def standing(self, now: float) -> bool:
        """Is the queue standing: non-empty for ``standing_after_s``, now or earlier with the
        slot busy nearly all the time since?"""
        if self.stood and self.busy_share(now) >= BUSY_SHARE_TO_RECOVER:
            return True
        since = self.nonempty_since
        return since is not None and now - since >= self.options.standing_after_s

    def expected_wait(self, now: float) -> float:
        """Expected wait of a request arriving now (0 while the service time is unknown)."""
        if self.running is None or self.service_s is None:
            return 0.0
        left = max(self.service_s - (now - self.running.started), 0.0)
        return left + len(self.queue) * self.service_s

    def arrive(self, now: float, *, limit_s: float = float("inf")) -> Ticket:
        """Admit, queue (``ticket.admitted`` False, wait until ``ticket.until``) or refuse.

        ``limit_s``: time left before the request's time limit (it never waits longer).

        Raises
        ------
        Shed
            The queue is full, or the expected wait is over the budget.
        """
        ticket = Ticket(now)
        standing = self.stood = self.standing(now)
        if self.running is None and not self.queue:
            self._start(ticket, now)
            return ticket
        opts = self.options
        if len(self.queue) >= opts.max_waiting:
            raise Shed(f"the {self.name} queue is full")
        budget = min(opts.standing_wait_s if standing else opts.wait_for(self.name), limit_s)
        expected = self.expected_wait(now)
        if expected > budget:
            kind = "standing queue, " if standing else ""
            raise Shed(f"expected wait in the {self.name} lane {expected * 1000:.0f} ms, over "
                       f"its budget of {budget * 1000:.0f} ms ({kind}"
                       f"{len(self.queue)} waiting)")  # fmt: skip
        ticket.budget_s = max(budget, 0.0)
        ticket.until = now + ticket.budget_s
        if not self.queue:
            self.nonempty_since = now
        self.queue.append(ticket)
        return ticket

    def give_up(self, ticket: Ticket, now: float) -> None:
        """A waiting ticket's budget ran out: leave the queue, or run if its turn came.

        Raises
        ------
        Shed
            It had no turn (it is out of the queue).
        """
        if ticket.admitted:
            return
        self.queue.remove(ticket)
        if not self.queue:
            self.nonempty_since = None
        raise Shed(f"no turn in the {self.name} lane within {ticket.budget_s:g} s")

    def finish(self, now: float) -> Ticket | None:
        """The running request is done: learn its service time, start the next waiting one.

        Returns the ticket started (its thread is to be woken), or None.
        """
        done = self.running
        self._account(now)
        if done is not None:
            took = now - done.started
            est = self.service_s
            self.service_s = took if est is None else est + SERVICE_WEIGHT * (took - est)
        self.running = None
        if not self.queue:
            return None
        ticket = self.queue.popleft()
        if not self.queue:
            self.nonempty_since = None
        self._start(ticket, now)
        return ticket

    def _account(self, now: float) -> None:
        """Fold the time since the last change into the busy share (before a change)."""
        self._busy, self._busy_at = self.busy_share(now), now

    def _start(self, ticket: Ticket, now: float) -> None:
        if self.running is None:
            self._account(now)
        ticket.admitted = True
        ticket.started = now
        self.running = ticket


class LoadShedder:
    """Per lane: one computing slot, admission on expected delay, a time limit per request;
    overload episodes logged once.

    ``waiting(lane)`` tells how many requests wait in a lane; ``shed_total`` counts 503s.

    Parameters
    ----------
    options
        The limits.
    clock
        Monotonic clock (tests pass a fake one).
    """

    def __init__(self, options: SheddingOptions = SheddingOptions(), *,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.options = options
        self.clock = clock
        self.lanes = {lane: Lane(lane, options) for lane in LANES}
        self._state = threading.Lock()
        self._episode_start: float | None = None
        self._episode_shed = 0
        self._last_shed = 0.0
        self.shed_total = 0

    def waiting(self, lane: str = ROUTE) -> int:
        return len(self.lanes[lane].queue)

    @contextmanager
    def admit(self, lane: str = HEAVY) -> Iterator[Deadline]:
        """Hold ``lane``'s computing slot for the ``with`` block, under the lane's time limit.

        Yields the request's :class:`~routing.deadline.Deadline` (also in force for the
        engine's checkpoints inside the block).

        Raises
        ------
        OverloadedError
            The lane's expected wait is over its budget, its queue is full, or no turn came
            within the budget (or the time limit, if shorter).
        DeadlineExceededError
            From the engine, when the computation passed the time limit.
        """
        opts = self.options
        queue = self.lanes[lane]
        deadline = Deadline(opts.limit_for(lane), clock=self.clock)
        try:
            with self._state:
                ticket = queue.arrive(self.clock(), limit_s=deadline.remaining())
            if not ticket.admitted:
                self._wait(queue, ticket)
        except Shed as shed:
            raise self._shed(shed.why) from None
        try:
            with within(deadline):
                yield deadline
        except DeadlineExceededError as exc:
            exc.retry_after_s = opts.retry_after_s  # type: ignore[attr-defined]
            self._episode(f"a {lane} request passed its {deadline.seconds:g} s limit")
            raise
        finally:
            with self._state:
                following = queue.finish(self.clock())
            if following is not None:
                following.event.set()
            self._maybe_end_episode()

    def _wait(self, queue: Lane, ticket: Ticket) -> None:
        """Block until ``ticket``'s turn; raises :class:`Shed` when its budget runs out."""
        while not ticket.event.wait(max(ticket.until - self.clock(), 0.0)):
            with self._state:
                if self.clock() < ticket.until and not ticket.admitted:
                    continue  # woken early (a clock that is not the wall's): wait on
                queue.give_up(ticket, self.clock())
                return

    def _shed(self, why: str) -> OverloadedError:
        self._episode(why)
        return OverloadedError(
            f"the server is busy ({why}); retry after {self.options.retry_after_s} s",
            retry_after_s=self.options.retry_after_s,
        )

    def _episode(self, why: str) -> None:
        now = self.clock()
        with self._state:
            self.shed_total += 1
            self._last_shed = now
            if self._episode_start is None:
                self._episode_start = now
                self._episode_shed = 0
                opts = self.options
                log.warning("overloaded (%s): answering 503 with Retry-After %d s while a "
                            "lane's expected wait is over %g s (route) or %g s (heavy), or "
                            "%g s once its queue stands for %g s", why, opts.retry_after_s,
                            opts.max_wait_s, opts.heavy_max_wait_s, opts.standing_wait_s,
                            opts.standing_after_s)  # fmt: skip
            self._episode_shed += 1

    def _maybe_end_episode(self) -> None:
        if self._episode_start is None:
            return
        now = self.clock()
        with self._state:
            if self._episode_start is None or now - self._last_shed < self.options.quiet_s:
                return
            log.warning("overload over: %d request(s) answered 503 in %.1f s",
                        self._episode_shed, self._last_shed - self._episode_start)  # fmt: skip
            self._episode_start = None
