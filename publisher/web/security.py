"""Security headers on every response and limits on what a request may carry.

The server is read-only: there is no write path (no SPARQL Update, no Graph Store
writes, no uploads); the routes accept GET/HEAD (and POST on /sparql for queries only),
so every other method gets 405 from the routing. This module adds what routing cannot:
headers that keep pages from being framed, sniffed or made to run foreign scripts, and
bounds on body size, header count and header size.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import RequestEntityTooLarge, RequestHeaderFieldsTooLarge

__all__ = ["CSP", "LINKABLE_SCHEMES", "MAX_HEADERS", "MAX_HEADER_BYTES", "SECURITY_HEADERS",
           "init_app", "linkable"]

# Scripts and styles only from our own files. The JSON-LD in <script type="application/ld+json">
# is a data block the browser never runs, so script-src needs no 'unsafe-inline' for it; the
# templates use no inline style attributes (tests/test_security.py checks both).
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
MAX_HEADERS = 100
MAX_HEADER_BYTES = 16 * 1024
# The only schemes a page makes a link of; any other IRI (javascript:, data:, vbscript:, ...)
# is shown as text, whatever the CSP would stop.
LINKABLE_SCHEMES = frozenset({"http", "https", "mailto"})


def linkable(iri: str | None) -> bool:
    """Whether a page may make a link of this IRI or URL (relative, http, https or mailto)."""
    if not iri:
        return False
    text = "".join(ch for ch in iri if ch > " " and ch != "\x7f")  # as browsers strip them
    try:
        scheme = urlsplit(text).scheme
    except ValueError:
        return False
    return not scheme or scheme.lower() in LINKABLE_SCHEMES


def init_app(app: Flask) -> None:
    """Apply the body limit from the settings, check each request, and add the headers."""
    settings = app.extensions["kiezgraph"].settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.config["MAX_FORM_PARTS"] = 100
    app.jinja_env.tests["linkable"] = linkable
    app.before_request(_check_request)
    app.after_request(_add_headers)


def _check_request() -> None:
    """Refuse absurd headers (431) and declared bodies over the limit (413) before any work."""
    headers = request.headers
    if len(headers) > MAX_HEADERS or \
            sum(len(k) + len(v) for k, v in headers.items()) > MAX_HEADER_BYTES:
        raise RequestHeaderFieldsTooLarge()
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()


def _add_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if response.mimetype in ("text/html", "application/xhtml+xml", "image/svg+xml"):
        response.headers.setdefault("Content-Security-Policy", CSP)
    return response
