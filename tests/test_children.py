"""publisher.children: killed at a deadline, gone with its parent, restarted, never trusted (#21).

The children here are tests/children_probe.py: a few lines that answer frames as the query
workers and parser processes do, and misbehave on request.
"""

from __future__ import annotations

import os
import pickle
import signal
import subprocess
import sys
import threading
import time

import pytest

from publisher import children
from tests.children_probe import Boom
from tests.conftest import ROOT
from tests.waiting import until
from tests.workers import wait_exited

ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(
    p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="pidfds and the parent-death signal are Linux's")


def _start(*args: str) -> children.Child:
    return children.spawn("tests.children_probe", args, env=ENV)


def _ready(child: children.Child) -> bool:
    header, _ = child.channel.receive(time.monotonic() + 60)
    return header == {"kind": "ready", "pid": child.pid}


@pytest.fixture()
def child():
    started = _start()
    assert _ready(started)
    yield started
    started.kill()


def _echo(child: children.Child, value, body: bytes = b"") -> tuple:
    return child.request({"do": "echo", "value": value}, body, time.monotonic() + 30)


def test_a_frame_carries_json_and_raw_bytes(child):
    body = bytes(range(256)) * 12_000  # 3 MB, more than any socket buffer
    assert _echo(child, {"text": "Weißensee", "n": [1, None, True]}, body) == \
        ({"echo": {"text": "Weißensee", "n": [1, None, True]}}, body)
    assert _echo(child, "again") == ({"echo": "again"}, b"")


@linux_only
def test_issue21_a_child_is_killed_at_its_deadline_and_reaped(child):
    started = time.monotonic()
    with pytest.raises(children.Deadline):
        child.request({"do": "sleep", "seconds": 600}, deadline=time.monotonic() + 0.5)
    assert 0.4 < time.monotonic() - started < 10
    assert child.alive()  # the deadline only says so: the caller kills
    assert child.kill() == -signal.SIGKILL
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(child.pid, os.WNOHANG)


def test_a_child_that_exits_is_gone_not_late(child):
    with pytest.raises(children.Gone):
        child.request({"do": "exit", "code": 3}, deadline=time.monotonic() + 60)
    assert child.wait(10) == 3


def test_issue21_a_child_outlives_the_thread_that_started_it():
    """The kernel's parent-death signal follows the thread that forked: a pool starts
    members from short-lived threads, and the members must live on."""
    started: list[children.Child] = []

    def start_and_wait_ready() -> None:  # as a pool's start thread does: the child is tied
        started.append(_start())         # to its parent before the thread ends
        assert _ready(started[0])

    thread = threading.Thread(target=start_and_wait_ready)
    thread.start()
    thread.join()
    try:
        assert not wait_exited(started[0].pid, 0.5)
        assert _echo(started[0], 1) == ({"echo": 1}, b"")
    finally:
        started[0].kill()


_PARENT = """
import sys, time
from publisher import children
from publisher.children import tie
if sys.argv[1] == "no-prctl":
    tie._prctl = lambda: None  # the fallback: a thread that watches the parent's id
child = children.spawn("tests.children_probe", sys.argv[1:])
child.channel.receive()
forked = children.fork(lambda: (time.sleep(600), (b"", 0))[1])
print(child.pid, forked.pid, flush=True)
time.sleep(600)
"""


@linux_only
@pytest.mark.parametrize("how", ["prctl", "no-prctl"])
def test_issue21_children_end_when_their_parent_is_killed(how):
    parent = subprocess.Popen([sys.executable, "-c", _PARENT, how], env=ENV, cwd=ROOT,
                              stdout=subprocess.PIPE, text=True)
    try:
        spawned, forked = map(int, parent.stdout.readline().split())
        assert not wait_exited(spawned, 0.2) and not wait_exited(forked, 0.2)
        parent.kill()  # SIGKILL: no cleanup of its own runs
        parent.wait(timeout=30)
        assert wait_exited(spawned, 10), "the spawned child outlived its parent"
        assert wait_exited(forked, 10), "the forked child outlived its parent"
    finally:
        parent.kill()
        parent.wait(timeout=30)
        parent.stdout.close()


@linux_only
def test_issue21_a_pool_restarts_members_that_die():
    refusals = [True]  # the first member started does not come up

    def ready(child: children.Child) -> bool:
        return _ready(child) and not (refusals and refusals.pop())

    def two_idle(members) -> bool:
        return [m.state for m in members] == ["idle", "idle"]

    pool = children.Pool(_start, size=2, ready=ready, name="probe")
    try:
        assert pool.wait_until(two_idle, 60), pool.members()
        # killed while idle: found dead when taken, replaced, never handed out
        victim = pool.members()[0].pid
        os.kill(victim, signal.SIGKILL)
        assert wait_exited(victim, 10)
        taken = [pool.take(time.monotonic() + 60), pool.take(time.monotonic() + 60)]
        assert victim not in {c.pid for c in taken}
        assert all(_echo(c, "up") == ({"echo": "up"}, b"") for c in taken)
        # a fixed-size pool makes callers wait, then says Busy
        with pytest.raises(children.Busy):
            pool.take(time.monotonic() + 0.2)
        # killed mid-request: Gone, replaced in the background, the pool whole again
        os.kill(taken[0].pid, signal.SIGKILL)
        with pytest.raises(children.Gone):
            taken[0].request({"do": "sleep", "seconds": 600}, deadline=time.monotonic() + 60)
        pool.replace(taken[0])
        pool.put(taken[1])
        assert pool.wait_until(two_idle, 60), pool.members()
        assert taken[0].pid not in pool.pids() and len(pool.pids()) == 2
    finally:
        pool.close()
    assert pool.members() == []


def test_an_on_demand_pool_starts_what_it_needs():
    pool = children.Pool(_start, name="probe")
    try:
        first, second = pool.take(), pool.take()
        assert _ready(first) and _ready(second)
        assert {m.state for m in pool.members()} == {"busy"}
        pool.put(second)
        assert pool.take() is second  # the one given back last
        pool.replace(first)  # killed, and nothing started in its place
        assert [m.pid for m in pool.members()] == [second.pid]
    finally:
        pool.close()
    assert not first.alive() and not second.alive()


def test_issue21_a_pickle_from_a_child_is_never_unpickled(child, tmp_path):
    """What a taken-over worker could send the old pool (multiprocessing's Connection.send,
    which the parent unpickled): now a protocol error, and the payload never runs."""
    control = tmp_path / "control"
    pickle.loads(pickle.dumps(Boom(str(control))))
    assert control.exists()  # the payload is live: unpickling it does create the file

    marker = tmp_path / "marker"
    with pytest.raises((children.ProtocolError, children.Deadline)):
        child.request({"do": "pickle", "path": str(marker)}, deadline=time.monotonic() + 2)
    assert not marker.exists()

    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):  # bare pickles, any protocol
        raw = _start()
        try:
            assert _ready(raw)
            payload = pickle.dumps(Boom(str(marker)), protocol)
            with pytest.raises((children.ProtocolError, children.Deadline)):
                raw.request({"do": "raw", "hex": payload.hex()}, deadline=time.monotonic() + 2)
        finally:
            raw.kill()
    assert not marker.exists()

    # inside a well-formed frame, a pickle is just bytes
    payload = pickle.dumps(Boom(str(marker)))
    assert _echo(child, "body", payload) == ({"echo": "body"}, payload)
    assert not marker.exists()


def test_a_header_that_claims_gigabytes_is_refused_at_once(child):
    frame = (0xFFFF_FFFF).to_bytes(4, "big") + (0).to_bytes(4, "big")
    started = time.monotonic()
    with pytest.raises(children.ProtocolError):
        child.request({"do": "raw", "hex": frame.hex()}, deadline=time.monotonic() + 30)
    assert time.monotonic() - started < 10


@linux_only
def test_a_fork_sends_its_result_and_a_killed_one_says_how_it_ended():
    done = children.fork(lambda: (b"shared " + str(os.getppid()).encode(), 0))
    assert done.result() == (b"shared " + str(os.getpid()).encode(), 0)
    failed = children.fork(lambda: (b"", 3))
    assert failed.result() == (b"", 3)
    stuck = children.fork(lambda: (time.sleep(600), (b"", 0))[1])
    os.kill(stuck.pid, signal.SIGKILL)
    assert stuck.result() == (b"", -signal.SIGKILL)
    running = children.fork(lambda: (time.sleep(600), (b"", 0))[1])
    running.kill()
    with pytest.raises(ChildProcessError):
        os.waitpid(running.pid, os.WNOHANG)


@linux_only
def test_issue22_a_busy_pool_serves_its_callers_in_turn():
    """A caller that gives the one member back and asks again at once queues behind those
    already waiting. Before, it took the member again ahead of them; with one query worker
    some queries then waited 0.8 s while others were answered in a millisecond."""
    pool = children.Pool(_start, size=1, ready=_ready, name="probe")
    order: list[str] = []

    def caller(name: str) -> None:
        child = pool.take(time.monotonic() + 60)
        order.append(name)
        pool.put(child)

    try:
        assert pool.wait_until(lambda ms: [m.state for m in ms] == ["idle"], 60)
        held = pool.take(time.monotonic() + 60)
        threads = []
        for number, name in enumerate(("b", "c"), start=1):
            threads.append(threading.Thread(target=caller, args=(name,)))
            threads[-1].start()
            until(lambda n=number: pool.waiting() == n, 30, f"{number} callers to wait")
        pool.put(held)
        caller("a")  # gave it back, asks again at once
        for thread in threads:
            thread.join(60)
    finally:
        pool.close()
    assert order == ["b", "c", "a"]


def test_issue22_frames_are_read_however_the_bytes_arrive():
    """The channel reads ahead (one recv for a small frame): two frames in one write are
    two frames, a frame written a byte at a time is one, and a large body is whole."""
    import json
    import socket

    ours, theirs = socket.socketpair()
    try:
        channel = children.Channel(ours)

        def frame(header: dict, body: bytes = b"") -> bytes:
            data = json.dumps(header, separators=(",", ":")).encode()
            return len(data).to_bytes(4, "big") + len(body).to_bytes(4, "big") + data + body

        theirs.sendall(frame({"n": 1}, b"one") + frame({"n": 2}))
        assert channel.receive(time.monotonic() + 5) == ({"n": 1}, b"one")
        assert channel.receive(time.monotonic() + 5) == ({"n": 2}, b"")

        def trickle() -> None:
            for byte in frame({"n": 3}, b"xyz"):
                theirs.sendall(bytes([byte]))

        writer = threading.Thread(target=trickle)
        writer.start()
        assert channel.receive(time.monotonic() + 5) == ({"n": 3}, b"xyz")
        writer.join()

        large = os.urandom(3 << 20)
        writer = threading.Thread(target=theirs.sendall, args=(frame({"n": 4}, large),))
        writer.start()
        assert channel.receive(time.monotonic() + 10) == ({"n": 4}, large)
        writer.join()
        channel.send({"back": True}, b"body")
        assert theirs.recv(100) == frame({"back": True}, b"body")  # in one send
    finally:
        ours.close()
        theirs.close()
