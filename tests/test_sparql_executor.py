"""Worker processes: answers come back as bytes, a runaway is killed, the pool recovers."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path

import pytest

from publisher.store.base import QueryAborted, QuerySyntaxError, QueryTimeout, StoreError
from publisher.store.engine.pool import WorkerPool
from publisher.store.engine.worker import Job
from tests.workers import abort_mid_query, wait_exited

RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . ?m ?n2 ?o }"
JSON = "application/sparql-results+json"


@pytest.fixture(scope="module")
def pool(tmp_path_factory):
    path = tmp_path_factory.mktemp("pool") / "graph.nq"
    ex = "http://example.org/"
    lines = [f'<{ex}s{i}> <{ex}p> "{i}" <{ex}g{i % 3}> .' for i in range(60)]
    lines.append("<http://example.org/s0> <http://example.org/p> \"0\" <http://example.org/g2> .")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with WorkerPool(path, workers=2) as pool:
        yield pool


def _count(pool, **options) -> int:
    answer = pool.run(Job("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", JSON, 10, **options), 10)
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


def test_default_graph_is_the_union_as_a_set(pool):
    assert _count(pool) == 60  # the triple in two graphs counts once
    assert _count(pool, default_graphs=("http://example.org/g0",)) == 20
    assert _count(pool, named_graphs=("http://example.org/g0",)) == 0


def test_runaway_is_killed_while_the_other_worker_answers(pool):
    before = set(pool.workers_alive())
    outcome = {}

    def runaway():
        try:
            pool.run(Job(RUNAWAY, JSON, 10), 1.0)
        except QueryTimeout as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=runaway)
    thread.start()
    answers = []
    while thread.is_alive():
        answers.append(_count(pool))
    thread.join()
    assert "1 s" in str(outcome["error"])
    assert answers and set(answers) == {60}
    assert _count(pool) == 60
    assert _replaced(pool, before), pool.members()  # the replacement comes up


def test_engine_errors_become_exceptions_not_dead_workers(pool):
    with pytest.raises(QuerySyntaxError):
        pool.run(Job("SELECT * WHERE { ?s ?p }", JSON, 10), 5)
    with pytest.raises(StoreError):
        pool.run(Job("SELECT * WHERE { ?s ?p ?o }", JSON, 10,
                     default_graphs=("not an iri",)), 5)
    assert _count(pool) == 60


# --- issue 14: memory bounds, and a worker that dies costs one query a clear error --------

BOMB = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
SMALL_MEMORY = 160 << 20  # enough for a worker over the on-disk store, not for the bomb


@pytest.fixture()
def disk_pool(release):
    """One worker over the session build's on-disk store, with a small memory limit."""
    from publisher.store.embedded import STORE_DIR

    with WorkerPool(Path(release.path) / STORE_DIR, workers=1, memory=SMALL_MEMORY) as pool:
        yield pool


def _answers(pool) -> int:
    answer = pool.run(Job("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", JSON, 10), 30)
    return int(json.loads(answer.body)["results"]["bindings"][0]["n"]["value"])


def _replaced(pool, before: set[int], new: int = 1, timeout: float = 10) -> bool:
    """Whether the pool is whole again within timeout seconds: every worker idle, `new` of
    them not among `before`."""
    def whole(members) -> bool:
        return len(members) == pool.size and all(m.state == "idle" for m in members) \
            and len({m.pid for m in members} - before) >= new

    return pool.wait_until(whole, timeout)


def test_issue14_order_by_bomb_is_stopped_at_the_memory_limit(disk_pool):
    _answers(disk_pool)
    before = set(disk_pool.workers_alive())
    # A time limit far beyond what the memory limit needs: the memory limit ends it.
    with pytest.raises(QueryAborted) as raised:
        disk_pool.run(Job(BOMB, JSON, 10), 120)
    assert "memory" in str(raised.value) and "160 MiB" in str(raised.value)
    assert _replaced(disk_pool, before)
    assert _answers(disk_pool) > 0  # the replacement answers


def test_issue14_an_abort_inside_the_engine_costs_one_query(disk_pool):
    # pyoxigraph 0.5 can abort the process (a Rust panic, "comparison function does not
    # correctly implement a total order", when ORDER BY sorts mixed terms), but only for
    # some orders of the data: the worker is sent the same SIGABRT mid-query instead.
    _answers(disk_pool)
    before = set(disk_pool.workers_alive())
    error = abort_mid_query(disk_pool, lambda: disk_pool.run(Job(RUNAWAY, JSON, 60), 120))
    assert isinstance(error, QueryAborted), error
    assert "aborted inside the query engine" in str(error)
    assert _replaced(disk_pool, before)
    assert _answers(disk_pool) > 0


def test_issue14_a_worker_killed_mid_query_gives_a_clear_error(pool):
    _count(pool)
    error = abort_mid_query(pool, lambda: pool.run(Job(RUNAWAY, JSON, 10), 60))
    assert isinstance(error, QueryAborted)
    assert "aborted" in str(error)
    assert _count(pool) == 60


def test_issue14_a_worker_killed_while_idle_never_fails_the_next_query(pool):
    _count(pool)
    victims = set(pool.workers_alive())
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:  # dead, not yet noticed by the pool
        assert wait_exited(pid, 10)
    assert _count(pool) == 60  # the first query after: answered by a replacement
    assert not set(pool.workers_alive()) & victims


def test_issue14_a_worker_killed_while_starting_is_started_again(pool):
    _count(pool)
    known = set(pool.workers_alive())
    with pytest.raises(QueryTimeout):  # its worker is killed: a new one starts in the background
        pool.run(Job(RUNAWAY, JSON, 10), 0.2)
    assert pool.wait_until(lambda members: any(m.state == "starting" and m.pid not in known
                                               for m in members), 20), pool.members()
    starting = next(m.pid for m in pool.members() if m.state == "starting")
    os.kill(starting, signal.SIGKILL)  # before it said ready
    # the pool is whole again: two idle workers, neither the one killed while starting
    assert pool.wait_until(lambda members: len(members) == 2 and starting not in
                           {m.pid for m in members} and all(m.state == "idle" for m in members),
                           30), pool.members()
    assert _count(pool) == 60
