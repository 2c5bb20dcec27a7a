"""The embedded store: pyoxigraph in memory, loaded from a build's canonical N-Quads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from publisher.store.base import StoreError

__all__ = ["EmbeddedStore", "from_ox", "to_ox"]


def from_ox(term) -> Any:
    """An rdflib term for a pyoxigraph term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    if term is None:
        return None
    raise StoreError(f"unsupported term {term!r}")


def to_ox(term) -> Any:
    """A pyoxigraph term for an rdflib term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise StoreError(f"unsupported term {term!r}")


class EmbeddedStore:
    """pyoxigraph holds the graph; queries see the union of all named graphs by default."""

    name = "embedded"

    def __init__(self, store: ox.Store, build_id: str = ""):
        self.ox = store
        self.build_id = build_id
        self._count: int | None = None

    @classmethod
    def from_file(cls, path: str | Path, build_id: str = "") -> EmbeddedStore:
        """Load canonical N-Quads (a build's graph.nq) into a fresh in-memory store."""
        store = ox.Store()
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        return cls(store, build_id)

    @classmethod
    def from_release(cls, release) -> EmbeddedStore:
        """Load the graph of a build (see publisher.build.Release)."""
        if release is None:
            raise StoreError("no build to serve: run `kiezgraph build` first")
        return cls.from_file(release.graph_file, release.build_id)

    def query(self, query: str, **options: Any):
        """Run a query on pyoxigraph and return its raw result (default graph = union)."""
        if not options.get("default_graph"):
            options.setdefault("use_default_graph_as_union", True)
        try:
            return self.ox.query(query, **options)
        except SyntaxError as exc:
            raise StoreError(f"SPARQL syntax error: {exc}") from None

    def select(self, query: str) -> list[dict[str, Any]]:
        """Rows of a SELECT query, each variable bound to an rdflib term (unbound ones left out)."""
        result = self.query(query)
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = from_ox(value)
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        """The answer of an ASK query."""
        return bool(self.query(query))

    def construct(self, query: str) -> Graph:
        """The graph of a CONSTRUCT or DESCRIBE query, as rdflib."""
        graph = Graph()
        for triple in self.query(query):
            graph.add((from_ox(triple.subject), from_ox(triple.predicate),
                       from_ox(triple.object)))
        return graph

    def triple_count(self) -> int:
        """How many distinct triples the union of the graphs holds."""
        if self._count is None:
            rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            self._count = int(rows[0]["n"])
        return self._count

    def ping(self) -> bool:
        """The embedded store is always there."""
        return True
