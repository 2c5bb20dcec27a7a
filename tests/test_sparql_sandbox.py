"""The query workers cannot reach the network, even when handed SERVICE past the guard (#14)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading

import pytest

from publisher.sparql import sandbox
from publisher.store.base import StoreError
from publisher.store.engine.pool import WorkerPool
from publisher.store.engine.worker import Job
from tests.service_disguises import Listener

pytestmark = pytest.mark.skipif(not sandbox.supported(),
                                reason="the seccomp sandbox needs Linux on x86-64 or arm64")
JSON = "application/sparql-results+json"


@pytest.fixture()
def listener():
    found = Listener()
    yield found
    found.close()


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    path = tmp_path_factory.mktemp("sandbox") / "graph.nq"
    path.write_text('<http://example.org/s> <http://example.org/p> "o" '
                    "<http://example.org/g> .\n", encoding="utf-8")
    with WorkerPool(path, workers=1) as pool:
        yield pool


@pytest.mark.live
def test_the_listener_counts_a_connection(listener):
    """The witness works: a process without the sandbox does reach it."""
    socket.create_connection(("127.0.0.1", listener.port), timeout=5).close()
    for _ in range(50):
        if listener.connections:
            break
        threading.Event().wait(0.05)
    assert listener.connections == 1


@pytest.mark.live
def test_issue14_worker_cannot_connect_with_service(pool, listener):
    """A SERVICE query handed straight to a worker (no guard) gets a clear error, and the
    listener sees nothing."""
    query = (f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/proof> "
             "{ ?s ?p ?o } }")
    with pytest.raises(StoreError, match="Operation not permitted"):
        pool.run(Job(query, JSON, 10), 10)
    silent = query.replace("SERVICE", "SERVICE SILENT")
    answer = pool.run(Job(silent, JSON, 10), 10)  # SILENT: an empty join, still no request
    assert json.loads(answer.body)["results"]["bindings"] == [{}]
    local = query.replace("127.0.0.1", "localhost")
    with pytest.raises(StoreError, match="Operation not permitted"):
        pool.run(Job(local, JSON, 10), 10)
    assert listener.connections == 0
    ok = pool.run(Job("SELECT * WHERE { ?s ?p ?o }", JSON, 10), 10)  # the worker still answers
    assert len(json.loads(ok.body)["results"]["bindings"]) == 1


_PROBE = """
import socket
from publisher.sparql import sandbox
sandbox.confine()
refused = []
for family in (socket.AF_INET, socket.AF_INET6, socket.AF_UNIX, socket.AF_NETLINK,
               socket.AF_PACKET):
    try:
        socket.socket(family, socket.SOCK_DGRAM).close()
    except PermissionError:
        refused.append(family.name)
a, b = socket.socketpair()  # the kind of link a worker has with its parent still works
a.sendall(b"x"); assert b.recv(1) == b"x"
print(",".join(refused))
"""


def test_confine_refuses_every_socket_family():
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["AF_INET,AF_INET6,AF_UNIX,AF_NETLINK,AF_PACKET"]


def test_unconfined_worker_does_not_start(monkeypatch, capsys):
    """Where the filter cannot be applied the worker fails closed with the reason."""
    monkeypatch.setattr(sandbox.platform, "machine", lambda: "mips")
    with pytest.raises(sandbox.SandboxError, match="no network sandbox"):
        sandbox.confine()


def test_worker_that_cannot_be_confined_exits_with_the_reason():
    code = ("import platform; platform.machine = lambda: 'mips'\n"
            "from publisher.sparql import sandbox; sandbox.confine_or_exit()\n"
            "print('ran unconfined')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == sandbox.EXIT_CODE
    assert "ran unconfined" not in done.stdout
    assert "cannot be cut off from the network" in done.stderr
