"""How releases sit in an external store: their named graphs, manifests and the current pointer.

Layout (all IRIs under the base):

- ``graph/release/<build-id>`` — a release's manifest graph. It says which data graphs the
  release has, what source graph each one holds and how many triples each must have.
- ``graph/release/<build-id>/<path>`` — one data graph per source file of the release,
  e.g. ``graph/release/<build-id>/data/organisations`` for the embedded store's
  ``graph/data/organisations`` (the manifest links the two with ``dcterms:source``).
- ``graph/current-release`` — the pointer graph: one triple
  ``<graph/current-release> kg:currentRelease <graph/release/<build-id>>``.

A load writes a new release's graphs next to the served one and changes the pointer in one
SPARQL Update only once every graph holds its triples; readers follow the pointer and query
with the release's graphs as the dataset, so they never see a half-loaded release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from publisher.namespaces import DCTERMS, OWL, VOID, kg

__all__ = [
    "CURRENT_QUERY",
    "DCTERMS",
    "OWL",
    "VOID",
    "StoredRelease",
    "current_release_term",
    "data_graph_iri",
    "pointer_iri",
    "release_iri",
    "releases_prefix",
]

# The one query a reader needs: the current release and its data graphs, by the pointer.
CURRENT_QUERY = """
SELECT ?release ?id ?version ?triples ?graph ?source ?count WHERE {{
  GRAPH <{pointer}> {{ <{pointer}> <{current}> ?release }}
  GRAPH ?release {{
    ?release <{dct}identifier> ?id ; <{owl}versionInfo> ?version ; <{void}triples> ?triples .
    OPTIONAL {{ ?release <{dct}hasPart> ?graph .
               ?graph <{dct}source> ?source ; <{void}triples> ?count }}
  }}
}}"""


def pointer_iri(base: str) -> str:
    """The pointer graph (and its subject): which release readers see."""
    return f"{base}graph/current-release"


def current_release_term(base: str) -> str:
    """The predicate of the pointer triple."""
    return f"{kg(base)}currentRelease"


def releases_prefix(base: str) -> str:
    """Every release's graphs start with this."""
    return f"{base}graph/release/"


def release_iri(base: str, build_id: str) -> str:
    """A release's manifest graph, also the release's name."""
    return f"{releases_prefix(base)}{build_id}"


def data_graph_iri(base: str, build_id: str, source_graph: str) -> str:
    """Where a release keeps the triples of one source graph (<base>graph/<path>)."""
    prefix = f"{base}graph/"
    path = source_graph[len(prefix):] if source_graph.startswith(prefix) else "default"
    return f"{release_iri(base, build_id)}/{path}"


@dataclass(frozen=True)
class StoredRelease:
    """A release as its manifest describes it."""

    iri: str
    build_id: str
    version: str
    triples: int
    graphs: dict[str, int]  # data graph -> triples it must hold
    sources: dict[str, str]  # data graph -> the source graph it stands for

    @classmethod
    def from_rows(cls, rows: list[dict[str, Any]]) -> StoredRelease | None:
        """The release from the rows of CURRENT_QUERY (None when there is no pointer)."""
        if not rows:
            return None
        first = rows[0]
        graphs = {str(r["graph"]): int(r["count"]) for r in rows if "graph" in r}
        sources = {str(r["graph"]): str(r["source"]) for r in rows if "graph" in r}
        return cls(iri=str(first["release"]), build_id=str(first["id"]),
                   version=str(first["version"]), triples=int(first["triples"]),
                   graphs=graphs, sources=sources)

    @staticmethod
    def query(base: str) -> str:
        """CURRENT_QUERY for a base."""
        return CURRENT_QUERY.format(pointer=pointer_iri(base), current=current_release_term(base),
                                    dct=DCTERMS, owl=OWL, void=VOID)
