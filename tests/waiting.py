"""Waiting for something to happen in a test: poll against a deadline, never a bare sleep.

A fixed sleep is either too short on a busy machine (the test flakes) or too long on a quiet
one (the suite crawls). `eventually` asks a probe again and again until it says yes, and
fails with a message naming what was awaited once the deadline has passed:

    eventually(lambda: health()["build_id"] == after, 120, "SIGHUP to swap the new build in")

A probe that raises one of the `ignoring` exceptions counts as "not yet" (a server not yet
listening, say); any other exception, an AssertionError too, ends the wait at once, so a
probe can check that the process it waits for is still alive.

A fixed sleep stays only where real time must pass on purpose (a slow client, a server-side
timeout, waiting to see that something does NOT happen); each says why beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["eventually", "until"]

T = TypeVar("T")


def eventually(probe: Callable[[], T], timeout: float, what: str | Callable[[], str],
               interval: float = 0.05, ignoring: tuple[type[BaseException], ...] = ()) -> T:
    """Call `probe` until it returns something true and return that; fail naming `what`
    once `timeout` seconds have passed (`what` may be a function, called only then: to add
    a server's log, say). The probe is always asked at least once, and once more after the
    deadline, so a slow last step is not counted against it."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        late = time.monotonic() >= deadline
        try:
            value = probe()
        except ignoring as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if late:
            named = what if isinstance(what, str) else what()
            raise AssertionError(f"waited {timeout:g} s for {named}; last seen: {last!r}")
        time.sleep(interval)


def until(condition: Callable[[], object], timeout: float, what: str | Callable[[], str],
          interval: float = 0.05, ignoring: tuple[type[BaseException], ...] = ()) -> None:
    """Wait until `condition()` is true; fail naming `what` after `timeout` seconds."""
    eventually(condition, timeout, what, interval, ignoring)
