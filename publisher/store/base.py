"""The store interface every backend implements, and its errors (defined below both the stores
and the SPARQL layer, in publisher.sparql.errors, and named here for the stores' users)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from rdflib import Graph

from publisher.sparql.errors import (
    QueryAborted,
    QueryAnswer,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)

__all__ = [
    "BuildDamaged",
    "QueryAborted",
    "QueryAnswer",
    "QuerySyntaxError",
    "QueryTimeout",
    "ReleaseOnDisk",
    "Store",
    "StoreError",
    "StoreUnavailable",
]


class BuildDamaged(StoreError):
    """The local build cannot be served as it is on disk (changed, truncated, half-copied):
    a fault of the data to serve, not of a store to reach, so `serve` exits 1, not 2."""


class Store(Protocol):
    """What the web layer and the metadata need from a store."""

    name: str

    def select(self, query: str) -> list[dict[str, Any]]:
        """Rows of a SELECT query, each variable bound to an rdflib term."""
        ...

    def select_values(self, query: str,
                      variables: Sequence[str]) -> Iterator[tuple[str | None, ...]]:
        """Rows of a SELECT query as the lexical forms of these variables (None if unbound):
        plain strings, for answers too large to hold as rdflib terms."""
        ...

    def ask(self, query: str) -> bool:
        """The answer of an ASK query."""
        ...

    def construct(self, query: str) -> Graph:
        """The graph of a CONSTRUCT or DESCRIBE query."""
        ...

    def triple_count(self) -> int:
        """How many distinct triples the published graph holds."""
        ...

    def ping(self) -> bool:
        """Whether the store answers right now."""
        ...

    def run_query(self, query: str, media_type: str, *, timeout: float, max_results: int,
                  default_graphs: Sequence[str] = (), named_graphs: Sequence[str] = (),
                  base_iri: str | None = None, prefixes: dict[str, str] | None = None,
                  max_bytes: int = 0) -> QueryAnswer:
        """Evaluate a query already checked by publisher.sparql.guard; answer in media_type.

        Raises QueryTimeout after `timeout` seconds, QuerySyntaxError when the engine
        cannot parse it, StoreUnavailable when busy, QueryAborted when the engine gave up
        (memory limit, crash). Keeps at most max_results rows/triples and, when max_bytes is
        set, about max_bytes bytes (either cut sets `truncated`).
        Non-empty default_graphs/named_graphs form the dataset (protocol
        default-graph-uri/named-graph-uri); else the query's FROM clauses, else the union.
        Relative IRIs resolve against base_iri; prefixes may shorten RDF output.
        """
        ...


class ReleaseOnDisk(Protocol):
    """What the embedded store reads of a finished build (publisher.releases.Release)."""

    @property
    def path(self) -> Path:
        """The build's folder."""
        ...

    @property
    def info(self) -> Mapping[str, Any]:
        """The build's info (build.json): "triples" among others."""
        ...

    @property
    def build_id(self) -> str:
        """Unique per build."""
        ...

    @property
    def graph_file(self) -> Path:
        """The canonical N-Quads file."""
        ...
