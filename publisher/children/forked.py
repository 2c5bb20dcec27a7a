"""Forked children: a function run in a copy of this process, its result sent through a pipe.

The parallel validation forks so that its processes share the parsed graph copy-on-write.
A fork of a threaded process is delicate, so all of it is here: Ctrl-C is held back between
the fork and the record of the child, the child is tied to us like a spawned one
(publisher.children.tie), leaves with os._exit, and is killed and reaped on error.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterable
from typing import NoReturn

from publisher.children import tie
from publisher.children.channel import _CHUNK
from publisher.children.tie import Prctl, tie_to_parent

__all__ = ["Forked", "fork"]

# Held back while a process is forked, so that Ctrl-C cannot strike between the fork and
# the record of the child and leave a process nobody stops.
_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Forked:
    """A forked copy of this process doing one piece of work; the read end of its pipe."""

    def __init__(self, pid: int, fd: int):
        self.pid = pid
        self.fd = fd
        self._reaped = False

    def result(self) -> tuple[bytes, int]:
        """Wait for the child: what it sent and its exit code (negative: the signal that
        ended it). The child is reaped."""
        chunks = []
        while chunk := os.read(self.fd, _CHUNK):
            chunks.append(chunk)
        _pid, status = os.waitpid(self.pid, 0)
        self._reaped = True
        self._close()
        return b"".join(chunks), os.waitstatus_to_exitcode(status)

    def kill(self) -> None:
        """Stop the child at once and reap it (after an error or Ctrl-C in the parent)."""
        if not self._reaped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self._reaped = True
        self._close()

    def _close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


def fork(work: Callable[[], tuple[bytes, int]], close: Iterable[int] = (),
         record: Callable[[Forked], object] | None = None) -> Forked | None:
    """Run work() in a forked copy of this process, which shares this one's memory
    copy-on-write; None when the system gives no process.

    work returns the bytes to send back and the exit code. The child closes the file
    descriptors in `close` (the pipes of its siblings), ends with this process (see
    tie_to_parent), takes Ctrl-C like it, and leaves with os._exit: it never runs this
    process's cleanup (atexit, finally blocks, buffered output) a second time. `record`
    is called with the child while Ctrl-C is still held back, so the caller knows every
    child it must stop before a Ctrl-C can strike (a Ctrl-C right after the fork left one
    running).
    """
    prctl = tie._prctl()  # looked up here, not in the child (tests may replace it)
    parent = os.getpid()
    read, write = os.pipe()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    pid = None
    forked = None
    try:
        with contextlib.suppress(OSError):
            pid = os.fork()
        if pid == 0:
            _forked(work, write, [read, *close], parent, prctl, mask)
        if pid:
            forked = Forked(pid, read)
            if record is not None:
                record(forked)
    finally:
        if os.getpid() != parent:  # the child, interrupted before it reached _forked
            os._exit(1)
        os.close(write)
        if not pid:
            os.close(read)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # a held-back Ctrl-C strikes here
    return forked


def _forked(work: Callable[[], tuple[bytes, int]], write: int, close: list[int], parent: int,
            prctl: Prctl | None, mask: set[int | signal.Signals]) -> NoReturn:
    """In the forked process: do the work, send its outcome through the pipe, leave."""
    code = 1
    try:
        for fd in close:
            with contextlib.suppress(OSError):
                os.close(fd)
        tie_to_parent(parent, prctl)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # Ctrl-C stops this process too
        payload, outcome = work()
        with os.fdopen(write, "wb") as pipe:
            pipe.write(payload)
        code = outcome
    finally:
        os._exit(code)
