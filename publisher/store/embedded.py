"""The embedded store: pyoxigraph, in memory or on disk, from a build's canonical N-Quads.

A build writes its graph (graph.nq and metadata.nq) a second time as an on-disk pyoxigraph
store (`store/` in the release, `write_store`), with the default graph materialised as the
union of the named graphs. A large graph is served from that store, opened read-only by the
web process and by every SPARQL worker, so they share one copy through the page cache and
start at once. A small graph is loaded into memory instead, where queries run 2-8 times
faster (measured at 100k triples; see `store_in_memory_max_triples`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Unpack, overload

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from publisher.sparql.guard import scan
from publisher.sparql.results import Term, carries_prefixes
from publisher.store.base import BuildDamaged, QueryAnswer, ReleaseOnDisk, StoreError
from publisher.store.engine.pool import WorkerPool
from publisher.store.engine.worker import Job, QueryOptions, load

__all__ = ["METADATA_FILE", "STORE_DIR", "TWO_WORKERS_MAX_TRIPLES", "EmbeddedStore", "from_ox",
           "to_ox", "write_store"]

STORE_DIR = "store"  # the on-disk store in a release folder
# Two query workers up to this size, one above (query_workers = 0): at 100k triples two
# workers' in-memory copies (~135 MB each) took the serving peak to 478 MB, one to ~340 MB.
TWO_WORKERS_MAX_TRIPLES = 50_000
METADATA_FILE = "metadata.nq"  # catalogue + VoID in <base>graph/metadata (publisher.metadata)


@overload
def from_ox(term: None) -> None: ...
@overload
def from_ox(term: Term) -> URIRef | BNode | Literal: ...
def from_ox(term: Term | None) -> URIRef | BNode | Literal | None:
    """An rdflib term for a pyoxigraph term (StoreError for a triple term)."""
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


@overload
def to_ox(term: URIRef) -> ox.NamedNode: ...
@overload
def to_ox(term: BNode) -> ox.BlankNode: ...
@overload
def to_ox(term: Literal) -> ox.Literal: ...
# rdflib types every position of a graph's triples as Node, so a caller converting them
# has no kind to go by; what it makes of the term (an ox.Triple's subject, say) pyoxigraph
# checks when it is used. A term of a known kind gets its own type above.
@overload
def to_ox(term: Node) -> Any: ...
def to_ox(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A pyoxigraph term for an rdflib term (StoreError for any other node)."""
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


def write_store(folder: str | Path, files: Sequence[str | Path]) -> Path:
    """Write N-Quads files into a new on-disk store at folder, the default graph being the
    union of their graphs (as a set of triples, as publisher.store.engine.worker.load makes it)."""
    folder = Path(folder)
    if folder.exists():
        shutil.rmtree(folder)
    store = ox.Store(str(folder))
    default = ox.DefaultGraph()
    for path in files:
        store.bulk_load(path=str(path), format=ox.RdfFormat.N_QUADS)
        # The union streamed from the file: on disk this takes half the time and memory of
        # an INSERT … WHERE { GRAPH ?g … } (measured at 1M triples); duplicates merge.
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default)
                          for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS))
    store.optimize()
    store.flush()
    del store  # closes the database, so the folder can be moved and opened read-only
    return folder


class EmbeddedStore:
    """pyoxigraph holds the graph; queries see the union of all named graphs by default.

    `sources` are what SPARQL worker processes open: the on-disk store folder, or the
    N-Quads files the store was loaded from. `union` says whether the default graph
    already holds the union (else queries ask pyoxigraph for it).
    """

    name = "embedded"

    def __init__(self, store: ox.Store, build_id: str = "",
                 sources: Sequence[str | Path] = (), query_workers: int = 2,
                 union: bool = False, query_memory: int = 0):
        self.ox = store
        self.build_id = build_id
        self._count: int | None = None
        self.sources = [str(s) for s in sources]
        self.union = union
        self.query_workers = query_workers
        self.query_memory = query_memory  # bytes per worker (0: no limit)
        self._pool: WorkerPool | None = None
        self._pool_lock = threading.Lock()
        self._dump: str | None = None  # a temporary N-Quads file for the workers, if any

    @classmethod
    def from_file(cls, path: str | Path, build_id: str = "",
                  query_workers: int = 2) -> EmbeddedStore:
        """Load canonical N-Quads files (a build's graph.nq) into a fresh in-memory store."""
        return cls.from_files([path], build_id, query_workers)

    @classmethod
    def from_files(cls, paths: Sequence[str | Path], build_id: str = "",
                   query_workers: int = 2) -> EmbeddedStore:
        """Load N-Quads files into memory, the default graph made the union of their graphs."""
        try:
            store = load(list(paths))
        except (SyntaxError, OSError) as exc:  # a damaged or half-copied build
            where = getattr(exc, "filename", None) or ", ".join(str(p) for p in paths)
            raise BuildDamaged(f"cannot load the build's graph ({where}): "
                             f"{getattr(exc, 'msg', None) or exc}") from None
        return cls(store, build_id, sources=paths, query_workers=query_workers,
                   union=True)

    @classmethod
    def from_release(cls, release: ReleaseOnDisk | None, query_workers: int = 0,
                     in_memory_max_triples: int = 250_000,
                     query_memory: int = 0) -> EmbeddedStore:
        """The graph of a build (see publisher.releases.Release): its on-disk store opened
        read-only when it has more than in_memory_max_triples triples, else in memory.

        query_workers 0 chooses: one worker for the on-disk store (each worker fills store
        caches of its own, ~75 MB at 1M triples; on two cores one worker answered the
        benchmark's concurrent queries as fast as two); for a graph in memory two workers
        up to TWO_WORKERS_MAX_TRIPLES triples, so one slow query leaves another worker, and
        one above, where each worker's copy (~95 MB per 100k triples) would take serving
        past the memory target of 400 MB (issue #22)."""
        if release is None:
            raise StoreError("no build to serve: run `kiezgraph build` first")
        folder = Path(release.path)
        disk = folder / STORE_DIR
        triples = int(release.info.get("triples", 0) or 0)
        if disk.is_dir() and triples > in_memory_max_triples:
            try:
                store = ox.Store.read_only(str(disk))
            except OSError as exc:
                raise BuildDamaged(f"cannot open the release's store {disk}: {exc}") from None
            return cls(store, release.build_id, sources=[disk],
                       query_workers=query_workers or 1, union=True,
                       query_memory=query_memory)
        query_workers = query_workers or (2 if triples <= TWO_WORKERS_MAX_TRIPLES else 1)
        files = [release.graph_file]
        if (folder / METADATA_FILE).is_file():
            files.append(folder / METADATA_FILE)
        if disk.is_dir():
            # The web process reads documents from the on-disk store (rendered once, then
            # kept); only the query workers load the graph into memory, where queries run
            # 2-8x faster. A third copy in the web process cost ~95 MB at 100k triples
            # (issue #22's memory target; bench/FINDINGS.md, section 12). The workers
            # answer from the store folder while they load the files.
            try:
                store = ox.Store.read_only(str(disk))
            except OSError as exc:
                raise BuildDamaged(f"cannot open the release's store {disk}: {exc}") from None
            return cls(store, release.build_id, sources=[disk, *files],
                       query_workers=query_workers, union=True,
                       query_memory=query_memory)
        embedded = cls.from_files(files, release.build_id, query_workers)
        embedded.query_memory = query_memory
        return embedded

    def query(self, query: str, **options: Unpack[QueryOptions]
              ) -> ox.QuerySolutions | ox.QueryBoolean | ox.QueryTriples:
        """Run a query on pyoxigraph and return its raw result (default graph = union)."""
        if not self.union and not options.get("default_graph"):
            options.setdefault("use_default_graph_as_union", True)
        try:
            return self.ox.query(query, **options)
        except SyntaxError as exc:
            raise StoreError(f"SPARQL syntax error: {exc}") from None

    def select(self, query: str) -> list[dict[str, Any]]:
        """Rows of a SELECT query, each variable bound to an rdflib term (unbound ones left out)."""
        result = self._solutions(query)
        names = [v.value for v in result.variables]
        rows = []
        for solution in result:
            row: dict[str, Any] = {}
            for name in names:
                value = solution[name]
                if value is not None:
                    row[name] = from_ox(value)
            rows.append(row)
        return rows

    def select_values(self, query: str,
                      variables: Sequence[str]) -> Iterator[tuple[str | None, ...]]:
        """Rows of a SELECT query as the lexical forms of these variables (None if unbound),
        read straight from pyoxigraph: no rdflib term is made (a tenth of the memory)."""
        for solution in self._solutions(query):
            yield tuple(None if (term := solution[name]) is None else term.value
                        for name in variables)

    def ask(self, query: str) -> bool:
        """The answer of an ASK query."""
        return bool(self.query(query))

    def construct(self, query: str) -> Graph:
        """The graph of a CONSTRUCT or DESCRIBE query, as rdflib."""
        graph = Graph()
        for triple in self._triples(query):
            graph.add((from_ox(triple.subject), from_ox(triple.predicate),
                       from_ox(triple.object)))
        return graph

    def _solutions(self, query: str) -> ox.QuerySolutions:
        """The solutions of a SELECT query (TypeError for a query of another form)."""
        result = self.query(query)
        if not isinstance(result, ox.QuerySolutions):
            raise TypeError(f"not a SELECT query: {type(result).__name__} answers it")
        return result

    def _triples(self, query: str) -> ox.QueryTriples:
        """The triples of a CONSTRUCT or DESCRIBE query (TypeError for another form)."""
        result = self.query(query)
        if not isinstance(result, ox.QueryTriples):
            raise TypeError(f"not a CONSTRUCT or DESCRIBE query: {type(result).__name__} "
                            "answers it")
        return result

    def triple_count(self) -> int:
        """How many distinct triples the union of the graphs holds."""
        if self._count is None:
            rows = self.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
            self._count = int(rows[0]["n"])
        return self._count

    def ping(self) -> bool:
        """The embedded store is always there."""
        return True

    @property
    def pool(self) -> WorkerPool | None:
        """The SPARQL worker processes, once a query or warm() started them (else None)."""
        return self._pool

    def _workers(self) -> WorkerPool:
        """The pool of SPARQL worker processes, started on first use."""
        with self._pool_lock:
            if self._pool is None:
                sources = self.sources
                if not sources:  # built in memory by the caller: give the workers a file
                    fd, self._dump = tempfile.mkstemp(suffix=".nq", prefix="kiezgraph-")
                    os.close(fd)
                    self.ox.dump(self._dump, format=ox.RdfFormat.N_QUADS)
                    sources = [self._dump]
                self._pool = WorkerPool(sources, self.query_workers,
                                        memory=self.query_memory)
            return self._pool

    def warm(self) -> None:
        """Start the SPARQL workers now (in the background) rather than on the first query;
        only for a store made from files (a caller's in-memory store waits for a query)."""
        if self._pool is None and self.sources:
            self._workers()

    def run_query(self, query: str, media_type: str, *, timeout: float, max_results: int,
                  default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
                  base_iri: str | None = None, prefixes: dict[str, str] | None = None,
                  max_bytes: int = 0) -> QueryAnswer:
        """Evaluate a query in a worker process that is killed when it outlives timeout."""
        scan(query)  # cached: a no-op after the endpoint's own check, a guard without it
        job = Job(query=query, media_type=media_type, max_results=max_results,
                  default_graphs=tuple(default_graphs), named_graphs=tuple(named_graphs),
                  base_iri=base_iri,
                  prefixes=tuple((prefixes or {}).items()) if carries_prefixes(media_type)
                  else (),
                  max_bytes=max_bytes)
        return self._workers().run(job, timeout)

    def close(self) -> None:
        """Stop the SPARQL worker processes (a new snapshot replaces this store)."""
        with self._pool_lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None
            if self._dump is not None:
                Path(self._dump).unlink(missing_ok=True)
                self._dump = None
