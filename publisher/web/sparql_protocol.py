"""The SPARQL 1.1 Protocol's request side: read a query, negotiate its format, run it, err.

Kept apart from the routes (publisher.web.sparql) so that the endpoint, the service
description (publisher.web.sparql_description) and the query page
(publisher.web.sparql_page) share one reading of a request and one way to run a query -
within the admission, the limits and the answer cache - without importing each other.
"""

from __future__ import annotations

import json
import logging
import time

import pyoxigraph as ox
from flask import Response, request
from werkzeug.datastructures import MIMEAccept

from publisher import metrics
from publisher.config import Settings
from publisher.formats import RdfFormatInfo, ResultFormatInfo
from publisher.sparql.answers import AnswerCache, answer_key
from publisher.sparql.errors import EngineReachedOut, QueryFailed
from publisher.sparql.guard import CheckedQuery, QueryRejected, scan, syntax_error
from publisher.sparql.limits import Admission, Busy
from publisher.sparql.prefixes import prefixes_for
from publisher.sparql.results import GRAPH_FORMATS, NotSerialisable, format_by_name, formats_for
from publisher.sparql.strict import NO_SERVICE
from publisher.store.base import (
    QueryAborted,
    QuerySyntaxError,
    QueryTimeout,
    StoreError,
    StoreUnavailable,
)
from publisher.web.front import ARRIVED
from publisher.web.http import public_base
from publisher.web.negotiation import without_parameters
from publisher.web.observability import query_hash
from publisher.web.state import Published, Slot, served

__all__ = [
    "ADMISSION",
    "ANSWERS",
    "HTML",
    "ProtocolError",
    "accept_ranges",
    "cache_key",
    "check",
    "choose_format",
    "error_response",
    "inward",
    "limit_headers",
    "outward",
    "read_query",
    "run",
    "values",
    "wants_html",
]

log = logging.getLogger("publisher.web.sparql")  # the endpoint's log, as before the split

# In app.extensions: the query admission, and the per-build answer cache
ADMISSION = Slot("kiezgraph.sparql", Admission)
ANSWERS = Slot("kiezgraph.sparql.answers", AnswerCache)
HTML = "text/html"
_FORM = "application/x-www-form-urlencoded"
_DIRECT = "application/sparql-query"
_UPDATE = "application/sparql-update"
_READ_ONLY = ("SPARQL Update is not accepted: this endpoint is read-only. "
              "Use the query parameter (or application/sparql-query) for queries.")


class ProtocolError(Exception):
    """A request that breaks the SPARQL protocol (answered with status and message)."""

    def __init__(self, status: int, message: str, line: int | None = None,
                 column: int | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message = status, message
        self.line, self.column = line, column
        self.headers = headers or {}


# What a request's reading computes more than once (a parameter's values, the public base,
# the Accept ranges) is kept in its environ under this key: a small query's request read
# them ten times over, a sixth of its time in Flask (bench/FINDINGS.md, section 12).
_READ = "kiezgraph.sparql.read"


def _once(name: str, compute):
    """compute(), once per request."""
    kept = request.environ.setdefault(_READ, {})
    if name not in kept:
        kept[name] = compute()
    return kept[name]


def values(name: str) -> list[str]:
    """A parameter's values from the URL and, for a form POST, the body (graph IRIs under
    this server's address as the store knows them)."""
    return list(_once("values:" + name, lambda: _values(name)))


def _values(name: str) -> list[str]:
    found = request.args.getlist(name)
    if request.method == "POST" and request.mimetype == _FORM:
        found += request.form.getlist(name)
    if name in ("default-graph-uri", "named-graph-uri"):
        return [inward(v) for v in found]
    return found


# --- one identity for every IRI ----------------------------------------------------------
# With rewrite_base on, the server names its things under the address a request came to
# (documents, VoID, the catalogue). SPARQL does the same, as Trifid does: IRIs under that
# address in a query are put back under base_uri before the query is checked, cached and
# run (so the answer cache keys on the query as the store knows it, whichever host asked),
# and every answer, in every format, is put under that address on its way out.

def _public() -> str:
    """The base this request's answers name things under."""
    return _once("public", lambda: public_base(_settings()))


def inward(text: str) -> str:
    """Query text (or an IRI) as the store knows it: this address's IRIs under base_uri."""
    public, base = _public(), _settings().base_uri
    return text if public == base else text.replace(public, base)


def outward(body: bytes) -> bytes:
    """An answer as this address names things: base_uri's IRIs under the request's base."""
    public, base = _public(), _settings().base_uri
    return body if public == base else body.replace(base.encode(), public.encode())


def read_query() -> str | None:
    """The query text of a protocol request, or None when there is none (GET without one)."""
    if values("query") and values("update"):
        raise ProtocolError(400, "give either a query or an update, not both")
    if "update" in request.args or (request.method == "POST" and request.mimetype == _FORM
                                     and "update" in request.form):
        raise ProtocolError(403, _READ_ONLY)
    if request.method in ("GET", "HEAD"):  # HEAD answers as GET would, without the body
        queries = request.args.getlist("query")
    elif request.mimetype == _FORM:
        queries = values("query")
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


def accept_ranges() -> MIMEAccept:
    """The request's Accept ranges, parameters ignored (see publisher.web.negotiation)."""
    return _once("accept", lambda: without_parameters(request.accept_mimetypes))


def wants_html() -> bool:
    """Whether the client prefers the page over any machine format (a browser)."""
    names = [v.lower() for v in values("format") if v]
    if names:
        return "html" in names
    accept = request.headers.get("Accept", "").lower()
    if "html" not in accept and "*" not in accept:
        return False  # a tool's Accept: no need to rank it (a tenth of a small query's time)
    machine = [f.media_type for f in (*formats_for("SELECT"), *GRAPH_FORMATS)]
    ranges = accept_ranges()
    best = ranges.best_match([*machine, HTML, "application/xhtml+xml"])
    return best in (HTML, "application/xhtml+xml") and ranges[HTML] > 0


def choose_format(checked: CheckedQuery) -> ResultFormatInfo | RdfFormatInfo:
    """The answer format: the `format` parameter, else Accept, else the form's default."""
    offered = formats_for(checked.form)
    names = [v for v in values("format") if v]
    if names:
        for name in names:
            fmt = format_by_name(checked.form, name)
            if fmt is not None:
                return fmt
        valid = ", ".join(f.name for f in offered)
        raise ProtocolError(400, f"format {names[0]!r} does not apply to a {checked.form} "
                                 f"query; use one of: {valid}")
    candidates = [t for f in offered for t in f.media_types]
    best = accept_ranges().best_match(candidates)
    if best is None:
        return offered[0]
    return next(f for f in offered if best in f.media_types)


def error_response(exc: ProtocolError) -> Response:
    """An error for a machine client, in the negotiated form: JSON or plain text (the query
    page shows its own, publisher.web.sparql_page.error_page)."""
    if accept_ranges().best_match(["text/plain", "application/json",
                                   "application/sparql-results+json"]) \
            not in (None, "text/plain") and accept_ranges()["text/plain"] < 1:
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


def _settings() -> Settings:
    return served().settings


def cache_key(checked: CheckedQuery, media_type: str, published: Published,
              max_bytes: int | None = None) -> tuple | None:
    """The answer cache key of this request's query, or None when its answer may change."""
    if not checked.deterministic:
        return None
    settings = _settings()
    return answer_key(published.build_id, checked.text, media_type,
                      values("default-graph-uri"), values("named-graph-uri"),
                      settings.max_results, settings.base_uri,
                      settings.max_result_bytes if max_bytes is None else max_bytes)


def _check_dataset() -> None:
    """The protocol's dataset names graphs by absolute IRIs; anything else is a 400."""
    for name in ("default-graph-uri", "named-graph-uri"):
        for value in values(name):
            try:
                ox.NamedNode(value)
            except ValueError as exc:
                raise ProtocolError(400, f"{name} {value[:200]!r} is not an absolute IRI "
                                         f"({exc})") from None


def run(checked: CheckedQuery, media_type: str, published: Published, key: tuple | None = None,
        max_bytes: int | None = None):
    """Run a checked query on the snapshot's store, within the admission and the limits;
    a cached answer first (it needs no slot). max_bytes: the byte cap, when not the
    setting's (the page's)."""
    _check_dataset()
    answers = ANSWERS.get()
    if key is not None:
        found = answers.get(key)
        if found is not None:
            return found
    settings = _settings()
    admission = ADMISSION.get()
    store = published.store
    prefixes = prefixes_for(published.release, settings.base_uri)
    # The wait counts from the request's arrival: under granian a burst of queries waits
    # for the SPARQL lane's threads on the front's event loop (publisher.web.front).
    asked = request.environ.get(ARRIVED, time.monotonic())
    if time.monotonic() - asked >= settings.query_timeout:
        raise ProtocolError(503, f"the query waited longer than the time limit of "
                            f"{settings.query_timeout:g} s for its turn; try again shortly",
                            headers={"Retry-After": "1"})
    try:
        with admission.slot():
            # The wait for a slot counts against the limit: a query is answered (or stopped
            # with 503) within query_timeout of asking for a slot, however long it waited.
            left = max(0.1, settings.query_timeout - (time.monotonic() - asked))
            answer = store.run_query(
                checked.text, media_type, timeout=left,
                max_results=settings.max_results, default_graphs=values("default-graph-uri"),
                named_graphs=values("named-graph-uri"), base_iri=settings.base_uri,
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
    except EngineReachedOut as exc:
        # The check missed a SERVICE the engine then tried; the sandbox held. The client is
        # refused as any SERVICE query is (never a 5xx that tells a disguise got through),
        # and the operator is told.
        metrics.network_attempts().inc()
        log.error("SPARQL engine tried the network past the check (sandbox refused): %s "
                  "query_hash=%s", exc, query_hash(checked.text))
        raise ProtocolError(403, NO_SERVICE) from None
    except QueryFailed as exc:  # the engine's reason, the query's fault
        raise ProtocolError(400, f"the query could not be evaluated: {exc}") from None
    except StoreError as exc:
        log.warning("SPARQL store error: %s", exc)
        raise ProtocolError(503, "the store could not evaluate the query; try again "
                            "shortly", headers={"Retry-After": "2"}) from None
    if key is not None:
        answers.put(key, answer)
    return answer


def limit_headers(answer) -> dict[str, str]:
    """X-Result-Limit and X-Result-Count, and X-Result-Truncated when the answer was cut."""
    headers = {"X-Result-Limit": str(_settings().max_results),
               "X-Result-Count": str(answer.count)}
    if answer.truncated:
        headers["X-Result-Truncated"] = "true"
    return headers


def check(text: str) -> CheckedQuery:
    """The scan every query passes before admission: linear in the text, no parse, no lock
    (publisher.sparql.guard). A store that needs the full SPARQL 1.1 parse (a remote one)
    does it itself once the query holds a slot, in a killable parser process."""
    try:
        return scan(text, _settings().max_query_length)
    except QueryRejected as exc:
        raise ProtocolError(exc.status, exc.message, exc.line, exc.column) from None
