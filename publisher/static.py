"""A static export: every representation as a file, and an nginx configuration serving them.

The representations come from the dynamic server (publisher.web.export renders them through
the app, so the bytes and headers are the same); this module writes them and the nginx
configuration that negotiates between them like the server does.

Layout of the export folder:

    site/<mode>/<variant>/<document path>[.<suffix>|.html]   the bodies (+ .gz when gzipped)
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


def _file(mode: str, cls: str, variant: str, rest: str, suffix: str) -> str:
    """Where a body lives under site/ (the ontology's rest is empty)."""
    name = rest or "ontology"
    return f"{mode}/{cls}/{variant}/{name}.{suffix}"


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
                 modified: float | None, url: str | None = None) -> dict:
    """Write the bodies and the nginx configuration into out; return what was written.

    url is where the export is served (default: the base); nginx answers under its path."""
    out = Path(out)
    site = out / "site"
    shutil.rmtree(site, ignore_errors=True)  # a resource gone from the graph goes from here
    counts = {"documents": 0, "files": 0, "bytes": 0}
    found: dict[tuple[str, str], dict] = {}
    things: dict[tuple[str, str], tuple] = {}
    for rep in representations:
        _check_names([rep.rest])
        mine = found.setdefault((rep.cls, rep.rest), {})
        for mode, answer in (("sfx", rep.by_suffix), ("neg", rep.negotiated)):
            if answer.status != 200:
                raise ExportError(f"{rep.cls} {rep.rest} {rep.variant} {mode}: "
                                  f"HTTP {answer.status}")
            path = site / _file(mode, rep.cls, rep.variant, rep.rest, rep.suffix)
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
    groups = _groups(found, things)
    counts["documents"] = len(found)
    nginx = out / "nginx"
    nginx.mkdir(parents=True, exist_ok=True)
    maps, locations, example = nginx_config(url or base, site.resolve(), groups, accept_map,
                                            language_map)
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


def _quote(value: str) -> str:
    """An nginx string in double quotes (with the placeholder as the $kg_rest variable)."""
    text = value.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace(PLACEHOLDER, "${kg_rest}") + '"'


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


def _variable(header: str) -> str:
    return "$kg_h_" + re.sub(r"[^a-z0-9]", "_", header.lower())


def _answers(groups: list[Group]) -> tuple[dict, dict, dict]:
    """Per answer key (group/mode/variant for documents, thing/group for 303s): the headers
    to add (with Vary), the content type per file suffix, and the 303's Location template."""
    headers: dict[str, dict[str, str]] = {}
    types: dict[str, str] = {}
    targets: dict[str, str] = {}
    for group in groups:
        for (mode, variant), (content_type, pairs, vary) in group.templates.items():
            suffix = _suffix(variant)
            if types.setdefault(suffix, content_type) != content_type:
                raise ExportError(f".{suffix} files are sent as {types[suffix]} and as "
                                  f"{content_type}")
            pairs = [*pairs, *([("Vary", ", ".join(vary))] if vary else [])]
            headers[f"{group.name}/{mode}/{variant}"] = _joined(pairs)
        if group.thing is not None:
            _status, location, pairs = group.thing
            headers[f"thing/{group.name}"] = _joined(pairs)
            targets[f"thing/{group.name}"] = location.split("?", 1)[0]
    return headers, types, targets


def _joined(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers by name, a repeated one as one comma-separated value (the same in HTTP)."""
    out: dict[str, str] = {}
    for name, value in pairs:
        key = next((k for k in out if k.lower() == name.lower()), name)
        out[key] = f"{out[key]}, {value}" if key in out else value
    return out


def _add_headers(answers: dict[str, dict[str, str]], keys: list[str]) -> list[str]:
    """add_header lines for the answers under keys: a header every one of them sends with the
    same value is written out; any other is a `map` variable keyed by $kg_key (an empty value
    adds nothing)."""
    names: dict[str, str] = {}
    for key in keys:
        for name in answers[key]:
            names.setdefault(name.lower(), name)
    lines = []
    for lower, name in names.items():
        values = {next((v for k, v in answers[key].items() if k.lower() == lower), None)
                  for key in keys}
        if len(values) == 1 and None not in values:
            lines.append(f"add_header {name} {_quote(values.pop())};")
        else:
            lines.append(f"add_header {name} {_variable(name)};")
    return lines


def nginx_config(url: str, site: Path, groups: list[Group], accept_map: dict[str, str],
                 language_map: dict[str, str]) -> tuple[str, str, str]:
    """The maps (http level), the locations (server level) and an example server block.

    Two regex locations answer everything: one for documents (by suffix or negotiated), one
    for the 303s from things' IRIs. Which file and which headers is worked out by `map`s
    (hash lookups, evaluated only when used) from the path's parts and the request headers;
    the file is served by try_files directly, without an internal rewrite."""
    prefix = urlsplit(url).path  # e.g. /kiezgraph/pankow/
    answers, types, targets = _answers(groups)
    doc_keys = sorted(k for k in answers if not k.startswith("thing/"))
    thing_keys = sorted(k for k in answers if k.startswith("thing/"))
    names: dict[str, str] = {}
    for key in answers:
        for name in answers[key]:
            names.setdefault(name.lower(), name)
    type_lines = "".join(f"        {_quote(t)} {s};\n" for s, t in sorted(types.items()))
    document = [
        f"root {site};", f"types {{\n{type_lines}    }}",
        "default_type application/octet-stream;", "etag on;", "gzip_static on;",
        "gzip_vary on;",
        # The files change only with a new export: keep their descriptors and stat results
        # rather than open and stat each one on every request (try_files uses the cache).
        "open_file_cache max=100000 inactive=600s;", "open_file_cache_valid 600s;",
        "open_file_cache_errors on;",
        "set $kg_key $kg_group/$kg_mode/$kg_variant;",
        "try_files /$kg_mode/$kg_cls/$kg_variant/$kg_file.$kg_ext =404;",
        *_add_headers(answers, doc_keys)]
    loc = [f"# Generated by `kiezgraph build --static`: include in the server block "
           f"that answers for {url}", "",
           f'location ~ "^{prefix}(?<kg_doc>doc/[^.]+|ontology)'
           f'(\\.(?<kg_sfx>ttl|jsonld|rdf|nt|html))?$" {{\n'
           + "".join(f"    {line}\n" for line in document) + "}"]
    if thing_keys:
        thing = ["set $kg_key thing/$kg_group;",
                 f"if (!-f {site}/neg/$kg_cls/turtle/$kg_rest.ttl) {{ return 404; }}",
                 'if ($kg_location = "") { return 404; }',
                 *_add_headers(answers, thing_keys),
                 "return 303 $kg_location$is_args$args;"]
        loc.append(f'location ~ "^{prefix}(?<kg_doc>id/[^.]+|ontology/[^./]+)$" {{\n'
                   + "".join(f"    {line}\n" for line in thing) + "}")
    locations = "\n".join(loc) + "\n"
    # A map per header whose value differs between answers (and is used above).
    header_maps = []
    for lower, name in sorted(names.items()):
        if _variable(name) + ";" in locations:
            values = {key: v for key, pairs in answers.items()
                      for k, v in pairs.items() if k.lower() == lower}
            header_maps.append(_map("$kg_key", _variable(name), values, [], '""',
                                    quote_values=True))
    special = {f"{g.cls}:{g.rest}": g.name for g in groups if g.rest is not None}
    maps = "\n\n".join([
        "# Generated by `kiezgraph build --static`: include in the http block.\n"
        "# Browsers' Accept headers are long map keys.\nmap_hash_bucket_size 256;",
        _map("$http_accept", "$kg_format", accept_map, _ACCEPT_FALLBACKS, "turtle"),
        _map("$http_accept_language", "$kg_accept_lang", language_map,
             _LANGUAGE_FALLBACKS, "de"),
        # ?lang= keeps the page's language in its links; a value we do not have falls
        # back to Accept-Language, as publisher.negotiation.choose_language does.
        "map $arg_lang $kg_keep {\n    default html-keep-;\n    \"\" html-;\n}",
        "map $arg_lang $kg_asked {\n    default \"\";\n    \"~*^de\" de;\n"
        "    \"~*^en\" en;\n}",
        "map $kg_asked$kg_accept_lang $kg_lang {\n    default de;\n    \"~^en\" en;\n}",
        "map $kg_format $kg_neg {\n    default $kg_format;\n    html $kg_keep$kg_lang;\n}",
        # The path's parts ($kg_doc and $kg_sfx come from the locations' regexes): the class
        # (which folder, which headers), the document path, the file's name.
        "map $kg_doc $kg_cls {\n    default doc;\n    ontology ontology;\n"
        "    \"~^(doc/)?ontology/[^/]+$\" term;\n}",
        "map $kg_doc $kg_rest {\n    default \"\";\n    \"~^(doc|id)/(?<kg_r>.+)$\" $kg_r;\n"
        "    \"~^ontology/[^/]+$\" $kg_doc;\n}",
        "map $kg_rest $kg_file {\n    default $kg_rest;\n    \"\" ontology;\n}",
        "map $kg_sfx $kg_mode {\n    default sfx;\n    \"\" neg;\n}",
        "map $kg_sfx $kg_variant {\n    default \"\";\n    \"\" $kg_neg;\n"
        + "".join(f"    {s} {v};\n" for v, s in _SUFFIXES.items())
        + "    html $kg_keep$kg_lang;\n}",
        "map $kg_variant $kg_ext {\n    default html;\n"
        + "".join(f"    {v} {s};\n" for v, s in _SUFFIXES.items()) + "}",
        # Documents whose headers differ from their class's have a group of their own.
        _map("$kg_cls:$kg_rest", "$kg_group", special, [], "$kg_cls"),
        _map("$kg_key", "$kg_location", targets, [], '""', quote_values=True),
        *header_maps,
    ]) + "\n"
    host = urlsplit(url).hostname or "localhost"
    example = (f"# An example server block; TLS, logs and the rest of the site are yours.\n"
               f"# In nginx.conf's http block:  include {site.parent}/nginx/maps.conf;\n"
               f"server {{\n    listen 80;\n    server_name {host};\n"
               f"    include {site.parent}/nginx/locations.conf;\n}}\n")
    return maps, locations, example


def _check_names(rests: Iterable[str]) -> None:
    """Document paths become file names: no dots, nothing that leaves the folder."""
    for rest in rests:
        if "." in rest or rest.startswith("/") or re.search(r"(^|/)\.\.?(/|$)", rest):
            raise ExportError(f"cannot export a document path with a dot: {rest!r}")
