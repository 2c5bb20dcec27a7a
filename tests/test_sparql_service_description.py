"""The service description graph: endpoint, language, formats, dataset with counts."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import RDF, VOID

from publisher.sparql.service_description import FORMAT_IRIS, SD, service_description


def test_description_names_endpoint_formats_and_counts():
    endpoint = "http://127.0.0.1:9/sparql"
    graphs = {"https://example.org/graph/data/a": 3, "https://example.org/graph/data/b": 4}
    g = service_description(endpoint, triples=6, graphs=graphs, max_results=50, timeout=2.0)
    service = URIRef(endpoint)
    assert (service, RDF.type, SD.Service) in g
    assert (service, SD.endpoint, service) in g
    assert set(g.objects(service, SD.resultFormat)) == set(FORMAT_IRIS.values())
    assert (service, SD.feature, SD.UnionDefaultGraph) in g
    assert (service, SD.feature, SD.BasicFederatedQuery) not in g  # SERVICE is refused
    dataset = g.value(service, SD.defaultDataset)
    assert int(g.value(dataset, VOID.triples)) == 6
    named = {str(g.value(n, SD.name)): int(g.value(g.value(n, SD.graph), VOID.triples))
             for n in g.objects(dataset, SD.namedGraph)}
    assert named == graphs
    assert "50" in str(g.value(service, URIRef("http://www.w3.org/2000/01/rdf-schema#comment")))
