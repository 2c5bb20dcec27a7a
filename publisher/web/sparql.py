"""The sparql blueprint: the SPARQL 1.1 Protocol at /sparql, its service description and page.

Read-only and bounded: every query passes publisher.sparql.guard before a store sees it,
runs within `query_timeout` and `query_memory` in a killable worker, is cut at `max_results`
rows and `max_result_bytes` bytes (stated in the X-Result-Limit header, and
X-Result-Truncated: true when a cut happened), and at most `max_concurrent_queries` run at
once. A repeated query is answered from the per-build answer cache
(publisher.sparql.answers) before it would take a slot, with an ETag, and 304 when the
client already holds that answer.
"""

from __future__ import annotations

import json
import logging
import time
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Flask, Response, current_app, render_template, request

from publisher import metrics
from publisher.budget import Shelf
from publisher.sparql.answers import AnswerCache, answer_hits, answer_key, etag_of
from publisher.sparql.examples import load_examples
from publisher.sparql.guard import CheckedQuery, QueryRejected, scan, syntax_error
from publisher.sparql.limits import Admission, Busy
from publisher.sparql.prefixes import prefixes_for, prologue
from publisher.sparql.results import (
    GRAPH_FORMATS,
    NotSerialisable,
    format_by_name,
    formats_for,
    term_json,
)
from publisher.sparql.service_description import service_description
from publisher.store.base import (
    QueryAborted,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)
from publisher.web import memo
from publisher.web.cache import budget
from publisher.web.http import public_base
from publisher.web.links import page_url
from publisher.web.negotiation import without_parameters
from publisher.web.security import linkable
from publisher.web.state import served

__all__ = ["bp", "init_app"]

log = logging.getLogger(__name__)

bp = Blueprint("sparql", __name__)

_EXT = "kiezgraph.sparql"
_ANSWERS = "kiezgraph.sparql.answers"
# What a query answer depends on besides the build: the query string (query, dataset,
# format), content negotiation, gzip, the conditional header, and the address (as the
# resource memo keys it).
_KEYED = ("QUERY_STRING", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT",
          "SCRIPT_NAME", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH",
          "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE",
          "HTTP_IF_RANGE")
HTML = "text/html"
_FORM = "application/x-www-form-urlencoded"
_DIRECT = "application/sparql-query"
_UPDATE = "application/sparql-update"
_READ_ONLY = ("SPARQL Update is not accepted: this endpoint is read-only. "
              "Use the query parameter (or application/sparql-query) for queries.")


def init_app(app: Flask) -> None:
    """Register the sparql routes and the query admission (sized from the settings)."""
    settings = app.extensions["kiezgraph"].settings
    # Reserve two web-server threads for everything else: queries (running or waiting for a
    # slot) never occupy all of them, so dereferencing never queues behind SPARQL.
    spare = max(1, settings.threads - 2)
    limit = min(settings.max_concurrent_queries, spare)
    app.extensions[_EXT] = Admission(limit=limit, waiting=min(limit, spare - limit))
    app.extensions[_ANSWERS] = AnswerCache(budget(app))  # shared with the other caches
    app.register_blueprint(bp)
    app.before_request(_warm)
    # Whole responses of repeated GET queries, sent again before Flask (publisher.web.memo);
    # sits beneath the resource routes' memo when there is one, which stays outermost.
    outer = app.wsgi_app if isinstance(app.wsgi_app, memo.ResponseMemo) else app
    answers = _AnswerMemo(app, outer.wsgi_app)
    outer.wsgi_app = answers
    app.extensions[_EXT + ".memo"] = answers


def _warm() -> None:
    """Start the served store's query workers on the first request of any kind (the first
    readiness probe, usually), so the first query need not wait for them to load."""
    warm = getattr(served().published.store, "warm", None)
    if warm is not None:
        warm()


class _CountedKept(Shelf):
    """The memo's responses; a hit is counted as an answer cache hit in /metrics."""

    def get(self, key):
        """The kept response, or None (a miss goes on to the answer cache, counted there)."""
        found = super().get(key)
        if found is not None:
            answer_hits().inc()
        return found


class _AnswerMemo(memo.ResponseMemo):
    """The response memo of the resource routes, applied to GET /sparql: a repeated query
    costs about 15 us instead of 1 ms of Flask. Only answers marked by `_mark` are kept:
    deterministic query answers (200 or 304, with an ETag), never pages or errors."""

    def __init__(self, app: Flask, wsgi_app):
        super().__init__(app, wsgi_app, _CountedKept(budget(app), "sparql-responses"))

    def key(self, environ: dict) -> tuple | None:
        """The parts of the request the answer depends on, or None to leave it to Flask."""
        if environ.get("PATH_INFO") != "/sparql" or not self.replayable(environ):
            return None
        return (self._build_id(), environ["REQUEST_METHOD"], "/sparql",
                *map(environ.get, _KEYED))


class ProtocolError(Exception):
    """A request that breaks the SPARQL protocol (answered with status and message)."""

    def __init__(self, status: int, message: str, line: int | None = None,
                 column: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.line, self.column = line, column
        self.headers = headers or {}


def _values(name: str) -> list[str]:
    """A parameter's values from the URL and, for a form POST, the body (graph IRIs under
    this server's address as the store knows them)."""
    values = request.args.getlist(name)
    if request.method == "POST" and request.mimetype == _FORM:
        values += request.form.getlist(name)
    if name in ("default-graph-uri", "named-graph-uri"):
        return [_inward(v) for v in values]
    return values


# --- one identity for every IRI ----------------------------------------------------------
# With rewrite_base on, the server names its things under the address a request came to
# (documents, VoID, the catalogue). SPARQL does the same, as Trifid does: IRIs under that
# address in a query are put back under base_uri before the query is checked, cached and
# run (so the answer cache keys on the query as the store knows it, whichever host asked),
# and every answer, in every format, is put under that address on its way out.

def _public() -> str:
    """The base this request's answers name things under."""
    return public_base(_settings())


def _inward(text: str) -> str:
    """Query text (or an IRI) as the store knows it: this address's IRIs under base_uri."""
    public, base = _public(), _settings().base_uri
    return text if public == base else text.replace(public, base)


def _outward(body: bytes) -> bytes:
    """An answer as this address names things: base_uri's IRIs under the request's base."""
    public, base = _public(), _settings().base_uri
    return body if public == base else body.replace(base.encode(), public.encode())


def _shown(text: str) -> str:
    """Query text as the page shows it: under this address, as its author wrote it."""
    return _outward(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")


def _public_prefixes(prefixes: dict[str, str]) -> dict[str, str]:
    """The prefixes the page offers, under the request's base like everything it shows."""
    public, base = _public(), _settings().base_uri
    return {p: (public + ns[len(base):] if ns.startswith(base) else ns)
            for p, ns in prefixes.items()}


def _read_query() -> str | None:
    """The query text of a protocol request, or None when there is none (GET without one)."""
    if _values("query") and _values("update"):
        raise ProtocolError(400, "give either a query or an update, not both")
    if "update" in request.args or (request.method == "POST" and request.mimetype == _FORM
                                     and "update" in request.form):
        raise ProtocolError(403, _READ_ONLY)
    if request.method in ("GET", "HEAD"):  # HEAD answers as GET would, without the body
        queries = request.args.getlist("query")
    elif request.mimetype == _FORM:
        queries = _values("query")
    elif request.mimetype == _DIRECT:
        charset = request.mimetype_params.get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise ProtocolError(415, f"the query must be UTF-8, not {charset}")
        if "query" in request.args:
            raise ProtocolError(400, "a direct POST carries the query in the body, "
                                     "not also in a query parameter")
        try:
            return request.get_data(cache=True).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(400, "the query is not valid UTF-8") from None
    elif request.mimetype == _UPDATE:
        raise ProtocolError(403, _READ_ONLY)
    else:
        given = request.mimetype or "no Content-Type"
        raise ProtocolError(415, f"POST a query as {_FORM} (query=…) or as {_DIRECT}, "
                                 f"not {given}")
    if len(queries) > 1:
        raise ProtocolError(400, "give exactly one query parameter")
    if not queries:
        if request.method == "POST":
            raise ProtocolError(400, "the request carries no query parameter")
        return None
    return queries[0]


def _accept():
    """The request's Accept ranges, parameters ignored (see publisher.web.negotiation)."""
    return without_parameters(request.accept_mimetypes)


def _wants_html() -> bool:
    """Whether the client prefers the page over any machine format (a browser)."""
    names = [v.lower() for v in _values("format") if v]
    if names:
        return "html" in names
    accept = request.headers.get("Accept", "").lower()
    if "html" not in accept and "*" not in accept:
        return False  # a tool's Accept: no need to rank it (a tenth of a small query's time)
    machine = [f.media_type for f in (*formats_for("SELECT"), *GRAPH_FORMATS)]
    accept = _accept()
    best = accept.best_match([*machine, HTML, "application/xhtml+xml"])
    return best in (HTML, "application/xhtml+xml") and accept[HTML] > 0


def _choose_format(checked: CheckedQuery):
    """The answer format: the `format` parameter, else Accept, else the form's default."""
    offered = formats_for(checked.form)
    names = [v for v in _values("format") if v]
    if names:
        for name in names:
            fmt = format_by_name(checked.form, name)
            if fmt is not None:
                return fmt
        valid = ", ".join(f.name for f in offered)
        raise ProtocolError(400, f"format {names[0]!r} does not apply to a {checked.form} "
                                 f"query; use one of: {valid}")
    candidates = [t for f in offered for t in f.media_types]
    best = _accept().best_match(candidates)
    if best is None:
        return offered[0]
    return next(f for f in offered if best in f.media_types)


def _error(exc: ProtocolError, page: bool) -> Response:
    """An error in the negotiated form: the page, JSON, or plain text."""
    if page:
        response = Response(_render_page(query=request.values.get("query", ""), error=exc),
                            status=exc.status, mimetype=HTML)
    elif _accept().best_match(["text/plain", "application/json",
                               "application/sparql-results+json"]) \
            not in (None, "text/plain") and _accept()["text/plain"] < 1:
        body = {"status": exc.status, "message": exc.message}
        if exc.line is not None:
            body.update(line=exc.line, column=exc.column)
        response = Response(json.dumps({"error": body}, ensure_ascii=False) + "\n",
                            status=exc.status, mimetype="application/json")
    else:
        where = f" (line {exc.line}, column {exc.column})" if exc.line is not None else ""
        if exc.line is not None and "line" in exc.message:
            where = ""
        response = Response(f"{exc.message}{where}\n", status=exc.status,
                            mimetype="text/plain")
    response.headers.update(exc.headers)
    return response


def _settings():
    return served().settings


def _key(checked: CheckedQuery, media_type: str, published,
         max_bytes: int | None = None) -> tuple | None:
    """The answer cache key of this request's query, or None when its answer may change."""
    if not checked.deterministic:
        return None
    settings = _settings()
    return answer_key(published.build_id, checked.text, media_type,
                      _values("default-graph-uri"), _values("named-graph-uri"),
                      settings.max_results, settings.base_uri,
                      settings.max_result_bytes if max_bytes is None else max_bytes)


def _check_dataset() -> None:
    """The protocol's dataset names graphs by absolute IRIs; anything else is a 400."""
    for name in ("default-graph-uri", "named-graph-uri"):
        for value in _values(name):
            try:
                ox.NamedNode(value)
            except ValueError as exc:
                raise ProtocolError(400, f"{name} {value[:200]!r} is not an absolute IRI "
                                         f"({exc})") from None


def _run(checked: CheckedQuery, media_type: str, published, key: tuple | None = None,
         max_bytes: int | None = None):
    """Run a checked query on the snapshot's store, within the admission and the limits;
    a cached answer first (it needs no slot). max_bytes: the byte cap, when not the
    setting's (the page's)."""
    _check_dataset()
    answers: AnswerCache = current_app.extensions[_ANSWERS]
    if key is not None:
        found = answers.get(key)
        if found is not None:
            return found
    settings = _settings()
    admission: Admission = current_app.extensions[_EXT]
    store = published.store
    prefixes = prefixes_for(published.release, settings.base_uri)
    asked = time.monotonic()
    try:
        with admission.slot():
            # The wait for a slot counts against the limit: a query is answered (or stopped
            # with 503) within query_timeout of asking for a slot, however long it waited.
            left = max(0.1, settings.query_timeout - (time.monotonic() - asked))
            answer = store.run_query(
                checked.text, media_type, timeout=left,
                max_results=settings.max_results, default_graphs=_values("default-graph-uri"),
                named_graphs=_values("named-graph-uri"), base_iri=settings.base_uri,
                prefixes=prefixes,
                max_bytes=settings.max_result_bytes if max_bytes is None else max_bytes)
    except Busy as exc:
        raise ProtocolError(503, str(exc), headers={"Retry-After": str(exc.retry_after)}) \
            from None
    except QueryTimeout as exc:
        metrics.query_timeouts().inc()
        log.info("SPARQL query stopped: %s", exc)
        raise ProtocolError(503, f"the query ran longer than the time limit of "
                            f"{settings.query_timeout:g} s and was stopped. Narrow the query "
                            "(LIMIT, more specific patterns).", headers={"Retry-After": "1"}) \
            from None
    except QueryAborted as exc:  # over query_memory, or the engine crashed: worker replaced
        raise ProtocolError(503, str(exc), headers={"Retry-After": "1"}) from None
    except NotSerialisable as exc:
        raise ProtocolError(406, str(exc)) from None
    except StoreUnavailable as exc:
        # The store's own words can name its internal address: they go to the log only.
        log.warning("SPARQL store unavailable: %s", exc)
        raise ProtocolError(503, "the store is unavailable right now; try again shortly",
                            headers={"Retry-After": "2"}) from None
    except QuerySyntaxError as exc:
        rejected = syntax_error(str(exc))
        raise ProtocolError(400, rejected.message, rejected.line, rejected.column) from None
    except QueryRejected as exc:  # a remote store's full parse, done inside the slot
        raise ProtocolError(exc.status, exc.message, exc.line, exc.column) from None
    except StoreError as exc:
        log.warning("SPARQL store error: %s", exc)
        raise ProtocolError(502, "the store could not evaluate the query") from None
    if key is not None:
        answers.put(key, answer)
    return answer


def _limit_headers(answer) -> dict[str, str]:
    headers = {"X-Result-Limit": str(_settings().max_results),
               "X-Result-Count": str(answer.count)}
    if answer.truncated:
        headers["X-Result-Truncated"] = "true"
    return headers


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    """The SPARQL 1.1 Protocol: query by GET, POST form or POST direct; else the description."""
    page = _wants_html()
    try:
        text = _read_query()
        if text is None:
            response = Response(_render_page(query=None), mimetype=HTML) if page \
                else _description()
            response.vary.add("Accept")  # the page and the description share this URL
            return response
        checked = _check(_inward(text))
        if page:
            return _page_answer(checked)
        fmt = _choose_format(checked)
        published = served().published
        key = _key(checked, fmt.media_type, published)
        etag = etag_of(key) if key is not None else None
        if etag is not None and request.if_none_match.contains_weak(etag):
            response = Response(status=304)  # same build, same query: the client has it
            response.set_etag(etag, weak=True)
            response.vary.add("Accept")
            return memo.mark(response)
        answer = _run(checked, fmt.media_type, published, key)
    except ProtocolError as exc:
        response = _error(exc, page)
        response.vary.add("Accept")
        return response
    mimetype = answer.media_type
    content_type = f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") else mimetype
    response = Response(_outward(answer.body), status=200, content_type=content_type)
    response.headers.update(_limit_headers(answer))
    if etag is not None:
        response.set_etag(etag, weak=True)
        memo.mark(response)  # the same request may be answered again before Flask
    response.vary.add("Accept")
    return response


def _check(text: str) -> CheckedQuery:
    """The scan every query passes before admission: linear in the text, no parse, no lock
    (publisher.sparql.guard). A store that needs the full SPARQL 1.1 parse (a remote one)
    does it itself once the query holds a slot, in a killable parser process."""
    try:
        return scan(text, _settings().max_query_length)
    except QueryRejected as exc:
        raise ProtocolError(exc.status, exc.message, exc.line, exc.column) from None


@bp.after_request
def _cors(response: Response) -> Response:
    """Query tools in other origins (YASGUI & co.) may call the endpoint."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = (
        "X-Result-Limit, X-Result-Count, X-Result-Truncated, Retry-After, ETag")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    return response


# --- the service description -------------------------------------------------------------

_COUNTS = ("SELECT ?g (COUNT(*) AS ?n) WHERE { { SELECT DISTINCT ?s ?p ?o WHERE { ?s ?p ?o } } } "
           "GROUP BY ?g",
           "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")


def _counts(published) -> tuple[int, dict[str, int]]:
    """Distinct triples of the default graph and of each named graph, asked of the store
    (once per snapshot): the store knows every graph it holds, the build info only some."""
    cache = current_app.extensions.setdefault(_EXT + ".counts", {})
    key = id(published.store), published.build_id
    if key not in cache:
        settings = _settings()
        found = []
        for query in _COUNTS:
            answer = published.store.run_query(
                query, "application/sparql-results+json", timeout=settings.query_timeout,
                max_results=settings.max_results)
            found.append({b.get("g", {}).get("value", ""): int(b["n"]["value"])
                          for b in json.loads(answer.body)["results"]["bindings"]})
        cache.clear()
        cache[key] = (sum(found[0].values()), found[1])
    return cache[key]


def _description() -> Response:
    """The service description in the RDF format the client accepts (Turtle by default)."""
    settings = _settings()
    published = served().published
    try:
        triples, graphs = _counts(published)
    except StoreError as exc:
        # The store's own words can name its internal address: they go to the log only.
        log.warning("service description: the store did not answer: %s", exc)
        raise ProtocolError(503, "the store did not answer; try again shortly",
                            headers={"Retry-After": "2"}) from None
    graph = service_description(request.base_url, triples=triples, graphs=graphs,
                                max_results=settings.max_results,
                                timeout=settings.query_timeout)
    names = [v for v in _values("format") if v]
    fmt = next((f for f in (format_by_name("CONSTRUCT", n) for n in names)
                if f in GRAPH_FORMATS), None)  # N-Quads and TriG are for query answers
    if fmt is None:
        best = _accept().best_match([t for f in GRAPH_FORMATS for t in f.media_types])
        fmt = next((f for f in GRAPH_FORMATS if best in f.media_types), GRAPH_FORMATS[0])
    rdflib_name = {"turtle": "turtle", "jsonld": "json-ld", "rdfxml": "xml",
                   "ntriples": "nt"}[fmt.name]
    # sd:endpoint is this request's address; the graphs' names go under it too
    body = _outward(graph.serialize(format=rdflib_name, encoding="utf-8"))
    content_type = (f"{fmt.media_type}; charset=utf-8" if fmt.media_type.startswith("text/")
                    else fmt.media_type)
    response = Response(body, content_type=content_type)
    response.vary.add("Accept")
    return response


# --- the query page ----------------------------------------------------------------------

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
    params += [("default-graph-uri", g) for g in _values("default-graph-uri")]
    params += [("named-graph-uri", g) for g in _values("named-graph-uri")]
    return [{"label": f.label, "href": page_url("sparql.endpoint") + "?" +
             urlencode([*params, ("format", f.name)])} for f in formats_for(checked.form)]


def _page_answer(checked: CheckedQuery):
    """Run a query for the page and show its answer as a table."""
    published = served().published
    settings = _settings()
    prefixes = _public_prefixes(prefixes_for(published.release, settings.base_uri))
    media_type = GRAPH_FORMATS[-1].media_type if checked.is_graph else \
        "application/sparql-results+json"
    # The page writes a value up to about four times (link, title, text, escaping): it is
    # made from a quarter of max_result_bytes, so the page too stays about that size.
    max_bytes = settings.max_result_bytes // 4
    started = time.perf_counter()
    try:
        answer = _run(checked, media_type, published,
                      _key(checked, media_type, published, max_bytes), max_bytes)
    except ProtocolError as exc:
        response = Response(_render_page(query=_shown(checked.text), error=exc, checked=checked),
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
                          for q in ox.parse(_outward(answer.body),
                                            format=ox.RdfFormat.N_TRIPLES)]
    else:
        data = json.loads(_outward(answer.body))
        if "boolean" in data:
            result["boolean"] = data["boolean"]
        else:
            columns = data["head"]["vars"]
            result["columns"] = columns
            result["rows"] = [[_cell(b.get(c), prefixes, base) for c in columns]
                              for b in data["results"]["bindings"]]
    response = Response(_render_page(query=_shown(checked.text), result=result, checked=checked),
                        mimetype=HTML)
    response.headers.update(_limit_headers(answer))
    response.vary.add("Accept")
    return response


def _render_page(query: str | None, result: dict | None = None,
                 error: ProtocolError | None = None, checked: CheckedQuery | None = None) -> str:
    """The query page: editor, examples, and the answer or the error."""
    settings = _settings()
    published = served().published
    prefixes = _public_prefixes(prefixes_for(published.release, settings.base_uri))
    if not query:
        query = prologue(prefixes) + "\nSELECT ?s ?p ?o\nWHERE { ?s ?p ?o }\nLIMIT 25\n"
    examples = [{"slug": e.slug, "title": e.title, "title_en": e.title_en,
                 "href": page_url("sparql.endpoint") + "?" + urlencode({"query": e.text})}
                for e in load_examples()]
    return render_template(
        "sparql.html", lang="de", query=query, result=result, error=error,
        examples=examples, downloads=_downloads(checked) if checked else [],
        formats=[*formats_for("SELECT"), *GRAPH_FORMATS], prefixes=prefixes,
        timeout=settings.query_timeout, max_results=settings.max_results,
        max_query_length=settings.max_query_length)
