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

Negotiation in nginx is an approximation of werkzeug's q-value ranking (see `accept_map`):
the Accept and Accept-Language headers real clients send are listed and answered exactly as
the server answers them; any other header falls back to the first offered type it names
(Turtle when none), and nginx never answers 406.
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

__all__ = [
    "CLASSES",
    "COMMON_ACCEPT",
    "COMMON_ACCEPT_LANGUAGE",
    "Answer",
    "ExportError",
    "Group",
    "Representation",
    "nginx_config",
    "write_export",
]

MIN_GZIP = 1024
PLACEHOLDER = "\x00REST\x00"
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
COMMON_ACCEPT_LANGUAGE = (
    "de", "en", "de-DE", "en-US", "en-GB", "de-DE,de;q=0.9", "en-US,en;q=0.9",
    "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7", "de,en-US;q=0.7,en;q=0.3",
    "en-US,en;q=0.9,de;q=0.8", "en-GB,en;q=0.9,de;q=0.8", "en-US,en;q=0.5",
    "de,en;q=0.9", "en,de;q=0.9", "*",
)


class ExportError(RuntimeError):
    """The representations do not fit the configuration's templates (a bug, not bad data)."""


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


@dataclass
class Group:
    """Documents whose headers follow one template: one set of nginx locations."""

    name: str  # used in internal URIs
    cls: str  # the class folder its files are in
    rest: str | None  # one document only (its headers differ from its class), or all
    templates: dict  # (mode, variant) -> (content type, headers, vary tokens)
    thing: tuple | None = None  # (status, location, headers) of the 303, if any


def write_export(out: Path, base: str, representations: Iterable[Representation],
                 accept_map: dict[str, str], language_map: dict[str, str],
                 modified: float | None, url: str | None = None,
                 assets: Path | None = None) -> dict:
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
    groups = _groups(found, things)
    counts["documents"] = len(found)
    nginx = out / "nginx"
    nginx.mkdir(parents=True, exist_ok=True)
    maps, locations, example = nginx_config(url or base, site.resolve(), groups, accept_map,
                                            language_map, assets=assets is not None)
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


def _quote(value: str, rest: str | None = None) -> str:
    """An nginx string in double quotes, the placeholder as the document path (rest) or,
    without one, the $kg_rest capture."""
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace(PLACEHOLDER, "${kg_rest}" if rest is None else rest) + '"'


def _map(source: str, target: str, exact: dict[str, str], fallbacks: list[tuple[str, str]],
         default: str, quote_values: bool = False) -> str:
    lines = [f"map {source} {target} {{", "    hostnames off;", f"    default {default};",
             f'    "" {default};']
    for key, value in sorted(exact.items()):
        lines.append(f"    {_quote(key)} {_quote(value) if quote_values else value};")
    for pattern, value in fallbacks:
        lines.append(f'    "~*{pattern}" {value};')
    lines.append("}")
    return "\n".join(lines)


# Fallbacks for headers not listed exactly: the first offered type the header names wins
# (q-values are not weighed), browsers (which name text/html) get HTML, anything else Turtle.
_ACCEPT_FALLBACKS = [
    (r"^\s*(text/turtle|application/x-turtle|text/n3)\s*(;|,|$)", "turtle"),
    (r"^\s*(application/ld\+json|application/json)\s*(;|,|$)", "jsonld"),
    (r"^\s*(application/rdf\+xml|application/xml|text/xml)\s*(;|,|$)", "rdfxml"),
    (r"^\s*(application/n-triples|text/plain)\s*(;|,|$)", "ntriples"),
    (r"(^|,)\s*(text/html|application/xhtml\+xml)\s*(;|,|$)", "html"),
]
# An "en…" language range listed before any "de…" one; else German, as the server defaults.
_LANGUAGE_FALLBACKS = [(r"^(\s*(?!de)[^,]*,)*\s*en(-|;|,|\s|$)", "en")]


_SUFFIXES = {"turtle": "ttl", "jsonld": "jsonld", "rdfxml": "rdf", "ntriples": "nt"}


def _suffix(variant: str) -> str:
    return "html" if variant.startswith("html") else _SUFFIXES[variant]


def _headers(group: Group) -> tuple[dict, dict]:
    """Per mode, the headers each variant adds (Vary included) by header name; and the
    content type of each file suffix."""
    by_mode: dict[str, dict[str, dict[str, str]]] = {"sfx": {}, "neg": {}}
    types: dict[str, str] = {}
    for (mode, variant), (content_type, pairs, vary) in sorted(group.templates.items()):
        suffix = _suffix(variant)
        if types.setdefault(suffix, content_type) != content_type:
            raise ExportError(f".{suffix} files are sent as {types[suffix]} and as "
                              f"{content_type}")
        pairs = [*pairs, *([("Vary", ", ".join(vary))] if vary else [])]
        by_mode[mode][variant] = _joined(pairs)
    return by_mode, types


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by name, a repeated one as one comma-separated value (the same in HTTP)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = next((k for k in out if k.lower() == name.lower()), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _add_headers(variants: dict[str, dict[str, str]], source: str, prefix: str,
                 rest: str | None, maps: list[str]) -> list[str]:
    """add_header lines for one location: a header every variant sends with the same value
    is a fixed string; any other a `map` (appended to maps) keyed by the location's variant
    (source), an empty value adding nothing. With rest the document path is written out,
    else it is the location's $kg_rest capture."""
    names: dict[str, str] = {}
    for headers in variants.values():
        for name in headers:
            names.setdefault(name.lower(), name)
    lines = []
    for lower, name in names.items():
        values = {v: next((x for k, x in h.items() if k.lower() == lower), None)
                  for v, h in variants.items()}
        if len(set(values.values())) == 1 and None not in values.values():
            lines.append(f"add_header {name} {_quote(values.popitem()[1], rest)};")
            continue
        variable = f"{prefix}_{re.sub(r'[^a-z0-9]', '_', lower)}"
        body = "".join(f"    {_quote(v)} {_quote(x, rest)};\n"
                       for v, x in sorted(values.items()) if x is not None)
        maps.append(f"map {source} {variable} {{\n    default \"\";\n{body}}}")
        lines.append(f"add_header {name} {variable};")
    return lines


def _block(match: str, lines: list[str]) -> str:
    return f"location {match} {{\n" + "".join(f"    {line}\n" for line in lines) + "}"


def nginx_config(url: str, site: Path, groups: list[Group], accept_map: dict[str, str],
                 language_map: dict[str, str], assets: bool = False) -> tuple[str, str, str]:
    """The maps (http level), the locations (server level) and an example server block.

    A document by suffix is a file at its own URL path under site/sfx/<variant>/ (the
    variant only chooses the folder: HTML's language), so its location serves it without
    try_files; a negotiated document is the file of the variant the Accept `map` chooses
    (try_files, which also gives its content type); a thing's IRI is a 303. One regex
    location per class and kind, the path captured as $kg_rest for the headers; a document
    whose headers differ from its class's has exact-match locations of its own, which
    nginx finds before any regex. Headers that differ between variants are `map`s keyed by
    the variant (small exact hashes); all others fixed strings."""
    prefix = urlsplit(url).path  # e.g. /kiezgraph/pankow/
    p = re.escape(prefix)
    sfx = "|".join([*_SUFFIXES.values(), "html"])
    maps: list[str] = []
    types: dict[str, str] = {}
    for group in groups:
        types.update(_headers(group)[1])
    type_lines = "".join(f"        {_quote(t)} {s};\n" for s, t in sorted(types.items()))
    files = [f"types {{\n{type_lines}    }}", "default_type application/octet-stream;",
             "etag on;", "gzip_static on;", "gzip_vary on;",
             # The files change only with a new export: keep their descriptors and stat
             # results rather than open and stat each one on every request.
             "open_file_cache max=100000 inactive=600s;", "open_file_cache_valid 600s;",
             "open_file_cache_errors on;"]
    html = "$kg_keep$kg_lang"
    exact: list[str] = []
    regex: list[str] = []
    for group in groups:
        by_mode, _types = _headers(group)
        name = f"$kg_h_{group.name}"
        if group.rest is not None:  # one document: exact locations, its path written out
            rest = group.rest
            doc = f"{prefix}doc/{rest}" if group.cls != "ontology" else f"{prefix}ontology"
            for variant in sorted({v for v in by_mode["sfx"] if not v.startswith("html")}):
                headers = _add_headers({variant: by_mode["sfx"][variant]}, '""',
                                       f"{name}_{variant}", rest, maps)
                exact.append(_block(f"= {doc}.{_SUFFIXES[variant]}",
                                    [f"root {site}/sfx/{variant};", *files, *headers]))
            pages = {v: h for v, h in by_mode["sfx"].items() if v.startswith("html")}
            if pages:
                exact.append(_block(f"= {doc}.html", [
                    f"root {site}/sfx/{html};", *files,
                    *_add_headers(pages, html, f"{name}_sfx", rest, maps)]))
            exact.append(_block(f"= {doc}", [
                f"root {site}/neg;", *files, "try_files /$kg_neg$uri.$kg_ext =404;",
                *_add_headers(by_mode["neg"], "$kg_neg", f"{name}_neg", rest, maps)]))
        else:
            rest = None
            doc = {"doc": f"{p}doc/(?<kg_rest>(?!ontology/)[^.]+)",
                   "term": f"{p}doc/(?<kg_rest>ontology/[^./]+)",
                   "ontology": f"{p}ontology"}[group.cls]
            regex.append(_block(f'~ "^{doc}\\.(?<kg_sfx>{sfx})$"', [
                f"root {site}/sfx/$kg_variant;", *files,
                *_add_headers(by_mode["sfx"], "$kg_variant", f"{name}_sfx", None, maps)]))
            neg = [f"root {site}/neg;", *files, "try_files /$kg_neg$uri.$kg_ext =404;",
                   *_add_headers(by_mode["neg"], "$kg_neg", f"{name}_neg", None, maps)]
            regex.append(_block(f"= {prefix}ontology", neg) if group.cls == "ontology"
                         else _block(f'~ "^{doc}$"', neg))
        if group.thing is not None:
            _status, location, pairs = group.thing
            target = location.split("?", 1)[0]
            lines = [f"if (!-f {site}/neg/turtle{prefix}doc/{group.rest or '$kg_rest'}.ttl) "
                     f"{{ return 404; }}",
                     *(f"add_header {k} {_quote(v, rest)};"
                       for k, v in _joined(pairs).items()),
                     f"return 303 {_quote(target + '$is_args$args', rest)};"]
            if group.rest is not None:
                exact.append(_block(f"= {prefix}{'id/' if group.cls == 'doc' else ''}"
                                    f"{group.rest}", lines))
            else:
                thing = {"doc": f"{p}id/(?<kg_rest>(?!ontology/)[^.]+)",
                         "term": f"{p}(?<kg_rest>ontology/[^./]+)"}[group.cls]
                regex.append(_block(f'~ "^{thing}$"', lines))
    if assets:  # the pages' style sheets and icons, as files (a prefix match, no regex)
        exact.append(_block(f"^~ {prefix}static/", [
            f"alias {site}/static/;", "types { text/css css; image/svg+xml svg; "
            "text/javascript js; }", "default_type application/octet-stream;", "etag on;",
            "add_header Cache-Control \"public, max-age=3600\";",
            "add_header X-Content-Type-Options nosniff;"]))
    locations = "\n".join([f"# Generated by `kiezgraph build --static`: include in the "
                           f"server block that answers for {url}", *exact, *regex]) + "\n"
    maps_text = "\n\n".join([
        "# Generated by `kiezgraph build --static`: include in the http block.\n"
        "# Browsers' Accept headers are long map keys.\nmap_hash_bucket_size 256;",
        _map("$http_accept", "$kg_format", accept_map, _ACCEPT_FALLBACKS, "turtle"),
        _map("$http_accept_language", "$kg_accept_lang", language_map,
             _LANGUAGE_FALLBACKS, "de"),
        # ?lang= keeps the page's language in its links; a value we do not have falls
        # back to Accept-Language, as publisher.web.negotiation.choose_language does.
        "map $arg_lang $kg_keep {\n    default html-keep-;\n    \"\" html-;\n}",
        # (Exact keys first: a request without ?lang= or with a listed value is a hash
        # lookup, no regex.)
        "map $arg_lang $kg_asked {\n    default \"\";\n    \"\" \"\";\n    de de;\n"
        "    en en;\n    \"~*^de\" de;\n    \"~*^en\" en;\n}",
        "map $kg_asked$kg_accept_lang $kg_lang {\n    default de;\n"
        + "".join(f"    {a}{b} {a or b};\n" for a in ("", "de", "en") for b in ("de", "en"))
        + "}",
        # The variant: negotiated from the headers, or named by the suffix.
        f"map $kg_format $kg_neg {{\n    default $kg_format;\n    html {html};\n}}",
        "map $kg_neg $kg_ext {\n    default html;\n"
        + "".join(f"    {v} {s};\n" for v, s in _SUFFIXES.items()) + "}",
        "map $kg_sfx $kg_variant {\n    default \"\";\n"
        + "".join(f"    {s} {v};\n" for v, s in _SUFFIXES.items()) + f"    html {html};\n}}",
        *maps,
    ]) + "\n"
    host = urlsplit(url).hostname or "localhost"
    example = (f"# An example server block; TLS, logs and the rest of the site are yours.\n"
               f"# In nginx.conf's http block:  include {site.parent}/nginx/maps.conf;\n"
               f"# The locations match regular expressions: `pcre_jit on;` in nginx.conf's\n"
               f"# main context compiles them.\n"
               f"server {{\n    listen 80;\n    server_name {host};\n"
               f"    include {site.parent}/nginx/locations.conf;\n}}\n")
    return maps_text, locations, example


def _check_names(rests: Iterable[str]) -> None:
    """Document paths become file names: no dots, nothing that leaves the folder."""
    for rest in rests:
        if "." in rest or rest.startswith("/") or re.search(r"(^|/)\.\.?(/|$)", rest):
            raise ExportError(f"cannot export a document path with a dot: {rest!r}")
