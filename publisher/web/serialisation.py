"""An RDF document's bytes: one graph in one format, the same bytes in every process.

Apart from the resources blueprint because it is what makes a document reproducible -
rdflib's writers follow set order, which differs between processes and workers, and the
static export must match the server byte for byte - and it needs nothing of a request.
"""

from __future__ import annotations

import io
import json

import pyoxigraph as ox
from rdflib import Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph

from publisher.formats import DERIVED_DATATYPES
from publisher.namespaces import RDF, XSD
from publisher.store.embedded import to_ox
from publisher.web.negotiation import Offer

__all__ = ["render_graph"]


def render_graph(graph: Graph, offer: Offer) -> bytes:
    """Serialise a graph in an RDF offer (Turtle with prefixes, JSON-LD compacted, …)."""
    rdflib_format = offer.rdflib_format
    if rdflib_format is None:
        raise ValueError(f"{offer.name} is not an RDF format")
    # rdflib writes N-Triples, RDF/XML and JSON-LD in the order the store yields triples,
    # which follows set order and so differs between processes; the same document must be
    # the same bytes in every worker and in the static export, so feed it sorted triples.
    # Blank nodes get labels from their content (rdflib's canonical form) for the same reason.
    ordered = Graph(namespace_manager=graph.namespace_manager)
    for s, p, o in sorted(to_canonical_graph(graph)):
        ordered.add((s, p, _restored(p, o)))
    graph = ordered
    if offer.name == "jsonld":
        text = graph.serialize(format="json-ld", context=_used_prefixes(graph),
                               auto_compact=True)
        text = _sorted_jsonld(text)
    elif offer.name == "rdfxml":
        # rdflib's pretty RDF/XML writer orders subjects and namespace declarations by hash
        # order; pyoxigraph's writes the sorted triples as they come, one element a subject.
        prefixes = _used_prefixes(graph)
        written = io.BytesIO()
        ox.serialize([ox.Triple(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in sorted(graph)],
                     written, format=ox.RdfFormat.RDF_XML, prefixes=prefixes)
        return written.getvalue()
    else:
        text = graph.serialize(format=rdflib_format)
    data = text.encode("utf-8") if isinstance(text, str) else text
    if offer.name == "ntriples":  # one triple a line: sorted lines are the same in every process
        data = b"".join(sorted(data.splitlines(keepends=True)))
    return data


def _restored(predicate, value):
    """A value with the datatype the store dropped put back (publisher.formats)."""
    derived = DERIVED_DATATYPES.get(str(predicate))
    if derived is not None and isinstance(value, Literal) and value.datatype == XSD.integer \
            and not str(value).startswith("-"):
        return Literal(str(value), datatype=URIRef(derived))
    return value


def _used_prefixes(graph: Graph) -> dict[str, str]:
    """The graph's prefixes that some predicate or class of it uses, in name order."""
    used = {str(p) for _s, p, _o in graph} | {str(o) for o in graph.objects(None, RDF.type)}
    return dict(sorted((prefix, str(ns)) for prefix, ns in graph.namespaces()
                       if prefix and any(term.startswith(str(ns)) for term in used)))


def _sorted_jsonld(text: str) -> str:
    """JSON-LD with its top-level nodes in @id order.

    rdflib's JSON-LD writer walks `set(graph.subjects())`, whose order follows the process's
    hash seed; the nodes themselves come out the same. Sorting them here is all it takes."""
    data = json.loads(text)
    if isinstance(data, dict) and isinstance(data.get("@graph"), list):
        data["@graph"].sort(key=lambda node: str(node.get("@id", "")))
    return json.dumps(data, indent=2, ensure_ascii=False)
