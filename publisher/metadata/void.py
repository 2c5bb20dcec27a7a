"""VoID: statistics computed from a build's graph, and the VoID description made from them."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef

from publisher.metadata.names import Names, rebase
from publisher.namespaces import DCTERMS, RDF, VOID, XSD, bind

__all__ = ["LINK_TARGETS", "VOID", "compute_statistics", "void_graph"]

# Datasets the graph may link into: (key, target dataset IRI, namespace of its IRIs, title).
# A linkset is only described when the graph really holds links into that namespace.
LINK_TARGETS: tuple[tuple[str, str, str, str], ...] = (
    ("wikidata", "http://www.wikidata.org/", "http://www.wikidata.org/entity/", "Wikidata"),
    ("berlin-lor", "https://berlinonline.github.io/lod-berlin-lor/",
     "https://berlinonline.github.io/lod-berlin-lor/",
     "Lebensweltlich orientierte Räume (LOR) Berlin"),
    ("berlin-bo", "https://berlinonline.github.io/lod-berlin-bo/",
     "https://berlinonline.github.io/lod-berlin-bo/", "Berliner Verwaltung (LOD)"),
)

EXAMPLES = 5


def _namespace(iri: str) -> str:
    """The namespace of a term: up to and including the last '#' or '/'."""
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[: cut + 1]


def _rows(store: ox.Store, query: str) -> list[tuple]:
    result = store.query(query, use_default_graph_as_union=True)
    if not isinstance(result, ox.QuerySolutions):  # a SELECT answers with solutions
        raise TypeError(f"a SELECT query answered with {type(result).__name__}")
    return [tuple(solution[v] for v in result.variables) for solution in result]


def compute_statistics(graph_file: str | Path, base: str) -> dict:
    """Count what VoID states (triples, entities, partitions, links) in a build's N-Quads."""
    store = ox.Store()
    store.bulk_load(path=str(graph_file), format=ox.RdfFormat.N_QUADS)
    base_lit = base.replace("\\", "\\\\").replace('"', '\\"')
    ours = f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base_lit}"))'

    def one(query: str) -> int:
        return int(_rows(store, query)[0][0].value)

    stats: dict = {
        "triples": one("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"),
        "entities": one(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s ?p ?o {ours} }}"),
        "distinct_subjects": one("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }"),
        "distinct_objects": one("SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { ?s ?p ?o }"),
        "properties": one("SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { ?s ?p ?o }"),
        "classes": one("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?s a ?c }"),
    }
    stats["class_partitions"] = {
        c.value: int(n.value) for c, n in _rows(
            store, "SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?c FILTER isIRI(?c) } "
                   "GROUP BY ?c ORDER BY ?c")}
    stats["property_partitions"] = {
        p.value: int(n.value) for p, n in _rows(
            store, "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p ORDER BY ?p")}
    used = set(stats["property_partitions"]) | set(stats["class_partitions"])
    stats["vocabularies"] = sorted({_namespace(t) for t in used} - {""})

    # Example resources: for the most populous classes of ours, the first entity by IRI,
    # so the choice follows the data and stays the same while the data does.
    examples: list[str] = []
    for cls, _n in sorted(stats["class_partitions"].items(), key=lambda kv: (-kv[1], kv[0])):
        rows = _rows(store, f"SELECT ?s WHERE {{ ?s a <{cls}> {ours} }} ORDER BY ?s LIMIT 1")
        if rows and rows[0][0].value not in examples and "/id/" in rows[0][0].value:
            examples.append(rows[0][0].value)
        if len(examples) == EXAMPLES:
            break
    stats["example_resources"] = examples

    linksets = []
    for key, target, namespace, title in LINK_TARGETS:
        ns = namespace.replace('"', '\\"')
        rows = _rows(store, f"""SELECT ?p (COUNT(*) AS ?n) WHERE {{ ?s ?p ?o {ours}
            FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{ns}")) }} GROUP BY ?p ORDER BY ?p""")
        if rows:
            linksets.append({"key": key, "target": target, "title": title,
                             "predicates": [p.value for p, _ in rows],
                             "triples": sum(int(n.value) for _, n in rows)})
    stats["linksets"] = linksets
    return stats


def _int(value: int) -> Literal:
    return Literal(value, datatype=XSD.integer)


def void_graph(base: str, info: dict) -> Graph:
    """The VoID description of a build, its IRIs under `base` (the request's or the configured)."""
    names = Names(base)
    stats = info["void"]
    content_base = info["base_uri"]
    graph = Graph()
    bind(graph, ("void", "dcterms"))
    ds = names.dataset
    graph.add((ds, RDF.type, VOID.Dataset))
    graph.add((ds, DCTERMS.title, Literal("kiezgraph Pankow", lang="de")))
    graph.add((ds, DCTERMS.modified, Literal(info["modified"], datatype=XSD.date)))
    graph.add((ds, VOID.sparqlEndpoint, names.sparql))
    graph.add((ds, VOID.uriSpace, Literal(base)))
    for entry in info["files"]:
        if entry["name"].startswith(names.dataset_name + "-"):
            graph.add((ds, VOID.dataDump, names.download(entry["name"])))
    for iri in stats["example_resources"]:
        graph.add((ds, VOID.exampleResource, URIRef(rebase(iri, content_base, base))))
    for namespace in stats["vocabularies"]:
        graph.add((ds, VOID.vocabulary, URIRef(rebase(namespace, content_base, base))))
    for key in ("triples", "entities", "classes", "properties"):
        graph.add((ds, VOID[key], _int(stats[key])))
    graph.add((ds, VOID.distinctSubjects, _int(stats["distinct_subjects"])))
    graph.add((ds, VOID.distinctObjects, _int(stats["distinct_objects"])))
    for cls, count in stats["class_partitions"].items():
        part = names.part("class", cls)
        graph.add((ds, VOID.classPartition, part))
        graph.add((part, VOID["class"], URIRef(rebase(cls, content_base, base))))
        graph.add((part, VOID.entities, _int(count)))
    for prop, count in stats["property_partitions"].items():
        part = names.part("property", prop)
        graph.add((ds, VOID.propertyPartition, part))
        graph.add((part, VOID.property, URIRef(rebase(prop, content_base, base))))
        graph.add((part, VOID.triples, _int(count)))
    for linkset in stats["linksets"]:
        node = names.part("linkset", linkset["key"])
        graph.add((node, RDF.type, VOID.Linkset))
        graph.add((ds, VOID.subset, node))
        graph.add((node, DCTERMS.title, Literal(f"Links to {linkset['title']}", lang="en")))
        graph.add((node, VOID.subjectsTarget, ds))
        graph.add((node, VOID.objectsTarget, URIRef(linkset["target"])))
        graph.add((URIRef(linkset["target"]), RDF.type, VOID.Dataset))
        for predicate in linkset["predicates"]:
            graph.add((node, VOID.linkPredicate, URIRef(predicate)))
        graph.add((node, VOID.triples, _int(linkset["triples"])))
    return graph
