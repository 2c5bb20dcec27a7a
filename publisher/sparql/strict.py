"""The full SPARQL 1.1 parse of `guard.check`, in processes that can be killed.

rdflib's parser takes seconds on some texts (issue #14: 15.7 s for a long `IN` list), is not
thread-safe (one parse at a time per process), and recurses. So untrusted text is never
parsed in the web process: each parse runs in one of a few parser processes, at most as
many at once as there are callers (the endpoint calls it inside a query slot), within a time
limit after which the process is killed and a fresh one started on the next call. A parser
process runs under the same network sandbox as the query workers where the system has one
(a parse fetches nothing, so elsewhere it runs without) and exits with its parent.

Started as `python -m publisher.sparql.strict FD`; it answers `(text)` with the tuple of
`guard.parse_in_process`.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection

__all__ = ["ParseTimeout", "ParserPool", "pool"]

log = logging.getLogger(__name__)
_RECURSION_LIMIT = 4000  # rdflib's grammar recurses per nesting level; deeper is refused


class ParseTimeout(RuntimeError):
    """The parse outlived its time limit and was stopped."""


class _Parser:
    """One parser process and the parent's end of its socket."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "publisher.sparql.strict", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True)
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())

    def kill(self) -> None:
        """Stop the process at once."""
        self.process.kill()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("SPARQL parser process %s did not exit", self.process.pid)
        self.conn.close()


class ParserPool:
    """Parser processes started on demand, reused while they behave, killed when late."""

    def __init__(self):
        self._idle: queue.LifoQueue[_Parser] = queue.LifoQueue()
        self._lock = threading.Lock()
        self._all: set[_Parser] = set()

    def parse(self, text: str, timeout: float) -> tuple:
        """`guard.parse_in_process(text)` in a parser process, within timeout seconds."""
        try:
            parser = self._idle.get_nowait()
        except queue.Empty:
            parser = _Parser()
            with self._lock:
                self._all.add(parser)
        try:
            parser.conn.send(text)
            if not parser.conn.poll(max(0.0, timeout)):
                self._discard(parser)
                raise ParseTimeout(f"parsing the query took longer than {timeout:g} s")
            answer = parser.conn.recv()
        except (EOFError, OSError):
            # the process died (a C stack overflow on absurd nesting, say): the text is bad
            self._discard(parser)
            return ("rejected", 400, "the query could not be parsed (nested too deeply?)",
                    None, None)
        self._idle.put(parser)
        return answer

    def _discard(self, parser: _Parser) -> None:
        with self._lock:
            self._all.discard(parser)
        parser.kill()

    def close(self) -> None:
        """Stop every parser process."""
        with self._lock:
            parsers = list(self._all)
            self._all.clear()
        for parser in parsers:
            parser.kill()


_POOL: ParserPool | None = None
_POOL_LOCK = threading.Lock()


def pool() -> ParserPool:
    """The process's parser pool (started on first use)."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ParserPool()
        return _POOL


def _serve(conn: Connection) -> None:
    """Answer parse requests until the socket closes or the parent goes away."""
    import os

    from publisher.sparql.sandbox import SandboxError, confine

    # It parses untrusted text: no network for it either, where the system allows. rdflib's
    # parser fetches nothing, so unlike a query worker it may run without the filter.
    with contextlib.suppress(SandboxError, OSError, AttributeError):
        confine()
    parent = os.getppid()

    def exit_with_parent() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_parent, daemon=True).start()
    from publisher.sparql.guard import parse_in_process

    sys.setrecursionlimit(_RECURSION_LIMIT)
    while True:
        try:
            text = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(parse_in_process(text))


if __name__ == "__main__":
    # rdflib's recursion needs a deep C stack: run in a thread with 256 MiB of it.
    threading.stack_size(256 << 20)
    runner = threading.Thread(target=_serve, args=(Connection(int(sys.argv[1])),))
    runner.start()
    runner.join()
