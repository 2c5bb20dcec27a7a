"""Issue #26: over Virtuoso, no store function reaches out and no graph outside the release
is read — tested against Debian's Virtuoso with a loopback listener and a private graph.

Both walls of kiezgraph's check are tried here through the real HTTP server (the app over a
RemoteStore on the session's Virtuoso): the function allow-list on rdflib's algebra (with the
`bif:`/`sql:` letters refused in the text) and the dataset limited to the release's graphs.
"""

from __future__ import annotations

import json
import time

import httpx
import pytest

from publisher.web import create_app
from tests.conftest import LiveServer
from tests.service_disguises import Listener
from tests.waiting import until

pytestmark = [pytest.mark.virtuoso, pytest.mark.live]

JSON = {"Accept": "application/sparql-results+json"}
PRIVATE = "urn:kiezgraph-test:private"
SECRET = "kiezgraph-private-secret-7c1e"

# Every spelling of a store function the red team used, and more: {url} is the listener's.
FUNCTION_CALLS = [
    'SELECT (<bif:http_get>("{url}") AS ?x) {}',
    'SELECT (bif:http_get("{url}") AS ?x) {}',
    'PREFIX bif: <bif:> SELECT (bif:http_get("{url}") AS ?x) {}',
    'PREFIX b: <bif:> SELECT * WHERE { BIND(b:http_get("{url}") AS ?x) }',
    'SELECT * WHERE { BIND(<bif:http_client>("{url}", NULL, "POST", "X-A: b", "body") AS ?x) }',
    'SELECT * WHERE { FILTER(<bif:http_get>("{url}")) }',
    'SELECT (<BIF:http_get>("{url}") AS ?x) {}',
    'SELECT (<b\\u0069f:http_get>("{url}") AS ?x) {}',
    'SELECT (<\\u0062if:http_get>("{url}") AS ?x) {}',
    'BASE <bif:> SELECT (<http_get>("{url}") AS ?x) {}',
    'SELECT (<http://www.openlinksw.com/schemas/bif#http_get>("{url}") AS ?x) {}',
    'SELECT (<bif:cfg_item_value>("virtuoso.ini", "Parameters", "ServerPort") AS ?x) {}',
    'SELECT (<bif:file_stat>("/etc/passwd") AS ?x) {}',
    'SELECT (<bif:delay>(1) AS ?x) {}',
    'SELECT (<sql:RDF_GRAPH_USER_PERMS_GET>("urn:x", "nobody") AS ?x) {}',
    'PREFIX s: <sql:> SELECT (s:RDF_GRAPH_USER_PERMS_GET("urn:x", "nobody") AS ?x) {}',
    'SELECT (<http://example.org/fn>("{url}") AS ?x) {}',
    'SELECT (<RDF_GRAPH_USER_PERMS_GET>("urn:x", "nobody") AS ?x) {}',
    'SELECT (<urn:agg>(DISTINCT ?s) AS ?x) { ?s ?p ?o }',
    # a string that ends where rdflib reads on: \\u005C is a backslash for rdflib, a plain
    # character for Virtuoso, so the two read the call in different places
    'SELECT * WHERE { BIND("a\\u005C" AS ?z) BIND(<bif:http_get>(concat(\'{url}\',\'\')) AS ?x)'
    ' #" AS ?q)\n}',
]


@pytest.fixture(scope="module")
def server(settings, release, loaded_virtuoso):
    app = create_app(settings.replace(store=loaded_virtuoso.sparql), release=release)
    with LiveServer(app) as live:
        yield live


@pytest.fixture(scope="module")
def private_graph(loaded_virtuoso):
    """Another application's graph in the same store."""
    loaded_virtuoso.isql(f'SPARQL INSERT DATA {{ GRAPH <{PRIVATE}> {{ <urn:kiezgraph-test:a> '
                         f'<urn:kiezgraph-test:b> "{SECRET}" }} }}')
    yield PRIVATE
    loaded_virtuoso.isql(f"SPARQL CLEAR GRAPH <{PRIVATE}>")


@pytest.fixture()
def listener():
    found = Listener()
    yield found
    found.close()


def _send_every_way(http: httpx.Client, query: str, **params) -> dict[str, httpx.Response]:
    return {
        "GET": http.get("/sparql", params={"query": query, **params}, headers=JSON),
        "POST form": http.post("/sparql", data={"query": query, **params}, headers=JSON),
        "POST direct": http.post("/sparql", params=params, content=query.encode(), headers={
            **JSON, "Content-Type": "application/sparql-query"}),
    }


def test_issue26_no_store_function_reaches_a_listener(server, listener):
    """Every spelling of bif:/sql: calls, and any function SPARQL does not define, by GET,
    POST form and POST direct: a 400 each, and not one connection at the listener."""
    url = f"http://127.0.0.1:{listener.port}/proof"
    answers = {}
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for number, text in enumerate(FUNCTION_CALLS):
            for how, response in _send_every_way(http, text.replace("{url}", url)).items():
                answers[f"{number} {how}"] = response
    for name, response in answers.items():
        assert response.status_code == 400, (name, response.status_code, response.text)
        assert "not accepted" in response.text, (name, response.text)
    # A fixed wait on purpose: what is tested is that no connection comes (no event to
    # await); one under way would be accepted by now.
    time.sleep(0.5)
    assert listener.connections == 0


def test_issue26_standard_functions_and_casts_still_answer(server):
    """Deny by default refuses what SPARQL does not define, not what it does."""
    query = ('PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n'
             'SELECT (xsd:integer("7") + 1 AS ?n) (STRLEN(CONCAT("a", "bc")) AS ?l) '
             '(xsd:date("2022-05-05") AS ?d) (COUNT(*) AS ?c) WHERE { ?s ?p ?o }')
    answer = httpx.get(f"{server.url}/sparql", params={"query": query}, headers=JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    row = answer.json()["results"]["bindings"][0]
    assert row["n"]["value"] == "8" and row["l"]["value"] == "3"
    assert int(row["c"]["value"]) > 0


@pytest.mark.parametrize("query, params", [
    (f"SELECT * FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}", {}),
    (f"SELECT * FROM NAMED <{PRIVATE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
    (f"SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}", {}),
    ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
    ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": PRIVATE}),
    ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {"named-graph-uri": PRIVATE}),
    ("PREFIX p: <urn:kiezgraph-test:> SELECT * FROM p:private WHERE { ?s ?p ?o }", {}),
    ("SELECT * FROM <urn:kiezgraph-test:priv\\u0061te> WHERE { ?s ?p ?o }", {}),
    ("BASE <urn:kiezgraph-test:> SELECT * FROM <private> WHERE { ?s ?p ?o }", {}),
    (f"SELECT * FROM <https://w3id.org/kiezgraph/pankow/graph/data/organisations> "
     f"FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}", {}),
    (f"ASK FROM <{PRIVATE}> {{ ?s ?p \"{SECRET}\" }}", {}),
    (f"CONSTRUCT {{ ?s ?p ?o }} FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}", {}),
    (f"DESCRIBE <urn:kiezgraph-test:a> FROM <{PRIVATE}>", {}),
])
def test_issue26_no_dataset_clause_reads_a_graph_outside_the_release(server, private_graph,
                                                                     query, params):
    """A private graph in the same store, asked for in every way a dataset can be named:
    refused (403) where the query names it, read as empty where the protocol does; never
    its data."""
    with httpx.Client(base_url=server.url, timeout=30) as http:
        for how, response in _send_every_way(http, query, **params).items():
            assert response.status_code in (200, 403), (how, response.status_code, response.text)
            assert SECRET not in response.text, (how, query)
            if "ASK" in query and response.status_code == 200:
                assert response.json()["boolean"] is False
            if "FROM" in query and "organisations> FROM" not in query:
                # the dataset clause names the private graph: refused before the store
                assert response.status_code == 403, (how, query)
                assert "not part of this dataset" in response.text


def test_issue26_the_store_holds_the_private_graph(loaded_virtuoso, private_graph):
    """The walls above are what keeps it out: Virtuoso itself hands it to a plain query."""
    answer = httpx.get(loaded_virtuoso.sparql, params={
        "query": f"SELECT ?o FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}"}, headers=JSON, timeout=30)
    assert SECRET in answer.text


def test_issue26_the_release_graphs_stay_readable_by_name(server):
    """FROM and FROM NAMED with the release's own graph names still answer."""
    source = "https://w3id.org/kiezgraph/pankow/graph/data/organisations"
    query = (f"SELECT (COUNT(*) AS ?n) FROM <{source}> WHERE {{ ?s ?p ?o }}")
    answer = httpx.get(f"{server.url}/sparql", params={"query": query}, headers=JSON, timeout=30)
    assert answer.status_code == 200, answer.text
    assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) > 0
    named = (f"SELECT DISTINCT ?g FROM NAMED <{source}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
    answer = httpx.get(f"{server.url}/sparql", params={"query": named}, headers=JSON,
                       timeout=30)
    # (answers name things under the host asked: rewrite_base is on by default)
    graphs = [b["g"]["value"] for b in answer.json()["results"]["bindings"]]
    assert len(graphs) == 1 and graphs[0].endswith("/graph/data/organisations"), graphs


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values", "text/html"])
def test_issue26_blank_nodes_from_the_store_answer_in_every_format(server, accept):
    """Virtuoso names blank nodes `nodeID://…`, which no result format may carry: they
    become blank nodes, one label each, so `SELECT * { ?s ?p ?o }` answers (it was a 500)."""
    query = "SELECT * WHERE { ?s ?p ?o FILTER(isBlank(?s) || isBlank(?o)) } LIMIT 50"
    answer = httpx.get(f"{server.url}/sparql", params={"query": query},
                       headers={"Accept": accept}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert "nodeID://" not in answer.text
    if accept.endswith("json"):
        rows = answer.json()["results"]["bindings"]
        assert rows and any(v["type"] == "bnode" for r in rows for v in r.values())
    everything = httpx.get(f"{server.url}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                           headers={"Accept": accept}, timeout=30)
    assert everything.status_code == 200, everything.text


# --- no query outlives its limit; the store's state never holds probes or documents ------

SLOW = ("SELECT ?a ?f WHERE { ?a ?b ?c . ?d ?e ?f "
        "FILTER(REGEX(CONCAT(STR(?c), STR(?f)), 'x.*y.*z')) }")
DOCUMENT = "/doc/stadtteilzentrum/stz-weissensee"


@pytest.fixture(scope="module")
def short_server(build_dir, loaded_virtuoso):
    """`kiezgraph serve` (granian, default settings) over Virtuoso with a 3 s limit."""
    from tests.test_security import _serve

    with _serve(build_dir, store=loaded_virtuoso.sparql, query_timeout=3) as url:
        yield url


def _timed(http: httpx.Client, path: str, **kwargs) -> tuple[float, httpx.Response]:
    started = time.monotonic()
    response = http.get(path, **kwargs)
    return time.monotonic() - started, response


def test_issue26_ten_slow_queries_leave_health_and_documents_answering(short_server):
    """Ten store functions that would hold a Virtuoso thread for a minute, and ten slow
    queries SPARQL allows, all at once: /health and a document answer within a second
    throughout, and every slow query ends within its limit."""
    import threading

    delay = 'SELECT (<bif:delay>(60) AS ?x) {}'
    ended: list[tuple[str, float, int]] = []

    def send(query: str) -> None:
        started = time.monotonic()
        status = httpx.post(f"{short_server}/sparql", data={"query": query},
                            headers=JSON, timeout=60).status_code
        ended.append((query, time.monotonic() - started, status))

    with httpx.Client(base_url=short_server, timeout=30) as http:
        assert http.get(DOCUMENT, headers={"Accept": "text/turtle"}).status_code == 200
        threads = [threading.Thread(target=send, args=(q,)) for q in [delay] * 10 + [SLOW] * 10]
        for thread in threads:
            thread.start()
        probes = []
        for _ in range(6):
            probes.append(_timed(http, "/health"))
            probes.append(_timed(http, DOCUMENT, headers={"Accept": "text/turtle"}))
            time.sleep(0.3)  # the probes spread over the load: a pace, not a wait for an event
        for thread in threads:
            thread.join()
    for seconds, response in probes:
        assert response.status_code == 200 and seconds < 1.0, (seconds, response.text)
    assert len(ended) == 20
    for query, seconds, status in ended:
        # the store function: refused by the check (400), or turned away by the full queue
        # before the check ran (503); slow queries: answered, stopped at the limit or turned
        # away (503). Each within the limit and a margin.
        allowed = (400, 503) if query == delay else (200, 503)
        assert status in allowed and seconds < 3.0 + 2, (query, seconds, status)
    assert any(status == 400 for query, _, status in ended if query == delay)


def test_issue26_a_hung_store_answers_health_fast_and_keeps_cached_documents(
        short_server, loaded_virtuoso):
    """Virtuoso stopped (SIGSTOP): /health says 503 within a second, without the store's
    address; a document served before is served again from memory; then all recovers."""
    import os
    import signal

    with httpx.Client(base_url=short_server, timeout=30) as http:
        before = http.get(DOCUMENT, headers={"Accept": "text/turtle"})
        assert before.status_code == 200
        os.kill(loaded_virtuoso.process.pid, signal.SIGSTOP)
        try:
            # A fixed wait on purpose: past the pointer's refresh, a timer inside the server
            # that tells no one; the next look-up meets a hung store.
            time.sleep(5.5)
            health = [_timed(http, "/health") for _ in range(3)]
            documents = [_timed(http, DOCUMENT, headers={"Accept": "text/turtle"})
                         for _ in range(3)]
            query = _timed(http, "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                           headers=JSON)
        finally:
            os.kill(loaded_virtuoso.process.pid, signal.SIGCONT)
        for seconds, response in health:
            assert response.status_code == 503 and seconds < 1.5, (seconds, response.text)
            assert "retry-after" in response.headers
            assert str(loaded_virtuoso.http_port) not in response.text
        for seconds, response in documents:
            assert response.status_code == 200 and seconds < 1.5, (seconds, response.status_code)
            assert response.text == before.text
        seconds, response = query  # a query needs the store: a fast 503, not the limit's wait
        assert response.status_code == 503 and seconds < 1.5, (seconds, response.text)
        assert response.headers["retry-after"]
        until(lambda: http.get("/health").status_code == 200, 10, "the store to come back",
              interval=0.3)


# --- the 100k benchmark graph loads and answers -----------------------------------------

@pytest.mark.slow
def test_issue26_the_100k_benchmark_graph_loads_and_answers(tmp_path, virtuoso):
    """`kiezgraph load` of the benchmark's 100k graph (137 graphs) wrote every triple, then
    failed: Virtuoso answers with a header per graph of the dataset, and http.client refuses
    more than 100. Now it loads, and queries over all its graphs answer."""
    import bench.generate as gen
    from publisher.build import build
    from publisher.config import load_settings
    from publisher.load import Writer, load_release
    from publisher.project import Project
    from publisher.store.remote import RemoteStore
    from tests.conftest import ROOT

    base = "https://example.org/bench100k/"
    generated = gen.generate(ROOT, tmp_path / "project", 100_000, base)
    settings = load_settings(env={}, overrides={"out": str(tmp_path / "out"), "base_uri": base})
    release = build(Project(tmp_path / "project"), settings, tmp_path / "out").release
    assert len(release.info["graphs"]) > 50 and generated.triples >= 100_000
    writer = Writer(update_endpoint=virtuoso.sparql_auth, user=virtuoso.user,
                    password=virtuoso.password)
    result = load_release(release, RemoteStore(virtuoso.sparql, base), writer)
    assert result.release.build_id == release.build_id
    assert result.release.triples >= 100_000  # each graph's count was checked by the load
    store = RemoteStore(virtuoso.sparql, base)
    answer = store.run_query(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
        "application/sparql-results+json", timeout=30, max_results=10)
    count = json.loads(answer.body)["results"]["bindings"][0]["n"]["value"]
    assert int(count) == result.release.triples
