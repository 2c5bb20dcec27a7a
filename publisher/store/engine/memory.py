"""A query worker's memory limit (setting `query_memory`), set by the kernel at worker start.

The limit is RLIMIT_DATA, not RLIMIT_AS, and not a watchdog on RSS:

- RLIMIT_AS counts address space, including what costs no memory: the on-disk store's
  files mapped by RocksDB, the job thread's 512 MB stack reservation (worker.STACK_BYTES),
  the allocator's reserved arenas. A limit low enough to matter would stop a worker over a
  large on-disk graph from opening its store at all.
- RLIMIT_DATA (Linux 4.7 and later) counts private writable memory: the heap, anonymous
  mappings, the in-memory graph, a query's sort buffers and hash tables. The on-disk
  store's tables, read through the page cache it shares with the other processes (and
  any file mapped read-only or shared), are not counted. Measured on a 600k-triple
  on-disk store: a worker's VmSize 951 MiB, of it VmData 622 MiB (512 MiB of it the
  stack reservation), RSS 53 MiB; it opens and answers under the default limit.
- A watchdog polling RSS acts after the fact: between two polls a sort can take gigabytes.
  The kernel refuses the allocation itself, at once.

Over the limit an allocation fails: Python raises MemoryError; pyoxigraph's Rust code
aborts the process ("memory allocation of N bytes failed", SIGABRT). The pool
(publisher.store.engine.pool) tells both apart from other deaths, answers 503 and starts a
fresh worker.
"""

from __future__ import annotations

import logging
import os
import sys

__all__ = ["ENV", "OUT_OF_MEMORY", "apply_memory_limit", "describe", "worker_env"]

log = logging.getLogger(__name__)

# The setting's own variable of the KIEZGRAPH_* environment layer: the pool hands the
# worker its limit in it (a worker reads no config file).
ENV = "KIEZGRAPH_QUERY_MEMORY"
# What Rust prints on stderr before it aborts when an allocation fails.
OUT_OF_MEMORY = "memory allocation of"


def describe(limit: int) -> str:
    """A byte count for people: 1 GiB, 256 MiB, 1000 bytes."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if limit >= 1 << shift:
            value = limit / (1 << shift)
            return f"{value:.{0 if value == int(value) else 1}f} {unit}"
    return f"{limit} bytes"


def worker_env(limit: int) -> dict[str, str]:
    """The environment of a worker process that is to run under this limit (0: none)."""
    return {**os.environ, ENV: str(max(0, int(limit)))}


def _data_bytes() -> int:
    """Private writable memory this process holds now (VmData), 0 when unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def apply_memory_limit(reserved: int = 0) -> int:
    """Limit this process's private writable memory to the limit in ENV; the limit set.

    The limit is counted on top of what the process holds when it is set (the worker sets
    it once started: interpreter, job thread's stack, open store) and of `reserved` bytes it
    will still reserve without using them, so `query_memory` is what the graph in memory
    and the queries may take. 0 when no limit
    is asked for or the platform has none (the query time limit still applies).
    """
    try:
        limit = int(os.environ.get(ENV, "0") or 0)
    except ValueError:
        limit = 0
    if limit <= 0:
        return 0
    try:
        import resource
    except ImportError:  # not on this platform
        log.warning("query_memory is not enforced on %s", sys.platform)
        return 0
    if not sys.platform.startswith("linux") or not hasattr(resource, "RLIMIT_DATA"):
        # Elsewhere RLIMIT_DATA leaves mmap'ed memory, where large allocations go, uncounted.
        log.warning("query_memory is not enforced on %s", sys.platform)
        return 0
    total = _data_bytes() + max(0, reserved) + limit
    _, hard = resource.getrlimit(resource.RLIMIT_DATA)
    if hard != resource.RLIM_INFINITY:
        total = min(total, hard)
    # Soft and hard alike: nothing in the worker may raise it again.
    resource.setrlimit(resource.RLIMIT_DATA, (total, total))
    return total
