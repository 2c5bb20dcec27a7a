"""Build a release: validate, write dumps, checksums and a report, and swap it in atomically."""

from __future__ import annotations

import datetime as dt
import fcntl
import gc
import gzip
import hashlib
import io
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from publisher import __version__
from publisher.changes import record_changes
from publisher.config import Settings
from publisher.formats import RDF_FORMATS
from publisher.layout import (
    BUILD_INFO,
    BUILD_LOCK,
    BUILDS,
    CURRENT,
    DATASET_NAME,
    GRAPH_FILE,
    INDEX,
    METADATA_FILE,
    SHAPES_FILE,
    STORE_DIR,
    SUMS_FILE,
    VALIDATION_FILE,
)
from publisher.metadata.step import write_metadata
from publisher.project import Project
from publisher.releases import Release, out_folder, read_index, release_history, sha256_file
from publisher.retention import sweep
from publisher.sources import Sources, load_shapes, load_sources
from publisher.store.embedded import write_store
from publisher.validation import Report, validate_sources

__all__ = ["BuildRefused", "BuildResult", "build"]


class BuildRefused(RuntimeError):
    """The graph does not conform to the shapes; nothing was written."""

    def __init__(self, report: Report):
        self.report = report
        super().__init__(f"{len(report.violations)} violation(s) of the checks; build refused")


@dataclass(frozen=True)
class BuildResult:
    """What a build did."""

    release: Release
    report: Report
    changed: bool
    seconds: float


def _canonical_nquads(sources: Sources) -> bytes:
    """The dataset as canonical (RDFC-1.0), sorted N-Quads: same data, same bytes."""
    raw = sources.dataset.serialize(format="nquads", encoding="utf-8").splitlines(keepends=True)
    # RDFC-1.0 only relabels blank nodes, and a blank node's label is computed from the
    # quads that mention blank nodes alone; so only those go through canonicalisation and
    # the rest is just rewritten in oxigraph's N-Quads form (40% of this step's time).
    # A line with "_:" inside a literal may land among them: harmless, it stays unchanged.
    blank = b"".join(line for line in raw if b"_:" in line)
    plain = b"".join(line for line in raw if b"_:" not in line)
    dataset = ox.Dataset(ox.parse(blank, format=ox.RdfFormat.N_QUADS))
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    written = io.BytesIO()
    ox.serialize(dataset, written, format=ox.RdfFormat.N_QUADS)
    ox.serialize(ox.parse(plain, format=ox.RdfFormat.N_QUADS), written,
                 format=ox.RdfFormat.N_QUADS)
    lines = sorted(set(written.getvalue().splitlines()))
    return b"\n".join(lines) + b"\n"


def _write_gzip(path: Path) -> Path:
    target = path.with_name(path.name + ".gz")
    with path.open("rb") as src, target.open("wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as out:
        shutil.copyfileobj(src, out)
    return target


def _prefixes(sources: Sources) -> dict[str, str]:
    wanted = {"rdf", "rdfs", "owl", "xsd", "skos", "dcterms", "prov", "org", "schema", "foaf",
              "locn", "geo", "cv", "vcard", "void", "dcat"}
    return {p: str(ns) for p, ns in sources.dataset.namespaces()
            if p in wanted or str(ns).startswith(sources.base)}


def _write_dumps(folder: Path, version: str, nquads: bytes,
                 sources: Sources) -> tuple[list[dict], int]:
    """Write each dump format and its .gz; return their file entries and the triple count."""
    # The one parse of the canonical N-Quads: its distinct triples are both the graph
    # dumps and the count in build.json (a second parse cost a second per 100k triples).
    triples = sorted({q.triple for q in ox.parse(nquads, format=ox.RdfFormat.N_QUADS)},
                     key=str)
    prefixes = _prefixes(sources)
    files = []
    for fmt in RDF_FORMATS:
        path = folder / f"{DATASET_NAME}-{version}.{fmt.suffix}"
        if fmt.graph:
            ox.serialize(triples, str(path), format=fmt.oxigraph,
                         prefixes=prefixes if fmt.name in ("turtle", "rdfxml", "jsonld") else None)
        else:
            path.write_bytes(nquads)
        for written in (path, _write_gzip(path)):
            files.append({"name": written.name, "format": fmt.name,
                          "media_type": fmt.media_type,
                          "compressed": written.suffix == ".gz",
                          "bytes": written.stat().st_size, "sha256": sha256_file(written)})
    return files, len(triples)


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _point_current(out: Path, target: Path) -> None:
    """Switch out/current to target in one rename, so readers never see a half state."""
    link = out / CURRENT
    tmp = out / f".{CURRENT}.{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(target, out), tmp)
    os.replace(tmp, link)


def _remove_abandoned(builds: Path) -> None:
    """Delete the partial folders of builds whose process died (killed mid-way)."""
    for partial in builds.glob(".partial-*"):
        pid = partial.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(partial, ignore_errors=True)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the length of a build.

    Parsing and validating allocate millions of objects that live until the build ends;
    every full collection walks all of them again (13 % of a 100k build). Reference
    counting still frees everything else at once; the collector resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build(project: Project, settings: Settings, out: str | Path) -> BuildResult:
    """Validate the project and, only if it conforms, write a release and make it current."""
    with _no_cycle_collection():
        return _build(project, settings, out)


def _build(project: Project, settings: Settings, out: str | Path) -> BuildResult:
    started = time.monotonic()
    began = time.time()
    base = settings.base_uri
    sources = load_sources(project, base)
    shapes = load_shapes(project, base)
    report = validate_sources(sources, shapes, settings.validation_processes,
                              settings.validation_split_triples,
                              settings.reasoning_max_triples)
    if not report.conforms:
        raise BuildRefused(report)

    nquads = _canonical_nquads(sources)
    content_hash = hashlib.sha256(nquads).hexdigest()
    out = out_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    # Validation above runs side by side; from reading the release index to writing it
    # again, one build at a time per output folder (issue #24: two builds at once lost
    # releases and deleted each other's folders).
    with _exclusive(out / BUILD_LOCK):
        return _write_release(project, settings, out, sources, shapes, report, nquads,
                              content_hash, started, began)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on path, waiting for another build to finish; the kernel drops
    it when the process ends, however it ends."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor drops the lock


def _write_release(project: Project, settings: Settings, out: Path, sources: Sources,
                   shapes: Any, report: Report, nquads: bytes, content_hash: str,
                   started: float, began: float) -> BuildResult:
    """Write the release of a validated graph and make it current (under the build lock)."""
    base = settings.base_uri
    index = read_index(out)
    previous = next((e for e in reversed(index) if e.get("base_uri", base) == base), None)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    changed = previous is None or previous["content_hash"] != content_hash
    if previous is None or changed:
        version = f"{today.replace('-', '')}-{content_hash[:8]}"
        issued = index[0]["issued"] if index else today
        modified = today
    else:
        version, issued, modified = previous["version"], previous["issued"], previous["modified"]

    now = dt.datetime.now(dt.UTC)
    # When this content was first published: what Memento-Datetime and the TimeGates go by
    # (issue 25). A rebuild of unchanged content keeps it, as it keeps the version.
    published_at = now.isoformat(timespec="seconds") if changed else \
        (previous or {}).get("published_at") or now.isoformat(timespec="seconds")
    stamp = now.strftime("%Y%m%dT%H%M%S%fZ")
    build_id = f"{version}.{stamp}"
    (out / BUILDS).mkdir(exist_ok=True)
    _remove_abandoned(out / BUILDS)
    tmp = Path(tempfile.mkdtemp(dir=out / BUILDS, prefix=f".partial-{os.getpid()}-"))
    try:
        (tmp / GRAPH_FILE).write_bytes(nquads)
        files, triples = _write_dumps(tmp, version, nquads, sources)
        counts = {str(iri): len(sources.dataset.graph(iri)) for iri in sources.files}
        info: dict[str, Any] = {  # build.json
            "dataset": DATASET_NAME, "version": version, "build_id": build_id,
            "content_hash": content_hash, "issued": issued, "modified": modified,
            "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "published_at": published_at,
            "base_uri": base, "publisher_version": __version__,
            "triples": triples,
            "quads": nquads.count(b"\n"), "graphs": counts,
            "sources": {str(iri): project.relative(path) for iri, path in sources.files.items()},
            # Things from workbooks: the real file, sheet and row each came from (#23).
            "rows": {str(iri): {"file": file, "sheet": sheet, "row": row}
                     for iri, (file, sheet, row) in sorted(sources.rows.items())},
            "files": files,
        }
        # What changed against the previous release (publisher.changes; issue 17).
        info["changes"] = record_changes(tmp, out, index, version, nquads, base)
        # The releases before this one, for the catalogue's dataset series (issue 25).
        info["history"] = release_history(out, base, before=version)
        write_metadata(tmp, info, settings, sources)
        # The graph once more as an on-disk store: the server opens it read-only in every
        # process instead of loading a copy each (publisher.store.embedded).
        write_store(tmp / STORE_DIR, [p for p in (tmp / GRAPH_FILE, tmp / METADATA_FILE)
                                      if p.is_file()])
        sums = "".join(f"{f['sha256']}  {f['name']}\n" for f in info["files"])
        (tmp / SUMS_FILE).write_text(sums, encoding="utf-8")
        (tmp / VALIDATION_FILE).write_text(report.as_text() + "\n", encoding="utf-8")
        # The shapes as published: self-contained SHACL with absolute IRIs, for any engine.
        (tmp / SHAPES_FILE).write_text(shapes.serialize(format="turtle"), encoding="utf-8")
        info["seconds"] = round(time.monotonic() - started, 3)
        (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n",
                                      encoding="utf-8")
        final = out / BUILDS / build_id
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; web servers must read releases
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    before = (out / CURRENT).resolve() if (out / CURRENT).is_dir() else None
    _point_current(out, final)
    entry = {"version": version, "content_hash": content_hash, "issued": issued,
             "modified": modified, "published_at": published_at, "base_uri": base,
             "path": f"{BUILDS}/{build_id}"}
    # An older build of the same content leaves the index (the new one stands for it) ...
    index = [e for e in index if e["version"] != version] + [entry]
    _atomic_write(out / INDEX, json.dumps(index, indent=2) + "\n")
    # ... and its folder goes once no server can be using it (publisher.retention's rule).
    keep = [out / e["path"] for e in index] + [final] + ([before] if before else [])
    sweep(out, keep, since=began)
    release = Release(final, info)
    return BuildResult(release=release, report=report, changed=changed,
                       seconds=time.monotonic() - started)
