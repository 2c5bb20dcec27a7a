"""Pools of spawned children, each handed to one caller at a time.

Apart from the children themselves because it is about how many and which: the member given
back last is taken first (its caches warm), and a fixed-size pool starts every member again
that dies, is killed or does not come up (after 0.5 s, doubling up to 30 s while starts keep
failing), so it never shrinks.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from publisher.children.spawned import Child

__all__ = ["Busy", "Member", "Pool"]

log = logging.getLogger(__name__)


class Busy(TimeoutError):
    """No member of the pool was free before the deadline (or the pool is closed)."""


@dataclass(frozen=True)
class Member:
    """A member of a pool as the pool sees it: "starting", "idle" or "busy"."""

    pid: int
    state: str


class Pool:
    """Children made by `start`, handed out to one caller at a time.

    size > 0: that many members, all started at once in the background and each started
    again when it dies, is killed or does not come up (`ready(child)` said False); `take`
    waits for a free one. size 0: members are started when `take` finds none idle, as many
    as are taken at once, and one that is killed is simply gone. `ready` (called in a
    thread of the pool's, with the child that was just started) logs why it says False.
    """

    def __init__(self, start: Callable[[], Child], size: int = 0, *,
                 ready: Callable[[Child], bool] | None = None, name: str = "child process"):
        self.size = max(0, int(size))
        self.name = name
        self._start = start
        self._ready = ready
        self._changed = threading.Condition()
        self._state: dict[Child, str] = {}
        self._idle: list[Child] = []  # last in, first out
        self._waiting: collections.deque[object] = collections.deque()  # callers, in turn
        self._closed = False
        for _ in range(self.size):
            self._start_in_background(0)

    # what callers do

    def take(self, deadline: float | None = None) -> Child:
        """A live idle member (the one given back last); dead ones found idle are replaced.
        Raises Busy when a fixed-size pool has none free by the deadline (time.monotonic())."""
        while True:
            with self._changed:
                # First come, first served: a caller waits its turn behind those already
                # waiting, so one that has just given a member back cannot take it again
                # ahead of them. Without the queue, one worker shared by four query threads
                # left some queries waiting 0.8 s while others were answered in 1 ms.
                ticket = object()
                self._waiting.append(ticket)
                try:
                    while self.size and not self._closed and (
                            not self._idle or self._waiting[0] is not ticket):
                        remaining = None if deadline is None else deadline - time.monotonic()
                        if remaining is not None and remaining <= 0:
                            raise Busy(f"all {self.size} members of the pool ({self.name}) "
                                       "stayed busy")
                        self._changed.wait(remaining)
                finally:
                    self._waiting.remove(ticket)
                    self._changed.notify_all()  # the next in line may go now
                if self._closed:
                    raise Busy(f"the pool ({self.name}) is shut down")
                child = self._idle.pop() if self._idle else None
                if child is not None:
                    self._set(child, "busy")
            if child is None:  # on demand
                child = self._start()
                with self._changed:
                    if not self._closed:
                        self._set(child, "busy")
                        return child
                child.kill()
                raise Busy(f"the pool ({self.name}) is shut down")
            if child.alive():
                return child
            log.warning("%s %s had exited (status %s); replacing it", self.name, child.pid,
                        child.returncode)
            self.replace(child)

    def put(self, child: Child) -> None:
        """Give a member back after it answered."""
        with self._changed:
            if child in self._state and not self._closed:
                self._set(child, "idle")
                self._idle.append(child)

    def replace(self, child: Child) -> None:
        """Kill a member (late, dead, or misbehaving) and, in a fixed-size pool, start
        another in its place in the background."""
        if self._discard(child) and self.size:
            self._start_in_background(0)

    def close(self) -> None:
        """Kill every member; nothing more is started."""
        with self._changed:
            self._closed = True
            members = list(self._state)
            self._state.clear()
            self._idle.clear()
            self._changed.notify_all()
        for child in members:
            child.kill()

    # what tests and the health page see

    def members(self) -> list[Member]:
        """Every member, with its state (a member that died while idle still shows idle
        until it is taken)."""
        with self._changed:
            return self._members()

    def waiting(self) -> int:
        """How many callers wait for a member now."""
        with self._changed:
            return len(self._waiting)

    def pids(self) -> list[int]:
        """The process ids of the members that are alive."""
        with self._changed:
            children = list(self._state)
        return [child.pid for child in children if child.alive()]

    def wait_until(self, condition: Callable[[list[Member]], bool], timeout: float) -> bool:
        """Wait until condition(members) holds, checked whenever a member changes state, for
        at most timeout seconds; whether it held. condition must not call the pool."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition(self._members()):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    # inside

    def _members(self) -> list[Member]:
        return [Member(child.pid, state) for child, state in self._state.items()]

    def _set(self, child: Child, state: str) -> None:
        """Record a member's state (the lock held) and wake whoever waits for a change."""
        self._state[child] = state
        self._changed.notify_all()

    def _discard(self, child: Child) -> bool:
        """Kill a member unless someone else (close, another thread) already took it;
        whether it was ours."""
        with self._changed:
            owned = self._state.pop(child, None) is not None
            if child in self._idle:
                self._idle.remove(child)
            self._changed.notify_all()
        if owned:
            child.kill()
        return owned

    def _start_in_background(self, attempt: int) -> None:
        threading.Thread(target=self._start_member, args=(attempt,), daemon=True,
                         name="kiezgraph-child-start").start()

    def _start_member(self, attempt: int) -> None:
        """Start one member and, once ready, make it available; one that does not come up
        is tried again, less often each time."""
        if self._closed:
            return
        try:
            child = self._start()
        except Exception:
            log.exception("could not start a %s", self.name)
            self._retry(attempt)
            return
        with self._changed:
            if not self._closed:
                self._set(child, "starting")
        if self._closed:
            child.kill()
            return
        ready = self._ready is None or self._ready(child)
        with self._changed:
            if ready and child in self._state and not self._closed:
                self._set(child, "idle")
                self._idle.append(child)
                return
        self._discard(child)  # ready() says why, in the log
        self._retry(attempt)

    def _retry(self, attempt: int) -> None:
        """Start a member again after a pause: 0.5 s, doubling up to 30 s."""
        if not self._closed:
            timer = threading.Timer(min(30.0, 0.5 * 2 ** attempt), self._start_member,
                                    (attempt + 1,))
            timer.daemon = True
            timer.start()
