"""The releases in an output folder, as their readers see them: the current one, the kept ones.

publisher.build writes releases; the server (publisher.web, publisher.reload) and the command
line only read them. The readers live here, beside publisher.layout, so that reading a release
does not import the build pipeline (pyshacl, owlrl, the workbook readers). Releases loaded into
an external store are publisher.store.releases.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from publisher.layout import BUILD_INFO, CURRENT, GRAPH_FILE, INDEX

__all__ = [
    "Release",
    "current_release",
    "find_release",
    "list_releases",
    "neighbours",
    "out_folder",
    "read_index",
    "release_at",
    "release_history",
    "report_conforms",
    "sha256_file",
]


@dataclass(frozen=True)
class Release:
    """A finished build on disk."""

    path: Path
    info: dict

    @property
    def version(self) -> str:
        """The release version: the date its content first appeared and its content hash."""
        return self.info["version"]

    @property
    def build_id(self) -> str:
        """Unique per build; what ETags are made of."""
        return self.info["build_id"]

    def file_of(self, graph: str) -> str | None:
        """The real source file a named graph was read from (data/termine.ods, not
        data/termine.ods.ttl), as build.json records it; None for a graph of no file."""
        return self.info.get("sources", {}).get(str(graph))

    def row_of(self, thing: str) -> str | None:
        """Where a thing from a workbook was written: „file › sheet › Zeile N“ (None for a
        thing from Turtle), as build.json records it."""
        place = self.place_of(thing)
        return f"{place[0]} › {place[1]} › Zeile {place[2]}" if place else None

    def place_of(self, thing: str) -> tuple[str, str, int] | None:
        """The workbook, sheet and row a thing was written in, as parts (a page words the
        row in its own language); None for a thing from Turtle."""
        place = self.info.get("rows", {}).get(str(thing))
        return (place["file"], place["sheet"], int(place["row"])) if place else None

    @property
    def graph_file(self) -> Path:
        """The canonical N-Quads file the stores load."""
        return self.path / GRAPH_FILE

    @property
    def published_at(self) -> dt.datetime:
        """When this content was first published (UTC, whole seconds): its Memento-Datetime.

        Builds before issue 25 did not record it: their build time stands in."""
        text = self.info.get("published_at") or self.info.get("built_at") or \
            f"{self.info.get('modified', '1970-01-01')}T00:00:00+00:00"
        when = dt.datetime.fromisoformat(text)
        when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return when.astimezone(dt.UTC).replace(microsecond=0)


def report_conforms(text: str) -> bool:
    """Whether a release's validation report (validation.txt) says the graph conforms.

    Its last line does: „OK: the graph conforms …“, after any warnings (a missing English
    label is a warning that does not stop the build, so a report may begin with one);
    a refused graph's report ends in „FAILED: …“."""
    lines = [line for line in text.splitlines() if line.strip()]
    return bool(lines) and lines[-1].startswith("OK")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def out_folder(out: str | Path) -> Path:
    """The output folder as an absolute path, resolved once against the working folder.

    Every path a Release carries derives from it, so a reader that resolves relative paths
    against some other folder (Flask's send_file: the app's package) still finds the files."""
    return Path(out).absolute()


def read_index(out: Path) -> list[dict]:
    """The index of the releases kept in an output folder, oldest first ([] when unreadable)."""
    try:
        return json.loads((out / INDEX).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


def list_releases(out: str | Path) -> list[Release]:
    """The releases kept in an output folder, oldest first (their paths absolute)."""
    out = out_folder(out)
    releases = []
    for entry in read_index(out):
        path = out / entry["path"]
        info_file = path / BUILD_INFO
        if info_file.is_file():
            releases.append(Release(path, json.loads(info_file.read_text(encoding="utf-8"))))
    return releases


def current_release(out: str | Path) -> Release | None:
    """The release out/current points at, or None when there is no good build yet."""
    path = out_folder(out) / CURRENT
    info_file = path / BUILD_INFO
    if not info_file.is_file():
        return None
    return Release(path.resolve(), json.loads(info_file.read_text(encoding="utf-8")))


def find_release(releases: Sequence[Release], version: str) -> Release | None:
    """The release of this version among these, or None."""
    return next((r for r in releases if r.version == version), None)


def release_at(releases: Sequence[Release], when: dt.datetime) -> Release | None:
    """The release that was current at `when`: the last published at or before it; the first
    one for a time before any (RFC 7089 lets a TimeGate answer with the closest memento).
    None only when there are no releases."""
    ordered = sorted(releases, key=lambda r: r.published_at)
    if not ordered:
        return None
    when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    found = ordered[0]
    for release in ordered:
        if release.published_at <= when:
            found = release
    return found


def neighbours(releases: Sequence[Release], release: Release
               ) -> tuple[Release | None, Release | None]:
    """The releases just before and just after this one (by publication), each or None."""
    ordered = sorted(releases, key=lambda r: r.published_at)
    versions = [r.version for r in ordered]
    if release.version not in versions:
        return None, None
    at = versions.index(release.version)
    return (ordered[at - 1] if at > 0 else None,
            ordered[at + 1] if at + 1 < len(ordered) else None)


def release_history(out: str | Path, base: str, before: str) -> list[dict]:
    """The kept releases under `base` other than version `before`, oldest first, as the
    catalogue's dataset series names them: version, dates and the words of what changed."""
    history = []
    for release in list_releases(out):
        if release.version == before or release.info.get("base_uri", base) != base:
            continue
        changes = release.info.get("changes") or {}
        history.append({"version": release.version, "issued": release.info.get("issued"),
                        "modified": release.info.get("modified"),
                        "published_at": release.published_at.isoformat(),
                        "notes": changes.get("summary") or ""})
    return history
