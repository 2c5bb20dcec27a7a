"""The /sparql endpoint over a live server, driven by SPARQLWrapper and httpx.

Expected answers are computed independently: rdflib evaluates the same query over the
build's graph.nq (default graph = union of the named graphs).
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from rdflib import Dataset, Graph, URIRef
from rdflib.query import Result
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

from publisher.sparql.guard import QueryRejected, check, syntax_error
from publisher.web import create_app
from tests.conftest import BASE
from tests.waiting import until

pytestmark = pytest.mark.live

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SELECT = f"SELECT ?s ?label WHERE {{ ?s <{RDFS}label> ?label }}"
ASK = f"ASK {{ ?s <{RDFS}label> ?label }}"
CONSTRUCT = f"CONSTRUCT {{ ?s <{RDFS}label> ?label }} WHERE {{ ?s <{RDFS}label> ?label }}"
METHODS = {"GET": (GET, URLENCODED), "POST-form": (POST, URLENCODED),
           "POST-direct": (POST, POSTDIRECTLY)}
# Cross joins of everything: many minutes of work on any graph of a few hundred triples.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def union(release, live_server) -> Dataset:
    """What the endpoint serves, in rdflib: graph.nq and the catalogue's metadata.nq, queried
    as the union of their named graphs, with every IRI under the base named under the live
    server's address, as the server names them (rewrite_base)."""
    dataset = Dataset(default_union=True)
    base = release.info["base_uri"]
    for path in (release.graph_file, Path(release.path) / "metadata.nq"):
        if path.is_file():
            text = path.read_text(encoding="utf-8").replace(base, live_server.url + "/")
            dataset.parse(data=text, format="nquads")
    return dataset


@pytest.fixture(scope="module")
def endpoint(live_server) -> str:
    return live_server.url + "/sparql"


def _wrapper(endpoint: str, query: str, method: str, fmt: str) -> SPARQLWrapper:
    sparql = SPARQLWrapper(endpoint)
    http_method, request_method = METHODS[method]
    sparql.setMethod(http_method)
    sparql.setRequestMethod(request_method)
    sparql.setQuery(query)
    sparql.setReturnFormat(fmt)
    return sparql


def _graph(response) -> Graph:
    """What SPARQLWrapper converted (a Graph), or the raw Turtle it hands back as bytes."""
    converted = response.convert()
    if isinstance(converted, bytes):
        assert response.info()["content-type"].startswith("text/turtle")
        return Graph().parse(data=converted, format="turtle")
    assert isinstance(converted, Graph)
    return converted


def _rows(result) -> set[tuple[str, ...]]:
    return {tuple(str(value) for value in row) for row in result}


def _labels(union) -> set[tuple[str, str]]:
    return _rows(union.query(SELECT))


def test_the_graph_has_labels(union):
    assert len(_labels(union)) > 10  # the checks below compare something real


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("fmt", "media_type", "parser"), [
    (JSON, "application/sparql-results+json", "json"),
    (XML, "application/sparql-results+xml", "xml"),
    (CSV, "text/csv", "csv"),
    (TSV, "text/tab-separated-values", "tsv"),
])
def test_select_in_every_format(endpoint, union, method, fmt, media_type, parser):
    response = _wrapper(endpoint, SELECT, method, fmt).query()
    assert response.info()["content-type"].startswith(media_type)
    assert response.info()["x-result-limit"] == "10000"
    body = response.response.read()
    parsed = Result.parse(io.BytesIO(body), format=parser)
    expected = list(union.query(SELECT))
    if parser == "csv":  # CSV keeps no language tags or datatypes: compare lexical forms
        assert _rows(parsed) == _rows(expected)
    else:
        assert sorted(tuple(t.n3() for t in row) for row in parsed) == \
            sorted(tuple(t.n3() for t in row) for row in expected)
    assert int(response.info()["x-result-count"]) == len(expected) == len(list(parsed))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", [JSON, XML, CSV, TSV])
@pytest.mark.parametrize("query", [ASK, "ASK { <urn:nothing> ?p ?o }"])
def test_ask_in_every_format(endpoint, union, method, fmt, query):
    expected = union.query(query).askAnswer
    converted = _wrapper(endpoint, query, method, fmt).query().convert()
    if fmt == JSON:
        assert converted["boolean"] is expected
    elif fmt == XML:
        assert converted.getElementsByTagName("boolean")[0].firstChild.data == \
            str(expected).lower()
    else:  # a one-row table of _askResult (SPARQL CSV/TSV define no ASK form of their own)
        parsed = Result.parse(io.BytesIO(converted), format=fmt.lower())
        [row] = list(parsed)
        assert [str(v) for v in parsed.vars] == ["_askResult"]
        assert str(row[0]) == str(expected).lower()


@pytest.mark.parametrize(("media_type", "parser"), [
    ("text/csv", "csv"), ("text/tab-separated-values", "tsv"),
    ("text/csv;charset=utf-8", "csv"), ("text/tab-separated-values; charset=utf-8", "tsv"),
])
def test_issue15_ask_in_csv_and_tsv_parses_with_rdflib(endpoint, media_type, parser):
    """rdflib's TSV parser rejected the bare `true`; the answer is now a table it reads."""
    response = httpx.get(endpoint, params={"query": ASK}, headers={"Accept": media_type})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type.split(";")[0])
    parsed = Result.parse(io.BytesIO(response.content), format=parser)
    [row] = list(parsed)
    assert row[0].toPython() in (True, "true")


@pytest.mark.parametrize("accept", ["text/csv;charset=utf-8", "text/csv; charset=UTF-8",
                                    "text/tab-separated-values;charset=utf-8",
                                    "application/sparql-results+xml; charset=utf-8"])
def test_issue15_select_honours_accept_with_parameters(endpoint, accept):
    """`text/csv;charset=utf-8` used to get JSON: the parameters kept werkzeug from matching."""
    response = httpx.get(endpoint, params={"query": SELECT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].split(";")[0] == accept.split(";")[0]


@pytest.mark.parametrize(("accept", "fmt"), [
    ("application/n-quads", ox.RdfFormat.N_QUADS), ("application/trig", ox.RdfFormat.TRIG),
])
def test_issue15_construct_in_n_quads_and_trig(endpoint, union, accept, fmt):
    """CONSTRUCT answered Turtle to a client asking for N-Quads or TriG."""
    response = httpx.get(endpoint, params={"query": CONSTRUCT}, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"] == accept
    parsed = Dataset()
    parsed.parse(data=response.content, format="nquads" if "quads" in accept else "trig")
    quads = list(ox.parse(response.content, format=fmt))
    assert len(quads) == len(set(parsed.triples((None, None, None)))) == \
        len(list(union.query(CONSTRUCT)))


def test_issue15_head_sparql_agrees_with_get(endpoint):
    """HEAD /sparql answered 415 where GET answered 200; the HTML page lacked Vary: Accept."""
    for accept in ("text/turtle", "text/html"):
        got = httpx.get(endpoint, headers={"Accept": accept})
        head = httpx.head(endpoint, headers={"Accept": accept})
        assert got.status_code == head.status_code == 200
        assert got.headers["content-type"] == head.headers["content-type"]
        assert "accept" in got.headers["vary"].lower()
        assert head.content == b""


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("fmt", "media_type"), [
    (TURTLE, "text/turtle"), (JSONLD, "application/ld+json"),
    (RDFXML, "application/rdf+xml"),
])
def test_construct_in_every_format(endpoint, union, method, fmt, media_type):
    response = _wrapper(endpoint, CONSTRUCT, method, fmt).query()
    assert response.info()["content-type"].startswith(media_type)
    graph = _graph(response)
    assert set(graph) == set(union.query(CONSTRUCT).graph)


@pytest.mark.parametrize("method", ["GET", "POST-form"])
def test_construct_and_describe_in_ntriples(endpoint, union, method):
    """N-Triples has no SPARQLWrapper return format: ask by Accept and by format=."""
    for query in (CONSTRUCT, _describe_query(union)):
        params = {"query": query}
        if method == "GET":
            response = httpx.get(endpoint, params=params,
                                 headers={"Accept": "application/n-triples"})
        else:
            response = httpx.post(endpoint, data={**params, "format": "ntriples"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/n-triples")
        graph = Graph().parse(data=response.text, format="nt")
        assert len(graph) > 0


def _describe_query(union) -> str:
    subject = sorted(s for s, _ in _labels(union) if s.startswith("http"))[0]
    return f"DESCRIBE <{subject}>"


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("fmt", [TURTLE, JSONLD, RDFXML])
def test_describe_in_every_format(endpoint, union, method, fmt):
    query = _describe_query(union)
    subject = URIRef(query.split("<")[1].rstrip(">"))
    graph = _graph(_wrapper(endpoint, query, method, fmt).query())
    own = set(union.query(f"CONSTRUCT {{ <{subject}> ?p ?o }} WHERE {{ <{subject}> ?p ?o }}")
              .graph)
    assert own
    assert {t for t in graph if t[0] == subject} == own


def test_format_parameter_wins_for_tools_without_headers(endpoint):
    for name, media_type in [("csv", "text/csv"), ("tsv", "text/tab-separated-values"),
                             ("xml", "application/sparql-results+xml"),
                             ("json", "application/sparql-results+json")]:
        response = httpx.get(endpoint, params={"query": SELECT, "format": name},
                             headers={"Accept": "text/html"})
        assert response.headers["content-type"].startswith(media_type), name
    response = httpx.get(endpoint, params={"query": CONSTRUCT, "format": "csv"})
    assert response.status_code == 400
    assert "turtle" in response.text


def test_graph_tells_where_a_fact_came_from(endpoint, union):
    query = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
    response = httpx.get(endpoint, params={"query": query},
                         headers={"Accept": "application/sparql-results+json"})
    graphs = {b["g"]["value"] for b in response.json()["results"]["bindings"]}
    assert graphs == {str(g.identifier) for g in union.graphs() if len(g)}
    assert any(g.endswith("graph/data/organisations") for g in graphs)


def _distinct_triples(union) -> int:
    return len({t for g in union.graphs() for t in g})


def test_protocol_dataset_and_from(endpoint, union):
    named = {str(g.identifier): len(g) for g in union.graphs() if len(g)}
    graph = sorted(named)[0]
    count = named[graph]
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    headers = {"Accept": "application/sparql-results+json"}

    def number(response):
        return int(response.json()["results"]["bindings"][0]["n"]["value"])

    by_protocol = httpx.get(endpoint, params={"query": query, "default-graph-uri": graph},
                            headers=headers)
    assert number(by_protocol) == count
    from_clause = query.replace("WHERE", f"FROM <{graph}> WHERE")
    assert number(httpx.get(endpoint, params={"query": from_clause}, headers=headers)) == count
    whole = number(httpx.get(endpoint, params={"query": query}, headers=headers))
    assert whole == _distinct_triples(union) > count  # the union is a set of triples


# --- read-only ---------------------------------------------------------------------------

def _count(endpoint) -> int:
    response = httpx.get(endpoint, params={"query": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                           "format": "json"})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def test_updates_leave_the_data_unchanged(endpoint):
    before = _count(endpoint)
    insert = "INSERT DATA { <urn:x:s> <urn:x:p> <urn:x:o> }"
    attempts = [
        httpx.post(endpoint, data={"update": "CLEAR ALL"}),
        httpx.post(endpoint, content="DROP ALL",
                   headers={"Content-Type": "application/sparql-update"}),
        httpx.get(endpoint, params={"update": "CLEAR ALL"}),
        httpx.post(endpoint, data={"query": insert}),
        httpx.post(endpoint, content=insert,
                   headers={"Content-Type": "application/sparql-query"}),
    ]
    sparql = SPARQLWrapper(endpoint)
    sparql.setMethod(POST)
    sparql.setQuery("CLEAR ALL")
    with pytest.raises(Exception, match=r"403|Forbidden|read-only"):
        sparql.query()
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    assert all("read-only" in r.text for r in attempts)
    assert _count(endpoint) == before > 0
    asked = httpx.get(endpoint, params={"query": "ASK { <urn:x:s> ?p ?o }", "format": "json"})
    assert asked.json()["boolean"] is False


def test_service_makes_no_connection(endpoint):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        queries = [
            f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}",
            f"ASK {{ SERVICE SILENT <http://127.0.0.1:{port}/> {{ ?s ?p ?o }} }}",
            f"SELECT * {{ ?x ?y ?z FILTER EXISTS {{ SERVICE <http://127.0.0.1:{port}/> "
            "{ ?s ?p ?o } } }",
        ]
        for query in queries:
            response = httpx.get(endpoint, params={"query": query})
            assert response.status_code == 403
            assert "SERVICE" in response.text
        accepted = 0
        try:
            listener.accept()[0].close()
            accepted += 1
        except TimeoutError:
            pass
        assert accepted == 0
    finally:
        listener.close()


# --- errors ------------------------------------------------------------------------------

def test_syntax_error_in_the_negotiated_format(endpoint):
    query = "SELECT * WHERE {\n  ?s ?p\n}"
    # The position comes from the parser that guards the store: pyoxigraph's own for the
    # embedded store, rdflib's for a remote one (tests/test_virtuoso_suite.py).
    with pytest.raises(SyntaxError) as engine:
        ox.Store().query(query)
    with pytest.raises(QueryRejected) as strict:
        check(query)
    positions = {(syntax_error(str(engine.value)).line, syntax_error(str(engine.value)).column),
                 (strict.value.line, strict.value.column)}
    assert all(line > 1 for line, _ in positions)
    as_json = httpx.get(endpoint, params={"query": query},
                        headers={"Accept": "application/sparql-results+json"})
    assert as_json.status_code == 400
    error = as_json.json()["error"]
    line, column = error["line"], error["column"]
    assert (line, column) in positions
    assert "syntax error" in error["message"]
    as_text = httpx.get(endpoint, params={"query": query}, headers={"Accept": "text/plain"})
    assert as_text.status_code == 400
    assert as_text.headers["content-type"].startswith("text/plain")
    assert f"line {line}, column {column}" in as_text.text
    assert "Traceback" not in as_text.text + as_json.text


@pytest.mark.parametrize(("request_args", "status"), [
    ({"method": "PUT", "params": {"query": "ASK {}"}}, 405),
    ({"method": "GET", "params": [("query", "ASK {}"), ("query", "ASK {}")]}, 400),
    ({"method": "GET", "params": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400),
    ({"method": "POST", "data": {"query": "ASK {}", "update": "CLEAR ALL"}}, 400),
    ({"method": "POST", "content": "ASK {}", "headers": {"Content-Type": "text/plain"}}, 415),
    ({"method": "POST", "content": "query=ASK%20%7B%7D"}, 415),
    ({"method": "POST", "content": "ASK {}".encode("utf-16"),
      "headers": {"Content-Type": "application/sparql-query; charset=UTF-16"}}, 415),
    ({"method": "POST", "content": b"ASK { ?s ?p '\xff' }",
      "headers": {"Content-Type": "application/sparql-query"}}, 400),
    ({"method": "POST", "data": {"format": "json"}}, 400),
    ({"method": "POST", "data": {"query": "ASK {}" + " " * 20000}}, 413),
])
def test_bad_requests_get_a_4xx_and_a_message(endpoint, request_args, status):
    response = httpx.request(url=endpoint, **request_args)
    assert response.status_code == status
    assert response.text.strip()
    assert "Traceback" not in response.text


def test_cors_lets_query_tools_elsewhere_call_it(endpoint):
    response = httpx.get(endpoint, params={"query": "ASK {}"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "X-Result-Limit" in response.headers["access-control-expose-headers"]


# --- bounded: time limit, result cap, concurrency -------------------------------------------

@pytest.fixture(scope="module")
def strict_server(settings, release, live_server):
    """A second server with a short time limit, a small cap and two query slots."""
    LiveServer = type(live_server)  # the class of conftest's live server

    app = create_app(settings.replace(query_timeout=1.5, max_results=5, query_workers=2,
                                      max_concurrent_queries=2), release=release)
    with LiveServer(app) as server:
        yield server
    app.extensions["kiezgraph"].published.store.close()


def test_result_cap_is_stated(strict_server):
    response = httpx.get(strict_server.url + "/sparql", params={"query": SELECT,
                                                                "format": "json"})
    assert response.headers["x-result-limit"] == "5"
    assert response.headers["x-result-truncated"] == "true"
    assert len(response.json()["results"]["bindings"]) == 5
    graph = httpx.get(strict_server.url + "/sparql", params={"query": CONSTRUCT,
                                                             "format": "nt"})
    assert len(Graph().parse(data=graph.text, format="nt")) == 5
    assert graph.headers["x-result-truncated"] == "true"
    small = httpx.get(strict_server.url + "/sparql", params={"query": "ASK {}"})
    assert "x-result-truncated" not in small.headers


def test_runaway_query_is_stopped_while_others_are_answered(strict_server):
    url = strict_server.url + "/sparql"
    outcome: dict = {}

    def runaway():
        started = time.monotonic()
        outcome["response"] = httpx.get(url, params={"query": RUNAWAY}, timeout=60)
        outcome["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=runaway)
    thread.start()
    store = strict_server.app.extensions["kiezgraph"].published.store
    until(lambda: store.pool and any(m.state == "busy" for m in store.pool.members()), 30,
          "the runaway to occupy a query worker", interval=0.01)
    answered = []
    while thread.is_alive():
        started = time.monotonic()
        simple = httpx.get(url, params={"query": ASK, "format": "json"}, timeout=10)
        answered.append((simple.status_code, time.monotonic() - started))
        health = httpx.get(strict_server.url + "/health", timeout=10)
        assert health.status_code == 200
        thread.join(0.1)  # the pace of the probes; ends when the runaway is answered
    thread.join()
    response = outcome["response"]
    assert response.status_code == 503
    assert "1.5 s" in response.text
    # Cut at the limit (never before it); the upper bound only says "not run to the end"
    # (this query would run for minutes) and is generous for a busy machine.
    assert 1.4 < outcome["seconds"] < 30
    assert answered and all(status == 200 for status, _ in answered)
    # the killed worker is replaced: later queries are still answered
    after = httpx.get(url, params={"query": ASK, "format": "json"}, timeout=10)
    assert after.json()["boolean"] is True


def test_excess_queries_wait_briefly_then_get_503(strict_server):
    url = strict_server.url + "/sparql"
    responses = []

    def run():
        responses.append(httpx.get(url, params={"query": RUNAWAY}, timeout=60))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [503] * 6  # two timed out, the others found no slot
    busy = [r for r in responses
            if "queries are running" in r.text or "slots stayed taken" in r.text]
    assert busy, [r.text for r in responses]
    assert all(int(r.headers["retry-after"]) >= 1 for r in busy)
    after = httpx.get(url, params={"query": "ASK {}", "format": "json"}, timeout=10)
    assert after.status_code == 200


def _hits(base: str) -> float:
    text = httpx.get(base + "/metrics").text
    line = next((ln for ln in text.splitlines()
                 if ln.startswith('kiezgraph_sparql_cache_lookups_total{result="hit"}')), None)
    return float(line.split()[-1]) if line else 0.0


@pytest.fixture(scope="module")
def patient_server(settings, release, live_server):
    """Two query slots held up to 10 s each: long enough to see events in order."""
    LiveServer = type(live_server)

    app = create_app(settings.replace(query_timeout=10.0, query_workers=2, threads=8,
                                      max_concurrent_queries=2), release=release)
    with LiveServer(app) as server:
        yield server
    app.extensions["kiezgraph"].published.store.close()


def test_repeated_query_is_answered_from_the_cache_while_every_slot_is_taken(patient_server):
    """Order of events, not a duration: with both slots taken (a fresh query is turned away
    after waiting for one), the repeated query is answered before either runaway ends."""
    url = patient_server.url + "/sparql"
    params = {"query": ASK + " # cache test", "format": "json"}
    first = httpx.get(url, params=params, timeout=30)
    assert first.status_code == 200 and first.headers.get("etag", "").startswith('W/"')
    hits = _hits(patient_server.url)
    runaways = [threading.Thread(target=httpx.get, args=(url,),
                                 kwargs={"params": {"query": RUNAWAY + f" # {i}"},
                                         "timeout": 60}) for i in range(2)]
    for thread in runaways:
        thread.start()
    for probe in range(100):
        fresh = httpx.get(url, params={"query": f"ASK {{}} # probe {probe}", "format": "json"},
                          timeout=30)
        if fresh.status_code == 503:
            assert "slots stayed taken" in fresh.text, fresh.text
            break
    else:
        raise AssertionError("the runaways never took both slots")
    again = httpx.get(url, params=params, timeout=30)
    still_running = [thread.is_alive() for thread in runaways]
    for thread in runaways:
        thread.join()
    assert again.status_code == 200
    assert all(still_running), "the cached answer waited for a slot"
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    assert _hits(patient_server.url) == hits + 1
    unchanged = httpx.get(url, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304 and not unchanged.content
    assert unchanged.headers["etag"] == first.headers["etag"]
    other = httpx.get(url, params={**params, "format": "csv"},
                      headers={"If-None-Match": first.headers["etag"]})
    assert other.status_code == 200 and other.headers["etag"] != first.headers["etag"]


def test_answers_that_change_per_call_are_not_cached(strict_server):
    params = {"query": "SELECT (RAND() AS ?r) {}", "format": "json"}
    answers = [httpx.get(strict_server.url + "/sparql", params=params) for _ in range(2)]
    assert all(a.status_code == 200 and "etag" not in a.headers for a in answers)
    assert answers[0].json() != answers[1].json()


# --- service description -----------------------------------------------------------------

def test_service_description_for_rdf_clients(endpoint, union):
    for accept, fmt in [("text/turtle", "turtle"), ("application/ld+json", "json-ld"),
                        ("application/rdf+xml", "xml"), ("application/n-triples", "nt")]:
        response = httpx.get(endpoint, headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(accept)
        graph = Graph().parse(data=response.text, format=fmt)
        sd = "http://www.w3.org/ns/sparql-service-description#"
        service = URIRef(endpoint)
        assert (service, URIRef(sd + "endpoint"), service) in graph
        assert (service, URIRef(sd + "supportedLanguage"), URIRef(sd + "SPARQL11Query")) \
            in graph
        triples = graph.value(graph.value(service, URIRef(sd + "defaultDataset")),
                              URIRef("http://rdfs.org/ns/void#triples"))
        assert int(triples) == _distinct_triples(union)
        named = {str(graph.value(n, URIRef(sd + "name"))) for n in
                 graph.objects(None, URIRef(sd + "namedGraph"))}
        assert named == {str(g.identifier) for g in union.graphs() if len(g)}


def test_json_error_body_is_json(endpoint):
    response = httpx.get(endpoint, params={"query": "CLEAR ALL"},
                         headers={"Accept": "application/json"})
    assert response.status_code == 403
    assert json.loads(response.text)["error"]["status"] == 403


@pytest.mark.parametrize("name", ["nquads", "trig", "turtle", "jsonld"])
def test_service_description_in_any_named_format_is_never_a_500(endpoint, name):
    """N-Quads and TriG name query answers; the description falls back to Turtle for them."""
    response = httpx.get(endpoint, params={"format": name})
    assert response.status_code == 200
    Graph().parse(data=response.content,
                  format="json-ld" if name == "jsonld" else "turtle")


# --- one identity for every IRI (rewrite_base) --------------------------------------------

THING = "/id/stadtteilzentrum/stz-weissensee"


@pytest.mark.parametrize("root", ["http://localhost", "http://127.0.0.1:8123"])
def test_issue15_an_iri_copied_from_a_page_finds_the_thing(client, root):
    """The IRI a document names (under the address asked) is the IRI SPARQL knows, in the
    query and in every format of the answer; a second host asking the same query (an answer
    cache hit) gets its own address back."""
    doc = client.get(THING, base_url=root, headers={"Accept": "text/turtle"},
                     follow_redirects=True)
    iri = root + THING
    assert (URIRef(iri), None, None) in Graph().parse(data=doc.get_data(), format="turtle")
    query = f"SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
    for accept in ("application/sparql-results+json", "application/sparql-results+xml",
                   "text/csv", "text/tab-separated-values"):
        for method in ("GET", "POST"):
            response = (client.get("/sparql", query_string={"query": query}, base_url=root,
                                   headers={"Accept": accept}) if method == "GET" else
                        client.post("/sparql", data={"query": query}, base_url=root,
                                    headers={"Accept": accept}))
            assert response.status_code == 200, (accept, method)
            assert int(response.headers["X-Result-Count"]) > 3, (accept, method)
            body = response.get_data(as_text=True)
            assert "w3id.org/kiezgraph" not in body, (accept, method)
            assert root + "/ontology/" in body, (accept, method)  # the graph's own terms too
    construct = client.get("/sparql", base_url=root, headers={"Accept": "text/turtle"},
                           query_string={"query": f"CONSTRUCT WHERE {{ <{iri}> ?p ?o }}"})
    graph = Graph().parse(data=construct.get_data(), format="turtle")
    assert len(graph) > 3 and set(graph.subjects()) == {URIRef(iri)}
    page = client.post("/sparql", data={"query": query}, base_url=root,
                       headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'href="{root}/ontology/' in page and "w3id.org/kiezgraph" not in page


def test_issue15_graph_iris_under_this_address_select_the_graph(client):
    names = client.get("/sparql", headers={"Accept": "application/sparql-results+json"},
                       query_string={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g {} }"})
    graphs = [b["g"]["value"] for b in names.get_json()["results"]["bindings"]]
    assert graphs and all(g.startswith("http://localhost/") for g in graphs)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    one = client.get("/sparql", headers={"Accept": "application/sparql-results+json"},
                     query_string={"query": count, "default-graph-uri": graphs[0]})
    assert int(one.get_json()["results"]["bindings"][0]["n"]["value"]) > 0


def test_issue15_the_service_description_names_everything_on_one_base(client):
    for root in ("http://localhost", "http://127.0.0.1:8123"):
        response = client.get("/sparql", base_url=root, headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=response.get_data(), format="turtle")
        sd = "http://www.w3.org/ns/sparql-service-description#"
        endpoints = set(graph.objects(None, URIRef(sd + "endpoint")))
        names = set(graph.objects(None, URIRef(sd + "name")))
        assert endpoints == {URIRef(root + "/sparql")}
        assert names and all(str(n).startswith(root + "/") for n in names), names
        assert "w3id.org/kiezgraph" not in response.get_data(as_text=True)


def test_issue15_without_rewriting_sparql_speaks_the_base(settings, release):
    app = create_app(settings.replace(rewrite_base=False), release=release)
    response = app.test_client().get(
        "/sparql", headers={"Accept": "application/sparql-results+json"},
        query_string={"query": f"SELECT ?o WHERE {{ <{BASE}{THING[1:]}> ?p ?o }}"})
    assert response.status_code == 200
    assert int(response.headers["X-Result-Count"]) > 3
