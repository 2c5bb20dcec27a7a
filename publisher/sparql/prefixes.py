"""The prefixes the query page pre-fills: the ones the release's Turtle dump declares."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from publisher.namespaces import kg, prefixes

__all__ = ["STANDARD", "ReleaseFiles", "prefixes_for", "prologue"]

# Declared whatever the dump holds, so the example queries and the page always have them.
STANDARD = prefixes("rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "org", "prov", "schema")

_PREFIX = re.compile(r"^@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*\.\s*$")


class ReleaseFiles(Protocol):
    """What the prefixes are read from: a build on disk (publisher.releases.Release), its
    folder and its build info, whose "files" list the dumps written."""

    @property
    def path(self) -> Path: ...

    @property
    def info(self) -> Mapping[str, Any]: ...


def _dump_prefixes(release: ReleaseFiles) -> dict[str, str]:
    """The @prefix lines at the head of the release's Turtle dump (written by the build)."""
    for entry in release.info.get("files", []):
        if entry.get("format") == "turtle" and not entry.get("compressed"):
            return dict(_read_prefixes(str(Path(release.path) / entry["name"])))
    return {}


@functools.lru_cache(maxsize=8)
def _read_prefixes(path: str) -> tuple[tuple[str, str], ...]:
    """Read once per release file (a release never changes once written)."""
    found: dict[str, str] = {}
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                match = _PREFIX.match(line.strip())
                if not match:
                    break
                if match.group(1):
                    found[match.group(1)] = match.group(2)
    except OSError:
        return ()
    return tuple(found.items())


def prefixes_for(release: ReleaseFiles | None, base: str) -> dict[str, str]:
    """Standard prefixes, the graph's own (kg: for the ontology), and those of the dump.
    Worked out once per release and base: every query asks, and a release never changes
    once written."""
    key = (str(release.path), str(release.info.get("build_id"))) if release else None, base
    found = _KNOWN.get(key)
    if found is None:
        if len(_KNOWN) >= 16:
            _KNOWN.clear()
        found = _KNOWN[key] = _prefixes(release, base)
    return dict(found)


_KNOWN: dict[tuple[tuple[str, str] | None, str], tuple[tuple[str, str], ...]] = {}


def _prefixes(release: ReleaseFiles | None, base: str) -> tuple[tuple[str, str], ...]:
    found = dict(STANDARD)
    found["kg"] = str(kg(base))
    if release is not None:
        found.update(_dump_prefixes(release))
    return tuple(sorted(found.items()))


def prologue(prefixes: dict[str, str]) -> str:
    """PREFIX lines for a query."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items())
