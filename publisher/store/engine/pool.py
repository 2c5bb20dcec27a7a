"""Evaluate queries in worker processes that can be killed: a real time limit for pyoxigraph.

pyoxigraph cannot cancel a running query, so each query runs in one of a few worker
processes, each opening the release's on-disk store read-only (or, for a small graph,
loading its N-Quads files into memory: see publisher.store.engine.worker.load). A
query that outlives its limit has its worker killed (the only way to stop it) and a fresh
worker started in the background; other workers keep answering meanwhile. A worker sends
back the already serialised bytes in one message, so a result crosses the process
boundary once, never pickled as Python objects.

Each worker runs under the memory limit `query_memory` (publisher.store.engine.memory). A worker
that dies during a query, whatever the cause (the memory limit, an abort inside the engine,
a signal from outside), costs that query a 503 (QueryAborted) and is replaced; a worker
found dead while idle is replaced before any query is sent to it.
"""

from __future__ import annotations

import logging
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from multiprocessing.connection import Connection
from pathlib import Path

from publisher.sparql.errors import (
    QueryAborted,
    QueryAnswer,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)
from publisher.sparql.results import NotSerialisable
from publisher.store.engine.memory import OUT_OF_MEMORY, describe, worker_env
from publisher.store.engine.worker import READY, Job

__all__ = ["Job", "WorkerPool"]

log = logging.getLogger(__name__)


class _Worker:
    """One worker process and the parent's end of its socket.

    A plain subprocess (`python -m publisher.store.engine.worker FD SOURCE...`) rather than a
    multiprocessing.Process: it neither forks the threaded web server nor re-imports the
    program's __main__, and multiprocessing's Connection still frames the messages.
    """

    def __init__(self, sources: Sequence[str], memory: int = 0):
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "publisher.store.engine.worker", str(theirs.fileno()),
                 *sources], pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE, close_fds=True, env=worker_env(memory))
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        # The worker's stderr goes to the log: it says why a worker died (the engine's panic,
        # or "memory allocation of N bytes failed" before any backtrace).
        self.out_of_memory = False
        self._reader = threading.Thread(target=self._read_stderr, daemon=True,
                                        name="kiezgraph-sparql-stderr")
        self._reader.start()

    def _read_stderr(self) -> None:
        """Log what the worker writes on stderr, noting whether it ran out of memory."""
        pid = self.process.pid
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                self.out_of_memory = self.out_of_memory or OUT_OF_MEMORY in line
                log.warning("SPARQL worker %s: %s", pid, line)
        self.process.stderr.close()

    def cause_of_death(self) -> tuple[int | None, bool]:
        """The exit status of a worker that stopped answering, and whether it said it ran
        out of memory."""
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            status = None
        self._reader.join(timeout=2)
        return status, self.out_of_memory

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
                 start_timeout: float = 60.0, memory: int = 0):
        self.sources = [str(sources)] if isinstance(sources, str | Path) else \
            [str(s) for s in sources]
        self.size = max(1, int(workers))
        self.start_timeout = start_timeout
        self.memory = max(0, int(memory))  # bytes per worker (0: no limit)
        # Last in, first out: the worker that answered last answers next while it is free,
        # with its store still in the CPU caches; the others take over under concurrency.
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._all: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(self.size):
            self._spawn_async()

    def _spawn(self, attempt: int = 0) -> None:
        """Start one worker and, once its store is loaded, make it available; one that does
        not come up (killed while starting, out of memory) is tried again, less often each
        time, so the pool never shrinks for good."""
        if self._closed:
            return
        try:
            worker = _Worker(self.sources, self.memory)
        except OSError:
            log.exception("could not start a SPARQL worker")
            self._retry(attempt)
            return
        with self._lock:
            self._all.add(worker)
        if worker.wait_ready(self.start_timeout) and not self._closed:
            self._idle.put(worker)
        else:
            if not self._closed:
                log.error("a SPARQL worker did not come up; sources %s", self.sources)
            self._discard(worker)
            self._retry(attempt)

    def _retry(self, attempt: int) -> None:
        """Start another worker after a pause: 0.5 s, doubling up to 30 s."""
        if not self._closed:
            timer = threading.Timer(min(30.0, 0.5 * 2 ** attempt), self._spawn, (attempt + 1,))
            timer.daemon = True
            timer.start()

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

    def _take(self, deadline: float, timeout: float) -> _Worker:
        """A live idle worker, waiting for one until the deadline; dead ones are replaced
        (killed from outside while idle, a worker must not fail the next query)."""
        while True:
            try:
                worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise StoreUnavailable(f"all {self.size} query workers stayed busy for "
                                       f"{timeout:g} s; try again shortly") from None
            if worker.alive():
                return worker
            log.warning("SPARQL worker %s had exited (status %s); replacing it",
                        worker.process.pid, worker.process.returncode)
            self._replace(worker)

    def _died(self, worker: _Worker) -> QueryAborted:
        """Replace a worker that died during a query; the error that says why."""
        status, out_of_memory = worker.cause_of_death()
        self._replace(worker)
        if out_of_memory:
            return self._over_memory()
        if status is not None and status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            log.error("SPARQL worker %s was stopped by %s", worker.process.pid, name)
            how = f"stopped by {name}"
            if status == -signal.SIGABRT:
                how = "aborted inside the query engine"
            return QueryAborted(f"the query's worker {how}; it has been replaced, other "
                                "queries are answered. Try a different query")
        log.error("SPARQL worker %s exited with status %s", worker.process.pid, status)
        return QueryAborted("the query's worker stopped; it has been replaced, other "
                            "queries are answered. Try again or try a different query")

    def _over_memory(self) -> QueryAborted:
        limit = f" of {describe(self.memory)}" if self.memory else ""
        return QueryAborted(f"the query needed more memory than the limit{limit} "
                            "(query_memory) and was stopped; its worker has been replaced. "
                            "Narrow the query (LIMIT, more specific patterns, less sorting)")

    def run(self, job: Job, timeout: float) -> QueryAnswer:
        """Evaluate a job within timeout seconds (waiting for a free worker counts too)."""
        if self._closed:
            raise StoreUnavailable("the query service is shut down")
        deadline = time.monotonic() + timeout
        worker = self._take(deadline, timeout)
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
        except (EOFError, OSError):
            raise self._died(worker) from None
        if reply[0] == "error":
            # The worker reports any exception as "Type: message"; these types mean
            # something to the client rather than a failing store.
            kind, _, message = reply[1].partition(": ")
            if kind == "MemoryError":  # Python's side of the memory limit: start afresh
                self._replace(worker)
                raise self._over_memory()
            self._idle.put(worker)
            if kind == NotSerialisable.__name__:
                raise NotSerialisable(message)
            raise StoreError(reply[1])
        self._idle.put(worker)
        if reply[0] == "syntax":
            raise QuerySyntaxError(reply[1])
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

