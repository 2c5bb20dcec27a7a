"""Helpers for tests of child processes: what happens to a query worker mid-query, whether a
process has ended."""

from __future__ import annotations

import os
import select
import signal
import threading
from collections.abc import Callable

__all__ = ["abort_mid_query", "wait_exited"]


def abort_mid_query(pool, run: Callable[[], object]) -> object:
    """Run run() in a thread; once one of the pool's workers has taken it, abort that worker
    as an abort inside the engine does (SIGABRT). What run() returned, or what it raised.

    Waits by order of events (every worker idle, then one taken), not by a pause."""
    outcome: dict = {}

    def query():
        try:
            outcome["value"] = run()
        except BaseException as exc:  # handed to the test to judge
            outcome["value"] = exc

    def all_idle(members) -> bool:  # a worker replaced by an earlier test may be starting
        return len(members) == pool.size and all(m.state == "idle" for m in members)

    assert pool.wait_until(all_idle, 60), "the pool's workers never all came up"
    thread = threading.Thread(target=query)
    thread.start()
    assert pool.wait_until(lambda members: any(m.state == "busy" for m in members), 60)
    busy = [m.pid for m in pool.members() if m.state == "busy"]
    assert thread.is_alive() and len(busy) == 1, "the query never reached a worker"
    os.kill(busy[0], signal.SIGABRT)
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome["value"]


def wait_exited(pid: int, timeout: float) -> bool:
    """Whether the process has ended (exited or killed, reaped or not) within timeout
    seconds: waits on its pidfd, which the kernel makes readable when it ends."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:  # ended and reaped already
        return True
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        return bool(poller.poll(timeout * 1000))
    finally:
        os.close(fd)
