"""A static export: every representation as a file, and an nginx configuration serving them.

The representations come from the dynamic server (publisher.web.export renders them through
the app, so the bytes and headers are the same); this module writes them and the nginx
configuration that negotiates between them like the server does.

Layout of the export folder:

    site/<mode>/<variant>/<URL path>.<suffix>   the bodies (+ .gz when gzipped); mode sfx
                           (by suffix: the files at their own URL) or neg (negotiated)
    site/static/           the pages' style sheets and icons, served at <path>static/
    nginx/maps.conf        `map` blocks: Accept and Accept-Language to a variant (http level)
    nginx/locations.conf   `location` blocks under the base's path (server level)
    nginx/example.conf     a server block that includes both, to start from
    export.json            what was written, for tools and tests

The nginx configuration is publisher.static_nginx's, which says how it negotiates.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from publisher.static_nginx import PLACEHOLDER, ExportError, Group, nginx_config

__all__ = [
    "CLASSES",
    "COMMON_ACCEPT",
    "COMMON_ACCEPT_LANGUAGE",
    "NOT_ACCEPTABLE",
    "Answer",
    "ExportError",
    "Page",
    "Representation",
    "accept_headers",
    "write_export",
]

MIN_GZIP = 1024
# The document classes the configuration tells apart: they differ in what their Link
# header says the document describes (id/… for things, ontology/… for terms, nothing for
# the ontology, whose IRI names the document itself).
CLASSES = ("doc", "term", "ontology")
# Headers nginx makes itself (from the file and the connection) rather than copying ours.
_OWN = {"content-type", "content-length", "content-encoding", "date", "server", "etag",
        "last-modified", "vary", "location", "accept-ranges", "connection"}

# Accept headers real clients send; each is answered exactly as the dynamic server does.
COMMON_ACCEPT = (
    "*/*",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/png,image/svg+xml,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "text/html", "text/turtle", "application/x-turtle", "text/n3", "application/ld+json",
    "application/json", "application/rdf+xml", "application/xml", "text/xml",
    "application/n-triples", "text/plain",
    "application/rdf+xml, */*;q=0.1",
    "text/turtle, application/x-turtle, */*;q=0.1",
    "text/n3, */*;q=0.1",
    "text/plain, */*;q=0.1",
    "application/ld+json, application/json;q=0.9, */*;q=0.1",
    "text/turtle;q=1.0, application/rdf+xml;q=0.9, application/n-triples;q=0.8, */*;q=0.1",
    "application/ld+json, application/json",
    "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8",
)
# The media ranges and qualities accept_headers combines: every name of every format we
# offer, the wildcards, and a type we do not offer.
MEDIA_RANGES = ("text/turtle", "application/x-turtle", "text/n3", "application/ld+json",
                "application/json", "application/rdf+xml", "application/xml", "text/xml",
                "application/n-triples", "text/plain", "text/html", "application/xhtml+xml",
                "*/*", "text/*", "application/*", "image/png")
QUALITIES = (None, "1", "0.9", "0.5", "0.1", "0")
NOT_ACCEPTABLE = "none"  # the map's value where the server answers 406


def _range(media: str, quality: str | None, sep: str) -> str:
    return media if quality is None else f"{media}{sep};q={quality}"


def accept_headers() -> list[str]:
    """The Accept headers the export answers exactly as the server does: the common ones,
    and every one or two media ranges of MEDIA_RANGES with each quality of QUALITIES, in
    the spellings clients use (", " or "," between ranges; about 17,000 headers)."""
    found = dict.fromkeys(COMMON_ACCEPT)
    for first in MEDIA_RANGES:
        for q1 in QUALITIES:
            found.setdefault(_range(first, q1, ""))
            for second in MEDIA_RANGES:
                if second == first:
                    continue
                for q2 in QUALITIES:
                    pair = (_range(first, q1, ""), _range(second, q2, ""))
                    found.setdefault(", ".join(pair))
                    found.setdefault(",".join(pair))
    return list(found)


COMMON_ACCEPT_LANGUAGE = (
    "de", "en", "de-DE", "en-US", "en-GB", "de-DE,de;q=0.9", "en-US,en;q=0.9",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de,en-US;q=0.7,en;q=0.3",
    "en-US,en;q=0.9,de;q=0.8", "en-GB,en;q=0.9,de;q=0.8", "en-US,en;q=0.5",
    "de,en;q=0.9", "en,de;q=0.9", "*",
)
@dataclass(frozen=True)
class Answer:
    """One response of the dynamic server: status, headers (in order) and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        """The value of a header, or None."""
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


@dataclass
class Page:
    """A page or feed outside the documents (/events, /events.ics, /changes) in one page
    language: written at its URL path under site/pages/<lang>/ and served by language."""

    path: str  # the URL path under the export's, e.g. "events" or "events.ics"
    lang: str
    answer: Answer


@dataclass
class Representation:
    """One document in one variant: its answer by suffix URL and by negotiation."""

    cls: str  # one of CLASSES
    rest: str  # the part of the path after doc/ (for the ontology: "")
    variant: str  # turtle, jsonld, rdfxml, ntriples, html-de, html-en, html-keep-de, …
    suffix: str  # ttl, jsonld, rdf, nt, html
    by_suffix: Answer
    negotiated: Answer
    thing: Answer | None = None  # the 303 from the thing's IRI (one variant carries it)


def _file(mode: str, variant: str, prefix: str, rest: str, suffix: str) -> str:
    """Where a body lives under site/: its URL path (the ontology's rest is empty) with the
    suffix, in the folder of its mode and variant."""
    path = f"{prefix}doc/{rest}" if rest else f"{prefix}ontology"
    return f"{mode}/{variant}{path}.{suffix}"


def _template(answer: Answer, rest: str, base: str) -> list[tuple[str, str]]:
    """The headers nginx must add, with the document's own path made a placeholder."""
    out = []
    for name, value in answer.headers:
        if name.lower() in _OWN:
            continue
        if "$" in value:
            raise ExportError(f"a header nginx would read as a variable: {name}: {value}")
        if rest:
            value = value.replace(f"doc/{rest}", f"doc/{PLACEHOLDER}")
            value = value.replace(f"{base}id/{rest}", f"{base}id/{PLACEHOLDER}")
            value = value.replace(f"{base}{rest}", f"{base}{PLACEHOLDER}")
        out.append((name, value))
    return out


def _vary(answer: Answer) -> list[str]:
    """The Vary tokens other than Accept-Encoding (nginx adds that one with the .gz file)."""
    tokens = [t.strip() for t in (answer.header("Vary") or "").split(",") if t.strip()]
    return [t for t in tokens if t.lower() != "accept-encoding"]

def write_export(out: Path, base: str, representations: Iterable[Representation],
                 accept_map: dict[str, str], language_map: dict[str, str],
                 modified: float | None, url: str | None = None,
                 assets: Path | None = None, pages: Iterable[Page] = ()) -> dict:
    """Write the bodies and the nginx configuration into out; return what was written.

    url is where the export is served (default: the base); nginx answers under its path.
    assets is a folder the pages link to as <path>static/ (copied as it is)."""
    out = Path(out)
    site = out / "site"
    shutil.rmtree(site, ignore_errors=True)  # a resource gone from the graph goes from here
    counts = {"documents": 0, "files": 0, "bytes": 0}
    prefix = urlsplit(url or base).path
    found: dict[tuple[str, str], dict] = {}
    things: dict[tuple[str, str], tuple] = {}
    for rep in representations:
        _check_names([rep.rest])
        mine = found.setdefault((rep.cls, rep.rest), {})
        for mode, answer in (("sfx", rep.by_suffix), ("neg", rep.negotiated)):
            if answer.status != 200:
                raise ExportError(f"{rep.cls} {rep.rest} {rep.variant} {mode}: "
                                  f"HTTP {answer.status}")
            path = site / _file(mode, rep.variant, prefix, rep.rest, rep.suffix)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(answer.body)
            counts["files"] += 1
            counts["bytes"] += len(answer.body)
            written = [path]
            if len(answer.body) >= MIN_GZIP:
                gz = path.with_name(path.name + ".gz")
                gz.write_bytes(gzip.compress(answer.body, 6, mtime=0))
                written.append(gz)
            if modified is not None:
                for file in written:
                    os.utime(file, (modified, modified))
            mine[(mode, rep.variant)] = (
                answer.header("Content-Type") or "application/octet-stream",
                tuple(_template(answer, rep.rest, base)), tuple(_vary(answer)))
        if rep.thing is not None:
            if rep.thing.status != 303:
                raise ExportError(f"{rep.rest}: its IRI answers HTTP {rep.thing.status}")
            location = rep.thing.header("Location") or ""
            things[(rep.cls, rep.rest)] = (
                rep.thing.status, location.replace(f"doc/{rep.rest}", f"doc/{PLACEHOLDER}"),
                tuple(_template(rep.thing, rep.rest, base)))
    if assets is not None:
        shutil.copytree(assets, site / "static")
    page_headers: dict[str, dict[str, str]] = {}
    for page in pages:
        if page.answer.status != 200:
            raise ExportError(f"/{page.path} ({page.lang}): HTTP {page.answer.status}")
        name = page.path if "." in page.path else page.path + ".html"
        path = site / "pages" / page.lang / (prefix.lstrip("/") + name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(page.answer.body)
        counts["pages"] = counts.get("pages", 0) + 1  # counted apart from the documents'
        counts["bytes"] += len(page.answer.body)
        page_headers[page.path] = {
            "Content-Type": page.answer.header("Content-Type") or "text/html",
            "Cache-Control": page.answer.header("Cache-Control") or ""}
    groups = _groups(found, things)
    counts["documents"] = len(found)
    nginx = out / "nginx"
    nginx.mkdir(parents=True, exist_ok=True)
    maps, locations, example = nginx_config(url or base, site.resolve(), groups, accept_map,
                                            language_map, assets=assets is not None,
                                            extra=page_headers)
    (nginx / "maps.conf").write_text(maps, encoding="utf-8")
    (nginx / "locations.conf").write_text(locations, encoding="utf-8")
    (nginx / "example.conf").write_text(example, encoding="utf-8")
    summary = {"base": base, "url": url or base, **counts, "groups": [
        {"name": g.name, "class": g.cls, "only": g.rest} for g in groups],
        "documents_by_class": {c: sorted(r for k, r in found if k == c) for c in CLASSES}}
    (out / "export.json").write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    return summary


def _groups(found: dict, things: dict) -> list[Group]:
    """One group per class with the templates most of its documents share, and a group of
    its own (listed first, so nginx matches it first) for each document that differs."""
    groups: list[Group] = []
    special: list[Group] = []
    for cls in CLASSES:
        members = [(rest, t) for (c, rest), t in found.items() if c == cls]
        if not members:
            continue
        common: dict = {}
        for key in {k for _rest, t in members for k in t}:
            votes = Counter(t[key] for _rest, t in members if key in t)
            common[key] = votes.most_common(1)[0][0]
        thing_votes = Counter(v for (c, _r), v in things.items() if c == cls)
        common_thing = thing_votes.most_common(1)[0][0] if thing_votes else None
        for rest, templates in sorted(members):
            thing = things.get((cls, rest))
            if templates != common or thing != common_thing:
                special.append(Group(f"{cls}{len(special)}", cls, rest, templates, thing))
        groups.append(Group(cls, cls, None, common, common_thing))
    return special + groups

def _check_names(rests: Iterable[str]) -> None:
    """Document paths become file names: no dots, nothing that leaves the folder."""
    for rest in rests:
        if "." in rest or rest.startswith("/") or re.search(r"(^|/)\.\.?(/|$)", rest):
            raise ExportError(f"cannot export a document path with a dot: {rest!r}")
