"""What a page shows of a graph: labels in the page language, links kept on this server."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Identifier, Node

from publisher import labels
from publisher.describe import LABEL_PROPERTIES, label_of, text_of
from publisher.iris import ONTOLOGY, graph_path, local_path
from publisher.namespaces import (
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SCHEMA_HTTPS,
    SKOS,
)
from publisher.web.security import linkable

__all__ = ["Link", "Linker", "Row", "Value", "incoming_rows", "ordered", "rows_of",
           "schema_org", "term_label"]

DESCRIPTIONS = (SKOS.definition, RDFS.comment, DCTERMS.description)
SOURCES = (DCTERMS.source, PROV.wasDerivedFrom, PROV.hadPrimarySource)


def term_label(graph: Graph, term, lang: str) -> str:
    """A term's label: from the graph (the ontology's own), else the names of reused terms
    (publisher/vocabularies/labels.ttl), else its qname."""
    value = text_of(graph, term, LABEL_PROPERTIES, lang)
    if value is not None:
        return str(value)
    named = labels.label(term, lang) if isinstance(term, URIRef) else None
    if named is not None:
        return named
    try:
        name = graph.namespace_manager.normalizeUri(term)
    except Exception:  # rdflib raises plain errors for IRIs it cannot split
        name = ""
    if not name or name.startswith("<"):  # no prefix for it: its last part, not a raw IRI
        return label_of(graph, term, lang)
    return name


@dataclass
class Link:
    """An IRI as a page shows it: label, where it points, the IRI itself."""

    label: str
    href: str | None
    iri: str
    external: bool


@dataclass
class Value:
    """One object of a property: a link, a literal, or a nested blank node."""

    link: Link | None = None
    text: str = ""
    lang: str | None = None
    datatype: str | None = None
    rows: list[Row] = field(default_factory=list)
    types: list[Link] = field(default_factory=list)


@dataclass
class Row:
    """A property and its values."""

    predicate: Link
    values: list[Value]


class Linker:
    """Turns IRIs into links: ours stay on this server, others go out."""

    def __init__(self, graph: Graph, base: str, public: str, url_root: str, lang: str,
                 keep_lang: bool):
        self.graph, self.base, self.public, self.url_root = graph, base, public, url_root
        self.lang = lang
        self.suffix = f"?lang={lang}" if keep_lang else ""

    def href(self, iri: str, suffix: str = "") -> str | None:
        """Where a link to the IRI points: here for ours, the IRI itself for web IRIs."""
        path = local_path(iri, self.base)
        if path is not None:
            if (None, OWL.versionIRI, URIRef(iri)) in self.graph:
                path = ONTOLOGY  # a version IRI is the ontology's document (as it redirects)
            target = path + suffix
            if self.suffix and "?" in target:  # e.g. a query link: the language joins its query
                return self.url_root + target + "&" + self.suffix[1:]
            return self.url_root + target + self.suffix
        return iri if linkable(iri) else None

    def shown(self, iri: str) -> str:
        """The IRI as the page shows it (under the host asked when rewriting)."""
        path = graph_path(iri, self.base)
        return self.public + path if path is not None else iri

    def link(self, iri, label: str | None = None, term: bool = False) -> Link:
        """A link for an IRI, labelled from the graph."""
        text = label or (term_label(self.graph, iri, self.lang) if term
                         else label_of(self.graph, iri, self.lang))
        return Link(label=text, href=self.href(str(iri)), iri=self.shown(str(iri)),
                    external=local_path(str(iri), self.base) is None)


def ordered(nodes: Iterable[Node]) -> list[Identifier]:
    """A graph's terms in rdflib's order (by kind of term, then text), as pages list them
    (a graph's terms are Identifiers; rdflib types them as any Node)."""
    return sorted(n for n in nodes if isinstance(n, Identifier))


def _value(graph: Graph, node, linker: Linker, seen: set) -> Value:
    if isinstance(node, Literal):
        datatype = None
        if node.datatype is not None:
            datatype = term_label(graph, node.datatype, linker.lang)
        return Value(text=str(node), lang=node.language, datatype=datatype)
    if isinstance(node, BNode):
        if node in seen:
            return Value(text="…")
        seen = seen | {node}
        types = [linker.link(t, term=True) for t in ordered(graph.objects(node, RDF.type))]
        return Value(rows=rows_of(graph, node, linker, seen, skip=(RDF.type,)), types=types)
    return Value(link=linker.link(node))


def rows_of(graph: Graph, subject, linker: Linker, seen: set | None = None,
            skip: tuple = ()) -> list[Row]:
    """The properties of a subject as rows, labelled, sorted by label (values sorted too)."""
    seen = seen if seen is not None else {subject}
    by_predicate = defaultdict(list)
    for predicate, obj in graph.predicate_objects(subject):
        if predicate not in skip:
            by_predicate[predicate].append(obj)
    rows = []
    for predicate, objects in by_predicate.items():
        values = [_value(graph, o, linker, seen) for o in objects]
        values.sort(key=lambda v: ((v.link.label.lower() if v.link else v.text.lower()),
                                   v.lang or "", str(v.link.iri) if v.link else v.text))
        rows.append(Row(linker.link(predicate, term=True), values))
    rows.sort(key=lambda r: (r.predicate.label.lower(), str(r.predicate.iri)))
    return rows


def incoming_rows(graph: Graph, iri: URIRef, linker: Linker) -> list[tuple[Link, list[Link]]]:
    """Links pointing at the resource, grouped by the property (or chain through a blank node)."""
    groups: dict[tuple, list[Link]] = defaultdict(list)
    for subject, predicate in graph.subject_predicates(iri):
        if isinstance(subject, URIRef) and subject != iri:
            groups[(predicate,)].append(linker.link(subject))
        elif isinstance(subject, BNode):
            for owner, via in graph.subject_predicates(subject):
                if isinstance(owner, URIRef) and owner != iri:
                    groups[(via, predicate)].append(linker.link(owner))
    result: list[tuple[Link, list[Link]]] = []
    for chain, links in groups.items():
        label = " › ".join(term_label(graph, p, linker.lang) for p in chain)
        heading = linker.link(chain[-1], label=label, term=True)
        unique = {link.iri: link for link in links}
        result.append((heading, sorted(unique.values(),
                                         key=lambda k: (k.label.lower(), str(k.iri)))))
    # Ties broken by IRI: the same page must be the same bytes in every process.
    result.sort(key=lambda item: (item[0].label.lower(), str(item[0].iri)))
    return result


_SCHEMA_TYPES = {
    ORG.Organization: "Organization", ORG.FormalOrganization: "Organization",
    ORG.OrganizationalUnit: "Organization", ORG.OrganizationalCollaboration: "Organization",
    FOAF.Person: "Person",
    FOAF.Organization: "Organization",
    PROV.Activity: "Event", PROV.Entity: "CreativeWork", SKOS.Concept: "DefinedTerm",
    SKOS.ConceptScheme: "DefinedTermSet",
    OWL.Class: "DefinedTerm", OWL.ObjectProperty: "DefinedTerm",
    OWL.DatatypeProperty: "DefinedTerm", OWL.Ontology: "Dataset", ORG.Site: "Place",
    ORG.Membership: "Role",
}
_SCHEMA_NS = (str(SCHEMA), SCHEMA_HTTPS)


def _schema_value(graph: Graph, node, linker: Linker, depth: int = 0):
    if isinstance(node, Literal):
        return node.toPython() if node.datatype is None or isinstance(
            node.toPython(), int | float | bool) else str(node)
    if isinstance(node, BNode):
        if depth > 3:
            return None
        data = {}
        for t in graph.objects(node, RDF.type):
            if str(t).startswith(_SCHEMA_NS):
                data["@type"] = str(t).rsplit("/", 1)[1]
        for p, o in graph.predicate_objects(node):
            if str(p).startswith(_SCHEMA_NS):
                value = _schema_value(graph, o, linker, depth + 1)
                if value is not None:
                    data[str(p).rsplit("/", 1)[1]] = value
        return data
    if local_path(str(node), linker.base) is None:
        return str(node)  # schema.org expects plain URLs for url, sameAs, …
    return {"@id": linker.shown(str(node))}


def schema_org(graph: Graph, iri: URIRef, linker: Linker, url: str,
               superclasses: Graph | None = None) -> dict:
    """schema.org JSON-LD of the resource for search engines: type, name, schema: properties."""
    types = set()
    for t in graph.objects(iri, RDF.type):
        candidates = [t, *(superclasses.transitive_objects(t, RDFS.subClassOf)
                           if superclasses is not None else ())]
        for c in candidates:
            if str(c).startswith(_SCHEMA_NS):
                types.add(str(c).rsplit("/", 1)[1])
            elif c in _SCHEMA_TYPES:
                types.add(_SCHEMA_TYPES[c])
    data: dict = {"@context": "https://schema.org",
                  "@type": sorted(types) if len(types) > 1 else (types.pop() if types
                                                                 else "Thing"),
                  "@id": linker.shown(str(iri)), "mainEntityOfPage": url,
                  "name": label_of(graph, iri, linker.lang)}
    description = text_of(graph, iri, DESCRIPTIONS, linker.lang)
    if description is not None:
        data["description"] = str(description)
    for p, o in graph.predicate_objects(iri):
        if str(p).startswith(_SCHEMA_NS) and p != SCHEMA.name:
            value = _schema_value(graph, o, linker)
            if value is None:
                continue
            key = str(p).rsplit("/", 1)[1]
            if key in data and key not in ("@id",):
                existing = data[key]
                data[key] = [*(existing if isinstance(existing, list) else [existing]), value]
            else:
                data[key] = value
    same = [str(o) for o in graph.objects(iri, OWL.sameAs)]
    if same:
        data["sameAs"] = same
    return data
