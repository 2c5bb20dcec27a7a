"""The remote store over a real Virtuoso: the same answers as the embedded store, clear failures."""

from __future__ import annotations

import pytest
from rdflib import Graph, URIRef
from rdflib.compare import isomorphic

from publisher.load import Writer, load_release
from publisher.store import EmbeddedStore, StoreError, StoreUnavailable
from publisher.store.remote import RemoteStore, from_json_term
from tests.virtuoso_server import free_port

pytestmark = pytest.mark.virtuoso

BASE = "https://w3id.org/kiezgraph/pankow/"


@pytest.fixture(scope="module")
def embedded(release):
    """The embedded store over the session's build (its SPARQL workers stopped after)."""
    store = EmbeddedStore.from_release(release)
    yield store
    store.close()


@pytest.fixture(scope="module")
def remote(virtuoso, release):
    """A RemoteStore over Virtuoso holding the session's build."""
    store = RemoteStore(virtuoso.sparql, BASE)
    writer = Writer(update_endpoint=virtuoso.sparql_auth, user=virtuoso.user,
                    password=virtuoso.password)
    load_release(release, store, writer)
    return store


def subjects(store) -> list[URIRef]:
    """Every IRI subject under the base that the sources describe."""
    rows = store.select(f'SELECT DISTINCT ?s WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && '
                        f'STRSTARTS(STR(?s), "{BASE}id/")) }} ORDER BY ?s')
    metadata = {row["s"] for row in store.select(
        "SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s ?p ?o } "
        'FILTER(STRENDS(STR(?g), "graph/metadata")) }')}
    return [row["s"] for row in rows if row["s"] not in metadata]


def test_same_subjects_and_count(remote, embedded):
    described = set(subjects(embedded))
    assert [s for s in subjects(remote) if s in described] == subjects(embedded)
    assert len(subjects(remote)) > 10
    assert remote.triple_count() == embedded.triple_count()


def test_every_resource_described_alike(remote, embedded):
    """Each resource's outgoing triples (blank nodes compared by structure) match."""
    for subject in subjects(embedded):
        query = f"CONSTRUCT {{ <{subject}> ?p ?o }} WHERE {{ <{subject}> ?p ?o }}"
        there, here = remote.construct(query), embedded.construct(query)
        assert len(there) == len(here) > 0, subject
        assert isomorphic(there, here), subject


def test_select_terms_round_trip(remote, embedded):
    """Language tags, datatypes and IRIs come back as the same rdflib terms."""
    query = ("SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER(isLiteral(?o)) } "
             "ORDER BY ?s ?p ?o")
    keep = set(subjects(embedded))
    there = {(r["s"], r["p"], r["o"]) for r in remote.select(query) if r["s"] in keep}
    here = {(r["s"], r["p"], r["o"]) for r in embedded.select(query) if r["s"] in keep}
    assert there == here
    assert any(o.language for _s, _p, o in here)
    assert any(o.datatype for _s, _p, o in here)


def test_ask(remote):
    assert remote.ask(f"ASK {{ ?s a ?t FILTER(STRSTARTS(STR(?s), '{BASE}')) }}") is True
    assert remote.ask("ASK { <urn:x:nothing> ?p ?o }") is False


def test_graph_queries_see_only_the_release_under_the_sources_names(remote, embedded):
    """GRAPH ?g ranges over the release's graphs, named as in the embedded store."""
    release = remote.current()
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    names = {str(r["g"]) for r in remote.select(query)}
    assert names == set(release.sources.values()) == {str(r["g"]) for r in
                                                       embedded.select(query)}
    assert f"{BASE}graph/data/organisations" in names
    source = f"{BASE}graph/data/organisations"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{source}> {{ ?s ?p ?o }} }}"
    assert remote.select(count) == embedded.select(count)
    assert int(remote.select(count)[0]["n"]) > 0


def test_bad_query_is_a_store_error(remote):
    with pytest.raises(StoreError) as info:
        remote.select("SELECT ?s WHERE { ?s ?p }")
    assert not isinstance(info.value, StoreUnavailable)


def test_unreachable_store_is_unavailable():
    store = RemoteStore(f"http://127.0.0.1:{free_port()}/sparql", BASE, timeout=2)
    with pytest.raises(StoreUnavailable, match="cannot reach the store"):
        store.current()
    assert store.ping() is False


def test_empty_store_says_load_first(virtuoso):
    store = RemoteStore(virtuoso.sparql, "https://example.org/other/")
    with pytest.raises(StoreError, match="kiezgraph load"):
        store.current()


def test_password_never_in_repr(virtuoso):
    store = RemoteStore(virtuoso.sparql_auth, BASE, user=virtuoso.user, password="s3cret")
    assert "s3cret" not in repr(store)


def test_json_terms():
    assert from_json_term({"type": "typed-literal", "value": "1",
                           "datatype": "http://www.w3.org/2001/XMLSchema#integer"}).toPython() == 1
    assert from_json_term({"type": "literal", "value": "a"}).datatype.endswith("#string")
    assert from_json_term({"type": "literal", "value": "a", "xml:lang": "de"}).language == "de"
    with pytest.raises(StoreError):
        from_json_term({"type": "triple", "value": {}})


def test_graph_result_is_rdflib(remote):
    assert isinstance(remote.construct("CONSTRUCT WHERE { ?s a ?o } LIMIT 3"), Graph)


def test_run_query_answers_like_the_embedded_store(remote, embedded):
    """The endpoint's forwarding: same rows, same formats, the cap applied, graphs mapped."""
    query = (f'SELECT ?s WHERE {{ ?s a ?t FILTER(STRSTARTS(STR(?s), "{BASE}id/organisation/")) '
             "} ORDER BY ?s")
    options = {"timeout": 10, "max_results": 3}
    there = remote.run_query(query, "application/sparql-results+json", **options)
    here = embedded.run_query(query, "application/sparql-results+json", **options)
    assert (there.count, there.truncated) == (here.count, here.truncated) == (3, True)
    assert there.body == here.body
    ask = remote.run_query("ASK { ?s ?p ?o }", "application/sparql-results+xml", **options)
    assert b"true" in ask.body and ask.media_type == "application/sparql-results+xml"
    graph = remote.run_query("CONSTRUCT WHERE { ?s a ?t } LIMIT 2", "text/turtle", **options)
    assert graph.media_type == "text/turtle" and graph.count == 2
    source = f"{BASE}graph/data/organisations"
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{source}> {{ ?s ?p ?o }} }}"
    answer = remote.run_query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "text/csv",
                              default_graphs=[source], **options)
    expected = embedded.select(count)[0]["n"]
    assert answer.body.split()[-1].decode() == str(expected) and int(expected) > 0


VIRTUOSO_TIMEOUTS = [
    "Virtuoso S1TAT Error RC...: Returning incomplete results, query interrupted by result "
    "timeout.  Activity:  26.46M rnd",
    "Virtuoso S1TAT Error Query did not complete due to ANYTIME timeout.",
]


@pytest.mark.live
@pytest.mark.parametrize("message", VIRTUOSO_TIMEOUTS)
def test_issue15_virtuoso_result_timeout_is_a_timeout(message):
    """Virtuoso's HTTP 500 "query interrupted by result timeout" was a StoreError (502 on
    /sparql); it is a QueryTimeout (503 with Retry-After), as the README documents."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from publisher.store.base import QueryTimeout

    class Timeout(BaseHTTPRequestHandler):
        def do_GET(self):
            body = f"{message}\n\nSPARQL query:\nSELECT * WHERE {{ ?s ?p ?o }}".encode()
            self.send_response(500, "SPARQL Request Failed")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Timeout)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        store = RemoteStore(f"http://127.0.0.1:{server.server_port}/sparql", BASE, timeout=5)
        sparql = store.wrapper("SELECT * WHERE { ?s ?p ?o }", dataset=False)
        with pytest.raises(QueryTimeout):
            store.send(sparql, "application/sparql-results+json")
    finally:
        server.shutdown()
        server.server_close()
