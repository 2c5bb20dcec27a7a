"""Classes by their names: a workbook's „Art" column takes „Formale Organisation", not
org:FormalOrganization (issue 23).

The names are data: the graph's own labels of its classes (the ontology's rdfs:label @de/@en)
and, for reused vocabularies, publisher/vocabularies/labels.ttl (publisher.labels). A name
that two classes share counts only for the one of them the graph uses, so a cell never
picks one by chance; the compact form (org:FormalOrganization) is still understood.
"""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef

from publisher.labels import label, labelled
from publisher.namespaces import OWL, RDF, RDFS

__all__ = ["class_name", "class_names"]


def _is_class(iri: str) -> bool:
    """A term named as RDF names classes: its local name starts with a capital."""
    local = iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return local[:1].isupper()


def class_name(graph: Graph, iri: URIRef) -> str | None:
    """A class's German name: the graph's own label first, then the labels file."""
    for value in graph.objects(iri, RDFS.label):
        if isinstance(value, Literal) and value.language == "de":
            return str(value)
    return label(str(iri), "de") if str(iri) in labelled() else None


def class_names(graph: Graph) -> dict[str, URIRef]:
    """Every class's German and English name (case-folded) -> the class; shared names out."""
    candidates = {URIRef(i) for i in labelled() if _is_class(i)}
    candidates |= {c for c in graph.objects(None, RDF.type) if isinstance(c, URIRef)}
    candidates |= {c for c in graph.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
    found: dict[str, set[URIRef]] = {}
    for cls in candidates:
        names = {str(v) for v in graph.objects(cls, RDFS.label)
                 if isinstance(v, Literal) and v.language in ("de", "en")}
        names |= {n for n in (label(str(cls), "de"), label(str(cls), "en")) if n} \
            if str(cls) in labelled() else set()
        for name in names:
            found.setdefault(name.strip().casefold(), set()).add(cls)
    used = {c for c in graph.objects(None, RDF.type) if isinstance(c, URIRef)}
    out = {}
    for name, classes in found.items():
        # „Organisation" names org:, schema: and foaf:Organization: the one the graph uses
        # wins; where none or several are used, the name stays ambiguous and is left out.
        if len(classes) > 1:
            classes = classes & used
        if len(classes) == 1:
            out[name] = next(iter(classes))
    return out
