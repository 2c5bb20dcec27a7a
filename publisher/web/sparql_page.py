"""The query page a browser gets at /sparql: editor, examples, and an answer as a table.

Apart from the protocol because it is a view for people - prefixed names, links, download
links, a page that stays about `max_result_bytes` big - over the same checked query and the
same run (publisher.web.sparql_protocol) a tool gets its answer from.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Response, render_template, request

from publisher.sparql.examples import load_examples
from publisher.sparql.guard import CheckedQuery
from publisher.sparql.prefixes import prefixes_for, prologue
from publisher.sparql.results import GRAPH_FORMATS, formats_for, term_json
from publisher.web.http import public_base
from publisher.web.links import page_url
from publisher.web.security import linkable
from publisher.web.sparql_protocol import (
    HTML,
    ProtocolError,
    cache_key,
    limit_headers,
    outward,
    run,
    values,
)
from publisher.web.sparql_release import mark_release, snapshot, versions
from publisher.web.state import served

__all__ = ["error_page", "page", "page_answer"]


def _shown(text: str) -> str:
    """Query text as the page shows it: under this address, as its author wrote it."""
    return outward(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def _public_prefixes(prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes the page offers, under the request's base like everything it shows."""
    settings = served().settings
    public, base = public_base(settings), settings.base_uri
    return {p: (public + ns[len(base):] if ns.startswith(base) else ns)
            for p, ns in prefixes.items()}


def _short(iri: str, prefixes: dict[str, str]) -> str:
    """A prefixed name for display, when a prefix fits."""
    best = max((ns for ns in prefixes.values() if iri.startswith(ns)), key=len, default=None)
    if best is None:
        return iri
    local = iri[len(best):]
    if not local or any(c in local for c in "/#?"):
        return iri
    prefix = next(p for p, ns in prefixes.items() if ns == best)
    return f"{prefix}:{local}"


def _link(iri: str, base: str) -> str | None:
    """Where a result IRI leads (answers name the graph's own IRIs under this server
    already): http(s) and mailto IRIs as they are, no link for any other scheme
    (javascript:, ...)."""
    return iri if linkable(iri) else None


def _cell(term: dict | None, prefixes: dict[str, str], base: str) -> dict | None:
    """A SPARQL JSON term, ready for the template."""
    if term is None:
        return None
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return {"kind": "iri", "text": _short(value, prefixes), "href": _link(value, base),
                "title": value}
    if kind == "bnode":
        return {"kind": "bnode", "text": f"_:{value}"}
    if kind == "triple":
        return {"kind": "literal", "text": json.dumps(value)}
    note = f"@{term['xml:lang']}" if "xml:lang" in term else (
        f"^^{_short(term['datatype'], prefixes)}" if "datatype" in term else "")
    return {"kind": "literal", "text": value, "note": note}


def _downloads(checked: CheckedQuery) -> list[dict]:
    """Links to the same answer in every format of its query form."""
    params = [("query", _shown(checked.text))]
    params += [("default-graph-uri", g) for g in values("default-graph-uri")]
    params += [("named-graph-uri", g) for g in values("named-graph-uri")]
    params += [("release", v) for v in values("release") if v]
    return [{"label": f.label, "href": _endpoint_url() + "?" +
             urlencode([*params, ("format", f.name)])} for f in formats_for(checked.form)]


def _endpoint_url() -> str:
    """The endpoint relative to the page (the query page is never part of a static export,
    for which page_url says None)."""
    url = page_url("sparql.endpoint")
    if url is None:
        raise RuntimeError("the SPARQL query page is not part of the static export")
    return url


def page_answer(checked: CheckedQuery) -> Response:
    """Run a query for the page and show its answer as a table."""
    published = snapshot()  # the served release, or the one ?release= names (#25)
    settings = served().settings
    prefixes = _public_prefixes(prefixes_for(published.release, settings.base_uri))
    media_type = GRAPH_FORMATS[-1].media_type if checked.is_graph else \
        "application/sparql-results+json"
    # The page writes a value up to about four times (link, title, text, escaping): it is
    # made from a quarter of max_result_bytes, so the page too stays about that size.
    max_bytes = settings.max_result_bytes // 4
    started = time.perf_counter()
    try:
        answer = run(checked, media_type, published,
                     cache_key(checked, media_type, published, max_bytes), max_bytes)
    except ProtocolError as exc:
        response = Response(page(query=_shown(checked.text), error=exc, checked=checked),
                            status=exc.status, mimetype=HTML, headers=exc.headers)
        response.vary.add("Accept")
        return response
    elapsed = (time.perf_counter() - started) * 1000
    base = settings.base_uri
    result: dict = {"form": checked.form, "count": answer.count,
                    "truncated": answer.truncated, "ms": round(elapsed, 1)}
    if checked.is_graph:
        result["columns"] = ["subject", "predicate", "object"]
        result["rows"] = [[_cell(term_json(t), prefixes, base)
                           for t in (q.subject, q.predicate, q.object)]
                          for q in ox.parse(outward(answer.body),
                                            format=ox.RdfFormat.N_TRIPLES)]
    else:
        data = json.loads(outward(answer.body))
        if "boolean" in data:
            result["boolean"] = data["boolean"]
        else:
            columns = data["head"]["vars"]
            result["columns"] = columns
            result["rows"] = [[_cell(b.get(c), prefixes, base) for c in columns]
                              for b in data["results"]["bindings"]]
    response = Response(page(query=_shown(checked.text), result=result, checked=checked),
                        mimetype=HTML)
    response.headers.update(limit_headers(answer))
    mark_release(response, published)
    response.vary.add("Accept")
    return response


def error_page(exc: ProtocolError) -> Response:
    """A protocol error for a browser: the page, with the query it sent."""
    response = Response(page(query=request.values.get("query", ""), error=exc),
                        status=exc.status, mimetype=HTML)
    response.headers.update(exc.headers)
    return response


def page(query: str | None, result: dict | None = None,
         error: ProtocolError | None = None, checked: CheckedQuery | None = None) -> str:
    """The query page: editor, examples, and the answer or the error."""
    settings = served().settings
    published = served().published
    prefixes = _public_prefixes(prefixes_for(published.release, settings.base_uri))
    if not query:
        query = prologue(prefixes) + "\nSELECT ?s ?p ?o\nWHERE { ?s ?p ?o }\nLIMIT 25\n"
    examples = [{"slug": e.slug, "title": e.title, "title_en": e.title_en,
                 "href": _endpoint_url() + "?" + urlencode({"query": e.text})}
                for e in load_examples()]
    return render_template(
        "sparql.html", lang="de", query=query, result=result, error=error,
        examples=examples, downloads=_downloads(checked) if checked else [],
        formats=[*formats_for("SELECT"), *GRAPH_FORMATS], prefixes=prefixes,
        timeout=settings.query_timeout, max_results=settings.max_results,
        max_query_length=settings.max_query_length, releases=versions(),
        release=next((v for v in values("release") if v), ""))
