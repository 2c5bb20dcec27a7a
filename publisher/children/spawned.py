"""Spawned children: `python -m MODULE FD PARENT ARGS...` with a socket pair as its one link.

A plain subprocess rather than multiprocessing: it neither forks the threaded web server nor
re-imports the program's __main__. Every spawn runs in one long-lived thread of ours
(`_Starter`), because the kernel's parent-death signal follows the thread that forked, and a
pool starts its members from short-lived threads. `Child.request` waits until a deadline,
after which the caller kills the child (`Child.kill`, which also reaps it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

from publisher.children.channel import Channel
from publisher.children.tie import tie_to_parent

__all__ = ["Child", "attach", "spawn"]

log = logging.getLogger(__name__)

_T = TypeVar("_T")
# What the starter thread is handed: a call to make, and the future its outcome goes to.
_Job = tuple[Callable[[], Any], Future[Any]]


def attach(argv: Sequence[str]) -> tuple[Channel, list[str]]:
    """In a child started by `spawn` (argv: FD PARENT ARGS...): tie it to its parent and
    return its channel and the remaining arguments. Reads nothing from the channel."""
    fd, parent, *rest = argv
    tie_to_parent(int(parent))
    return Channel(socket.socket(fileno=int(fd))), list(rest)


class _Starter:
    """The one long-lived thread that forks every spawned child (see the module docstring:
    the parent-death signal follows the thread that forked)."""

    _lock = threading.Lock()
    _jobs: queue.SimpleQueue[_Job] | None = None
    _pid = 0

    @classmethod
    def run(cls, call: Callable[[], _T]) -> _T:
        with cls._lock:
            if cls._jobs is None or cls._pid != os.getpid():  # none yet, or we are a fork
                cls._jobs, cls._pid = queue.SimpleQueue(), os.getpid()
                threading.Thread(target=cls._serve, args=(cls._jobs,), daemon=True,
                                 name="kiezgraph-child-starter").start()
            jobs = cls._jobs
        future: Future[_T] = Future()
        jobs.put((call, future))
        return future.result()

    @staticmethod
    def _serve(jobs: queue.SimpleQueue[_Job]) -> None:
        while True:
            call, future = jobs.get()
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)


class Child:
    """A spawned child process and our end of its channel."""

    def __init__(self, process: subprocess.Popen[bytes], channel: Channel,
                 on_stderr: Callable[[int, str], None] | None = None):
        self.process = process
        self.pid = process.pid
        self.channel = channel
        self._reader: threading.Thread | None = None
        if on_stderr is not None:
            self._reader = threading.Thread(target=self._read_stderr, args=(on_stderr,),
                                            daemon=True, name="kiezgraph-child-stderr")
            self._reader.start()

    def _read_stderr(self, on_stderr: Callable[[int, str], None]) -> None:
        stderr = self.process.stderr
        assert stderr is not None  # spawn pipes it whenever there is an on_stderr
        for raw in stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                on_stderr(self.pid, line)
        stderr.close()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode

    def alive(self) -> bool:
        """Whether the process still runs (one that has ended is reaped)."""
        return self.process.poll() is None

    def request(self, header: Any, body: bytes = b"",
                deadline: float | None = None) -> tuple[Any, bytes]:
        """Send a frame and receive the answer, all before the deadline (time.monotonic());
        see Channel.send and Channel.receive for what it raises."""
        self.channel.send(header, body, deadline)
        return self.channel.receive(deadline)

    def wait(self, timeout: float) -> int | None:
        """The exit status of a child that ends by itself (negative: the signal that ended
        it), None if it still runs after timeout seconds; what it wrote on stderr has been
        handed on by then."""
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader is not None:
            self._reader.join(timeout=2)
        return status

    def kill(self) -> int | None:
        """Stop the child at once (the only way to stop work under way) and reap it."""
        with contextlib.suppress(OSError):
            self.process.kill()
        try:
            status = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.error("child process %s did not exit", self.pid)
            status = None
        self.channel.close()
        return status


def spawn(module: str, args: Sequence[str] = (), *, env: dict[str, str] | None = None,
          on_stderr: Callable[[int, str], None] | None = None) -> Child:
    """Start `python -m module FD PARENT args...`; the child calls `attach(sys.argv[1:])`.

    env: the child's environment (default: ours). on_stderr(pid, line) is called for every
    line the child writes on stderr (else it goes to ours).
    """
    ours, theirs = socket.socketpair()
    try:
        argv = [sys.executable, "-m", module, str(theirs.fileno()), str(os.getpid()),
                *map(str, args)]

        def start() -> subprocess.Popen[bytes]:  # run by the starter thread, theirs still open
            # (a def, not functools.partial: mypy types a partial of Popen as Popen[str])
            return subprocess.Popen(
                argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                stderr=subprocess.PIPE if on_stderr else None, close_fds=True, env=env)

        process = _Starter.run(start)
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return Child(process, Channel(ours), on_stderr)
