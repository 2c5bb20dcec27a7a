"""The sparql blueprint: the SPARQL 1.1 Protocol at /sparql, its service description and page.

Read-only and bounded: every query passes publisher.sparql.guard before a store sees it,
runs within `query_timeout` and `query_memory` in a killable worker, is cut at `max_results`
rows and `max_result_bytes` bytes (stated in the X-Result-Limit header, and
X-Result-Truncated: true when a cut happened), and at most `max_concurrent_queries` run at
once. A repeated query is answered from the per-build answer cache
(publisher.sparql.answers) before it would take a slot, with an ETag, and 304 when the
client already holds that answer.

This module holds the route and what is wired around it (admission, answer cache, response
memo, CORS); reading and running a request is publisher.web.sparql_protocol, the service
description publisher.web.sparql_description, the page publisher.web.sparql_page.
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

from flask import Blueprint, Flask, Response, request

from publisher.budget import Shelf
from publisher.sparql.answers import AnswerCache, answer_hits, etag_of
from publisher.sparql.limits import Admission
from publisher.web import memo
from publisher.web.cache import budget
from publisher.web.observability import ACCESS_LOG, query_hash
from publisher.web.sparql_description import description
from publisher.web.sparql_page import error_page, page, page_answer
from publisher.web.sparql_protocol import (
    ADMISSION,
    ANSWERS,
    HTML,
    ProtocolError,
    cache_key,
    check,
    choose_format,
    error_response,
    inward,
    limit_headers,
    outward,
    read_query,
    run,
    wants_html,
)
from publisher.web.sparql_release import mark_release, snapshot
from publisher.web.state import Slot, served, set_wsgi_app

__all__ = ["bp", "init_app"]

bp = Blueprint("sparql", __name__)
_ANSWER_MEMO = Slot("kiezgraph.sparql.memo", memo.ResponseMemo)

# What a query answer depends on besides the build: the query string (query, dataset,
# format), content negotiation, gzip, the conditional header, and the address (as the
# resource memo keys it).
_KEYED = ("QUERY_STRING", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT",
          "SCRIPT_NAME", "HTTP_ACCEPT", "HTTP_ACCEPT_ENCODING", "HTTP_IF_NONE_MATCH",
          "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE",
          "HTTP_IF_RANGE")


def init_app(app: Flask) -> None:
    """Register the sparql routes and the query admission (sized from the settings)."""
    settings = served(app).settings
    # Reserve two web-server threads for everything else: queries (running or waiting for a
    # slot) never occupy all of them, so dereferencing never queues behind SPARQL.
    spare = max(1, settings.threads - 2)
    limit = min(settings.max_concurrent_queries, spare)
    ADMISSION.put(app, Admission(limit=limit, waiting=min(limit, spare - limit)))
    ANSWERS.put(app, AnswerCache(budget(app)))  # shared with the other caches
    app.register_blueprint(bp)
    app.before_request(_warm)
    # Whole responses of repeated GET queries, sent again before Flask (publisher.web.memo);
    # sits beneath the resource routes' memo when there is one, which stays outermost.
    outer = app.wsgi_app
    if isinstance(outer, memo.ResponseMemo):
        answers = _AnswerMemo(app, outer.wsgi_app)
        outer.wsgi_app = answers
    else:
        answers = _AnswerMemo(app, outer)
        set_wsgi_app(app, answers)
    _ANSWER_MEMO.put(app, answers)


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

    def log_extra(self, environ: dict) -> dict | None:
        """The query's fingerprint, as on every SPARQL log line (issue #24)."""
        if not ACCESS_LOG.isEnabledFor(logging.INFO):
            return None
        found = parse_qs(environ.get("QUERY_STRING", "")).get("query")
        return {"query_hash": query_hash(found[0])} if found else None

    def key(self, environ: dict) -> tuple | None:
        """The parts of the request the answer depends on, or None to leave it to Flask."""
        if environ.get("PATH_INFO") != "/sparql" or not self.replayable(environ):
            return None
        return (self._build_id(), environ["REQUEST_METHOD"], "/sparql",
                *map(environ.get, _KEYED))


@bp.route("/sparql", methods=["GET", "POST"])
def endpoint():
    """The SPARQL 1.1 Protocol: query by GET, POST form or POST direct; else the description."""
    browser = wants_html()
    try:
        text = read_query()
        if text is None:
            response = Response(page(query=None), mimetype=HTML) if browser \
                else description()
            response.vary.add("Accept")  # the page and the description share this URL
            return response
        checked = check(inward(text))
        if browser:
            return page_answer(checked)
        fmt = choose_format(checked)
        published = snapshot()  # the served release, or the one ?release= names (#25)
        key = cache_key(checked, fmt.media_type, published)
        etag = etag_of(key) if key is not None else None
        if etag is not None and request.if_none_match.contains_weak(etag):
            response = Response(status=304)  # same build, same query: the client has it
            response.set_etag(etag, weak=True)
            response.vary.add("Accept")
            return memo.mark(mark_release(response, published))
        answer = run(checked, fmt.media_type, published, key)
    except ProtocolError as exc:
        response = error_page(exc) if browser else error_response(exc)
        response.vary.add("Accept")
        return response
    mimetype = answer.media_type
    content_type = f"{mimetype}; charset=utf-8" if mimetype.startswith("text/") else mimetype
    response = Response(outward(answer.body), status=200, content_type=content_type)
    response.headers.update(limit_headers(answer))
    mark_release(response, published)
    if etag is not None:
        response.set_etag(etag, weak=True)
        memo.mark(response)  # the same request may be answered again before Flask
    response.vary.add("Accept")
    return response


@bp.after_request
def _cors(response: Response) -> Response:
    """Query tools in other origins (YASGUI & co.) may call the endpoint."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = (
        "X-Result-Limit, X-Result-Count, X-Result-Truncated, X-Release, Retry-After, ETag")
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    return response

