"""What a build changed against the previous release: triples per named graph, and in words."""

from __future__ import annotations

import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from publisher import labels
from publisher.namespaces import DCTERMS, RDFS, SCHEMA, SKOS

__all__ = ["ADDED_FILE", "CHANGES_FILE", "REMOVED_FILE", "compare", "record_changes",
           "summary_text", "write_changes"]

ADDED_FILE, REMOVED_FILE, CHANGES_FILE = "changes-added.nq", "changes-removed.nq", "changes.json"
RDFS_LABEL = f"<{RDFS.label}>"

# The kinds the summary counts by name, by the IRI's path segment; their German names (one
# thing, several) are the pages' (publisher/vocabularies/pages/kinds.ttl via publisher.labels).
KINDS = ("event", "organisation", "stadtteilzentrum", "place", "site", "agreement",
         "membership", "person")
# What a changed property is called in the summary ("geändert: 1 Adresse (…)"): German nouns
# with their plurals that group properties for a sentence (a start or end date is a "Datum",
# every naming property a "Name"), not the properties' labels on pages.
PROPERTIES = {str(p): words for p, words in {
    SCHEMA.address: ("Adresse", "Adressen"),
    SCHEMA.startDate: ("Datum", "Daten"),
    SCHEMA.endDate: ("Datum", "Daten"),
    SCHEMA.location: ("Ort", "Orte"),
    SCHEMA.url: ("Webseite", "Webseiten"),
    RDFS.label: ("Name", "Namen"),
    SKOS.prefLabel: ("Name", "Namen"),
    SCHEMA.name: ("Name", "Namen"),
    DCTERMS.source: ("Quelle", "Quellen"),
    SKOS.note: ("Anmerkung", "Anmerkungen"),
}.items()}
TRAEGER = ("Trägerangabe", "Trägerangaben")


def _quads(lines: list[bytes]) -> list[ox.Quad]:
    return list(ox.parse(b"\n".join(lines) + b"\n", format=ox.RdfFormat.N_QUADS)) \
        if lines else []


def _graph_key(quad: ox.Quad) -> str:
    graph = quad.graph_name
    return graph.value if isinstance(graph, ox.NamedNode) else ""


def _kind(subject: str, base: str) -> str | None:
    if not subject.startswith(base + "id/"):
        return None
    return subject[len(base) + 3:].split("/", 1)[0]


class _Unsorted(ValueError):
    """A graph file's lines are not in byte order: the merge cannot be used."""


def _lines(source) -> Iterator[bytes]:
    """The non-empty lines of a canonical N-Quads file, checked to come in byte order."""
    last = b""
    for raw in source:
        line = raw.rstrip(b"\n")
        if not line:
            continue
        if line < last:
            raise _Unsorted
        last = line
        yield line


def _merge(old: Iterable[bytes], new: Iterable[bytes]) -> tuple[list[bytes], list[bytes]]:
    """Added and removed lines of two sorted line streams, in one pass and constant memory.

    Both graph files are canonical and sorted (build._canonical_nquads), so walking them side
    by side finds the difference without holding either as a set: at a million triples a
    set of parsed quads per release would cost several hundred megabytes."""
    added: list[bytes] = []
    removed: list[bytes] = []
    old_it, new_it = iter(old), iter(new)
    a, b = next(old_it, None), next(new_it, None)
    while a is not None or b is not None:
        if a is not None and (b is None or a < b):
            removed.append(a)
            a = next(old_it, None)
        elif b is not None and (a is None or b < a):
            added.append(b)
            b = next(new_it, None)
        else:
            a, b = next(old_it, None), next(new_it, None)
    return added, removed


def _diff(previous: Path, nquads: bytes) -> tuple[list[bytes], list[bytes]]:
    try:
        with previous.open("rb") as handle:
            return _merge(_lines(handle), _lines(io.BytesIO(nquads)))
    except _Unsorted:  # not written by this version's build: compare as sets
        old = set(previous.read_bytes().splitlines()) - {b""}
        new = set(nquads.splitlines()) - {b""}
        return sorted(new - old), sorted(old - new)


def _subject(line: bytes) -> bytes:
    return line.split(b" ", 1)[0]


def _scan(source, touched: set[bytes], found: set[bytes], labels: dict[str, str]) -> None:
    """Which touched subjects have triples in a graph file, and their German labels."""
    label = RDFS_LABEL.encode()
    for raw in source:
        subject = _subject(raw)
        if subject not in touched:
            continue
        found.add(subject)
        if label in raw:
            for quad in _quads([raw.rstrip(b"\n")]):
                if (isinstance(quad.subject, ox.NamedNode) and isinstance(quad.object, ox.Literal)
                        and quad.object.language in ("de", None)):
                    labels.setdefault(quad.subject.value, quad.object.value)


def compare(previous: Path | None, nquads: bytes, base: str,
            previous_version: str | None = None) -> dict | None:
    """The change from the previous release's graph.nq to nquads; None without a previous one."""
    if previous is None or not previous.is_file():
        return None
    added_lines, removed_lines = _diff(previous, nquads)
    added, removed = _quads(added_lines), _quads(removed_lines)
    graphs: dict[str, dict[str, int]] = {}
    for name, found in (("added", added), ("removed", removed)):
        for quad in found:
            graphs.setdefault(_graph_key(quad), {"added": 0, "removed": 0})[name] += 1
    touched: dict[str, set[str]] = {}
    for quad in added + removed:
        if isinstance(quad.subject, ox.NamedNode):
            touched.setdefault(quad.subject.value, set()).add(quad.predicate.value)
    keys = {f"<{s}>".encode() for s in touched}
    in_old: set[bytes] = set()
    in_new: set[bytes] = set()
    labels: dict[str, str] = {}
    _scan(io.BytesIO(nquads), keys, in_new, labels)
    with previous.open("rb") as handle:
        _scan(handle, keys, in_old, labels)
    things = []
    for subject, predicates in sorted(touched.items()):
        key = f"<{subject}>".encode()
        change = ("added" if key not in in_old else "removed" if key not in in_new
                  else "changed")
        things.append({"iri": subject, "kind": _kind(subject, base),
                       "label": labels.get(subject, subject), "change": change,
                       "properties": sorted(predicates)})
    return {"previous": previous_version, "added": len(added), "removed": len(removed),
            "graphs": dict(sorted(graphs.items())), "things": things,
            "_added": added, "_removed": removed}


def summary_text(changes: dict | None) -> str:
    """The change in a short German line, e.g. "neu: 2 Veranstaltungen (…); geändert: …"."""
    if changes is None:
        return "erstes Release: nichts zum Vergleichen"
    if not changes["added"] and not changes["removed"]:
        return "keine Änderungen gegenüber dem vorigen Release"
    phrases = []
    # "neu: 2 Veranstaltungen (…)", not "2 neue …": an adjective before the noun would
    # have to agree with its gender ("1 neuer Ort", "1 neues Stadtteilzentrum"), which the
    # kinds' names do not carry.
    for change, heading in (("added", "neu"), ("removed", "entfernt")):
        counts = Counter(t["kind"] for t in changes["things"]
                         if t["change"] == change and t["kind"] in KINDS)
        for kind, count in sorted(counts.items()):
            singular = labels.kind_name(kind, "de") or kind
            plural = labels.kind_name(kind, "de", plural=True) or kind
            names = [t["label"] for t in changes["things"]
                     if t["change"] == change and t["kind"] == kind]
            word = singular if count == 1 else plural
            phrases.append(f"{heading}: {count} {word} ({', '.join(names)})")
    changed: Counter[tuple[str, str]] = Counter()  # (singular, plural) -> things
    who: dict[tuple[str, str], list[str]] = {}
    for thing in changes["things"]:
        if thing["change"] != "changed" or thing["kind"] is None:
            continue
        words = {PROPERTIES.get(p, TRAEGER if p.endswith("operatedBy") or
                                p.endswith("operates") else ("Angabe", "Angaben"))
                 for p in thing["properties"]}
        for nouns in sorted(words):
            changed[nouns] += 1
            who.setdefault(nouns, []).append(thing["label"])
    for nouns, count in sorted(changed.items()):
        noun = nouns[0] if count == 1 else nouns[1]
        phrases.append(f"geändert: {count} {noun} ({', '.join(who[nouns])})")
    if not phrases:
        phrases.append(f"{changes['added']} Tripel hinzugefügt, {changes['removed']} entfernt")
    return "; ".join(phrases)


def write_changes(folder: Path, changes: dict | None) -> dict | None:
    """Write the added and removed quads beside the release; return the part for build.json."""
    if changes is None:
        return None
    for name, key in ((ADDED_FILE, "_added"), (REMOVED_FILE, "_removed")):
        if changes[key]:
            ox.serialize(changes[key], str(folder / name), format=ox.RdfFormat.N_QUADS)
        else:
            (folder / name).write_bytes(b"")
    kept = {k: v for k, v in changes.items() if not k.startswith("_")}
    kept["summary"] = summary_text(changes)
    (folder / CHANGES_FILE).write_text(json.dumps(kept, indent=1, ensure_ascii=False) + "\n",
                                       encoding="utf-8")
    return {k: v for k, v in kept.items() if k != "things"} | {
        "things": [{k: v for k, v in t.items() if k != "properties"}
                   for t in kept["things"][:200]]}


def record_changes(folder: Path, out: Path, index: list[dict], version: str, nquads: bytes,
                   base: str) -> dict | None:
    """Compare with the newest kept release of other content and write the result to folder.

    A rebuild of unchanged content compares with the release before, so it keeps the
    record of what that content changed instead of reporting nothing."""
    earlier = next((e for e in reversed(index) if e["version"] != version
                    and e.get("base_uri", base) == base), None)
    previous = out / earlier["path"] / "graph.nq" if earlier else None
    return write_changes(folder, compare(previous, nquads, base,
                                         earlier["version"] if earlier else None))
