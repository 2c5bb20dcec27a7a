"""Helpers for tests of the SPARQL query workers: what happens to a worker mid-query."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

__all__ = ["abort_mid_query"]


def abort_mid_query(pool, run: Callable[[], object]) -> BaseException | None:
    """Run run() in a thread; once the pool's only worker is busy with it, abort the worker
    as an abort inside the engine does (SIGABRT). What run() raised, or None."""
    outcome: dict = {}

    def query():
        try:
            run()
        except BaseException as exc:  # handed to the test to judge
            outcome["error"] = exc

    (worker,) = pool.workers_alive()
    thread = threading.Thread(target=query)
    thread.start()
    deadline = time.monotonic() + 60
    while pool._idle.qsize() and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)  # the query has not reached the worker yet
    assert thread.is_alive() and not pool._idle.qsize(), "the query never reached the worker"
    os.kill(worker, signal.SIGABRT)
    thread.join(timeout=60)
    assert not thread.is_alive()
    return outcome.get("error")
