"""Label search: an index of every label and alternative label, built once per build."""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass, field

from publisher.namespaces import DCTERMS, FOAF, RDFS, SCHEMA, SKOS

__all__ = ["LABEL_PROPERTIES", "Hit", "SearchIndex", "build_index", "fold", "folds", "kind_of"]

# Preferred names first: a match on one of these ranks above a match on an alternative.
# (Plain strings: the index compares them with the plain strings the store answers.)
PREFERRED = tuple(str(p) for p in (SKOS.prefLabel, RDFS.label, SCHEMA.name, FOAF.name,
                                   DCTERMS.title))
ALTERNATIVE = tuple(str(p) for p in (SKOS.altLabel, SKOS.hiddenLabel, SCHEMA.alternateName,
                                     DCTERMS.alternative, SKOS.notation))
LABEL_PROPERTIES = PREFERRED + ALTERNATIVE

# German spellings: an umlaut is written either as the bare vowel (a search box without
# umlauts) or as the vowel plus e (Weissensee, Muenchen). Each label is indexed in both
# forms, each query is tried in both, so any spelling finds any other.
_BARE = str.maketrans({"ä": "a", "ö": "o", "ü": "u"})
_DIGRAPH = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_SPACE = re.compile(r"[\W_]+")


def _plain(text: str) -> str:
    """Lower case (casefold turns ß into ss), punctuation to single spaces."""
    text = unicodedata.normalize("NFC", text).casefold()
    return _SPACE.sub(" ", text).strip()


def _strip_marks(text: str) -> str:
    """Drop the remaining diacritics (é → e), after the umlauts were spelled out."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> str:
    """The search form of a text: case-free, ß → ss, ä/ö/ü → a/o/u, other accents dropped."""
    return _strip_marks(_plain(text).translate(_BARE))


def folds(text: str) -> tuple[str, ...]:
    """Every search form of a text: umlauts as bare vowels and as vowel + e."""
    plain = _plain(text)
    forms = (_strip_marks(plain.translate(_BARE)), _strip_marks(plain.translate(_DIGRAPH)))
    return tuple(dict.fromkeys(forms))


def kind_of(iri: str, base: str) -> str:
    """What sort of thing an IRI names, from its path: id/<kind>/…, ontology, or other."""
    if not iri.startswith(base):
        return "other"
    path = iri[len(base):]
    if path == "ontology" or path.startswith("ontology/"):
        return "ontology"
    parts = path.split("/")
    if len(parts) >= 3 and parts[0] == "id":
        return parts[1]
    return parts[0] or "other"


@dataclass(frozen=True)
class Hit:
    """One search result: a resource, its names and how well it matched."""

    iri: str
    kind: str
    labels: dict[str, str]
    matched: str
    score: tuple

    def label(self, lang: str = "de") -> str:
        """The resource's name in lang, else in the other language, else the matched label."""
        return (self.labels.get(lang) or self.labels.get("de") or self.labels.get("en")
                or self.labels.get("") or self.matched)

    def as_dict(self) -> dict:
        """A JSON-ready form."""
        return {"iri": self.iri, "kind": self.kind, "label": self.label("de"),
                "labels": dict(self.labels), "matched": self.matched}


@dataclass(slots=True)
class _Entry:
    iri: str
    text: str
    preferred: bool
    forms: tuple[str, ...]


@dataclass
class SearchIndex:
    """Labels of the resources under one base, ready to be searched."""

    base: str
    entries: list[_Entry] = field(default_factory=list)
    names: dict[str, dict[str, str]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)

    def add(self, iri: str, text: str, prop: str) -> _Entry:
        """Index one label of a resource (its names are set by build_index)."""
        iri = sys.intern(iri)  # one string per resource, however many labels it has
        entry = _Entry(iri, text, prop in PREFERRED, folds(text))
        self.entries.append(entry)
        if iri not in self.kinds:
            self.kinds[iri] = sys.intern(kind_of(iri, self.base))
        return entry

    def __len__(self) -> int:
        return len(self.kinds)

    def search(self, query: str, limit: int = 20, kind: str | None = None) -> list[Hit]:
        """Resources whose labels hold every word of the query; prefix matches rank first."""
        wanted = [form.split() for form in folds(query)]
        wanted = [words for words in wanted if words]
        if not wanted:
            return []
        best: dict[str, tuple[tuple, _Entry]] = {}
        for entry in self.entries:
            if kind and self.kinds[entry.iri] != kind:
                continue
            score = _score(entry, wanted)
            if score is None:
                continue
            current = best.get(entry.iri)
            if current is None or score < current[0]:
                best[entry.iri] = (score, entry)
        ranked = sorted(best.items(), key=lambda item: (item[1][0], item[0]))
        return [Hit(iri=iri, kind=self.kinds[iri], labels=dict(self.names.get(iri, {})),
                    matched=entry.text, score=score)
                for iri, (score, entry) in ranked[:limit]]


def _score(entry: _Entry, wanted: list[list[str]]) -> tuple | None:
    """Lower is better: (match class, alternative label?, label length, label); None: no match."""
    found = None
    for form in entry.forms:
        words = form.split()
        for query_words in wanted:
            if not all(q in form for q in query_words):
                continue
            joined = " ".join(query_words)
            if form == joined:
                rank = 0  # the whole label
            elif form.startswith(joined):
                rank = 1  # the label starts with the query
            elif all(any(w.startswith(q) for w in words) for q in query_words):
                rank = 2  # every query word starts a word of the label
            else:
                rank = 3  # somewhere inside
            found = rank if found is None else min(found, rank)
    if found is None:
        return None
    return (found, not entry.preferred, len(entry.text), entry.text.casefold())


def _query(base: str) -> str:
    values = " ".join(f"<{p}>" for p in LABEL_PROPERTIES)
    # The base is ours and ends in '/', so it cannot break out of the string literal.
    return (
        "SELECT ?s ?p ?label ?lang WHERE { "
        "{ SELECT DISTINCT ?s ?p ?label WHERE { "
        f"VALUES ?p {{ {values} }} ?s ?p ?label . "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{base}") && isLiteral(?label)) }} }} '
        "BIND(LANG(?label) AS ?lang) }"
    )


def build_index(store, base: str) -> SearchIndex:
    """Read every label of every resource under base from the store into a SearchIndex."""
    index = SearchIndex(base=base)
    # Plain strings, not rdflib terms, one row at a time: at a million triples the labels
    # are ~200,000 rows, which as rdflib terms in a list cost ~300 MB at once.
    rank = {p: i for i, p in enumerate(LABEL_PROPERTIES)}
    names = []
    for iri, prop, label, lang in store.select_values(_query(base),
                                                      ("s", "p", "label", "lang")):
        entry = index.add(iri, label, prop)
        if entry.preferred:
            names.append((entry.iri, rank[prop], label, lang or ""))
    # A resource's name in a language: its skos:prefLabel where it has one, then rdfs:label…
    for iri, _rank, label, lang in sorted(names):
        index.names.setdefault(iri, {}).setdefault(lang, label)
    return index
