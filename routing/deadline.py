"""Cooperative time limits for long computations.

A caller (the HTTP server, a script) gives a computation a :class:`Deadline`; long loops
(RAPTOR rounds, range-RAPTOR departures, matrix batches, transfer-walk chunks, ...) call
:func:`checkpoint` between steps, which raises :class:`~routing.errors.DeadlineExceededError`
once the deadline has passed. Nothing is interrupted in the middle of a step, so caches stay
consistent; a step (one Dijkstra batch, one RAPTOR round) is short.

The deadline travels with the call in a :class:`contextvars.ContextVar`, so that code
between the entry point and the loops needs no extra argument, and each thread (each
request of a threaded server) has its own. Two ways to set it:

- ``with within(deadline): ...`` around any call;
- ``deadline=`` on a public entry point decorated with :func:`accepts_deadline`.

Without a deadline, :func:`checkpoint` is a no-op (one context-variable read).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from routing.errors import DeadlineExceededError

F = TypeVar("F", bound=Callable[..., Any])


class Deadline:
    """A point in (monotonic) time after which a computation should give up.

    Parameters
    ----------
    seconds
        Time allowed from now.
    clock
        Monotonic clock (tests pass a fake one).
    """

    __slots__ = ("clock", "expires", "seconds")

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = float(seconds)
        self.clock = clock
        self.expires = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (negative once passed)."""
        return self.expires - self.clock()

    def expired(self) -> bool:
        return self.clock() >= self.expires

    def check(self, where: str = "") -> None:
        """Raise :class:`DeadlineExceededError` if the deadline has passed."""
        if self.clock() >= self.expires:
            at = f" (stopped during {where})" if where else ""
            raise DeadlineExceededError(
                f"the computation took longer than its limit of {self.seconds:g} s{at}",
                limit_s=self.seconds,
            )


_current: ContextVar[Deadline | None] = ContextVar("routing_deadline", default=None)


def current() -> Deadline | None:
    """The deadline in force for this thread's computation, if any."""
    return _current.get()


def checkpoint(where: str = "") -> None:
    """Raise :class:`DeadlineExceededError` if the current deadline has passed (else no-op)."""
    deadline = _current.get()
    if deadline is not None:
        deadline.check(where)


@contextmanager
def within(deadline: Deadline | float | None) -> Iterator[Deadline | None]:
    """Run the ``with`` block under ``deadline`` (seconds or a :class:`Deadline`; None: none).

    An inner deadline never extends an outer one: the earlier of the two is kept.
    """
    if isinstance(deadline, int | float):
        deadline = Deadline(deadline)
    outer = _current.get()
    if deadline is None or (outer is not None and outer.expires <= deadline.expires):
        yield outer
        return
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def accepts_deadline(func: F) -> F:
    """Give a public entry point an optional keyword ``deadline`` (seconds or Deadline).

    The call then runs :func:`within` that deadline; without it, as before.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, deadline: Deadline | float | None = None, **kwargs: Any) -> Any:
        if deadline is None:
            return func(*args, **kwargs)
        with within(deadline):
            return func(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
