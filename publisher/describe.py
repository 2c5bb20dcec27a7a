"""Describe a resource through the store: its concise bounded description and its links."""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef

from publisher.iris import ID
from publisher.namespaces import DCTERMS, FOAF, RDFS, SCHEMA, SKOS, XSD, kg, prefixes

__all__ = [
    "LABEL_PROPERTIES",
    "MAX_BLANK_DEPTH",
    "MAX_INCOMING",
    "PREFIXES",
    "Kind",
    "bind_prefixes",
    "cbd",
    "describe",
    "exists",
    "fragment_index",
    "fragments",
    "incoming",
    "kinds",
    "label_of",
    "labels",
    "ontology",
    "sources",
    "superclasses",
    "text_of",
]

# What names a thing, most specific first; the labels of linked resources use these.
LABEL_PROPERTIES = (SKOS.prefLabel, RDFS.label, SCHEMA.name, FOAF.name, DCTERMS.title)
# Blank nodes nested deeper than this under a resource are not followed: a description
# is a single SPARQL query (blank nodes cannot be named across queries), and SPARQL
# property paths cannot require every step to be a blank node, so depth is spelled out.
MAX_BLANK_DEPTH = 6
MAX_INCOMING = 1000
_LABEL_LIST = ", ".join(f"<{p}>" for p in LABEL_PROPERTIES)

# The prefixes bound on the graphs we serialise and name terms with (qnames on pages).
PREFIXES = prefixes("rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "prov", "org", "schema",
                    "foaf", "locn", "geo", "vcard", "vann", "dcat", "void")


def bind_prefixes(graph: Graph, base: str) -> Graph:
    """Bind the usual prefixes and ours (kg: for the ontology) on a graph, for readable output."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.bind("kg", kg(base), override=True, replace=True)
    return graph


def _iri(term: URIRef | str) -> str:
    """A term as SPARQL IRIREF; callers pass only IRIs checked by iris.is_safe_path or the store."""
    text = str(term)
    if any(c in text for c in '<>"{}|^`\\ \n\r\t'):
        raise ValueError(f"not a safe IRI: {text!r}")
    return f"<{text}>"


def _string(text: str) -> str:
    """A SPARQL string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped.replace(chr(13), "")}"'


def _values(terms) -> str:
    return " ".join(_iri(t) for t in terms)


def _construct(store, query: str) -> Graph:
    """store.construct, with xsd:string literals written plain (the same in RDF 1.1)."""
    graph = store.construct(query)
    typed = [(s, p, o) for s, p, o in graph
             if isinstance(o, Literal) and o.datatype == XSD.string]
    for s, p, o in typed:
        graph.remove((s, p, o))
        graph.add((s, p, Literal(str(o))))
    return graph


def exists(store, iri: URIRef) -> bool:
    """Whether the graph says anything about this IRI (as a subject)."""
    return store.ask(f"ASK {{ {_iri(iri)} ?p ?o }}")


def _cbd_query(subjects: list[URIRef], depth: int = MAX_BLANK_DEPTH) -> str:
    """CONSTRUCT the triples of subjects and of the blank nodes they lead to, `depth` deep."""
    branches = [f"{{ VALUES ?s {{ {_values(subjects)} }} ?s ?p ?o }}"]
    for level in range(1, depth + 1):
        steps = [f"VALUES ?r {{ {_values(subjects)} }}"]
        previous = "?r"
        for i in range(1, level + 1):
            # The last blank node is ?s itself rather than BIND(?b AS ?s): the same
            # answer, and Virtuoso 7's SPARQL compiler fails on the BIND form.
            node = "?s" if i == level else f"?b{i}"
            steps.append(f"{previous} ?p{i} {node} . FILTER(isBlank({node}))")
            previous = node
        steps.append(f"{previous} ?p ?o")
        branches.append("{ " + " ".join(steps) + " }")
    return "CONSTRUCT { ?s ?p ?o } WHERE { " + " UNION ".join(branches) + " }"


# Hash IRIs by the IRI before each '#', per store object and release: finding them takes a
# scan of every subject (no index serves STRSTARTS), so it is done once per snapshot instead
# of once per document (at 100k triples 50 ms a document, at 1M a second).
_FRAGMENTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_FRAGMENTS_LOCK = threading.Lock()


def _release_of(store) -> str:
    """What identifies the store's contents: an external store switches releases under us."""
    return getattr(store, "build_id", "") or ""


def fragment_index(store) -> dict[str, list[URIRef]]:
    """Every hash IRI of the graph (as a subject), under each IRI it extends (<iri#part>)."""
    release = _release_of(store)
    with _FRAGMENTS_LOCK:  # one scan per snapshot, even when many requests ask at once
        known = _FRAGMENTS.get(store)
        if known is not None and known[0] == release:
            return known[1]
        rows = store.select('SELECT DISTINCT ?s WHERE { ?s ?p ?o '
                            'FILTER(isIRI(?s) && CONTAINS(STR(?s), "#")) }')
        index: dict[str, list[URIRef]] = {}
        for row in rows:
            subject = row.get("s")
            if subject is None:
                continue
            text = str(subject)
            at = text.find("#")
            while at >= 0:  # <a#b#c> extends <a> and <a#b>, as STRSTARTS would find it
                index.setdefault(text[:at], []).append(subject)
                at = text.find("#", at + 1)
        for members in index.values():
            members.sort()
        _FRAGMENTS[store] = (release, index)
        return index


def fragments(store, iri: URIRef) -> list[URIRef]:
    """The hash IRIs under the resource (<iri#part>): their document is the resource's."""
    return list(fragment_index(store).get(str(iri), ()))


def cbd(store, iri: URIRef) -> Graph:
    """The concise bounded description (blank nodes closed) of the resource and its hash IRIs."""
    return _construct(store, _cbd_query([iri, *fragments(store, iri)]))


def incoming(store, iri: URIRef, limit: int = MAX_INCOMING) -> Graph:
    """Links to the resource: (s p iri) from named resources, and through a blank node.

    A qualified relation (prov:qualifiedAssociation [ prov:agent <org> ]) points at the
    resource from a blank node; then the blank node's description and the triple that
    holds it come along, so the page of an organisation shows the signing it took part in.
    """
    target = _iri(iri)
    graph = _construct(
        store,
        f"CONSTRUCT {{ ?s ?p {target} }} WHERE {{ ?s ?p {target} FILTER(isIRI(?s)) }} "
        f"LIMIT {limit}")
    graph += _construct(
        store,
        f"CONSTRUCT {{ ?owner ?q ?b . ?b ?p ?o }} WHERE {{ ?b ?x {target} FILTER(isBlank(?b)) "
        f"?owner ?q ?b FILTER(isIRI(?owner)) ?b ?p ?o }} LIMIT {limit}")
    return graph


def labels(store, iris) -> Graph:
    """The label triples (LABEL_PROPERTIES) of the given IRIs."""
    iris = sorted({i for i in iris if isinstance(i, URIRef)})
    graph = Graph()
    for start in range(0, len(iris), 200):
        chunk = iris[start:start + 200]
        graph += _construct(
            store,
            # FILTER IN, not a second VALUES: pyoxigraph joins two VALUES blocks with a
            # scan of every triple with one of those predicates (17 ms at 100k, not 1 ms).
            f"CONSTRUCT {{ ?s ?l ?v }} WHERE {{ VALUES ?s {{ {_values(chunk)} }} ?s ?l ?v "
            f"FILTER(?l IN ({_LABEL_LIST})) }}")
    return graph


def describe(store, iri: URIRef, base: str = "") -> Graph:
    """What a document about the resource holds: its CBD, incoming links, and linked labels."""
    graph = cbd(store, iri)
    graph += incoming(store, iri)
    linked = {n for s, _p, o in graph for n in (s, o) if isinstance(n, URIRef) and n != iri}
    graph += labels(store, linked)
    return bind_prefixes(graph, base) if base else graph


def superclasses(store, classes) -> Graph:
    """The rdfs:subClassOf triples above the given classes, all the way up."""
    classes = [c for c in classes if isinstance(c, URIRef)]
    if not classes:
        return Graph()
    return _construct(
        store,
        f"CONSTRUCT {{ ?c <{RDFS.subClassOf}> ?super }} WHERE {{ VALUES ?t {{ "
        f"{_values(classes)} }} ?t <{RDFS.subClassOf}>* ?c . ?c <{RDFS.subClassOf}> ?super }}")


def sources(store, iri: URIRef) -> list[URIRef]:
    """The named graphs (one per source file) that hold the resource's own triples."""
    rows = store.select(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ {_iri(iri)} ?p ?o }} }} "
                        f"ORDER BY ?g")
    return [row["g"] for row in rows if "g" in row]


def ontology(store, base: str) -> Graph:
    """The whole ontology: every triple of the source files under ontology/, blank nodes too."""
    prefix = f"{base}graph/ontology/"
    graph = _construct(
        store,
        f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} "
        f"FILTER(STRSTARTS(STR(?g), {_string(prefix)})) }}")
    return bind_prefixes(graph, base)


@dataclass
class Kind:
    """The things under one id/<kind>/ path segment, and the classes they have."""

    name: str
    members: list[URIRef] = field(default_factory=list)
    types: Counter = field(default_factory=Counter)

    @property
    def count(self) -> int:
        """How many things of this kind there are."""
        return len(self.members)

    @property
    def main_type(self) -> URIRef | None:
        """The class most members have (the most specific when they tie is not known)."""
        return self.types.most_common(1)[0][0] if self.types else None


def kinds(store, base: str) -> list[Kind]:
    """The kinds of things (id/<kind>/…) with their members and classes, largest first."""
    prefix = base + ID
    rows = store.select(
        f"SELECT DISTINCT ?s ?type WHERE {{ ?s ?p ?o FILTER(isIRI(?s) && "
        f"STRSTARTS(STR(?s), {_string(prefix)}) && !CONTAINS(STR(?s), \"#\")) "
        f"OPTIONAL {{ ?s a ?type }} }}")
    found: dict[str, Kind] = {}
    seen: set[tuple[str, URIRef]] = set()
    for row in rows:
        subject = row["s"]
        name = subject[len(prefix):].split("/", 1)[0]
        if not name:
            continue
        kind = found.setdefault(name, Kind(name))
        if (name, subject) not in seen:
            seen.add((name, subject))
            kind.members.append(subject)
        if "type" in row:
            kind.types[row["type"]] += 1
    for kind in found.values():
        kind.members.sort()
    return sorted(found.values(), key=lambda k: (-k.count, k.name))


def text_of(graph: Graph, node, properties, lang: str) -> Literal | None:
    """The value of the first property that has one, in `lang`, else German, English, untagged."""
    order = (lang, "de", "en", None)
    for prop in properties:
        values = sorted(v for v in graph.objects(node, prop) if isinstance(v, Literal))
        if not values:
            continue
        for wanted in order:
            for value in values:
                if value.language == wanted:
                    return value
        return sorted(values)[0]
    return None


def label_of(graph: Graph, node, lang: str = "de") -> str:
    """A human label for a node: its label in `lang` (or a fallback), else the IRI's last part."""
    value = text_of(graph, node, LABEL_PROPERTIES, lang)
    if value is not None:
        return str(value)
    if isinstance(node, BNode):
        return ""
    text = str(node).rstrip("/")
    for sep in ("#", "/"):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
            break
    return text or str(node)
