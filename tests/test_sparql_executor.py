"""Worker processes: answers come back as bytes, a runaway is killed, the pool recovers."""

from __future__ import annotations

import json
import threading

import pytest

from publisher.sparql.executor import Job, WorkerPool
from publisher.store.base import QuerySyntaxError, QueryTimeout, StoreError

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
    for _ in range(100):  # the replacement comes up
        alive = set(pool.workers_alive())
        if len(alive) == 2 and alive != before:
            break
        threading.Event().wait(0.05)
    assert len(alive) == 2 and alive != before


def test_engine_errors_become_exceptions_not_dead_workers(pool):
    with pytest.raises(QuerySyntaxError):
        pool.run(Job("SELECT * WHERE { ?s ?p }", JSON, 10), 5)
    with pytest.raises(StoreError):
        pool.run(Job("SELECT * WHERE { ?s ?p ?o }", JSON, 10,
                     default_graphs=("not an iri",)), 5)
    assert _count(pool) == 60
