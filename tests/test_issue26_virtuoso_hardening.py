"""Issue #26: Virtuoso's own wall. With `kiezgraph harden-sql` applied as SECURITY.md says,
Debian's Virtuoso refuses store functions and hides graphs no load published by itself:
these tests talk to Virtuoso directly, kiezgraph's check switched off by going around it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from publisher.load import Writer, load_release
from publisher.store.remote import RemoteStore
from publisher.web import create_app
from tests.conftest import ROOT, LiveServer
from tests.service_disguises import Listener
from tests.test_issue26_virtuoso_walls import FUNCTION_CALLS, JSON, PRIVATE, SECRET
from tests.virtuoso_server import ISQL, Virtuoso, virtuoso_or_skip

pytestmark = [pytest.mark.virtuoso, pytest.mark.live]

BASE = "https://w3id.org/kiezgraph/pankow/"
# Found by trying Debian's 7.2.5: fn:doc takes the whole server down, bif:exec runs SQL
# that reads any graph past graph permissions.
MORE_CALLS = [
    'SELECT (<http://www.w3.org/2005/xpath-functions#doc>("/etc/passwd") AS ?x) {}',
    'SELECT (<bif:exec>("select 1") AS ?x) {}',
    'DEFINE input:default-graph-uri <' + PRIVATE + '> SELECT * WHERE { ?s ?p ?o }',
    'SELECT * WHERE { ?s <bif:contains> "x" }',
]


def _harden(server: Virtuoso) -> str:
    """`kiezgraph harden-sql | isql-vt … dba …`, as SECURITY.md says; isql's output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIEZGRAPH_")}
    env["KIEZGRAPH_STORE_USER"] = server.user
    sql = subprocess.run([sys.executable, "-m", "publisher", "harden-sql"], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True, timeout=60).stdout
    done = subprocess.run(
        [ISQL, f"127.0.0.1:{server.sql_port}", "dba", "dba", "VERBOSE=OFF", "BANNER=OFF",
         "PROMPT=OFF", "ERRORS=STDOUT"], input=sql, capture_output=True, text=True,
        timeout=120, check=False)
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def hardened(tmp_path_factory, release):
    """A fresh Virtuoso, hardened, holding the session's build and another app's graph."""
    virtuoso_or_skip()
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso-hardened")).start()
    try:
        server.grant_loader()
        output = _harden(server)
        assert "Error" not in output, output
        writer = Writer(update_endpoint=server.sparql_auth, user=server.user,
                        password=server.password)
        result = load_release(release, RemoteStore(server.sparql, BASE), writer)
        assert result.published == len(result.release.graphs) + 2  # + manifest and pointer
        server.isql(f'SPARQL INSERT DATA {{ GRAPH <{PRIVATE}> {{ <urn:kiezgraph-test:a> '
                    f'<urn:kiezgraph-test:b> "{SECRET}" }} }}')
        yield server
    finally:
        server.remove()


@pytest.fixture()
def listener():
    found = Listener()
    yield found
    found.close()


def test_issue26_virtuoso_itself_refuses_store_functions(hardened, listener):
    """Straight to Virtuoso's /sparql, no kiezgraph in between: every spelling of a store
    function is refused (4xx), and the listener sees no connection."""
    url = f"http://127.0.0.1:{listener.port}/proof"
    with httpx.Client(timeout=30) as http:
        for text in [*FUNCTION_CALLS, *MORE_CALLS]:
            query = text.replace("{url}", url)
            # (kiezgraph sends queries as forms; Virtuoso 7.2.5 holds a connection that POSTs
            # `application/sparql-query` until the client gives up, so only kiezgraph may
            # reach its port: SECURITY.md)
            for how, response in {
                "GET": http.get(hardened.sparql, params={"query": query}, headers=JSON),
                "POST form": http.post(hardened.sparql, data={"query": query}, headers=JSON),
            }.items():
                assert 400 <= response.status_code < 500, (query, how, response.text)
        # the server is still up (fn:doc would have crashed it)
        assert http.get(hardened.sparql, params={"query": "ASK {}"}, headers=JSON).json()
    time.sleep(0.5)  # on purpose: no connection is the event tested; one under way lands
    assert listener.connections == 0


@pytest.mark.parametrize("query, params", [
    (f"SELECT * FROM <{PRIVATE}> WHERE {{ ?s ?p ?o }}", {}),
    (f"SELECT * FROM NAMED <{PRIVATE}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}", {}),
    (f"SELECT * WHERE {{ GRAPH <{PRIVATE}> {{ ?s ?p ?o }} }}", {}),
    ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", {}),
    ("SELECT * WHERE { ?s ?p ?o }", {"default-graph-uri": PRIVATE}),
    ("SELECT * WHERE { ?s ?p ?o }", {}),
])
def test_issue26_virtuoso_itself_hides_graphs_no_load_published(hardened, query, params):
    """Anonymous readers of the hardened store see the published release, never another
    application's graph, whatever the dataset clause says."""
    answer = httpx.get(hardened.sparql, params={"query": query, **params}, headers=JSON,
                       timeout=30)
    assert answer.status_code in (200, 400), answer.text
    assert SECRET not in answer.text


def test_issue26_the_loader_still_reads_and_writes_everything(hardened):
    """The wall is for anonymous readers: the loader's account sees the private graph."""
    response = httpx.post(hardened.sparql_auth, data={
        "query": f'ASK {{ GRAPH <{PRIVATE}> {{ ?s ?p "{SECRET}" }} }}'}, headers=JSON,
        auth=httpx.DigestAuth(hardened.user, hardened.password), timeout=30)
    assert response.status_code == 200 and response.json()["boolean"] is True


def test_issue26_kiezgraph_serves_from_the_hardened_store(hardened, settings, release):
    """Documents, SPARQL (with BASE, casts and built-ins) and the service description work
    over the hardened store as over any other."""
    app = create_app(settings.replace(store=hardened.sparql), release=release)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=30) as http:
        page = http.get("/doc/stadtteilzentrum/stz-weissensee", headers={"Accept": "text/turtle"})
        assert page.status_code == 200 and "stz-weissensee" in page.text
        query = ('PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n'
                 'SELECT (COUNT(*) AS ?n) (xsd:integer("2") AS ?two) '
                 'WHERE { ?s ?p ?o FILTER(STRSTARTS(STR(?s), "https://")) }')
        answer = http.get("/sparql", params={"query": query}, headers=JSON)
        assert answer.status_code == 200, answer.text
        row = answer.json()["results"]["bindings"][0]
        assert int(row["n"]["value"]) > 0 and row["two"]["value"] == "2"
        private = http.get("/sparql", params={"query": f'ASK {{ ?s ?p "{SECRET}" }}'},
                           headers=JSON)
        assert private.json()["boolean"] is False
        assert http.get("/sparql", headers={"Accept": "text/turtle"}).status_code == 200
        assert http.get("/health").status_code == 200
