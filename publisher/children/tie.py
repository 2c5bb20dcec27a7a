"""A child ends with its parent: the kernel's parent-death signal, else a watching thread.

Shared by spawned children (`attach`, in the child) and forked ones (`fork`), so that both
die the same way when the parent dies, also when it is killed outright. The kernel sends the
signal when the *thread* that started the child ends, not the process: see
publisher.children.spawned for the one long-lived thread that starts them.
"""

from __future__ import annotations

import ctypes
import functools
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

__all__ = ["Prctl", "tie_to_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

# libc's prctl(option, arg2, arg3, arg4, arg5) as ctypes calls it: 0 on success, else -1.
Prctl = Callable[[int, int, int, int, int], int]


@functools.cache
def _prctl() -> Prctl | None:
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


def tie_to_parent(parent: int, prctl: Prctl | None = None) -> None:
    """End this process when its parent (process id `parent`) ends: SIGKILL from the kernel
    where prctl(PR_SET_PDEATHSIG) is there, else a thread that checks the parent's id every
    second. A parent already gone ends it at once."""
    prctl = prctl or _prctl()
    if prctl is None or prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True,
                         name="kiezgraph-parent-watch").start()
    if os.getppid() != parent:  # died before the signal was asked for
        os._exit(0)
