"""Everyday mistakes that make valid triples: an end before its start, a property on the
wrong kind of thing, a literal of the wrong datatype, a source on an example domain.

Each is a statement the shapes cannot see in general (SHACL names the properties it checks;
these checks follow what the ontology and the reused vocabularies declare: rdfs:domain,
rdfs:range, schema:rangeIncludes). They report as publisher.terms.Problem, so the gate
points each at the line (or sheet, row and column) of the offending statement.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from urllib.parse import urlsplit

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from publisher.dates import certainly_before
from publisher.namespaces import DCTERMS, PROV, RDF, RDFS, SCHEMA, TIME, XSD
from publisher.reasoning import VOCABULARIES
from publisher.terms import Problem

__all__ = ["check_mistakes"]

# Pairs of a start and an end property, and the instants of OWL-Time intervals.
_SPANS = ((SCHEMA.startDate, SCHEMA.endDate), (PROV.startedAtTime, PROV.endedAtTime),
          (SCHEMA.foundingDate, SCHEMA.dissolutionDate))
_INSTANT = (TIME.inXSDDate, TIME.inXSDDateTime, TIME.inXSDDateTimeStamp, TIME.inXSDgYear,
            TIME.inXSDgYearMonth)
# What a declared range lets a literal be (other ranges are not checked here).
_DAYS = frozenset({XSD.date, XSD.gYear, XSD.gYearMonth})
_ACCEPTS = {XSD.date: frozenset({XSD.date}), XSD.dateTime: frozenset({XSD.dateTime,
                                                                      XSD.dateTimeStamp}),
            XSD.dateTimeStamp: frozenset({XSD.dateTimeStamp}),
            XSD.gYear: frozenset({XSD.gYear}), XSD.gYearMonth: frozenset({XSD.gYearMonth}),
            SCHEMA.Date: _DAYS, SCHEMA.DateTime: frozenset({XSD.dateTime}),
            RDF.langString: frozenset({RDF.langString})}
# RFC 2606 and RFC 6761: names reserved for examples and tests, never a real source.
_EXAMPLE_HOSTS = ("example.org", "example.com", "example.net")
_EXAMPLE_TLDS = (".example", ".test", ".invalid", ".localhost")
_SOURCES = (DCTERMS.source, PROV.wasDerivedFrom)


def _short(graph: Graph, node: Node) -> str:
    try:
        return graph.namespace_manager.normalizeUri(str(node))
    except Exception:  # rdflib cannot shorten every IRI
        return f"<{node}>"


@cache
def _vocabulary() -> Graph:
    """The shipped vocabularies' class hierarchy, domains and ranges (labels left out)."""
    graph = Graph()
    for path in [*sorted(VOCABULARIES.glob("*.ttl")), *sorted((VOCABULARIES / "ranges").glob(
            "*.ttl"))]:
        if path.name != "labels.ttl":
            for triple in Graph().parse(path, format="turtle").triples((None, None, None)):
                if triple[1] in (RDFS.subClassOf, RDFS.domain, RDFS.range,
                                 SCHEMA.rangeIncludes):
                    graph.add(triple)
    return graph


def _supers(schema: Graph, cls: Node) -> set[Node]:
    """A class and all its superclasses."""
    return {c for c in schema.transitive_objects(cls, RDFS.subClassOf) if c is not None}


def _ends_before_start(data: Graph) -> Iterator[Problem]:
    for start_p, end_p in _SPANS:
        for subject, end in data.subject_objects(end_p):
            for start in data.objects(subject, start_p):
                if isinstance(end, Literal) and isinstance(start, Literal) \
                        and certainly_before(end, start):
                    yield _before(data, subject, end_p, end, start)
    for period, end_instant in data.subject_objects(TIME.hasEnd):
        for start_instant in data.objects(period, TIME.hasBeginning):
            ends = [data.value(end_instant, p) for p in _INSTANT]
            starts = [data.value(start_instant, p) for p in _INSTANT]
            for end in (e for e in ends if isinstance(e, Literal)):
                for start in (b for b in starts if isinstance(b, Literal)):
                    if certainly_before(end, start):
                        owner = next(data.subjects(None, period), period) \
                            if isinstance(period, BNode) else period
                        yield _before(data, owner, TIME.hasEnd, end, start)


def _before(data: Graph, subject: Node, path: Node, end: Literal, start: Literal) -> Problem:
    return Problem(
        subject, path, end,
        f"Das Ende ({end}) liegt vor dem Beginn ({start}). Beide Angaben mit der Quelle "
        f"vergleichen; ein unbekanntes Ende weglassen.",
        f"The end ({end}) is before the start ({start}). Check both against the source; "
        f"leave an unknown end out.", f'"{end}')


def _wrong_kind(data: Graph, ontology: Graph) -> Iterator[Problem]:
    """A property of ours on a thing outside its declared domain (kg:openingDate of an
    organisation); things with no class at all are left to the shapes."""
    schema = _vocabulary() + ontology
    for prop, domain in ontology.subject_objects(RDFS.domain):
        for subject in set(data.subjects(prop, None)):
            types = set(data.objects(subject, RDF.type))
            if not types or any(domain in _supers(schema, t) for t in types):
                continue
            shown, kind = _short(data, prop), _short(data, domain)
            yield Problem(
                subject, prop, data.value(subject, prop),
                f"{shown} gilt nur für {kind}, aber {_short(data, subject)} ist "
                f"{', '.join(sorted(_short(data, t) for t in types))}. Die passende "
                f"Eigenschaft wählen (z. B. schema:foundingDate für eine Organisation) oder "
                f"die Aussage an das richtige Ding schreiben.",
                f"{shown} applies only to {kind}, but {_short(data, subject)} is "
                f"{', '.join(sorted(_short(data, t) for t in types))}. Choose the fitting "
                f"property (e.g. schema:foundingDate for an organisation) or state it of the "
                f"right thing.", shown)


def _datatype_of(value: Literal) -> URIRef:
    if value.language:
        return URIRef(RDF.langString)
    return URIRef(value.datatype or XSD.string)


def _wrong_datatype(data: Graph, ontology: Graph) -> Iterator[Problem]:
    """A literal whose datatype the property's declared range does not allow."""
    schema = _vocabulary() + ontology
    ranges: dict[Node, set[Node]] = {}
    for prop_p in (RDFS.range, SCHEMA.rangeIncludes):
        for prop, rng in schema.subject_objects(prop_p):
            ranges.setdefault(prop, set()).add(rng)
    for prop, declared in ranges.items():
        if not declared <= set(_ACCEPTS):
            continue  # a range we do not check (an object, or text of any kind)
        allowed = frozenset().union(*(_ACCEPTS[URIRef(str(r))] for r in declared))
        for subject, value in data.subject_objects(prop):
            if not isinstance(value, Literal) or value.ill_typed:
                continue  # an ill-typed literal is publisher.terms' to report
            given = _datatype_of(value)
            if given in allowed:
                continue
            shown = _short(data, prop)
            wanted = ", ".join(sorted(_short(data, a) for a in allowed))
            yield Problem(
                subject, prop, value,
                f"„{value}“ bei {shown} hat den Datentyp {_short(data, given)}; erlaubt: "
                f"{wanted}, z. B. \"2024-05-29\"^^xsd:date (ein Datum ist kein Text).",
                f'"{value}" on {shown} is of datatype {_short(data, given)}; allowed: '
                f'{wanted}, e.g. "2024-05-29"^^xsd:date (a date is not text).', f'"{value}')


def _example_sources(data: Graph, base: str) -> Iterator[Problem]:
    """A source on a domain reserved for examples (RFC 2606, RFC 6761): a template's example
    left in, never a real source (our own things, under the base, are not sources of this
    kind, whatever the base is)."""
    for prop in _SOURCES:
        for subject, value in data.subject_objects(prop):
            if str(value).startswith(base):
                continue
            host = (urlsplit(str(value)).hostname or "").rstrip(".").lower()
            if not (host.endswith(_EXAMPLE_TLDS) or host in _EXAMPLE_HOSTS
                    or host.endswith(tuple("." + h for h in _EXAMPLE_HOSTS))):
                continue
            yield Problem(
                subject, prop, value,
                f"Die Quelle <{value}> liegt auf einer Beispiel-Domain ({host}, RFC 2606): "
                f"das ist eine Beispielzeile, keine Quelle. Die Zeile löschen oder die echte "
                f"Quelle eintragen.",
                f"The source <{value}> is on a domain reserved for examples ({host}, RFC "
                f"2606): an example row, not a source. Delete the row or give the real "
                f"source.", str(value))


def check_mistakes(data: Graph, ontology: Graph, base: str) -> list[Problem]:
    """Every statement of data that is one of these everyday mistakes."""
    return [*_ends_before_start(data), *_wrong_kind(data, ontology),
            *_wrong_datatype(data, ontology), *_example_sources(data, base)]
