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


def _dump(release: ReleaseFiles) -> str | None:
    """The release's Turtle dump (written by the build), whose @prefix lines are read."""
    return next((str(Path(release.path) / entry["name"])
                 for entry in release.info.get("files", [])
                 if entry.get("format") == "turtle" and not entry.get("compressed")), None)


def _read_prefixes(path: str) -> tuple[tuple[str, str], ...]:
    """The @prefix lines at the head of a Turtle file (read once: _prefixes keeps them)."""
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
    return dict(_prefixes(_dump(release) if release is not None else None, base))


@functools.lru_cache(maxsize=16)
def _prefixes(dump: str | None, base: str) -> tuple[tuple[str, str], ...]:
    found = dict(STANDARD)
    found["kg"] = str(kg(base))
    if dump is not None:
        found.update(_read_prefixes(dump))
    return tuple(sorted(found.items()))


def prologue(prefixes: dict[str, str]) -> str:
    """PREFIX lines for a query."""
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in prefixes.items())
