"""The reasoning check: what a reader concludes from the graph with OWL 2 RL and our vocabularies.

The graph is published for others to reason with: loaded with the W3C ORG ontology, PROV-O,
SKOS and schema.org, a modelling slip (a property used the wrong way round, a SKOS mapping on
an organisation) turns into conclusions nobody stated, such as that all partners are one
organisation. The check computes the OWL 2 RL closure (owlrl) of the graph with the shipped
vocabularies and reports, like a SHACL violation, every owl:sameAs it infers between two of
our distinct IRIs and every organisation, place or agreement it infers to be a skos:Concept.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TypeGuard

import owlrl
from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from publisher.labels import LABELS_FILE
from publisher.namespaces import ORG, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, kg

__all__ = ["VOCABULARIES", "Finding", "closure", "findings", "vocabulary_graph"]

VOCABULARIES = Path(__file__).resolve().parent / "vocabularies"

# Documentation in the vocabularies: nothing follows from it, and leaving it out keeps the
# closure small (most of the vocabularies' triples are labels and comments in five languages).
_DOCUMENTATION = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}
_AXIOM_NAMESPACES = (str(RDF), str(RDFS), str(OWL))


@lru_cache(maxsize=1)
def _vocabularies() -> tuple:
    graph = Graph()
    for path in sorted(VOCABULARIES.glob("*.ttl")):
        if path != LABELS_FILE:  # the names pages show: labels only, nothing follows
            graph.parse(path, format="turtle")
    return tuple(t for t in graph
                 if str(t[1]).startswith(_AXIOM_NAMESPACES) and t[1] not in _DOCUMENTATION)


def vocabulary_graph() -> Graph:
    """The axioms of the shipped vocabularies (ORG, PROV-O, SKOS, part of schema.org)."""
    graph = Graph()
    for triple in _vocabularies():
        graph.add(triple)
    return graph


def _keyed(graph: Graph) -> set:
    """Properties whose literal values can make two subjects one (inverse-functional, keys)."""
    keyed = set(graph.subjects(RDF.type, OWL.InverseFunctionalProperty))
    for keys in graph.objects(None, OWL.hasKey):
        keyed.update(graph.items(keys))
    return keyed


def closure(data: Graph, vocabularies: Graph | None = None) -> Graph:
    """The OWL 2 RL closure of data together with the vocabularies' axioms (a new graph)."""
    graph = vocabulary_graph() if vocabularies is None else vocabularies
    keyed = _keyed(graph) | _keyed(data)
    for triple in data:
        # A text or a date never makes two of our IRIs one, nor gives them a type, unless it
        # is the value of an inverse-functional property or a key; the rest is most of the
        # graph and only slows the closure down.
        if not isinstance(triple[2], Literal) or triple[1] in keyed:
            graph.add(triple)
    # No axiomatic or datatype triples: they add thousands of triples about rdf:_1, xsd:…
    # and never an owl:sameAs between two of our IRIs or a type of ours.
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)
    return graph


@dataclass(frozen=True)
class Finding:
    """One conclusion the check refuses, with the statement that leads to it."""

    focus: URIRef
    path: Node  # a property: what the graph's predicates are typed as
    value: URIRef | None
    message_de: str
    message_en: str


# What must never be a skos:Concept: organisations, places and agreements.
_NOT_CONCEPTS = (ORG.Organization, ORG.Site, SCHEMA.Place, SCHEMA.Organization, PROV.Agent)


def _short(graph: Graph, node) -> str:
    try:
        return graph.namespace_manager.normalizeUri(node)
    except Exception:  # rdflib cannot shorten every IRI
        return f"<{node}>"


def _why_same(data: Graph, closed: Graph, group: list[URIRef]) -> tuple:
    """The stated property that makes the group one resource, how in a few words (de, en),
    and the stated triple that does it where one can be named (else None)."""
    members = set(group)
    for prop in sorted(closed.subjects(RDF.type, OWL.FunctionalProperty), key=str):
        inverses = set(closed.objects(prop, OWL.inverseOf)) | set(
            closed.subjects(OWL.inverseOf, prop))
        for subject in closed.subjects(prop, group[0]):
            values = set(closed.objects(subject, prop)) & members
            if len(values) < 2:
                continue
            stated = sorted(((v, q) for q in inverses for v in values if (v, q, subject) in data),
                            key=str)
            shown, name = _short(data, subject), _short(data, prop)
            if stated:
                value, wrong = stated[0]
                triple = f"{_short(data, value)} {_short(data, wrong)} {shown}"
                return wrong, (
                    f"„{triple}“ steht in der Gegenrichtung von {name}, das funktional ist "
                    f"(ein Wert je Subjekt)"), (
                    f"\"{triple}\" is the inverse of {name}, which is functional (one value "
                    "per subject)"), (value, wrong, subject)
            return prop, (f"{shown} hat mehrere Werte von {name}, das funktional ist (ein Wert "
                          "je Subjekt)"), (f"{shown} has several values of {name}, which is "
                                          "functional (one value per subject)"), None
    for prop in sorted(closed.subjects(RDF.type, OWL.InverseFunctionalProperty), key=str):
        for value in closed.objects(group[0], prop):
            if any((other, prop, value) in closed for other in group[1:]):
                name = _short(data, prop)
                return prop, (f"{name} ist invers-funktional, und alle haben den Wert "
                              f"{_short(data, value)}"), (
                    f"{name} is inverse-functional, and all have the value "
                    f"{_short(data, value)}"), None
    return (OWL.sameAs, "folgt aus owl:sameAs-Aussagen", "follows from owl:sameAs statements",
            None)


def _groups(pairs: list[tuple[URIRef, URIRef]]) -> list[list[URIRef]]:
    """The IRIs made one, as groups (each sorted), from the pairs owl:sameAs links."""
    parent: dict[URIRef, URIRef] = {}

    def find(node: URIRef) -> URIRef:
        while parent.setdefault(node, node) != node:
            node = parent[node]
        return node

    for one, other in pairs:
        parent[find(one)] = find(other)
    groups: dict[URIRef, list[URIRef]] = {}
    for node in parent:
        groups.setdefault(find(node), []).append(node)
    return sorted((sorted(g, key=str) for g in groups.values() if len(g) > 1), key=str)


def findings(data: Graph, base: str, vocabularies: Graph | None = None) -> list[Finding]:
    """What the OWL 2 RL closure concludes and must not: merged IRIs, concepts that are not."""
    closed = closure(data, vocabularies)

    def ours(node: Node) -> TypeGuard[URIRef]:
        return isinstance(node, URIRef) and node.startswith(base)

    found = []
    pairs = [(one, other) for one, other in closed.subject_objects(OWL.sameAs)
             if one != other and ours(one) and ours(other)]
    for group in _groups(pairs):
        cause, german, english, stated = _why_same(data, closed, group)
        # The finding points at the statement that causes it, where one can be named.
        focus, value = (stated[0], stated[2]) if stated else (group[0], group[1])
        names = ", ".join(_short(data, node) for node in group)
        found.append(Finding(
            focus, cause, value,
            f"Mit OWL-2-RL-Schlüssen und den wiederverwendeten Vokabularen (ORG, PROV-O, SKOS, "
            f"schema.org) folgt, dass {len(group)} verschiedene IRIs dieselbe Ressource sind "
            f"(owl:sameAs): {names}. Grund: {german}. Meist steht eine Eigenschaft in der "
            f"falschen Richtung, z. B. org:hasMembership an der Kooperation statt "
            f"org:organization an der Mitgliedschaft: die Aussage umkehren oder die passende "
            f"Eigenschaft verwenden.",
            f"Reasoning with OWL 2 RL and the reused vocabularies (ORG, PROV-O, SKOS, "
            f"schema.org) concludes that {len(group)} distinct IRIs are one resource "
            f"(owl:sameAs): {names}. Cause: {english}. Mostly a property is used the wrong way "
            f"round, e.g. org:hasMembership on the collaboration instead of org:organization "
            f"on the membership: turn the statement round or use the fitting property."))
    for thing in sorted({t for t in closed.subjects(RDF.type, SKOS.Concept) if ours(t)}):
        kinds = [k for k in (*_NOT_CONCEPTS, kg(base).CooperationAgreement)
                 if (thing, RDF.type, k) in closed]
        if not kinds:
            continue
        relations = set(closed.subjects(RDFS.subPropertyOf, SKOS.semanticRelation))
        relations |= {SKOS.semanticRelation, SKOS.inScheme, SKOS.topConceptOf,
                      SKOS.hasTopConcept}
        causes = sorted({p for p in data.predicates(thing, None) if p in relations}
                        | {p for p in data.predicates(None, thing) if p in relations}, key=str)
        cause = causes[0] if causes else OWL.sameAs
        kind, shown = _short(data, kinds[0]), _short(data, thing)
        if cause == OWL.sameAs:
            why = ("weil es mit einem Begriff gleichgesetzt wird (owl:sameAs, siehe dort)",
                   "as it is made the same as a concept (owl:sameAs, see there)")
        else:
            why = (f"weil {_short(data, cause)} nur Begriffe verbindet",
                   f"as {_short(data, cause)} links concepts only")
        found.append(Finding(
            thing, cause, kinds[0],
            f"Mit OWL-2-RL-Schlüssen und SKOS folgt, dass {shown} ein skos:Concept ist, obwohl "
            f"es ein(e) {kind} ist, {why[0]}. Für dieselbe Organisation in einem anderen "
            f"Datenbestand owl:sameAs verwenden, für einen verwandten Eintrag rdfs:seeAlso; "
            f"SKOS-Abbildungen (skos:exactMatch, skos:closeMatch …) nur zwischen Begriffen.",
            f"Reasoning with OWL 2 RL and SKOS concludes that {shown} is a skos:Concept although "
            f"it is a {kind}, {why[1]}. For the same organisation in another dataset use "
            f"owl:sameAs, for a related record rdfs:seeAlso; SKOS mappings (skos:exactMatch, "
            f"skos:closeMatch …) only between concepts."))
    return found
