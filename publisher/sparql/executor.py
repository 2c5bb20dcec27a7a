"""Evaluate queries in worker processes that can be killed: a real time limit for pyoxigraph.

pyoxigraph cannot cancel a running query, so each query runs in one of a few worker
processes, each opening the release's on-disk store read-only (or, for a small graph,
loading its N-Quads files into memory: see publisher.sparql.worker.load). A
query that outlives its limit has its worker killed (the only way to stop it) and a fresh
worker started in the background; other workers keep answering meanwhile. A worker sends
back the already serialised bytes in one message, so a result crosses the process
boundary once, never pickled as Python objects.
"""

from __future__ import annotations

import logging
import queue
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from publisher.sparql.worker import READY, Job
from publisher.store.base import (
    QueryAnswer,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)

__all__ = ["Job", "WorkerPool"]

log = logging.getLogger(__name__)


class _Worker:
    """One worker process and the parent's end of its socket.

    A plain subprocess (`python -m publisher.sparql.worker FD SOURCE...`) rather than a
    multiprocessing.Process: it neither forks the threaded web server nor re-imports the
    program's __main__, and multiprocessing's Connection still frames the messages.
    """

    def __init__(self, sources: Sequence[str]):
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "publisher.sparql.worker", str(theirs.fileno()),
                 *sources], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                close_fds=True)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())

    def wait_ready(self, timeout: float) -> bool:
        """Whether the worker loaded its store within timeout seconds."""
        try:
            return self.conn.poll(timeout) and self.conn.recv_bytes() == READY
        except (EOFError, OSError):
            return False

    def kill(self) -> None:
        """Stop the process at once (the only way to stop a pyoxigraph query)."""
        self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("SPARQL worker %s did not exit", self.process.pid)
        self.conn.close()

    def alive(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None


class WorkerPool:
    """A fixed number of worker processes over one store; a killed one is replaced.

    `sources` is an on-disk store folder or one or more N-Quads files (worker.load).
    """

    def __init__(self, sources: str | Path | Sequence[str | Path], workers: int = 2,
                 start_timeout: float = 60.0):
        self.sources = [str(sources)] if isinstance(sources, str | Path) else \
            [str(s) for s in sources]
        self.size = max(1, int(workers))
        self.start_timeout = start_timeout
        # Last in, first out: the worker that answered last answers next while it is free,
        # with its store still in the CPU caches; the others take over under concurrency.
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(self.size):
            self._spawn_async()

    def _spawn(self) -> None:
        """Start one worker and, once its store is loaded, make it available."""
        if self._closed:
            return
        try:
            worker = _Worker(self.sources)
        except OSError:
            log.exception("could not start a SPARQL worker")
            return
        with self._lock:
            self._all.add(worker)
        if worker.wait_ready(self.start_timeout) and not self._closed:
            self._idle.put(worker)
        else:
            if not self._closed:
                log.error("a SPARQL worker did not come up; sources %s", self.sources)
            self._discard(worker)

    def _spawn_async(self) -> None:
        threading.Thread(target=self._spawn, name="kiezgraph-sparql-spawn", daemon=True).start()

    def _discard(self, worker: _Worker) -> None:
        """Kill a worker unless someone else (close, another thread) already took it."""
        with self._lock:
            owned = worker in self._all
            self._all.discard(worker)
        if owned:
            worker.kill()

    def _replace(self, worker: _Worker) -> None:
        """Kill a worker and start a fresh one in its place, without making anyone wait."""
        self._discard(worker)
        self._spawn_async()

    def run(self, job: Job, timeout: float) -> QueryAnswer:
        """Evaluate a job within timeout seconds (waiting for a free worker counts too)."""
        if self._closed:
            raise StoreUnavailable("the query service is shut down")
        deadline = time.monotonic() + timeout
        try:
            worker = self._idle.get(timeout=max(0.0, timeout))
        except queue.Empty:
            raise StoreUnavailable(f"all {self.size} query workers stayed busy for "
                                   f"{timeout:g} s; try again shortly") from None
        try:
            worker.conn.send(job)
            remaining = deadline - time.monotonic()
            if not worker.conn.poll(max(0.0, remaining)):
                self._replace(worker)
                raise QueryTimeout(f"the query ran longer than the limit of {timeout:g} s "
                                   "and was stopped")
            reply = worker.conn.recv()
            if reply[0] == "ok":
                body = worker.conn.recv_bytes()
        except (EOFError, OSError, BrokenPipeError):
            self._replace(worker)
            raise StoreError("the query worker failed; it has been restarted") from None
        self._idle.put(worker)
        if reply[0] == "syntax":
            raise QuerySyntaxError(reply[1])
        if reply[0] == "error":
            raise StoreError(reply[1])
        _, media_type, count, truncated = reply
        return QueryAnswer(body=body, media_type=media_type, count=count, truncated=truncated)

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.kill()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def workers_alive(self) -> Sequence[int]:
        """The process ids of the live workers (for tests and the health page)."""
        with self._lock:
            return [w.process.pid for w in self._all if w.alive()]

