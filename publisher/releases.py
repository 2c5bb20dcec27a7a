"""The releases in an output folder, as their readers see them: the current one, the kept ones.

publisher.build writes releases; the server (publisher.web, publisher.reload) and the command
line only read them. The readers live here, beside publisher.layout, so that reading a release
does not import the build pipeline (pyshacl, owlrl, the workbook readers). Releases loaded into
an external store are publisher.store.releases.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from publisher.layout import BUILD_INFO, CURRENT, GRAPH_FILE, INDEX

__all__ = [
    "Release",
    "current_release",
    "list_releases",
    "out_folder",
    "read_index",
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
