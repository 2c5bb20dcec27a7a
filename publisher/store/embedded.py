"""The embedded store: pyoxigraph in memory, loaded from a build's canonical N-Quads."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef

from publisher.store.base import QueryAnswer, StoreError

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

    def __init__(self, store: ox.Store, build_id: str = "", graph_file: str | Path | None = None,
                 query_workers: int = 2):
        self.ox = store
        self.build_id = build_id
        self._count: int | None = None
        self.graph_file = graph_file  # what SPARQL worker processes load (see run_query)
        self.query_workers = query_workers
        self._pool = None
        self._pool_lock = threading.Lock()

    @classmethod
    def from_file(cls, path: str | Path, build_id: str = "",
                  query_workers: int = 2) -> EmbeddedStore:
        """Load canonical N-Quads (a build's graph.nq) into a fresh in-memory store."""
        store = ox.Store()
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        return cls(store, build_id, graph_file=path, query_workers=query_workers)

    @classmethod
    def from_release(cls, release, query_workers: int = 2) -> EmbeddedStore:
        """Load the graph of a build (see publisher.build.Release)."""
        if release is None:
            raise StoreError("no build to serve: run `kiezgraph build` first")
        store = cls.from_file(release.graph_file, release.build_id, query_workers)
        metadata = Path(release.path) / "metadata.nq"
        if metadata.is_file():  # catalogue + VoID in <base>graph/metadata (publisher.metadata)
            store.ox.bulk_load(path=str(metadata), format=ox.RdfFormat.N_QUADS)
            store.graph_file = None  # so the SPARQL workers load a dump that includes it
        return store

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

    def _workers(self):
        """The pool of SPARQL worker processes, started on first use."""
        with self._pool_lock:
            if self._pool is None:
                from publisher.sparql.executor import WorkerPool

                if self.graph_file is None:  # built in memory: give the workers a file
                    fd, name = tempfile.mkstemp(suffix=".nq", prefix="kiezgraph-")
                    os.close(fd)
                    self.ox.dump(name, format=ox.RdfFormat.N_QUADS)
                    self.graph_file = name
                self._pool = WorkerPool(self.graph_file, self.query_workers)
            return self._pool

    def run_query(self, query: str, media_type: str, *, timeout: float, max_results: int,
                  default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
                  base_iri: str | None = None,
                  prefixes: dict[str, str] | None = None) -> QueryAnswer:
        """Evaluate a query in a worker process that is killed when it outlives timeout."""
        from publisher.sparql.executor import Job
        from publisher.sparql.guard import check

        check(query)  # cached: a no-op after the endpoint's own check, a guard without it
        job = Job(query=query, media_type=media_type, max_results=max_results,
                  default_graphs=tuple(default_graphs), named_graphs=tuple(named_graphs),
                  base_iri=base_iri, prefixes=tuple((prefixes or {}).items()))
        return self._workers().run(job, timeout)

    def close(self) -> None:
        """Stop the SPARQL worker processes (a new snapshot replaces this store)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
