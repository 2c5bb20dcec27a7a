"""VoID: the numbers match the graph, the dumps resolve, and SPARQL finds the description."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD

from publisher.metadata.names import Names
from publisher.metadata.void import VOID, void_graph

BASE = "https://w3id.org/kiezgraph/pankow/"


@pytest.fixture(scope="module")
def void(release) -> Graph:
    """The VoID of the session's build under the configured base."""
    return void_graph(BASE, release.info)


@pytest.fixture(scope="module")
def data(release) -> Graph:
    """The published graph, read with rdflib straight from the build's N-Quads."""
    dataset = Dataset()
    dataset.parse(release.graph_file, format="nquads")
    union = Graph()
    for quad in dataset.quads():
        union.add(quad[:3])
    return union


def _number(graph: Graph, node, predicate) -> int:
    value = graph.value(node, predicate)
    assert isinstance(value, Literal) and value.datatype == XSD.integer
    return int(value)


def test_counts_match_the_graph(void, data):
    ds = Names(BASE).dataset
    assert _number(void, ds, VOID.triples) == len(data)
    subjects = {s for s in data.subjects() if isinstance(s, URIRef) and s.startswith(BASE)}
    assert _number(void, ds, VOID.entities) == len(subjects)
    assert _number(void, ds, VOID.properties) == len(set(data.predicates()))
    assert _number(void, ds, VOID.classes) == len(set(data.objects(None, RDF.type)))


def test_partitions_match_the_graph(void, data):
    ds = Names(BASE).dataset
    classes = list(void.objects(ds, VOID.classPartition))
    assert len(classes) == len({c for c in data.objects(None, RDF.type) if isinstance(c, URIRef)})
    for part in classes:
        cls = void.value(part, VOID["class"])
        assert _number(void, part, VOID.entities) == len(set(data.subjects(RDF.type, cls)))
    for part in void.objects(ds, VOID.propertyPartition):
        prop = void.value(part, VOID.property)
        assert _number(void, part, VOID.triples) == len(list(data.triples((None, prop, None))))


def test_linksets_only_where_the_data_links(void, data):
    targets = {str(void.value(ls, VOID.objectsTarget)): ls
               for ls in void.subjects(RDF.type, VOID.Linkset)}
    wikidata = [o for o in data.objects() if str(o).startswith("http://www.wikidata.org/entity/")]
    assert ("http://www.wikidata.org/" in targets) == bool(wikidata)
    lor = [o for o in data.objects()
           if str(o).startswith("https://berlinonline.github.io/lod-berlin-lor/")]
    assert ("https://berlinonline.github.io/lod-berlin-lor/" in targets) == bool(lor)
    for target, linkset in targets.items():
        links = [t for t in data if isinstance(t[2], URIRef) and str(t[2]).startswith(
            "http://www.wikidata.org/entity/" if "wikidata" in target else target)
            and str(t[0]).startswith(BASE)]
        assert _number(void, linkset, VOID.triples) == len(links)


def test_example_resources_and_uri_space(void, data):
    ds = Names(BASE).dataset
    assert void.value(ds, VOID.uriSpace) == Literal(BASE)
    examples = list(void.objects(ds, VOID.exampleResource))
    assert examples
    assert all((example, None, None) in data for example in examples)


@pytest.mark.live
def test_every_data_dump_resolves_with_its_checksum(live_server, release):
    base = live_server.url + "/"
    void = Graph().parse(f"{base}.well-known/void", format="turtle")
    dumps = list(void.objects(Names(base).dataset, VOID.dataDump))
    entries = {e["name"]: e for e in release.info["files"]}
    assert len(dumps) == len([n for n in entries if n.startswith("kiezgraph-pankow-")])
    with httpx.Client(timeout=10) as client:
        for dump in dumps:
            response = client.get(str(dump))
            assert response.status_code == 200, dump
            entry = entries[str(dump).rsplit("/", 1)[1]]
            assert len(response.content) == entry["bytes"]
            assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]


def test_void_is_queryable_in_the_store(app):
    store = app.extensions["kiezgraph"].published.store
    rows = store.select("SELECT ?ds ?e WHERE { ?ds <http://rdfs.org/ns/void#sparqlEndpoint> ?e }")
    assert [(str(r["ds"]), str(r["e"])) for r in rows] == [
        (str(Names(BASE).dataset), BASE + "sparql")]


@pytest.mark.live
def test_void_is_found_through_the_sparql_endpoint(live_server):
    from SPARQLWrapper import JSON, SPARQLWrapper

    endpoint = live_server.url + "/sparql"
    if httpx.get(endpoint, params={"query": "ASK {}"}, timeout=10).status_code == 404:
        pytest.skip("no SPARQL endpoint in this app yet")
    client = SPARQLWrapper(endpoint)
    client.setQuery("SELECT ?ds WHERE { ?ds <http://rdfs.org/ns/void#sparqlEndpoint> ?e }")
    client.setReturnFormat(JSON)
    bindings = client.query().convert()["results"]["bindings"]
    assert [b["ds"]["value"].endswith("id/dataset/kiezgraph-pankow") for b in bindings] == [True]
