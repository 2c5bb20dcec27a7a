"""Issue #24, item 1: the check reads `<` as the engine does, and where the engine tries the
network despite the check, the client gets the same 403 as any SERVICE refusal, the attempt
is logged and counted; any other error the engine reports is a 400."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from publisher.sparql import guard
from publisher.sparql.guard import CheckedQuery
from publisher.sparql.sandbox import supported
from publisher.web import create_app
from tests.service_disguises import Listener, fill, generated

JSON = {"Accept": "application/sparql-results+json"}
ISSUE = ("SELECT * WHERE { FILTER(1<2&&(3>0)&&'!'<'>') SERVICE <{url}> { ?s ?p ?o } #'\n}")


def _past_the_check(monkeypatch) -> None:
    """Switch the check off: every text passes the scan, as if it had missed SERVICE."""
    def lenient(text: str, max_length: int | None = None) -> CheckedQuery:
        return CheckedQuery(text=text, form="SELECT", has_dataset=False, deterministic=False)

    monkeypatch.setattr("publisher.web.sparql_protocol.scan", lenient)
    monkeypatch.setattr("publisher.store.embedded.scan", lenient)


@pytest.mark.live  # the listener
@pytest.mark.skipif(not supported(), reason="needs the seccomp sandbox (Linux x86-64/arm64)")
def test_issue24_a_service_past_the_check_is_a_403_logged_and_counted(settings, release,
                                                                      monkeypatch, caplog):
    listener = Listener()
    try:
        _past_the_check(monkeypatch)
        client = create_app(settings, release=release).test_client()
        query = fill(ISSUE, f"http://127.0.0.1:{listener.port}/proof", listener.port)
        with caplog.at_level(logging.ERROR):
            response = client.get("/sparql", query_string={"query": query}, headers=JSON)
        assert response.status_code == 403, response.get_data(as_text=True)
        assert "SERVICE" in response.get_data(as_text=True)
        assert "tried the network" in caplog.text
        metrics = client.get("/metrics").get_data(as_text=True)
        assert "kiezgraph_sparql_network_attempts_total 1.0" in metrics
        time.sleep(0.3)  # on purpose: no connection is the event tested; one under way lands
        assert listener.connections == 0
    finally:
        listener.close()


def test_issue24_an_unknown_function_is_a_400(client):
    """pyoxigraph refuses a function it does not know ("The custom function <…> is not
    supported"): the query's fault, a 400 with the engine's words (it was a 502)."""
    response = client.get("/sparql", query_string={
        "query": "SELECT (<http://example.org/nothing>(1) AS ?x) {}"}, headers=JSON)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "not supported" in response.get_data(as_text=True)


def test_issue24_the_issue_query_and_its_cousins_are_refused_by_the_scan():
    """The issue's query, and every generated query that puts `<` where an IRI could start
    (comparisons before SERVICE): each refused (a 4xx) by the scan."""
    cousins = [q for q in generated() if "<2" in q or "'<'" in q or "(1)<" in q]
    assert len(cousins) >= 1000
    for text in [ISSUE, *cousins]:
        query = fill(text, "http://127.0.0.1:9/proof", 9)
        with pytest.raises(guard.QueryRejected) as refused:
            guard.scan(query)
        assert 400 <= refused.value.status < 500, query


@pytest.mark.live
def test_issue24_a_thousand_disguises_reach_no_listener(build_dir):
    """Through `kiezgraph serve`: the issue's query and over 1,000 generated cousins, each a
    4xx, no connection at a listener."""
    from tests.test_security import _serve

    listener = Listener()
    try:
        url = f"http://127.0.0.1:{listener.port}/proof"
        cousins = [q for q in generated() if "<2" in q or "'<'" in q or "(1)<" in q]
        with _serve(build_dir) as server, httpx.Client(base_url=server, timeout=30) as http:
            statuses = [http.get("/sparql", params={"query": fill(q, url, listener.port)},
                                 headers=JSON).status_code for q in [ISSUE, *cousins]]
        assert len(statuses) > 1000
        assert all(400 <= s < 500 for s in statuses), sorted(set(statuses))
        time.sleep(0.5)  # on purpose: no connection is the event tested; one under way lands
        assert listener.connections == 0
    finally:
        listener.close()
