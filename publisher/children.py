"""Child processes that can be killed: started, tied to this process's life, timed, reaped.

Three kinds of work run in child processes, each because only a process can be stopped in
the middle of it: the embedded store's query workers (publisher.store.engine), the parser
processes of rdflib's full parse for a remote store (publisher.sparql.strict), and the
forked processes of a parallel validation (publisher.validation). This module is the one
place that starts them:

- `spawn` starts `python -m MODULE FD PARENT ARGS...` with one end of a new socket pair
  (the child's only link to us) and, in the child, `attach` turns FD back into a Channel.
  A plain subprocess rather than multiprocessing: it neither forks the threaded web server
  nor re-imports the program's __main__.
- `Channel` frames carry a JSON header and raw bytes (an answer's body). Nothing received is
  executed: no pickle, never multiprocessing's Connection.recv, which unpickles what a child
  sends. A query worker or parser process reads untrusted text and runs it through a large
  native engine; should one ever be taken over, all it can send us is data.
- A child ends with its parent: `tie_to_parent` asks the kernel for SIGKILL when the parent
  dies (prctl PR_SET_PDEATHSIG, Linux), else a thread watches the parent's id. The kernel
  sends that signal when the *thread* that started the child ends, not the process, so
  every `spawn` runs its fork in one long-lived thread of ours, never in the short-lived
  threads that start pool members.
- `Child.request` sends and waits for the answer until a deadline (`Deadline`), after which
  the caller kills the child (`Child.kill`, which also reaps it: no zombie is left).
- `Pool` hands members out one caller at a time (the member given back last first, its
  caches warm); a fixed-size pool starts every member again that dies, is killed or does not
  come up (after 0.5 s, doubling up to 30 s while starts keep failing), so it never shrinks.
- `fork` runs a function in a forked copy of this process (the validation shares its parsed
  graph copy-on-write), tied to us the same way, its result sent back through a pipe.

What a child does before it reads anything is its own: a query worker confines itself to no
network (publisher.sparql.sandbox, seccomp) and sets its memory limit (RLIMIT_DATA, read
from its environment, see publisher.store.engine.memory) right after `attach`, so the helper
passes an environment and stays out of the way until the child reads its first frame.

Why our own rather than pebble or loky: both pickle across the process boundary (pebble's
channels are multiprocessing Connections, loky's queues use cloudpickle), so the parent
would unpickle whatever a sandboxed child sends; both start children through
multiprocessing (fork of the threaded server, or spawn re-importing __main__), and neither
ties a child to its parent with the kernel's parent-death signal. pebble kills a task at its
timeout but gives no hold on the child between start and first task (where the sandbox
goes); loky does not kill a running task at all. What we need is a few hundred lines of the
standard library, so this module imports nothing else.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import logging
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, NoReturn

__all__ = [
    "Busy",
    "Channel",
    "Child",
    "Deadline",
    "Forked",
    "Gone",
    "Member",
    "Pool",
    "ProtocolError",
    "attach",
    "fork",
    "spawn",
    "tie_to_parent",
]

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_FRAME = struct.Struct("!II")  # bytes of the JSON header, bytes of the body
MAX_HEADER = 64 << 20  # a header longer than this is not one of ours
_CHUNK = 1 << 20
# Held back while a process is forked, so that Ctrl-C cannot strike between the fork and
# the record of the child and leave a process nobody stops.
_DEFERRED_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class Deadline(TimeoutError):
    """The child did not answer before the deadline."""


class Gone(EOFError):
    """The child closed its end of the channel: it exited or was killed."""


class ProtocolError(ValueError):
    """The child sent bytes that are not a frame of ours (nothing of them was executed)."""


class Busy(TimeoutError):
    """No member of the pool was free before the deadline (or the pool is closed)."""


# --- the channel ---------------------------------------------------------------------------


def _remaining(deadline: float | None) -> float | None:
    """Seconds left until a time.monotonic() deadline (None: no deadline). Never 0, which
    would make the socket non-blocking: a deadline that has passed still takes what is
    already there."""
    if deadline is None:
        return None
    return max(1e-6, deadline - time.monotonic())


class Channel:
    """Frames over a stream socket: a JSON header and a body of raw bytes.

    A frame is two 32-bit lengths (header, body), the header as UTF-8 JSON, then the body.
    One thread at a time uses a channel (a pool hands a child to one caller).
    """

    def __init__(self, sock: socket.socket):
        self._sock = sock

    def fileno(self) -> int:
        return self._sock.fileno()

    def send(self, header: Any, body: bytes = b"", deadline: float | None = None) -> None:
        """Send one frame; Deadline if the other end does not take it in time, Gone if it
        has closed."""
        data = json.dumps(header, ensure_ascii=False, separators=(",", ":"),
                          allow_nan=False).encode("utf-8")
        try:
            self._sock.settimeout(_remaining(deadline))
            self._sock.sendall(_FRAME.pack(len(data), len(body)) + data)
            if body:
                self._sock.sendall(body)
        except TimeoutError:
            raise Deadline("the child did not take the message in time") from None
        except OSError as exc:
            raise Gone(f"the child's end is closed: {exc}") from None

    def receive(self, deadline: float | None = None) -> tuple[Any, bytes]:
        """The next frame's header (parsed JSON) and body. Deadline when the whole frame has
        not arrived by the deadline, Gone when the other end closed, ProtocolError for bytes
        that are not a frame (the header is checked before any body is read)."""
        header_size, body_size = _FRAME.unpack(self._read(_FRAME.size, deadline))
        if header_size > MAX_HEADER:
            raise ProtocolError(f"a header of {header_size} bytes is not one of ours")
        raw = self._read(header_size, deadline)
        try:
            header = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise ProtocolError("the header is not JSON") from None
        body = self._read(body_size, deadline) if body_size else b""
        return header, body

    def _read(self, size: int, deadline: float | None) -> bytes:
        """Exactly size bytes, read as they come (memory grows with what arrives, never with
        what a length field claims)."""
        chunks, got = [], 0
        while got < size:
            try:
                self._sock.settimeout(_remaining(deadline))
                chunk = self._sock.recv(min(size - got, _CHUNK))
            except TimeoutError:
                raise Deadline("the child did not answer in time") from None
            except OSError as exc:
                raise Gone(f"the child's end is closed: {exc}") from None
            if not chunk:
                raise Gone("the child closed its end")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self._sock.close()


# --- tying a child to its parent ------------------------------------------------------------


@functools.cache
def _prctl() -> Callable | None:
    """libc's prctl, or None where there is none (not Linux, not glibc/musl).

    Looked up before any fork: a forked copy of a threaded process must not load libraries.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def tie_to_parent(parent: int, prctl: Callable | None = None) -> None:
    """End this process when its parent (process id `parent`) ends: SIGKILL from the kernel
    where prctl(PR_SET_PDEATHSIG) is there, else a thread that checks the parent's id every
    second. A parent already gone ends it at once."""
    prctl = prctl or _prctl()
    if prctl is None or prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="kiezgraph-parent-watch").start()
    if os.getppid() != parent:  # died before the signal was asked for
        os._exit(0)


def attach(argv: Sequence[str]) -> tuple[Channel, list[str]]:
    """In a child started by `spawn` (argv: FD PARENT ARGS...): tie it to its parent and
    return its channel and the remaining arguments. Reads nothing from the channel."""
    fd, parent, *rest = argv
    tie_to_parent(int(parent))
    return Channel(socket.socket(fileno=int(fd))), list(rest)


# --- spawned children -----------------------------------------------------------------------


class _Starter:
    """The one long-lived thread that forks every spawned child (see the module docstring:
    the parent-death signal follows the thread that forked)."""

    _lock = threading.Lock()
    _jobs: queue.SimpleQueue | None = None
    _pid = 0

    @classmethod
    def run(cls, call: Callable[[], Any]) -> Any:
        with cls._lock:
            if cls._jobs is None or cls._pid != os.getpid():  # none yet, or we are a fork
                cls._jobs, cls._pid = queue.SimpleQueue(), os.getpid()
                threading.Thread(target=cls._serve, args=(cls._jobs,), daemon=True,
                                 name="kiezgraph-child-starter").start()
            jobs = cls._jobs
        future: Future = Future()
        jobs.put((call, future))
        return future.result()

    @staticmethod
    def _serve(jobs: queue.SimpleQueue) -> None:
        while True:
            call, future = jobs.get()
            try:
                future.set_result(call())
            except BaseException as exc:  # handed to the caller
                future.set_exception(exc)


class Child:
    """A spawned child process and our end of its channel."""

    def __init__(self, process: subprocess.Popen, channel: Channel,
                 on_stderr: Callable[[int, str], None] | None = None):
        self.process = process
        self.pid = process.pid
        self.channel = channel
        self._reader = None
        if on_stderr is not None:
            self._reader = threading.Thread(target=self._read_stderr, args=(on_stderr,),
                                            daemon=True, name="kiezgraph-child-stderr")
            self._reader.start()

    def _read_stderr(self, on_stderr: Callable[[int, str], None]) -> None:
        for raw in self.process.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                on_stderr(self.pid, line)
        self.process.stderr.close()

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
        process = _Starter.run(functools.partial(
            subprocess.Popen, argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
            stderr=subprocess.PIPE if on_stderr else None, close_fds=True, env=env))
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    return Child(process, Channel(ours), on_stderr)


# --- pools ----------------------------------------------------------------------------------


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
        self._closed = False
        for _ in range(self.size):
            self._start_in_background(0)

    # what callers do

    def take(self, deadline: float | None = None) -> Child:
        """A live idle member (the one given back last); dead ones found idle are replaced.
        Raises Busy when a fixed-size pool has none free by the deadline (time.monotonic())."""
        while True:
            with self._changed:
                while not self._idle and self.size and not self._closed:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        raise Busy(f"all {self.size} members of the pool ({self.name}) "
                                   "stayed busy")
                    self._changed.wait(remaining)
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


# --- forked children ------------------------------------------------------------------------


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


def fork(work: Callable[[], tuple[bytes, int]], close: Iterable[int] = ()) -> Forked | None:
    """Run work() in a forked copy of this process, which shares this one's memory
    copy-on-write; None when the system gives no process.

    work returns the bytes to send back and the exit code. The child closes the file
    descriptors in `close` (the pipes of its siblings), ends with this process (see
    tie_to_parent), takes Ctrl-C like it, and leaves with os._exit: it never runs this
    process's cleanup (atexit, finally blocks, buffered output) a second time.
    """
    prctl = _prctl()  # looked up here, not in the child
    parent = os.getpid()
    read, write = os.pipe()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED_SIGNALS)
    pid = None
    try:
        with contextlib.suppress(OSError):
            pid = os.fork()
        if pid == 0:
            _forked(work, write, [read, *close], parent, prctl, mask)
    finally:
        if os.getpid() != parent:  # the child, interrupted before it reached _forked
            os._exit(1)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        os.close(write)
        if not pid:
            os.close(read)
    return Forked(pid, read) if pid else None


def _forked(work: Callable[[], tuple[bytes, int]], write: int, close: list[int], parent: int,
            prctl: Callable | None, mask: set) -> NoReturn:
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
