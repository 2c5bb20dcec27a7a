"""The W3C SPARQL 1.1 Protocol tests, read from the shared conformance folder and run live.

The manifest's query tests and bad-request tests run as written. Its update tests expect
an update service; this endpoint is read-only, so they run inverted: each update must be
refused with 403, and the manifest's follow-up ASK must then answer false (nothing
changed). The test data (data1..3.nt) is loaded into named graphs named as the manifest
labels them.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from rdflib import Graph, Namespace
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS

from publisher.store.embedded import EmbeddedStore
from publisher.web import create_app

pytestmark = pytest.mark.live

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "conformance"
FOLDER = SHARED / "sparql-protocol" / "protocol"
MANIFEST = FOLDER / "manifest.ttl"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

if not MANIFEST.is_file():
    pytest.skip(f"the W3C protocol manifest is not at {MANIFEST} (the shared conformance "
                "folder is absent)", allow_module_level=True)


def _manifest() -> Graph:
    return Graph().parse(MANIFEST, format="turtle", publicID=MANIFEST.as_uri())


def _tests() -> list[tuple[str, object]]:
    graph = _manifest()
    root = next(graph.subjects(RDF.type, MF.Manifest))
    entries = Collection(graph, graph.value(root, MF.entries))
    return [(str(entry).rsplit("#", 1)[1], entry) for entry in entries
            if (entry, RDF.type, MF.ProtocolTest) in graph]


MANIFEST_GRAPH = _manifest()
TESTS = _tests()


def test_manifest_has_the_34_protocol_tests():
    assert len(TESTS) == 34


@pytest.fixture(scope="module")
def w3c_server(tmp_path_factory, settings, live_server):
    """The endpoint over the manifest's data: each dataN.nt in the graph named as labelled."""
    graph = MANIFEST_GRAPH
    lines = []
    for data in set(graph.objects(None, UT.graphData)):
        name = str(graph.value(data, RDFS.label))
        source = Path(str(graph.value(data, UT.graph)).removeprefix("file://"))
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip():
                lines.append(line.rstrip().removesuffix(".").rstrip() + f" <{name}> .")
    path = tmp_path_factory.mktemp("w3c") / "graph.nq"
    path.write_text("\n".join(sorted(set(lines))) + "\n", encoding="utf-8")
    LiveServer = type(live_server)  # the class of conftest's live server
    store = EmbeddedStore.from_file(path)
    app = create_app(settings, store=store)
    with LiveServer(app) as server:
        yield server
    store.close()


def _requests(entry) -> list:
    graph = MANIFEST_GRAPH
    action = graph.value(entry, MF.action)
    return list(Collection(graph, graph.value(action, HT.requests)))


def _send(server, request) -> httpx.Response:
    graph = MANIFEST_GRAPH
    path = str(graph.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    headers = {}
    for header_list in graph.objects(request, HT.headers):
        for header in Collection(graph, header_list):
            headers[str(graph.value(header, HT.fieldName))] = \
                str(graph.value(header, HT.fieldValue))
    body = graph.value(request, HT.body)
    content = None
    if body is not None:
        encoding = str(graph.value(body, CNT.characterEncoding) or "UTF-8")
        content = str(graph.value(body, CNT.chars)).encode(encoding.lower())
    method = str(graph.value(request, HT.methodName))
    return httpx.request(method, server.url + path, content=content, headers=headers)


def _boolean(response: httpx.Response) -> bool:
    media_type = response.headers["content-type"].split(";")[0]
    if media_type == "application/sparql-results+json":
        return json.loads(response.text)["boolean"]
    assert media_type == "application/sparql-results+xml", media_type
    return "<boolean>true</boolean>" in response.text


def _check(response: httpx.Response, expected) -> None:
    """Compare a response with an ht:resp: status class, format and boolean."""
    graph = MANIFEST_GRAPH
    statuses = {str(s).rsplit("#StatusCode", 1)[1] for s in
                graph.objects(expected, MF.expectedStatus)}
    assert f"{str(response.status_code)[0]}xx" in statuses, (response.status_code,
                                                            response.text)
    media_type = response.headers.get("content-type", "").split(";")[0]
    fmt = graph.value(expected, MF.expectedFormat)
    if fmt is not None and str(fmt) in ("boolean", "tabular"):
        assert media_type in ("application/sparql-results+json",
                              "application/sparql-results+xml", "text/csv",
                              "text/tab-separated-values")
    elif fmt is not None and str(fmt) == "RDF":
        assert media_type in ("text/turtle", "application/rdf+xml", "application/n-triples",
                              "application/ld+json")
        Graph().parse(data=response.text, format={
            "text/turtle": "turtle", "application/rdf+xml": "xml",
            "application/n-triples": "nt", "application/ld+json": "json-ld"}[media_type])
    boolean = graph.value(expected, MF.expectedBoolean)
    if boolean is not None:
        assert _boolean(response) is bool(boolean.toPython())


def _quads(server) -> int:
    query = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    response = httpx.get(server.url + "/sparql", params={"query": query, "format": "json"})
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


@pytest.mark.parametrize(("name", "entry"), TESTS, ids=[name for name, _ in TESTS])
def test_protocol(w3c_server, name, entry):
    graph = MANIFEST_GRAPH
    requests = _requests(entry)
    if name.startswith("update_"):
        # A read-only endpoint: the update is refused and the check that follows it sees
        # no change (inverted expectation, see the module docstring).
        before = _quads(w3c_server)
        assert before > 0
        first, *rest = requests
        refused = _send(w3c_server, first)
        assert refused.status_code == 403, refused.text
        assert "read-only" in refused.text
        for request in rest:
            response = _send(w3c_server, request)
            assert response.status_code == 200, response.text
            assert _boolean(response) is False
        assert _quads(w3c_server) == before
        return
    for request in requests:
        response = _send(w3c_server, request)
        _check(response, graph.value(request, HT.resp))
