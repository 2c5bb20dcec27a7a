"""Checks SHACL cannot state: terms of the vocabularies, IRIs and slugs, ill-typed literals.

(SHACL cannot make a pattern depend on the base the data is read with, so "described IRIs lie
under the base" is checked here, and the shapes stay valid SHACL as published.)

A typo in a class or property (kg:Stadteilzentrum, kg:operatedby) makes a valid triple that
no shape targets, so it would be published unnoticed. Every kg: term the sources use must be
defined in ontology/; every other namespace must be one the ontology declares it reuses
(dcterms:requires with vann:preferredNamespaceUri), and a term of ORG, PROV-O or SKOS must
exist in the shipped copy of that vocabulary (a project whose ontology declares no reused
vocabulary at all, such as a small test project, gets no namespace check). IRIs of our things
must be lower-case ASCII slugs, and a literal must be a valid value of its datatype
("05.05.2022"^^xsd:date is not).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from publisher.namespaces import (
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    TIME,
    VANN,
    XSD,
    kg,
)
from publisher.reasoning import VOCABULARIES

__all__ = ["Problem", "check_terms", "slug_for"]

# Always allowed: RDF itself.
_BUILT_IN = (str(RDF), str(RDFS), str(OWL), str(XSD))
# Namespaces whose terms are checked against the shipped vocabulary (publisher/vocabularies).
_SHIPPED = {str(ORG): "org.ttl", str(PROV): "prov-o.ttl", str(SKOS): "skos-core.ttl"}
# Namespaces whose terms rdflib lists (its DefinedNamespace of each vocabulary's release);
# rdflib's schema.org says https, the data http. (Core Vocabularies, cv:, have no list here
# yet: SEMIC publishes them per vocabulary, and a partial list would refuse good terms.)
_LISTED = {str(SCHEMA): "SDO", str(FOAF): "FOAF", str(TIME): "TIME", str(DCTERMS): "DCTERMS",
           str(VANN): "VANN"}
_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_EXAMPLES = {
    XSD.date: ('"2022-05-05"^^xsd:date', "JJJJ-MM-TT", "YYYY-MM-DD"),
    XSD.gYear: ('"2022"^^xsd:gYear', "JJJJ", "YYYY"),
    XSD.gYearMonth: ('"2022-05"^^xsd:gYearMonth', "JJJJ-MM", "YYYY-MM"),
    XSD.dateTime: ('"2022-05-05T10:00:00+02:00"^^xsd:dateTime', "JJJJ-MM-TTThh:mm:ss+hh:mm",
                   "YYYY-MM-DDThh:mm:ss+hh:mm"),
    XSD.integer: ('"14"^^xsd:integer', "Ziffern ohne Punkt", "digits without a point"),
}


@dataclass(frozen=True)
class Problem:
    """One statement the gate refuses: its subject, property and value, and why (de, en)."""

    focus: Node  # a statement's subject: an IRI or a blank node
    path: Node
    value: object
    message_de: str
    message_en: str
    needle: str  # the text to find on the offending line


@cache
def _shipped_terms(filename: str) -> frozenset:
    graph = Graph().parse(VOCABULARIES / filename, format="turtle")
    return frozenset(s for s in graph.subjects() if isinstance(s, URIRef))


@cache
def _known_terms(namespace: str) -> frozenset:
    """The terms of a reused vocabulary: the shipped copy's, or the ones rdflib lists."""
    if namespace in _SHIPPED:
        return _shipped_terms(_SHIPPED[namespace])
    import rdflib.namespace as listed

    defined = getattr(listed, _LISTED[namespace])
    return frozenset(URIRef(namespace + str(term).rsplit("/", 1)[-1].rsplit("#", 1)[-1])
                     for term in dir(defined))


def _namespace(term: URIRef) -> str:
    text = str(term)
    cut = max(text.rfind("#"), text.rfind("/"))
    return text[: cut + 1]


def slug_for(text: str) -> str:
    """A lower-case ASCII slug for a name: ä→ae, ö→oe, ü→ue, ß→ss, others without accents."""
    text = text.lower()
    for umlaut, plain in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(umlaut, plain)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def _short(graph: Graph, node) -> str:
    try:
        return graph.namespace_manager.normalizeUri(node)
    except Exception:  # rdflib cannot shorten every IRI
        return f"<{node}>"


def _declared(ontology: Graph) -> set[str]:
    return {str(ns) for ns in ontology.objects(None, VANN.preferredNamespaceUri)}


def _term_problems(data: Graph, ontology: Graph, base: str) -> list[Problem]:
    ours = kg(base)
    defined = {s for s in ontology.subjects() if isinstance(s, URIRef) and s.startswith(ours)}
    allowed = _declared(ontology)
    problems = []
    used: dict[URIRef, tuple[Node, Node, Node]] = {}
    for s, p, o in data:
        if isinstance(p, URIRef):  # as every predicate RDF allows is
            used.setdefault(p, (s, p, o))
        if p == RDF.type and isinstance(o, URIRef):
            used.setdefault(o, (s, p, o))
    for term, (s, p, o) in sorted(used.items(), key=lambda item: str(item[0])):
        namespace = _namespace(term)
        shown = _short(data, term)
        if term.startswith(ours):
            if term in defined:
                continue
            close = difflib.get_close_matches(str(term), [str(d) for d in defined], n=1)
            maybe_de = f" Gemeint ist wohl {_short(data, URIRef(close[0]))}." if close else ""
            maybe_en = f" Did you mean {_short(data, URIRef(close[0]))}?" if close else ""
            problems.append(Problem(
                s, p, o,
                f"{shown} ist kein Begriff der Ontologie (ontology/).{maybe_de} Die "
                f"Schreibweise berichtigen oder den Begriff zuerst in ontology/kiezgraph.ttl "
                f"definieren.",
                f"{shown} is not a term of the ontology (ontology/).{maybe_en} Correct the "
                f"spelling, or define the term in ontology/kiezgraph.ttl first.", shown))
        elif (namespace in _SHIPPED or namespace in _LISTED) and namespace in allowed:
            if term not in _known_terms(namespace):
                terms = [str(t) for t in _known_terms(namespace)]
                close = difflib.get_close_matches(str(term), terms, n=1)
                maybe_de = f" Gemeint ist wohl {_short(data, URIRef(close[0]))}." if close else ""
                maybe_en = f" Did you mean {_short(data, URIRef(close[0]))}?" if close else ""
                problems.append(Problem(
                    s, p, o, f"{shown} gibt es im Vokabular {namespace} nicht.{maybe_de}",
                    f"{shown} does not exist in the vocabulary {namespace}.{maybe_en}", shown))
        elif allowed and not str(term).startswith(_BUILT_IN) and namespace not in allowed:
            # (an ontology that declares no reused vocabulary at all has not opted in: its
            # namespaces are not checked, its own kg: terms still are)
            problems.append(Problem(
                s, p, o,
                f"{shown} stammt aus dem Namensraum <{namespace}>, den die Ontologie nicht als "
                f"wiederverwendet angibt. Einen Begriff eines angegebenen Vokabulars verwenden "
                f"(siehe dcterms:requires in ontology/kiezgraph.ttl) oder, nach Absprache, den "
                f"Namensraum dort ergänzen.",
                f"{shown} is from the namespace <{namespace}>, which the ontology does not "
                f"declare it reuses. Use a term of a declared vocabulary (see dcterms:requires "
                f"in ontology/kiezgraph.ttl) or, once agreed, add the namespace there.", shown))
    return problems


def _slug_problems(data: Graph, base: str) -> list[Problem]:
    problems = []
    ours = base + "id/"
    seen = set()
    for s, p, o in data:
        for node in (s, o):
            if not isinstance(node, URIRef) or not node.startswith(ours) or node in seen:
                continue
            seen.add(node)
            path = str(node)[len(ours):].split("#", 1)[0]
            if all(_SLUG.fullmatch(part) for part in path.split("/")):
                continue
            fixed = "/".join(slug_for(part) for part in path.split("/"))
            needle = str(node)[len(base):]
            problems.append(Problem(
                node if node == s else s, p, node,
                f"Die IRI <{needle}> hat einen Namen (Slug) mit anderen Zeichen als a–z, 0–9 "
                f"und Bindestrich. Slugs sind klein geschriebenes ASCII: z. B. <id/{fixed}> "
                f"(ä→ae, ö→oe, ü→ue, ß→ss).",
                f"The IRI <{needle}> has a name (slug) with characters other than a–z, 0–9 and "
                f"hyphens. Slugs are lower-case ASCII: e.g. <id/{fixed}> (ä→ae, ö→oe, ü→ue, "
                f"ß→ss).", needle))
    return problems


def _base_problems(data: Graph, base: str) -> list[Problem]:
    problems = []
    for thing in sorted({s for s in data.subjects(RDF.type, None) if isinstance(s, URIRef)
                         and not s.startswith(base)}, key=str):
        problems.append(Problem(
            thing, RDF.type, data.value(thing, RDF.type),
            f"Die beschriebene Ressource <{thing}> liegt nicht unter der Basis des Projekts "
            f"({base}). Eigene Dinge bekommen eine relative IRI wie <id/organisation/name>; "
            f"fremde Dinge werden nur verlinkt (z. B. mit owl:sameAs), nicht beschrieben.",
            f"The described resource <{thing}> is not under the project's base ({base}). Our "
            f"own things get a relative IRI such as <id/organisation/name>; things of others "
            f"are only linked (e.g. with owl:sameAs), not described.", str(thing)))
    return problems


def _literal_problems(data: Graph) -> list[Problem]:
    problems = []
    for s, p, o in sorted(data, key=lambda t: (str(t[0]), str(t[1]), str(t[2]))):
        if not isinstance(o, Literal) or not o.ill_typed or o.datatype is None:
            continue  # (an ill-typed literal always has its datatype)
        datatype = _short(data, o.datatype)
        example, form_de, form_en = _EXAMPLES.get(
            o.datatype, (f'"…"^^{datatype}', "die Schreibweise des Datentyps",
                         "the datatype's lexical form"))
        problems.append(Problem(
            s, p, o,
            f"„{o}“ ist kein gültiger Wert von {datatype}. Richtig ist {form_de}, z. B. "
            f"{example}.",
            f'"{o}" is not a valid {datatype}. The right form is {form_en}, e.g. {example}.',
            f'"{o}"'))
    return problems


def check_terms(data: Graph, ontology: Graph, base: str) -> list[Problem]:
    """Every statement in data that uses an unknown term, a bad slug or an ill-typed literal."""
    return [*_term_problems(data, ontology, base), *_base_problems(data, base),
            *_slug_problems(data, base), *_literal_problems(data)]
