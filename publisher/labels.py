"""The names of reused vocabularies' terms in German and English, read from a Turtle file.

The graph names its own terms (the ontology's rdfs:label @de/@en); the terms it reuses from
schema.org, ORG, PROV-O, DCTERMS, DCAT, VoID … are named in publisher/vocabularies/labels.ttl,
as data beside the vocabularies we ship, not as Python dicts in the modules that show them.
The file is read once, on first use (about a millisecond with pyoxigraph).

Pages ask `publisher.web.view.term_label`, which takes the graph's own label first (so the
ontology's labels win) and this table second.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pyoxigraph as ox

from publisher.namespaces import DCTERMS, RDFS, SKOS

__all__ = ["KINDS_FILE", "LABELS_FILE", "kind_name", "kinds", "label", "labelled", "reload"]

LABELS_FILE = Path(__file__).resolve().parent / "vocabularies" / "labels.ttl"
KINDS_FILE = Path(__file__).resolve().parent / "vocabularies" / "pages" / "kinds.ttl"
_RDFS_LABEL = str(RDFS.label)
_ALT_LABEL = str(SKOS.altLabel)
_IDENTIFIER = str(DCTERMS.identifier)


@functools.cache
def _table() -> dict[str, dict[str, str]]:
    """IRI -> language -> label, from the file (the first label per language counts)."""
    table: dict[str, dict[str, str]] = {}
    for triple in ox.parse(path=str(LABELS_FILE), format=ox.RdfFormat.TURTLE):
        if (triple.predicate.value == _RDFS_LABEL and isinstance(triple.subject, ox.NamedNode)
                and isinstance(triple.object, ox.Literal)):
            names = table.setdefault(triple.subject.value, {})
            names.setdefault(triple.object.language or "", triple.object.value)
    return table


def label(iri: str, lang: str = "de") -> str | None:
    """The term's name in `lang`, else in English (the vocabularies' own language), else in
    German, else untagged; None for a term the file does not name."""
    names = _table().get(str(iri))
    if not names:
        return None
    for wanted in (lang, "en", "de", ""):
        if wanted in names:
            return names[wanted]
    return next(iter(names.values()))


def labelled() -> frozenset[str]:
    """The IRIs of every term the file names."""
    return frozenset(_table())


@functools.cache
def _kinds() -> dict[str, dict[tuple[bool, str], str]]:
    """kind -> (plural, language) -> name, from vocabularies/pages/kinds.ttl."""
    found: dict[str, dict[tuple[bool, str], str]] = {}
    names: dict[object, dict[tuple[bool, str], str]] = {}
    kind_of: dict[object, str] = {}
    for triple in ox.parse(path=str(KINDS_FILE), format=ox.RdfFormat.TURTLE,
                           base_iri="urn:kiezgraph:"):
        predicate, value = triple.predicate.value, triple.object
        if predicate == _IDENTIFIER and isinstance(value, ox.Literal):
            kind_of[triple.subject] = value.value
        elif predicate in (_RDFS_LABEL, _ALT_LABEL) and isinstance(value, ox.Literal):
            names.setdefault(triple.subject, {}).setdefault(
                (predicate == _ALT_LABEL, value.language or ""), value.value)
    for subject, kind in kind_of.items():
        found[kind] = names.get(subject, {})
    return found


def kinds() -> tuple[str, ...]:
    """The kinds of things the pages name (the <kind> of id/<kind>/…), in the file's order."""
    return tuple(_kinds())


def kind_name(kind: str, lang: str = "de", plural: bool = False) -> str | None:
    """What the pages call one thing of a kind (or, plural, the list of them) in `lang`, else
    in English, else German; None for a kind the file does not name."""
    names = _kinds().get(kind)
    if not names:
        return None
    for wanted in (lang, "en", "de"):
        if (plural, wanted) in names:
            return names[(plural, wanted)]
    return None


def reload() -> None:
    """Forget the labels read so far: the next look-up reads the file again (after
    labels.ttl was edited in a running process, or to measure a first read)."""
    _table.cache_clear()
    _kinds.cache_clear()
