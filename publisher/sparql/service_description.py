"""The SPARQL 1.1 Service Description of the endpoint, with VoID counts of its dataset."""

from __future__ import annotations

from collections.abc import Mapping

from rdflib import BNode, Graph, Literal, URIRef

from publisher.namespaces import ENT, FORMATS, RDF, RDFS, SD, VOID, XSD, bind

__all__ = ["FORMAT_IRIS", "SD", "service_description"]


# The W3C format IRIs (https://www.w3.org/ns/formats/) of every answer format we offer.
FORMAT_IRIS = {
    "json": FORMATS.SPARQL_Results_JSON, "xml": FORMATS.SPARQL_Results_XML,
    "csv": FORMATS.SPARQL_Results_CSV, "tsv": FORMATS.SPARQL_Results_TSV,
    "turtle": FORMATS.Turtle, "jsonld": FORMATS["JSON-LD"], "rdfxml": FORMATS.RDF_XML,
    "ntriples": FORMATS["N-Triples"], "nquads": FORMATS["N-Quads"], "trig": FORMATS.TriG,
}


def service_description(endpoint: str, *, triples: int, graphs: Mapping[str, int],
                        dataset: str | None = None, max_results: int | None = None,
                        timeout: float | None = None) -> Graph:
    """The sd:Service at `endpoint`: language, formats, features, default dataset and counts.

    `graphs` maps each named graph (one per source file) to its triple count; the default
    graph is their union and holds `triples` distinct triples.
    """
    g = Graph()
    bind(g, ("sd", "void", "formats"))
    service = URIRef(endpoint)
    g.add((service, RDF.type, SD.Service))
    g.add((service, SD.endpoint, service))
    g.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for iri in FORMAT_IRIS.values():
        g.add((service, SD.resultFormat, iri))
    g.add((service, SD.feature, SD.UnionDefaultGraph))
    g.add((service, SD.defaultEntailmentRegime, ENT.Simple))
    comment = "Read-only SPARQL 1.1 Query endpoint; SPARQL Update and SERVICE are refused."
    if timeout is not None:
        comment += f" Each query may run {timeout:g} s."
    if max_results is not None:
        comment += f" Answers hold at most {max_results} rows or triples (X-Result-Limit)."
    g.add((service, RDFS.comment, Literal(comment, lang="en")))

    ds = BNode("defaultDataset")
    g.add((service, SD.defaultDataset, ds))
    g.add((ds, RDF.type, SD.Dataset))
    g.add((ds, RDF.type, VOID.Dataset))
    if dataset:
        g.add((ds, RDFS.seeAlso, URIRef(dataset)))
    g.add((ds, VOID.sparqlEndpoint, service))
    g.add((ds, VOID.triples, Literal(triples, datatype=XSD.integer)))
    default = BNode("defaultGraph")
    g.add((ds, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    g.add((default, VOID.triples, Literal(triples, datatype=XSD.integer)))
    for index, (name, count) in enumerate(sorted(graphs.items())):
        named, graph = BNode(f"named{index}"), BNode(f"graph{index}")
        g.add((ds, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(name)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(count, datatype=XSD.integer)))
    return g
