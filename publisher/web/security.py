"""Security headers on every response and limits on what a request may carry.

The server is read-only: there is no write path (no SPARQL Update, no Graph Store
writes, no uploads); the routes accept GET/HEAD (and POST on /sparql for queries only),
so every other method gets 405 from the routing. This module adds what routing cannot:
headers that keep pages from being framed, sniffed or made to run foreign scripts, and
bounds on body size, header count and header size.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from flask import Flask, Response, request
from werkzeug.exceptions import (
    BadRequest,
    MethodNotAllowed,
    RequestEntityTooLarge,
    RequestHeaderFieldsTooLarge,
)
from werkzeug.middleware.proxy_fix import ProxyFix

from publisher.config import Settings
from publisher.web.state import Slot, served, set_wsgi_app

__all__ = ["CSP", "INTERNAL", "LINKABLE_SCHEMES", "LOCAL_HOSTS", "MAX_HEADERS", "MAX_HEADER_BYTES",
           "SECURITY_HEADERS", "allowed_hosts", "host_allowed", "init_app", "linkable",
           "outermost"]

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


LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# Set in the WSGI environ by requests the server makes of itself (the static export, which
# renders for the URL its operator chose); no HTTP request can set it.
INTERNAL = "kiezgraph.internal"
# The probes name no host and are never cached: they answer whatever Host a monitor uses.
_PROBES = frozenset({"/health", "/ready", "/metrics"})
_READS = frozenset({"GET", "HEAD", "OPTIONS"})
_POSTS = frozenset({"/sparql"})  # the only path that takes POST: queries
_ANY_ADDRESS = ("", "0.0.0.0", "::", "[::]")
_HOSTS: Slot[tuple[str, ...]] = Slot("kiezgraph.hosts", tuple)  # allowed_hosts, made once


def _split_host(host: str) -> tuple[str, str | None]:
    """A Host value as (name, port or None), lower case; IPv6 literals keep their brackets.

    Our own, because werkzeug's host_is_trusted cuts "[::1]" at its first colon."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]") + 1
        name, rest = host[:end], host[end:]
        return name, (rest[1:] if rest.startswith(":") else None)
    name, colon, port = host.partition(":")
    return name, (port if colon else None)


def allowed_hosts(settings: Settings) -> tuple[str, ...]:
    """The hosts requests may name: the `allowed_hosts` setting, else the base IRI's host
    (on the default ports), and on any port the loopback names and the address the server
    listens on (its host name when it listens on every address)."""
    given = tuple(h.strip().lower() for h in settings.allowed_hosts.split(",") if h.strip())
    if given:
        return given
    hosts = [urlsplit(settings.base_uri).netloc.lower(),
             *(f"{name}:*" for name in LOCAL_HOSTS)]
    listen = settings.host.strip().lower()
    if listen in _ANY_ADDRESS:
        hosts.append(f"{socket.gethostname().lower()}:*")
    else:
        hosts.append(f"[{listen}]:*" if ":" in listen and not listen.startswith("[")
                     else f"{listen}:*")
    return tuple(dict.fromkeys(hosts))


_DEFAULT_PORTS = (None, "80", "443")


def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether a Host value names an allowed host: `name` (on the default ports: none, 80 or
    443), `name:port`, `name:*` (any port), `.suffix` (the name and its subdomains, with
    the same port rules) or `*` (anything). A bare name admitting any port let
    `Host: w3id.org:1234` put that port into every Location (issue #24)."""
    name, port = _split_host(host)
    for entry in allowed:
        if entry == "*":
            return True
        want, want_port = _split_host(entry)
        if want_port is None:
            if port not in _DEFAULT_PORTS:
                continue
        elif want_port != "*" and want_port != port:
            continue
        if name == want or (want.startswith(".") and (name == want[1:] or
                                                      name.endswith(want))):
            return True
    return False


def outermost(app: Flask) -> None:
    """Believe X-Forwarded-* from `trusted_proxies` proxies, before anything else reads the
    request (the response memos key on the scheme and host this sets)."""
    hops = served(app).settings.trusted_proxies
    if hops:
        set_wsgi_app(app, ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                   x_port=hops, x_prefix=hops))


def init_app(app: Flask) -> None:
    """Apply the body limit from the settings, check each request, and add the headers."""
    settings = served(app).settings
    _HOSTS.put(app, allowed_hosts(settings))
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.config["MAX_FORM_MEMORY_SIZE"] = settings.max_body_bytes
    app.config["MAX_FORM_PARTS"] = 100
    app.jinja_env.tests["linkable"] = linkable
    app.before_request(_check_request)
    app.after_request(_add_headers)


def _check_request() -> None:
    """Refuse absurd headers (431), hosts we do not serve (400) and declared bodies over the
    limit (413) before any work."""
    headers = request.headers
    if len(headers) > MAX_HEADERS or \
            sum(len(k) + len(v) for k, v in headers.items()) > MAX_HEADER_BYTES:
        raise RequestHeaderFieldsTooLarge()
    allowed = _HOSTS.get()
    if request.path not in _PROBES and not request.environ.get(INTERNAL) \
            and not host_allowed(request.host, allowed):
        raise BadRequest(description=(
            f"This server does not answer for the host {request.host[:100]!r}; it answers "
            f"for {', '.join(allowed)} (setting allowed_hosts). / Dieser Server antwortet "
            "nicht für diesen Host."))
    limit = request.max_content_length
    if limit is not None and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge()
    # Read-only: a write method gets 405 on every path, defined or not (a 404 for an
    # undefined one would tell a scanner less, but SECURITY.md promises 405 everywhere).
    if request.method not in _READS and not (request.method == "POST"
                                             and request.path in _POSTS):
        raise MethodNotAllowed(valid_methods=["GET", "HEAD", "OPTIONS"])


def _add_headers(response: Response) -> Response:
    # On every answer, so read the headers once rather than through werkzeug's parsed
    # views (a third of a small SPARQL query's time in Flask's hooks; bench/FINDINGS.md 12).
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}
    for name, value in SECURITY_HEADERS.items():
        if name.lower() not in present:
            headers.add(name, value)
    no_store = "no-store" in headers.get("Cache-Control", "").lower() \
        and response.cache_control.no_store
    if not no_store and ("location" in present or served().settings.rewrite_base):
        # A Location, and with rewrite_base every IRI and link, names the host asked for:
        # a shared cache must keep a copy per host (nginx's default key leaves it out).
        response.vary.add("Host")
    mimetype = headers.get("Content-Type", "").partition(";")[0].strip().lower()
    if mimetype in ("text/html", "application/xhtml+xml", "image/svg+xml") \
            and "content-security-policy" not in present:
        headers.add("Content-Security-Policy", CSP)
    return response
