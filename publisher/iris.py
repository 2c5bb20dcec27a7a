"""Map request paths to the graph's IRIs (thing ↔ document) and move graphs between bases."""

from __future__ import annotations

import re

from rdflib import Graph, Literal, URIRef

__all__ = [
    "DOC",
    "GRAPHS",
    "ID",
    "MAX_PATH",
    "ONTOLOGY",
    "ONTOLOGY_TERMS",
    "document_path",
    "graph_path",
    "is_safe_path",
    "local_path",
    "own_path",
    "rebase",
    "rebase_graph",
    "thing_path",
]

ID = "id/"
DOC = "doc/"
GRAPHS = "graph/"  # named graphs: graph/<source file's path without .ttl>
ONTOLOGY = "ontology"
ONTOLOGY_TERMS = "ontology/"
MAX_PATH = 1024

# A path segment may hold what an IRI path may hold, minus what SPARQL's IRIREF and
# Turtle forbid (<>"{}|^`\ and spaces/controls), so an accepted path can be written
# into a query as <…> without escaping. Anything else cannot be an IRI of ours; nor can
# what RFC 3987 leaves out of ucschar (C1 controls, surrogates, private use, non-characters),
# which pyoxigraph rightly refuses.
_SEGMENT = re.compile(r"[^\x00-\x20\x7f-\x9f<>\"{}|^`\\#?\[\]\ud800-\uf8ff\ufdd0-\ufdef"
                      r"\ufff0-\uffff\U000e0000-\U000e0fff\U000f0000-\U0010ffff]+")
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def is_safe_path(path: str) -> bool:
    """Whether a base-relative path can name one of our IRIs (no dot segments, no odd bytes)."""
    if not path or len(path) > MAX_PATH:
        return False
    if any(ord(c) & 0xFFFE == 0xFFFE for c in path):  # U+xFFFE/xFFFF of every plane
        return False
    if _BAD_PERCENT.search(path):  # '%' must start a %XX escape in an IRI
        return False
    segments = path.split("/")
    return all(s not in ("", ".", "..") and _SEGMENT.fullmatch(s) for s in segments)


def document_path(thing: str) -> str | None:
    """The document path of a thing's path (id/x → doc/x, ontology/T → doc/ontology/T).

    Paths are base-relative; None when the path names no thing with a separate document.
    """
    if thing.startswith(ID) and len(thing) > len(ID):
        return DOC + thing[len(ID):]
    if thing.startswith(ONTOLOGY_TERMS) and len(thing) > len(ONTOLOGY_TERMS):
        return DOC + thing
    return None


def thing_path(document: str) -> str | None:
    """The thing a document path is about (doc/x → id/x, doc/ontology/T → ontology/T)."""
    if not document.startswith(DOC) or len(document) == len(DOC):
        return None
    rest = document[len(DOC):]
    if rest.startswith(ONTOLOGY_TERMS):
        return rest
    return ID + rest


def graph_path(iri: str, base: str) -> str | None:
    """The base-relative path of one of our IRIs, or None for an external IRI."""
    return iri[len(base):] if iri.startswith(base) else None


def local_path(iri: str, base: str) -> str | None:
    """Where a page about one of our IRIs lives on this server, base-relative (None: external).

    Things link straight to their documents, so a reader does not pay a redirect per click.
    """
    path = graph_path(iri, base)
    if path is None:
        return None
    return document_path(path) or path


def own_path(iri: str, base: str) -> str:
    """local_path of an IRI known to be one of ours (a member of a kind); ValueError if not."""
    path = local_path(iri, base)
    if path is None:
        raise ValueError(f"<{iri}> is not under the base {base}")
    return path


def rebase(term, old: str, new: str):
    """The term with an IRI under `old` moved under `new`; other terms as they are."""
    if old == new:
        return term
    if isinstance(term, URIRef) and term.startswith(old):
        return URIRef(new + term[len(old):])
    if isinstance(term, Literal) and term.datatype is not None and term.datatype.startswith(old):
        return Literal(str(term), datatype=URIRef(new + term.datatype[len(old):]))
    return term


def rebase_graph(graph: Graph, old: str, new: str) -> Graph:
    """A copy of the graph with every IRI under `old` moved under `new`, prefixes too."""
    if old == new:
        return graph
    moved = Graph(bind_namespaces="none")
    for prefix, namespace in graph.namespaces():
        moved.bind(prefix, rebase(URIRef(namespace), old, new), override=True, replace=True)
    for s, p, o in graph:
        moved.add((rebase(s, old, new), rebase(p, old, new), rebase(o, old, new)))
    return moved
