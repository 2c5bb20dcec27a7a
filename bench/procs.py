"""Start, watch and always stop the processes a benchmark run needs."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "Proc",
    "ProcGroup",
    "free_port",
    "http_get",
    "peak_rss_by_process",
    "peak_rss_mb",
    "wait_http",
]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_get(url: str, headers: dict[str, str] | None = None,
             timeout: float = 30.0) -> tuple[int, dict[str, str], bytes]:
    """GET url without following redirects; return status, headers and body."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers or {}), exc.read() if exc.fp else b""


def wait_http(url: str, proc: Proc | None, timeout: float,
              headers: dict[str, str] | None = None) -> float:
    """Poll url until it answers 200; return the seconds it took. Raise if it never does."""
    started = time.monotonic()
    last = "no answer"
    while time.monotonic() - started < timeout:
        if proc is not None and proc.popen.poll() is not None:
            raise RuntimeError(f"exited with code {proc.popen.returncode}: {proc.tail()}")
        try:
            status, _h, _b = http_get(url, headers, timeout=5)
            if status == 200:
                return time.monotonic() - started
            last = f"HTTP {status}"
        except (OSError, urllib.error.URLError) as exc:
            last = str(exc)
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer 200 within {timeout:.0f} s ({last})")


def _children(pid: int) -> list[int]:
    """All descendants of a process, from /proc."""
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        try:
            tasks = Path(f"/proc/{parent}/task").iterdir()
            kids = []
            for task in tasks:
                with contextlib.suppress(OSError):
                    kids += (task / "children").read_text().split()
        except OSError:
            continue
        for kid in map(int, kids):
            found.append(kid)
            frontier.append(kid)
    return found


def _vm(pid: int, field: str) -> int:
    """A Vm* field of /proc/<pid>/status in kB (0 when the process is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process plus that of its descendants, in MB."""
    return sum(_vm(p, "VmHWM") for p in [pid, *_children(pid)]) / 1024


def peak_rss_by_process(pid: int) -> list[tuple[str, float]]:
    """Peak resident memory (VmHWM) of a process and each descendant: (command, MB)."""
    found = []
    for each in [pid, *_children(pid)]:
        try:
            argv = Path(f"/proc/{each}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        command = " ".join(a.decode(errors="replace") for a in argv[1:4] if a)
        found.append((command, round(_vm(each, "VmHWM") / 1024, 1)))
    return found


class Proc:
    """One child process in its own session, so it and all it starts can be stopped together."""

    def __init__(self, name: str, argv: Sequence[str], log: Path, *,
                 env: dict[str, str] | None = None, cwd: str | Path | None = None):
        self.name = name
        self.log = log
        self.started = time.monotonic()
        self._log_handle = log.open("ab")
        self.popen = subprocess.Popen(
            list(argv), stdout=self._log_handle, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=cwd,
            start_new_session=True)

    @property
    def pid(self) -> int:
        """The process id."""
        return self.popen.pid

    def peak_rss_mb(self) -> float:
        """Peak resident memory of the process and its children so far, in MB."""
        return peak_rss_mb(self.pid)

    def tail(self, lines: int = 5) -> str:
        """The last lines of the process's log, for error messages."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return " | ".join(text.strip().splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, then SIGKILL what is still there after the grace time."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(grace)
        # Daemons that outlive their leader (none expected) still share the group id.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self._log_handle.close()


class ProcGroup:
    """Every process of a run; stops them all on exit, on errors and on Ctrl-C."""

    def __init__(self) -> None:
        self.procs: list[Proc] = []

    def start(self, *args, **kwargs) -> Proc:
        """Start a Proc and remember it for cleanup."""
        proc = Proc(*args, **kwargs)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        """Stop one process now."""
        proc.stop()
        if proc in self.procs:
            self.procs.remove(proc)

    def close(self) -> None:
        """Stop everything still running, newest first."""
        while self.procs:
            self.procs.pop().stop()

    def __enter__(self) -> ProcGroup:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
