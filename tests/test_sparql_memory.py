"""The query worker's memory limit: RLIMIT_DATA set from the environment at worker start."""

from __future__ import annotations

import subprocess
import sys

import pytest

from publisher.store.engine.memory import ENV, apply_memory_limit, describe, worker_env

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="RLIMIT_DATA counts mmap'ed memory on Linux only")

# Runs in a fresh interpreter: the limit cannot be lifted once set.
_PROBE = """
import resource, sys
from publisher.store.engine.memory import apply_memory_limit
set_to = apply_memory_limit(reserved=int(sys.argv[1]))
print(set_to, resource.getrlimit(resource.RLIMIT_DATA)[0])
try:
    block = bytearray(int(sys.argv[2]))
except MemoryError:
    print("MemoryError")
else:
    print("allocated", len(block))
"""


def _probe(limit: int, reserved: int, allocate: int) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _PROBE, str(reserved), str(allocate)],
                          env=worker_env(limit), capture_output=True, text=True, timeout=60,
                          check=True)
    return done.stdout.split()


def test_describe_speaks_in_binary_units():
    assert describe(1 << 30) == "1 GiB"
    assert describe(160 << 20) == "160 MiB"
    assert describe(1536 << 20) == "1.5 GiB"
    assert describe(1000) == "1000 bytes"


def test_no_limit_asked_none_set(monkeypatch):
    monkeypatch.setenv(ENV, "0")
    assert apply_memory_limit() == 0
    monkeypatch.setenv(ENV, "not a number")
    assert apply_memory_limit() == 0


@linux_only
def test_issue14_allocation_over_the_limit_fails():
    limit = 64 << 20
    set_to, soft, outcome = _probe(limit, 0, 256 << 20)
    assert int(set_to) == int(soft)
    assert limit < int(set_to) < limit + (64 << 20)  # the interpreter's start on top
    assert outcome == "MemoryError"  # refused at once: nothing was allocated


@linux_only
def test_issue14_reserved_bytes_are_on_top_and_memory_under_the_limit_is_given():
    limit = 64 << 20
    set_to, _, outcome, size = _probe(limit, 512 << 20, 32 << 20)
    assert int(set_to) > (512 << 20) + limit
    assert outcome == "allocated" and int(size) == 32 << 20


def test_issue24_a_small_limit_still_starts_workers(settings, release):
    """The limit is set once a worker has started (its job thread's stack reserved, the
    store open): at 100 MiB every trivial query is answered. Before, the limit was set
    first and workers died at start below ~320 MiB (4 of 10 queries got 503 at 200 MiB)."""
    from publisher.web import create_app

    app = create_app(settings.replace(query_memory=100 << 20), release=release)
    client = app.test_client()
    statuses = [client.get("/sparql", query_string={"query": f"SELECT * {{ ?s ?p ?o }} LIMIT {n}"},
                           headers={"Accept": "application/sparql-results+json"}).status_code
                for n in range(1, 11)]
    assert statuses == [200] * 10
