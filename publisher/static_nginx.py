"""The nginx configuration of a static export: maps, locations and an example server block.

publisher.static writes the exported files and groups documents whose headers follow one
template; this module turns those groups into the nginx text that serves the files and
negotiates between them like the dynamic server does. Apart because it is a small compiler
of its own (nginx's `map` and `location` syntax, quoting, variables), tested through its
output, that needs nothing of how the files were made.

Negotiation. nginx cannot rank q-values (no Lua, and njs is not on the machines we target),
so the server's decision is computed ahead: `accept_map` holds the Accept headers clients
send (publisher.static.accept_headers: the common browser and RDF-client headers, and every
one or two media ranges of every name we offer, with each of six qualities, ~17,000 keys)
with what publisher.web.negotiation.choose answers for each, `none` where it answers 406, and
nginx looks the raw header up in one exact hash (no regex). A test runs the generated set
against a real nginx and the server and requires the same status and format for each.
A header outside the set (three or more ranges, other spacing) falls back to the first
offered type it names, q-values not weighed, Turtle when none: close to the server, not
exact (so it answers 200 where the server may say 406); such a client gets a document
of a format it named, and the suffix URLs stay exact for anyone who needs certainty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["PLACEHOLDER", "ExportError", "Group", "nginx_config"]

# Where a header template holds the document's own path: nginx writes the path (or its
# $kg_rest capture) in its place.
PLACEHOLDER = "\x00REST\x00"


class ExportError(RuntimeError):
    """The representations do not fit the configuration's templates (a bug, not bad data)."""


@dataclass
class Group:
    """Documents whose headers follow one template: one set of nginx locations."""

    name: str  # used in internal URIs
    cls: str  # the class folder its files are in
    rest: str | None  # one document only (its headers differ from its class), or all
    templates: dict  # (mode, variant) -> (content type, headers, vary tokens)
    thing: tuple | None = None  # (status, location, headers) of the 303, if any


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


# Where the server answers 406 (nothing offered is acceptable), so does nginx; `if` with
# `return` only is safe in a location. A thing's IRI is a 303 whatever the Accept header,
# as on the server.
_REFUSE = ['if ($kg_format = none) { add_header Vary "Accept, Accept-Language" always; '
           'return 406 "Angeboten werden / Offered: text/turtle, application/ld+json, '
           'application/rdf+xml, application/n-triples, text/html\\n"; }']
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
        first = next(iter(values.values()))
        if first is not None and all(x == first for x in values.values()):  # one value
            lines.append(f"add_header {name} {_quote(first, rest)};")
            continue
        variable = f"{prefix}_{re.sub(r'[^a-z0-9]', '_', lower)}"
        body = "".join(f"    {_quote(v)} {_quote(x, rest)};\n"
                       for v, x in sorted(values.items()) if x is not None)
        maps.append(f"map {source} {variable} {{\n    default \"\";\n{body}}}")
        lines.append(f"add_header {name} {variable};")
    return lines


def _block(match: str, lines: list[str]) -> str:
    return f"location {match} {{\n" + "".join(f"    {line}\n" for line in lines) + "}"


def _pages(prefix: str, site: Path, pages: dict[str, dict[str, str]]) -> list[str]:
    """Exact locations for the pages outside the documents (/events, /events.ics,
    /changes): the file of the page's language ($kg_lang, as for documents)."""
    blocks = []
    for path, headers in sorted(pages.items()):
        name = path if "." in path else path + ".html"
        content_type = headers["Content-Type"]
        lines = [f"root {site}/pages/$kg_lang;",
                 "types { }", f"default_type {_quote(content_type)};", "etag on;",
                 f"try_files /{prefix.lstrip('/')}{name} =404;",
                 "add_header Content-Language $kg_lang;",
                 'add_header Vary "Accept-Language";',
                 "add_header X-Content-Type-Options nosniff;"]
        if headers.get("Cache-Control"):
            lines.append(f"add_header Cache-Control {_quote(headers['Cache-Control'])};")
        blocks.append(_block(f"= {prefix}{path}", lines))
    return blocks


def nginx_config(url: str, site: Path, groups: list[Group], accept_map: dict[str, str],
                 language_map: dict[str, str], assets: bool = False,
                 extra: dict[str, dict[str, str]] | None = None) -> tuple[str, str, str]:
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
                f"root {site}/neg;", *files, *_REFUSE, "try_files /$kg_neg$uri.$kg_ext =404;",
                *_add_headers(by_mode["neg"], "$kg_neg", f"{name}_neg", rest, maps)]))
        else:
            rest = None
            doc = {"doc": f"{p}doc/(?<kg_rest>(?!ontology/)[^.]+)",
                   "term": f"{p}doc/(?<kg_rest>ontology/[^./]+)",
                   "ontology": f"{p}ontology"}[group.cls]
            regex.append(_block(f'~ "^{doc}\\.(?<kg_sfx>{sfx})$"', [
                f"root {site}/sfx/$kg_variant;", *files,
                *_add_headers(by_mode["sfx"], "$kg_variant", f"{name}_sfx", None, maps)]))
            neg = [f"root {site}/neg;", *files, *_REFUSE,
                   "try_files /$kg_neg$uri.$kg_ext =404;",
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
    exact += _pages(prefix, site, extra or {})
    locations = "\n".join([f"# Generated by `kiezgraph build --static`: include in the "
                           f"server block that answers for {url}", *exact, *regex]) + "\n"
    maps_text = "\n\n".join([
        "# Generated by `kiezgraph build --static`: include in the http block.\n"
        "# Browsers' Accept headers are long map keys, and there are ~17,000 of them.\n"
        "map_hash_bucket_size 256;\nmap_hash_max_size 65536;",
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
