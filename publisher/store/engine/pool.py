"""Evaluate queries in worker processes that can be killed: a real time limit for pyoxigraph.

pyoxigraph cannot cancel a running query, so each query runs in one of a few worker
processes, each opening the release's on-disk store read-only (or, for a small graph,
loading its N-Quads files into memory: see publisher.store.engine.worker.load). A
query that outlives its limit has its worker killed (the only way to stop it) and a fresh
worker started in the background; other workers keep answering meanwhile. A worker sends
back the already serialised bytes as the body of one frame (publisher.children.Channel: a
JSON header and raw bytes), so a result crosses the process boundary once, and nothing a
worker sends is ever executed here (no pickle).

Each worker runs under the memory limit `query_memory` (publisher.store.engine.memory). A
worker that dies during a query, whatever the cause (the memory limit, an abort inside the
engine, a signal from outside), costs that query a 503 (QueryAborted) and is replaced; a
worker found dead while idle is replaced before any query is sent to it. The workers are a
fixed-size publisher.children.Pool, which starts them, ties them to this process and starts
again one that dies or does not come up.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from publisher import children
from publisher.children import Child, Member
from publisher.sparql.errors import (
    EngineReachedOut,
    QueryAborted,
    QueryAnswer,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    StoreUnavailable,
)
from publisher.sparql.results import NotSerialisable
from publisher.store.engine.memory import OUT_OF_MEMORY, describe, worker_env
from publisher.store.engine.worker import READY, Job

__all__ = ["Job", "WorkerPool"]

# What pyoxigraph's HTTP client reports when the seccomp filter refuses its socket (EPERM).
_NETWORK_REFUSED = "Operation not permitted"

log = logging.getLogger(__name__)

WORKER = "publisher.store.engine.worker"  # the module a worker process runs


def _answer(header: Any, body: bytes) -> QueryAnswer | None:
    """The answer an "ok" header describes, or None if the header is not one."""
    if isinstance(header, dict):
        media_type, count = header.get("media_type"), header.get("count")
        truncated = header.get("truncated")
        if isinstance(media_type, str) and type(count) is int and isinstance(truncated, bool):
            return QueryAnswer(body=body, media_type=media_type, count=count,
                               truncated=truncated)
    return None


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
        self._out_of_memory: set[int] = set()  # workers that said so on stderr
        self._closed = False
        self._pool = children.Pool(self._start, self.size, ready=self._ready,
                                   name="SPARQL worker")

    def _start(self) -> Child:
        return children.spawn(WORKER, self.sources, env=worker_env(self.memory),
                              on_stderr=self._stderr)

    def _stderr(self, pid: int, line: str) -> None:
        """Log what a worker writes on stderr, noting whether it ran out of memory: it says
        why a worker died (the engine's panic, or "memory allocation of N bytes failed"
        before any backtrace)."""
        if OUT_OF_MEMORY in line:
            self._out_of_memory.add(pid)
        log.warning("SPARQL worker %s: %s", pid, line)

    def _ready(self, worker: Child) -> bool:
        """Whether the worker loaded its store within start_timeout seconds."""
        try:
            header, _ = worker.channel.receive(time.monotonic() + self.start_timeout)
        except (children.Deadline, children.Gone, children.ProtocolError):
            header = None
        ready: bool = header == READY
        if not ready and not self._closed:
            log.error("a SPARQL worker did not come up; sources %s", self.sources)
        return ready

    def _died(self, worker: Child) -> QueryAborted:
        """Replace a worker that died during a query; the error that says why."""
        status = worker.wait(timeout=5)
        out_of_memory = worker.pid in self._out_of_memory
        self._out_of_memory.discard(worker.pid)
        self._pool.replace(worker)
        if out_of_memory:
            return self._over_memory()
        if status is not None and status < 0:
            try:
                name = signal.Signals(-status).name
            except ValueError:
                name = f"signal {-status}"
            log.error("SPARQL worker %s was stopped by %s", worker.pid, name)
            how = f"stopped by {name}"
            if status == -signal.SIGABRT:
                how = "aborted inside the query engine"
            return QueryAborted(f"the query's worker {how}; it has been replaced, other "
                                "queries are answered. Try a different query")
        log.error("SPARQL worker %s exited with status %s", worker.pid, status)
        return QueryAborted("the query's worker stopped; it has been replaced, other "
                            "queries are answered. Try again or try a different query")

    def _misbehaved(self, worker: Child, what: str) -> QueryAborted:
        """Replace a worker that sent something no worker sends; the error for its query."""
        log.error("SPARQL worker %s sent %s; replacing it", worker.pid, what)
        self._pool.replace(worker)
        return QueryAborted("the query's worker answered out of turn; it has been replaced, "
                            "other queries are answered. Try again")

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
        try:
            worker = self._pool.take(deadline)
        except children.Busy:
            if self._closed:
                raise StoreUnavailable("the query service is shut down") from None
            raise StoreUnavailable(f"all {self.size} query workers stayed busy for "
                                   f"{timeout:g} s; try again shortly") from None
        try:
            header, body = worker.request(job.header(), deadline=deadline)
        except children.Deadline:
            self._pool.replace(worker)
            raise QueryTimeout(f"the query ran longer than the limit of {timeout:g} s "
                               "and was stopped") from None
        except children.Gone:
            raise self._died(worker) from None
        except children.ProtocolError as exc:
            raise self._misbehaved(worker, f"a frame that is not one ({exc})") from None
        kind = header.get("kind") if isinstance(header, dict) else None
        message = header.get("message") if isinstance(header, dict) else None
        if kind == "ok" and (answer := _answer(header, body)) is not None:
            self._pool.put(worker)
            return answer
        if kind == "syntax" and isinstance(message, str):
            self._pool.put(worker)
            raise QuerySyntaxError(message)
        if kind == "error" and isinstance(message, str):
            # The worker reports any exception as "Type: message"; these types mean
            # something to the client rather than a failing store.
            error, _, text = message.partition(": ")
            if error == "MemoryError":  # Python's side of the memory limit: start afresh
                self._pool.replace(worker)
                raise self._over_memory()
            self._pool.put(worker)
            if error == NotSerialisable.__name__:
                raise NotSerialisable(text)
            if _NETWORK_REFUSED in text:
                # the engine opened a socket (SERVICE), the sandbox said no (sandbox.py)
                raise EngineReachedOut(message)
            raise QueryFailed(message)
        raise self._misbehaved(worker, "a header that is no answer")

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        self._pool.close()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def workers_alive(self) -> Sequence[int]:
        """The process ids of the live workers (for tests and the health page)."""
        return self._pool.pids()

    def members(self) -> list[Member]:
        """Every worker with its state: "starting", "idle" or "busy"."""
        return self._pool.members()

    def wait_until(self, condition: Callable[[list[Member]], bool], timeout: float) -> bool:
        """Wait until condition(members()) holds, checked at every change of a worker's
        state, for at most timeout seconds; whether it held."""
        return self._pool.wait_until(condition, timeout)
