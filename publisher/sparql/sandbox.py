"""Take the network away from a query worker: a seccomp filter that refuses every socket.

pyoxigraph evaluates `SERVICE` with its own HTTP client. The query guard refuses SERVICE
before a query reaches a worker, but a guard can be fooled (a second reading of the same
text is always a risk), so the worker itself must be unable to open a connection: that is
the wall that holds when the check does not.

Why seccomp and not a network namespace: `unshare(CLONE_NEWNET)` needs root or
unprivileged user namespaces, which many hosts and containers switch off; a seccomp filter
needs neither (only `PR_SET_NO_NEW_PRIVS`, which any process may set for itself) and is
available on every Linux kernel since 3.17. Written here with ctypes (no library wraps it
for Python without a C extension): a dozen BPF instructions.

The filter, applied to every thread of the process (TSYNC) and inherited by any thread or
child started later, answers:
- `socket()` of any address family: EPERM (the worker talks to its parent over a socket
  pair it inherits; it never needs a new socket, not even AF_UNIX);
- `io_uring_setup()`: EPERM (io_uring can open sockets without calling socket());
- on x86-64, every x32-ABI system call: EPERM (another door to socket());
- a system call of a foreign architecture (e.g. 32-bit `int 0x80`): kills the process;
- everything else: allowed.
Once set, a filter can never be removed, by the process or anything it starts.

Where it cannot be applied (not Linux, an architecture not listed below, a kernel without
seccomp) the worker refuses to start: fail closed, with the reason on stderr and in the
server's log. The embedded store then answers queries with 503.
"""

from __future__ import annotations

import ctypes
import os
import platform
import socket
import struct
import sys

__all__ = ["SandboxError", "confine", "confine_or_exit", "supported"]

EXIT_CODE = 78  # EX_CONFIG: the worker could not be confined, so it does not start

# <linux/filter.h>, <linux/seccomp.h>, <linux/audit.h>
_LD_W_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_RET_KILL_PROCESS = 0x80000000
_RET_ERRNO = 0x00050000
_RET_ALLOW = 0x7FFF0000
_EPERM = 1
_NR, _ARCH = 0, 4  # offsets in struct seccomp_data
_PR_SET_NO_NEW_PRIVS = 38
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_TSYNC = 1
_X32_BIT = 0x40000000

# architecture: (AUDIT_ARCH_*, seccomp, socket, io_uring_setup, has the x32 ABI)
_ARCHES = {
    "x86_64": (0xC000003E, 317, 41, 425, True),
    "aarch64": (0xC00000B7, 277, 198, 425, False),
}


class SandboxError(RuntimeError):
    """The worker could not be cut off from the network."""


def supported() -> bool:
    """Whether this system can confine a worker (Linux on x86-64 or arm64)."""
    return sys.platform.startswith("linux") and platform.machine() in _ARCHES


def _program(arch: int, socket_nr: int, uring_nr: int, x32: bool) -> bytes:
    """The BPF program as bytes (struct sock_filter: u16 code, u8 jt, u8 jf, u32 k)."""
    deny, allow = _RET_ERRNO | _EPERM, _RET_ALLOW
    code = [
        (_LD_W_ABS, 0, 0, _ARCH),
        (_JEQ, 1, 0, arch),  # our architecture: go on; any other: kill
        (_RET, 0, 0, _RET_KILL_PROCESS),
        (_LD_W_ABS, 0, 0, _NR),
    ]
    if x32:
        code.append((_JGE, 3, 0, _X32_BIT))  # x32 system call: deny
    code += [
        (_JEQ, 2, 0, socket_nr),
        (_JEQ, 1, 0, uring_nr),
        (_RET, 0, 0, allow),
        (_RET, 0, 0, deny),
    ]
    return b"".join(struct.pack("=HBBI", *op) for op in code)


def confine() -> None:
    """Install the filter on this process (all its threads); raise SandboxError if not."""
    machine = platform.machine()
    if not sys.platform.startswith("linux") or machine not in _ARCHES:
        raise SandboxError(f"no network sandbox for {sys.platform}/{machine}: the SPARQL "
                           "query workers need Linux on x86-64 or arm64 (seccomp)")
    arch, seccomp_nr, socket_nr, uring_nr, x32 = _ARCHES[machine]
    program = _program(arch, socket_nr, uring_nr, x32)
    filters = ctypes.create_string_buffer(program, len(program))

    class _Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = _Prog(len(program) // 8, ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise SandboxError(f"prctl(PR_SET_NO_NEW_PRIVS) failed: "
                           f"{os.strerror(ctypes.get_errno())}")
    result = libc.syscall(ctypes.c_long(seccomp_nr), ctypes.c_long(_SECCOMP_SET_MODE_FILTER),
                          ctypes.c_long(_SECCOMP_FILTER_FLAG_TSYNC), ctypes.byref(prog))
    if result != 0:
        reason = (os.strerror(ctypes.get_errno()) if result < 0
                  else f"thread {result} could not be synchronised")
        raise SandboxError(f"seccomp filter refused by the kernel: {reason}")
    _verify()


def _verify() -> None:
    """Fail closed unless the filter really refuses a new socket."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.socket(family, socket.SOCK_STREAM).close()
        except PermissionError:
            continue
        except OSError:  # e.g. no IPv6 here: not a proof that the filter works
            pass
        raise SandboxError(f"the seccomp filter is installed but {family.name} sockets "
                           "still open")


def confine_or_exit() -> None:
    """Confine this process or end it with a clear message (a worker must not run open)."""
    try:
        confine()
    except (SandboxError, OSError, AttributeError) as exc:
        sys.stderr.write(f"kiezgraph SPARQL worker: not started, it cannot be cut off from "
                         f"the network: {exc}\n")
        sys.stderr.flush()
        os._exit(EXIT_CODE)
