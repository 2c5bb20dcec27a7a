"""How many queries run at once: a bounded number, a short wait for a slot, then "busy"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Admission", "Busy"]


class Busy(RuntimeError):
    """Every query slot stayed taken; the client should retry after `retry_after` seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Admission:
    """At most `limit` queries at once; up to `waiting` more wait `wait` seconds for a slot.

    Engine-independent, so an endpoint forwarding to a remote store is bounded the same way.
    Capping the waiters too keeps SPARQL from holding every thread of the web server, so
    other requests (dereferencing, pages) never queue behind queries.
    """

    def __init__(self, limit: int, waiting: int, wait: float = 2.0):
        self.limit = max(1, limit)
        self.waiting = max(0, waiting)
        self.wait = wait
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._waiters = 0

    @property
    def waiting_now(self) -> int:
        """How many queries are waiting for a slot at this moment (at most `waiting`)."""
        with self._lock:
            return self._waiters

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one query slot for the duration of the block, or raise Busy."""
        if not self._slots.acquire(blocking=False):
            with self._lock:
                if self._waiters >= self.waiting:
                    raise Busy(f"{self.limit} queries are running and {self._waiters} waiting; "
                               "try again shortly", retry_after=max(1, round(self.wait)))
                self._waiters += 1
            try:
                got = self._slots.acquire(timeout=self.wait)
            finally:
                with self._lock:
                    self._waiters -= 1
            if not got:
                raise Busy(f"all {self.limit} query slots stayed taken for {self.wait:g} s; "
                           "try again shortly", retry_after=max(1, round(self.wait)))
        try:
            yield
        finally:
            self._slots.release()
