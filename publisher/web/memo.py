"""Whole responses of the resource routes, kept and sent again without going through Flask.

A document, a 303 or a 304 of the resource routes depends only on the build and on a few
parts of the request: method, path, query string, the address it came to (scheme, Host,
script root), Accept, Accept-Language, Accept-Encoding and the conditional headers. The
first request goes through Flask as usual; its status, headers and body are kept under
exactly those parts, and a later request that agrees in all of them is answered from
memory with the same bytes and headers, counted and logged like any other request. That
skips the request context, routing and hooks (about 2 ms of Python per request), which is
most of what serving a rendered document costs.

What is kept lives on a shelf of the app's one budget (publisher.budget, setting
`cache_bytes`), least recently used dropped first; a kept body is the very bytes object of
the rendered document or SPARQL answer it was made from, so it is counted once. The build
id is part of the key, so a reload never answers with an old build's response. Requests
near the header limits, with a body, or with any other method go through Flask.

A large body is handed to waitress in slices of `CHUNK` bytes (under granian the front,
publisher.web.front, frames the kept body itself): a server copies what it is given, and
whole copies of a multi-megabyte answer sent to a few clients at once cost tens of
megabytes of peak memory (measured at 1M triples: 70 MB for one 2.6 MB answer at 8
connections), slices a few hundred kilobytes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from flask import Flask, Response, request
from werkzeug.http import http_date

from publisher.budget import Shelf
from publisher.web.cache import budget, render_cache
from publisher.web.observability import record
from publisher.web.security import MAX_HEADER_BYTES, MAX_HEADERS
from publisher.web.state import Slot, served, set_wsgi_app

__all__ = ["CHUNK", "MISS", "REPLAY_ONLY", "ROUTE_KEY", "Memo", "ResponseMemo", "init_app",
           "mark"]

CHUNK = 256 << 10
ROUTE_KEY = "kiezgraph.memo_route"
# Set in an environ by a caller that may not block (publisher.web.front, on its event
# loop): the memos then answer only from what they keep and return MISS for anything
# else, rather than let Flask work on the caller's thread.
REPLAY_ONLY = "kiezgraph.replay_only"
MISS: list[bytes] = []  # the answer "not kept": compared by identity, never sent
_PREFIXES = ("/doc/", "/id/", "/ontology", "/release/", "/timemap/")
# Everything of a request the resource routes read (werkzeug builds url_root from the
# scheme, Host or SERVER_NAME/PORT and SCRIPT_NAME; the 304 logic reads the If-* headers).
_KEYED = ("QUERY_STRING", "wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT",
          "SCRIPT_NAME", "HTTP_ACCEPT", "HTTP_ACCEPT_LANGUAGE", "HTTP_ACCEPT_ENCODING",
          "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_MATCH",
          "HTTP_IF_UNMODIFIED_SINCE", "HTTP_RANGE", "HTTP_IF_RANGE",
          "HTTP_ACCEPT_DATETIME")  # the TimeGates (publisher.web.memento)
_KEPT_STATUS = (200, 303, 304)


@dataclass(frozen=True)
class Memo:
    """One response as sent: status line, headers, body, and the route it came from."""

    status: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    route: str
    document: bool  # a representation (counted as a render-cache hit, as Flask's path does)

    @property
    def blobs(self) -> tuple[bytes, ...]:
        """The body (shared with the representation or answer it was made from)."""
        return (self.body,)

    @property
    def overhead(self) -> int:
        """Bytes of the rest, roughly: status, route and headers."""
        return 200 + len(self.status) + len(self.route) + sum(
            100 + len(k) + len(v) for k, v in self.headers)


class ResponseMemo:
    """WSGI middleware in front of the Flask app: replay kept responses of resource routes."""

    def __init__(self, app: Flask, wsgi_app: Callable, kept: Shelf | None = None):
        self.app, self.wsgi_app = app, wsgi_app
        self.kept = kept if kept is not None else budget(app).shelf("responses")

    def _build_id(self) -> str:
        return served(self.app).published.build_id

    @staticmethod
    def replayable(environ: dict) -> bool:
        """Whether a request may be answered from kept responses: GET or HEAD, no body, and
        well inside the header limits (publisher.web.security refuses too many or too large
        headers; anything near them goes through Flask, which decides, and is never kept)."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return False
        if environ.get("CONTENT_LENGTH") not in (None, "", "0") \
                or "HTTP_TRANSFER_ENCODING" in environ:
            return False
        count = size = 0
        for name, value in environ.items():
            if name.startswith("HTTP_"):
                count += 1
                size += len(name) + len(value)
        return count + 2 <= MAX_HEADERS and size + 512 <= MAX_HEADER_BYTES

    def key(self, environ: dict) -> tuple | None:
        """The parts of the request the answer depends on, or None to leave it to Flask."""
        path = environ.get("PATH_INFO", "")
        if not path.startswith(_PREFIXES) or not self.replayable(environ):
            return None
        return (self._build_id(), environ["REQUEST_METHOD"], path,
                *map(environ.get, _KEYED))

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        started = time.perf_counter()
        key = self.key(environ)
        if key is None:
            if REPLAY_ONLY in environ and not isinstance(self.wsgi_app, ResponseMemo):
                return MISS
            return self.wsgi_app(environ, start_response)
        found = self.kept.get(key)
        if found is None:
            if REPLAY_ONLY in environ:
                return MISS
            return self._through(key, environ, start_response)
        if found.document:
            render_cache(self.app).count_hit()
        start_response(found.status, [("Date", _now()) if k == "Date" else (k, v)
                                      for k, v in found.headers])
        record(self.app, key[1], environ.get("PATH_INFO", ""), found.route,
               int(found.status[:3]), time.perf_counter() - started, self.log_extra(environ))
        if REPLAY_ONLY in environ:
            # The front frames the body itself: it gets the one kept bytes object, not
            # slices copied from it (a copy per reader of a large answer, held until sent).
            return [found.body]
        return _slices(found.body)

    def log_extra(self, environ: dict) -> dict | None:
        """What the access log line of a replayed answer says beyond method, path and status
        (as Flask's answer of the same request would)."""
        return None

    def _through(self, key: tuple, environ: dict, start_response: Callable) -> Iterable[bytes]:
        """Let Flask answer; keep the answer when it is one that can be sent again."""
        sent: list = []

        def capture(status: str, headers: list, exc_info=None):
            sent[:] = [status, headers]
            return start_response(status, headers, exc_info)

        answer = self.wsgi_app(environ, capture)
        try:
            body = b"".join(answer)
        finally:
            if hasattr(answer, "close"):
                answer.close()
        route = environ.get(ROUTE_KEY)
        if sent and route is not None and int(sent[0][:3]) in _KEPT_STATUS \
                and not any(k.lower() == "set-cookie" or (k.lower() == "cache-control"
                                                          and "no-store" in v)
                            for k, v in sent[1]) \
                and key[0] == self._build_id():
            self.kept.put(key, Memo(sent[0], tuple(sent[1]), body, route[0], route[1]))
        return _slices(body)


def _slices(body: bytes) -> Iterable[bytes]:
    """The body as the server should get it: whole when small, else in CHUNK-byte slices."""
    if len(body) <= CHUNK:
        return [body]
    return (body[start:start + CHUNK] for start in range(0, len(body), CHUNK))


_date: list = [0, ""]


def _now() -> str:
    """The current HTTP date (a kept answer's Date is the time it is sent, not kept)."""
    second = int(time.time())
    if _date[0] != second:
        _date[:] = [second, http_date(second)]
    return _date[1]


_MEMO = Slot("kiezgraph.memo", ResponseMemo)


def mark(response: Response) -> Response:
    """Tell the memo which route answered (after_request of the resource routes)."""
    if request.url_rule is not None:
        document = request.endpoint in ("resources.document", "resources.ontology")
        request.environ[ROUTE_KEY] = (request.url_rule.rule, document)
    return response


def init_app(app: Flask) -> ResponseMemo:
    """Put the memo in front of the app (the resource routes must call `mark`)."""
    memo = ResponseMemo(app, app.wsgi_app)
    set_wsgi_app(app, memo)
    return _MEMO.put(app, memo)
