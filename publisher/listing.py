"""The members of one kind of thing (id/<kind>/…), labelled and sorted for a list page."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdflib import Graph, URIRef

from publisher import describe
from publisher.iris import ID
from publisher.search import fold

__all__ = ["KIND_PATTERN", "Listing", "list_kind"]

# A kind is one lower-case path segment, as the IRI scheme names them (docs/ARCHITECTURE.md).
KIND_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,62}")


@dataclass
class Listing:
    """Every member of a kind with the label graph to name them."""

    kind: str
    members: list[URIRef]
    labels: Graph
    main_type: URIRef | None

    def sorted(self, lang: str) -> list[tuple[URIRef, str]]:
        """(member, label) pairs in the page language, in alphabetical order (umlauts folded)."""
        named = [(m, describe.label_of(self.labels, m, lang)) for m in self.members]
        return sorted(named, key=lambda item: (fold(item[1]), item[1], str(item[0])))


def list_kind(store, base: str, kind: str) -> Listing | None:
    """The members of id/<kind>/ (hash IRIs left out), or None for no such kind."""
    if not KIND_PATTERN.fullmatch(kind):
        return None
    prefix = f"{base}{ID}{kind}/"
    rows = store.select(
        "SELECT ?s (SAMPLE(?t) AS ?type) WHERE { ?s ?p ?o "
        f"FILTER(isIRI(?s) && STRSTARTS(STR(?s), {describe._string(prefix)}) "
        "&& !CONTAINS(STR(?s), \"#\")) OPTIONAL { ?s a ?t } } GROUP BY ?s")
    members = sorted({row["s"] for row in rows if "s" in row})
    if not members:
        return None
    types: dict[URIRef, int] = {}
    for row in rows:
        if "type" in row:
            types[row["type"]] = types.get(row["type"], 0) + 1
    main = max(types, key=lambda t: (types[t], str(t))) if types else None
    labels = describe.labels(store, [*members, *([main] if main else [])])
    return Listing(kind=kind, members=members, labels=labels, main_type=main)
