"""Load a build into an external store and switch readers to it only once it is complete.

The store is spoken to in W3C standards only: SPARQL 1.1 Update (an update endpoint) or the
SPARQL 1.1 Graph Store HTTP Protocol (a graph store endpoint) for writing, the SPARQL 1.1
Protocol for reading. The steps (see publisher.store.releases for the graph layout):

1. write the new release's manifest graph (so a later load can find and drop leftovers);
2. write its data graphs, one per source file, in chunks;
3. count the triples of every new graph and of their union and compare with the build;
4. point ``graph/current-release`` at the new release in one update: readers switch here;
5. drop every older release except the one just replaced (readers that looked the pointer
   up a moment ago may still query it) and any half-loaded leftovers.

A load that fails or dies before step 4 leaves the served release as it was.
"""

from __future__ import annotations

import contextlib
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from publisher.namespaces import DCTERMS, OWL, RDF, VOID, XSD
from publisher.store.auth import describe_failure, opener
from publisher.store.base import StoreError
from publisher.store.hardening import PUBLISH_PROCEDURE
from publisher.store.releases import (
    StoredRelease,
    current_release_term,
    data_graph_iri,
    pointer_iri,
    release_iri,
    releases_prefix,
)
from publisher.store.remote import RemoteStore

__all__ = ["LoadError", "LoadResult", "Writer", "chunks", "load_release"]

XSD_INTEGER = str(XSD.integer)
XSD_STRING = str(XSD.string)
METADATA_FILE = "metadata.nq"  # written by publisher.metadata's build step


class LoadError(StoreError):
    """The load did not complete; the release served before is unchanged."""


@dataclass
class LoadResult:
    """What a load did."""

    release: StoredRelease
    previous: str | None
    chunks: int = 0
    dropped: list[str] = field(default_factory=list)
    unchanged: bool = False
    seconds: float = 0.0
    published: int = 0  # graphs made readable to a hardened store's anonymous readers


class Writer:
    """Writes graphs through SPARQL 1.1 Update, or through the Graph Store HTTP Protocol."""

    # Our own urllib opener rather than SPARQLWrapper's: its digest support installs a
    # process-wide opener for one fixed realm, and the Graph Store Protocol is not in it.
    def __init__(self, *, update_endpoint: str = "", graph_store: str = "", user: str = "",
                 password: str = "", timeout: float = 120.0):
        if not (update_endpoint or graph_store):
            raise LoadError("give an update endpoint or a graph store endpoint to load into")
        self.update_endpoint = update_endpoint
        self.graph_store = graph_store
        self.timeout = timeout
        self._credentials = (user, password)

    @property
    def protocol(self) -> str:
        """Which standard the writes use."""
        return "SPARQL 1.1 Graph Store HTTP Protocol" if self.graph_store else "SPARQL 1.1 Update"

    def _send(self, url: str, method: str, body: bytes, content_type: str,
              accept: str = "*/*") -> bytes:
        request = urllib.request.Request(url, data=body, method=method,
                                         headers={"Content-Type": content_type,
                                                  "Accept": accept})
        base_url = url.split("?", 1)[0]
        endpoint = self.graph_store if base_url == self.graph_store else self.update_endpoint
        # A fresh opener per request: urllib's digest handler counts failed answers (a 404
        # after a successful challenge too) across requests and gives up after six.
        handler = opener(endpoint, *self._credentials)
        try:
            with handler.open(request, timeout=self.timeout) as response:
                return response.read()
        except Exception as exc:  # urllib's, socket's and http.client's alike
            raise describe_failure(base_url, exc) from None

    def update(self, operation: str) -> None:
        """Run one SPARQL 1.1 Update request (needs the update endpoint)."""
        if not self.update_endpoint:
            raise LoadError("this step needs SPARQL Update: give --update-endpoint")
        body = urllib.parse.urlencode({"update": operation}).encode("ascii")
        self._send(self.update_endpoint, "POST", body, "application/x-www-form-urlencoded")

    def _graph_url(self, graph: str) -> str:
        return f"{self.graph_store}?{urllib.parse.urlencode({'graph': graph})}"

    def add(self, graph: str, ntriples: str) -> None:
        """Add triples (N-Triples text) to a graph."""
        if self.graph_store:
            # N-Triples is Turtle, and every graph store reads Turtle.
            self._send(self._graph_url(graph), "POST", ntriples.encode("utf-8"), "text/turtle")
        elif "_:" in ntriples:
            # Blank nodes in a template: some stores (Virtuoso) refuse them in INSERT DATA;
            # INSERT … WHERE {} is the same update, one fresh node per label, in every store.
            self.update(f"INSERT {{ GRAPH <{graph}> {{\n{ntriples}}} }} WHERE {{}}")
        else:
            self.update(f"INSERT DATA {{ GRAPH <{graph}> {{\n{ntriples}}} }}")

    def replace(self, graph: str, ntriples: str) -> None:
        """Make a graph hold exactly these triples."""
        if self.graph_store:
            self._send(self._graph_url(graph), "PUT", ntriples.encode("utf-8"), "text/turtle")
        else:
            self.update(f"DROP SILENT GRAPH <{graph}> ;\n"
                        f"INSERT DATA {{ GRAPH <{graph}> {{\n{ntriples}}} }}")

    def drop(self, graphs: Iterable[str]) -> None:
        """Remove graphs (missing ones are fine)."""
        graphs = list(graphs)
        if not graphs:
            return
        if self.update_endpoint:
            self.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in graphs))
            return
        for graph in graphs:
            try:
                self._send(self._graph_url(graph), "DELETE", b"", "text/turtle")
            except StoreError as exc:
                if "HTTP 404" not in str(exc):
                    raise

    def publish(self, graphs: Iterable[str]) -> bool:
        """Make graphs readable to anonymous readers of a store hardened by `kiezgraph
        harden-sql` (its KG_PUBLISH_GRAPH procedure); False, doing nothing, where the store
        is not hardened (it has no such procedure). Needs the update endpoint."""
        graphs = list(graphs)
        if not graphs:
            return True
        if not self.update_endpoint:
            return False  # the Graph Store Protocol cannot call it; see SECURITY.md
        for graph in graphs:
            query = f'SELECT (<sql:{PUBLISH_PROCEDURE}>("{graph}", 1) AS ?published) {{}}'
            body = urllib.parse.urlencode({"query": query}).encode("utf-8")
            try:
                answer = self._send(self.update_endpoint, "POST", body,
                                    "application/x-www-form-urlencoded",
                                    accept="application/sparql-results+json")
            except StoreError as exc:
                if "SR185" in str(exc) or "Undefined procedure" in str(exc):
                    return False  # not hardened: every graph is readable already
                raise
            if b'"1"' not in answer:  # another store: an unknown function leaves ?published unbound
                return False
        return True

    def point(self, pointer: str, predicate: str, release: str) -> None:
        """Switch the pointer graph to a release in one request."""
        triple = f"<{pointer}> <{predicate}> <{release}> .\n"
        if self.update_endpoint:
            # One request, two operations; a DELETE/INSERT … WHERE { OPTIONAL … } would be one
            # operation, but Virtuoso sometimes inserts nothing when the graph is still empty.
            self.update(f"DELETE WHERE {{ GRAPH <{pointer}> {{ ?s ?p ?o }} }} ;\n"
                        f"INSERT DATA {{ GRAPH <{pointer}> {{ {triple}}} }}")
        else:
            self.replace(pointer, triple)


def _bnodes(triple: ox.Triple) -> list[str]:
    return [t.value for t in (triple.subject, triple.object) if isinstance(t, ox.BlankNode)]


def chunks(triples: list[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Triples in chunks of about `size`, never splitting the triples around a blank node.

    Blank node labels are scoped to one request, so every triple that shares a blank node
    (directly or through others) must go to the store in the same chunk.
    """
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        while parent.setdefault(node, node) != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for triple in triples:
        labels = _bnodes(triple)
        for other in labels[1:]:
            parent[find(other)] = find(labels[0])
    units: dict[str, list[ox.Triple]] = {}
    plain: list[list[ox.Triple]] = []
    for triple in triples:
        labels = _bnodes(triple)
        if labels:
            units.setdefault(find(labels[0]), []).append(triple)
        else:
            plain.append([triple])
    chunk: list[ox.Triple] = []
    for unit in [*units.values(), *plain]:
        if chunk and len(chunk) + len(unit) > size:
            yield chunk
            chunk = []
        chunk.extend(unit)
    if chunk:
        yield chunk


def _term(term) -> str:
    """A term in N-Triples syntax; a plain string literal with its xsd:string spelled out.

    The same term in RDF 1.1, but Virtuoso's SPARQL Update turns a plain literal whose text
    equals an IRI written earlier in the same request into that IRI (a catalogue's
    dcterms:identifier, a void:uriSpace); with the datatype written out it keeps the literal.
    """
    text = str(term)  # pyoxigraph writes terms in N-Triples syntax
    if (isinstance(term, ox.Literal) and not term.language
            and term.datatype.value == XSD_STRING):
        text += f"^^<{XSD_STRING}>"
    return text


def _ntriples(triples: Iterable[ox.Triple]) -> str:
    return "".join(f"{_term(t.subject)} {_term(t.predicate)} {_term(t.object)} .\n"
                   for t in triples)


def _literal(value: str | int) -> str:
    if isinstance(value, int):
        return f'"{value}"^^<{XSD_INTEGER}>'
    return str(ox.Literal(value))  # pyoxigraph writes terms in N-Triples syntax


def _read_build(release, base: str) -> dict[str, list[ox.Triple]]:
    """The build's triples by source graph IRI (the default graph as the base's graph/).

    The served graph is graph.nq plus the catalogue and VoID graph in metadata.nq, the
    same files the embedded store loads.
    """
    graphs: dict[str, list[ox.Triple]] = {}
    files = [Path(release.graph_file), Path(release.path) / METADATA_FILE]
    for path in (f for f in files if f.is_file()):
        for quad in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
            name = quad.graph_name.value if isinstance(quad.graph_name, ox.NamedNode) else ""
            graphs.setdefault(name or f"{base}graph/", []).append(quad.triple)
    return {name: sorted(set(triples), key=str) for name, triples in sorted(graphs.items())}


def _manifest(base: str, release, graphs: dict[str, list[ox.Triple]],
              total: int) -> tuple[str, dict]:
    """The manifest graph's N-Triples and the data graphs with their expected counts."""
    iri = release_iri(base, release.build_id)
    expected = {data_graph_iri(base, release.build_id, source): len(triples)
                for source, triples in graphs.items()}
    lines = [
        f"<{iri}> <{RDF.type}> <{VOID.Dataset}> .",
        f"<{iri}> <{DCTERMS}identifier> {_literal(release.build_id)} .",
        f"<{iri}> <{OWL}versionInfo> {_literal(release.version)} .",
        f"<{iri}> <{VOID}triples> {_literal(total)} .",
    ]
    for source in graphs:
        graph = data_graph_iri(base, release.build_id, source)
        lines += [f"<{iri}> <{DCTERMS}hasPart> <{graph}> .",
                  f"<{graph}> <{DCTERMS}source> <{source}> .",
                  f"<{graph}> <{VOID}triples> {_literal(expected[graph])} ."]
    return "\n".join(lines) + "\n", expected


def _stored_releases(reader: RemoteStore, base: str) -> dict[str, list[str]]:
    """Every release manifest in the store (complete or not) and its data graphs."""
    rows = reader.select_over(
        f"SELECT ?release ?graph WHERE {{ GRAPH ?release {{ ?release a <{VOID}Dataset> ; "
        f"<{DCTERMS}identifier> ?id . OPTIONAL {{ ?release <{DCTERMS}hasPart> ?graph }} }} "
        f'FILTER(STRSTARTS(STR(?release), "{releases_prefix(base)}")) }}', None)
    found: dict[str, list[str]] = {}
    for row in rows:
        graphs = found.setdefault(str(row["release"]), [])
        if "graph" in row:
            graphs.append(str(row["graph"]))
    return found


def _counts(reader: RemoteStore, expected: dict[str, int], total: int) -> list[str]:
    """What differs between the graphs in the store and the build (empty: complete)."""
    problems = []
    for graph, want in expected.items():
        rows = reader.select_over(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", None)
        have = int(rows[0]["n"]) if rows else 0
        if have != want:
            problems.append(f"{graph}: {have} triples, the build has {want}")
    rows = reader.select_over(
        "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } }",
        list(expected))
    have = int(rows[0]["n"]) if rows else 0
    if have != total:
        problems.append(f"union of the release's graphs: {have} triples, the build has {total}")
    return problems


def load_release(release, reader: RemoteStore, writer: Writer, *, chunk_size: int = 5000,
                 progress: Callable[[str, int, int], None] | None = None) -> LoadResult:
    """Load a build into the store as a new release and make it current once it is complete."""
    started = time.monotonic()
    base = reader.base
    graphs = _read_build(release, base)
    total = len({t for triples in graphs.values() for t in triples})
    manifest, expected = _manifest(base, release, graphs, total)
    try:
        previous = reader.current(fresh=True)
    except StoreError as exc:
        if "holds no kiezgraph release" not in str(exc):
            raise
        previous = None
    new_iri = release_iri(base, release.build_id)
    if previous is not None and previous.iri == new_iri and not _counts(reader, expected, total):
        return LoadResult(release=previous, previous=previous.build_id, unchanged=True,
                          seconds=time.monotonic() - started)

    stored = _stored_releases(reader, base)
    if previous is not None and previous.iri == new_iri:
        raise LoadError(f"the store's current release {release.build_id} is not complete; "
                        "build again (a new build id) and load that")
    # Leftovers of an earlier, interrupted load of this very build.
    writer.drop([*stored.get(new_iri, []), *expected, new_iri])
    result = LoadResult(release=StoredRelease(new_iri, release.build_id, release.version, total,
                                              expected, {}),
                        previous=previous.build_id if previous else None)
    try:
        writer.replace(new_iri, manifest)
        done, all_triples = 0, sum(len(t) for t in graphs.values())
        for source, triples in graphs.items():
            graph = data_graph_iri(base, release.build_id, source)
            for chunk in chunks(triples, chunk_size):
                writer.add(graph, _ntriples(chunk))
                done += len(chunk)
                result.chunks += 1
                if progress:
                    progress(source, done, all_triples)
        # A hardened store shows anonymous readers (kiezgraph's too) only published graphs:
        # the new ones become readable now, before they are counted and pointed to.
        if writer.publish([*expected, new_iri]):
            result.published = len(expected) + 1
        problems = _counts(reader, expected, total)
        if problems:
            raise LoadError("the store does not hold the whole build, so it was not switched "
                            "to it:\n  " + "\n  ".join(problems))
    except BaseException:
        # Best effort: the pointer was not touched, so readers never saw these graphs.
        with contextlib.suppress(Exception):  # the original failure is the one to report
            writer.drop([*expected, new_iri])
        raise
    writer.point(pointer_iri(base), current_release_term(base), new_iri)
    if result.published:
        writer.publish([pointer_iri(base)])
        result.published += 1
    result.release = reader.current(fresh=True)
    keep = {new_iri, previous.iri if previous else ""}
    for old, old_graphs in stored.items():
        if old not in keep:
            writer.drop([*old_graphs, old])
            result.dropped.append(old)
    result.seconds = time.monotonic() - started
    return result
