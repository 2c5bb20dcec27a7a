"""Issue 14 over a live server: the endpoint's memory and size bounds, and clear errors.

A query over the workers' memory limit, or one that makes the engine abort, gets 503 and
the next query is answered; answers and query pages are cut in bytes; a dataset that is
not IRIs, and triple terms asked for as JSON-LD, get a 4xx with a message (never 502).
Limits here are small (a worker of 160 MiB, answers of 256 KiB): the machine is shared.
"""

from __future__ import annotations

import os
import signal
import time
from functools import partial

import httpx
import pytest

from publisher.web import create_app
from tests.workers import abort_mid_query, wait_exited

pytestmark = pytest.mark.live

BOMB = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i LIMIT 1"
# Runs far past every limit here but the time limit; counting streams, so memory stays low.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ASK = "ASK { ?s ?p ?o }"
MAX_BYTES = 256 << 10
# One row holding one string of 1.2 MB (300 characters doubled 12 times), built by the
# engine: the issue's 256 MiB string, scaled down.
HUGE = ('SELECT ?x WHERE { BIND("' + "<&ä" * 100 + '" AS ?x0) '
        + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(12))
        + " BIND(?x12 AS ?x) }")
# Every triple with a string of 1.5 KB: more than MAX_BYTES of rows.
WIDE = ('SELECT ?s ?x WHERE { ?s ?p ?o BIND(CONCAT(STR(?o), "' + "<Weißensee & Pankow> " * 70
        + '") AS ?x) }')
TRIPLE_TERM = ("CONSTRUCT { <http://example.org/s> <http://example.org/says> "
               "<<( <http://example.org/a> <http://example.org/b> <http://example.org/c> )>> "
               "} WHERE {}")


@pytest.fixture(scope="module")
def bounded(settings, release, live_server):
    """A server over the on-disk store with one worker of 160 MiB and answers of 256 KiB;
    a time limit long enough that the memory limit is what stops the bomb."""
    LiveServer = type(live_server)  # the class of conftest's live server

    app = create_app(settings.replace(query_memory=160 << 20, max_result_bytes=MAX_BYTES,
                                      query_timeout=60, query_workers=1,
                                      store_in_memory_max_triples=0), release=release)
    with LiveServer(app) as server:
        server.store = app.extensions["kiezgraph"].published.store
        yield server
    server.store.close()


def _sparql(server, query: str, **headers) -> httpx.Response:
    return httpx.get(server.url + "/sparql", params={"query": query},
                     headers={"Accept": "application/sparql-results+json", **headers},
                     timeout=120)


def _answered(server) -> None:
    """A query the answer cache cannot have: a worker answers it."""
    response = _sparql(server, f"{ASK} # {time.monotonic_ns()}")
    assert response.status_code == 200, response.text
    assert response.json()["boolean"] is True


def test_issue14_order_by_bomb_gets_503_and_the_next_query_is_answered(bounded):
    _answered(bounded)
    before = set(bounded.store.pool.workers_alive())
    response = _sparql(bounded, BOMB, Accept="text/plain")
    assert response.status_code == 503
    assert "memory" in response.text and "160 MiB" in response.text
    assert "Retry-After" in response.headers
    _answered(bounded)  # by a fresh worker
    assert not set(bounded.store.pool.workers_alive()) & before


def test_issue14_an_engine_abort_gets_503_never_502(bounded):
    # pyoxigraph 0.5 can abort (SIGABRT, a Rust panic in ORDER BY over mixed terms) for some
    # orders of the data only: the worker gets the same signal mid-query instead.
    _answered(bounded)
    for page in (False, True):
        headers = {"Accept": "text/html"} if page else {}
        response = abort_mid_query(bounded.store.pool, partial(
            _sparql, bounded, f"{RUNAWAY} # {page}", **headers))
        assert isinstance(response, httpx.Response), response
        assert response.status_code == 503
        assert "aborted inside the query engine" in response.text
        _answered(bounded)


def test_issue14_the_first_query_after_a_worker_was_killed_is_answered(bounded):
    _answered(bounded)
    victims = bounded.store.pool.workers_alive()
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    for pid in victims:  # dead, not yet noticed by the pool
        assert wait_exited(pid, 10)
    _answered(bounded)


def test_issue14_a_huge_string_is_cut_from_the_page_and_the_answer(bounded):
    page = _sparql(bounded, HUGE, Accept="text/html")
    assert page.status_code == 200
    assert page.headers["x-result-truncated"] == "true"
    assert page.headers["x-result-count"] == "0"
    assert len(page.content) < MAX_BYTES
    assert "X-Result-Truncated" in page.text  # the page says it was cut
    for accept in ("application/sparql-results+json", "text/csv",
                   "application/sparql-results+xml"):
        answer = _sparql(bounded, HUGE, Accept=accept)
        assert answer.status_code == 200
        assert answer.headers["x-result-truncated"] == "true"
        assert len(answer.content) < MAX_BYTES


def test_issue14_many_rows_are_cut_in_bytes_on_the_page_and_in_the_answer(bounded):
    answer = _sparql(bounded, WIDE)
    assert answer.status_code == 200
    assert answer.headers["x-result-truncated"] == "true"
    rows = answer.json()["results"]["bindings"]
    assert len(rows) == int(answer.headers["x-result-count"]) > 50
    assert MAX_BYTES // 2 < len(answer.content) <= MAX_BYTES
    page = _sparql(bounded, WIDE, Accept="text/html")
    assert page.status_code == 200 and page.headers["x-result-truncated"] == "true"
    assert 0 < int(page.headers["x-result-count"]) < len(rows)
    assert len(page.content) <= MAX_BYTES


@pytest.mark.parametrize("name", ["default-graph-uri", "named-graph-uri"])
@pytest.mark.parametrize("value", ["not an iri", "relative/graph", "http://exa mple.org/"])
def test_issue14_a_dataset_that_is_not_iris_gets_400(endpoint, name, value):
    for accept in ("application/sparql-results+json", "text/html"):
        response = httpx.get(endpoint, params={"query": ASK, name: value},
                             headers={"Accept": accept})
        assert response.status_code == 400
        assert name in response.text and "not an absolute IRI" in response.text
        assert "Traceback" not in response.text


def test_issue14_triple_terms_asked_as_jsonld_get_406_with_a_message(endpoint):
    for params, headers in (({"format": "jsonld"}, {}),
                            ({}, {"Accept": "application/ld+json"})):
        response = httpx.get(endpoint, params={"query": TRIPLE_TERM, **params},
                             headers=headers)
        assert response.status_code == 406
        assert "JSON-LD cannot hold the triple terms" in response.text
    turtle = httpx.get(endpoint, params={"query": TRIPLE_TERM},
                       headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200 and "<<(" in turtle.text


@pytest.fixture()
def endpoint(live_server) -> str:
    return live_server.url + "/sparql"
