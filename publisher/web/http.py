"""HTTP done once for every blueprint: validators and 304, gzip, CORS, negotiated errors."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, RequestURITooLarge
from werkzeug.wrappers import Response as BaseResponse

from publisher.config import Settings
from publisher.iris import MAX_PATH
from publisher.namespaces import RDF
from publisher.releases import Release
from publisher.store import StoreError, StoreUnavailable
from publisher.web.cache import GZIP_LEVEL, Rendered
from publisher.web.negotiation import HTML, OFFERS, Offer, choose, choose_language

__all__ = [
    "CORS_HEADERS",
    "MIN_GZIP",
    "add_vary",
    "build_time",
    "error_response",
    "init_app",
    "page_language",
    "public_base",
    "send",
]

MIN_GZIP = 1024
MAX_URL = 8192
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "Content-Location, Link, ETag, Last-Modified, Vary",
}
_COMPRESSIBLE = re.compile(
    r"^(text/|application/(.+\+)?(json|xml)$|application/(n-triples|n-quads|trig|"
    r"sparql-results\+(json|xml)|javascript)$|image/svg\+xml$)")
# A Host header we will write into IRIs: a DNS name or IPv4/IPv6 literal, and a port.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$")

_TITLES = {
    400: ("Ungültige Anfrage", "Bad request"),
    404: ("Nicht gefunden", "Not found"),
    405: ("Methode nicht erlaubt", "Method not allowed"),
    406: ("Kein passendes Format", "Not acceptable"),
    410: ("Nicht mehr vorhanden", "Gone"),
    414: ("Adresse zu lang", "URI too long"),
    500: ("Interner Fehler", "Internal error"),
    503: ("Vorübergehend nicht verfügbar", "Service unavailable"),
}

# What an error means, when the code that raised it gave no reason of its own.
_MESSAGES = {
    404: ("Diese Adresse gibt es hier nicht.", "There is nothing at this address."),
    405: ("Diese Methode ist hier nicht erlaubt.", "This method is not allowed here."),
}


def add_vary(response: Response, *headers: str) -> None:
    """Add header names to Vary (once each)."""
    for header in headers:
        response.vary.add(header)


def public_base(settings: Settings) -> str:
    """The base the representations use: the request's host when rewriting, else the base.
    Kept per scheme, host and root (werkzeug rebuilds and re-encodes the URL each time it
    is asked: ~15 us a request); the hosts are those allowed_hosts let in."""
    if not settings.rewrite_base:
        return settings.base_uri
    environ = request.environ
    key = tuple(map(environ.get, _BASE_KEYS))
    found = _BASES.get(key)
    if found is None:
        if len(_BASES) >= 256:
            _BASES.clear()
        found = _BASES[key] = request.url_root
    return found


_BASE_KEYS = ("wsgi.url_scheme", "HTTP_HOST", "SERVER_NAME", "SERVER_PORT", "SCRIPT_NAME")
_BASES: dict[tuple[object, ...], str] = {}


def page_language() -> str:
    """The language of a page: ?lang=, else Accept-Language, else German."""
    return choose_language(request.args.get("lang"), request.accept_languages)


def build_time(release: Release | None) -> dt.datetime | None:
    """When the release was built (Last-Modified of everything rendered from it)."""
    if release is None:
        return None
    try:
        when = dt.datetime.fromisoformat(release.info["built_at"])
    except (KeyError, TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _accepts_gzip() -> bool:
    return request.accept_encodings.quality("gzip") > 0


def send(rendered: Rendered, *, release: Release | None = None, status: int = 200,
         headers: dict[str, str] | None = None, max_age: int = 300) -> Response:
    """A response for a cached representation: gzip when allowed, validators, 304 on a match."""
    body = rendered.body
    etag = rendered.etag
    compress = len(body) >= MIN_GZIP
    response = Response(status=status, content_type=rendered.content_type)
    if compress and _accepts_gzip():
        body = rendered.gzipped()
        etag += "-gz"
        response.content_encoding = "gzip"
    if compress:
        add_vary(response, "Accept-Encoding")
    response.set_data(body)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 200:
        response.set_etag(etag)
        modified = build_time(release)
        if modified is not None:
            response.last_modified = modified
        response.cache_control.public = True
        response.cache_control.max_age = max_age
        response.make_conditional(request)
    return response


_ERROR_OFFERS = (*(o for o in OFFERS if o.is_rdf and o.name != "jsonld"),
                 Offer("jsonld", "JSON-LD", "application/ld+json", ("application/ld+json",),
                       "jsonld", "json-ld"),
                 HTML,
                 Offer("json", "JSON", "application/json", ("application/json",), "json", None),
                 Offer("text", "Text", "text/plain", ("text/plain",), "txt", None))


def _error_body(offer: Offer, status: int, title: str, message: str, lang: str,
                offered: list[str]) -> str:
    """An error message in the format the client asked for: an RDF client gets an empty
    document with the message as a comment, so it still parses."""
    line = f"{status} {title}: {message}".replace("\n", " ")
    if offer.name in ("turtle", "ntriples", "text"):
        body = f"# {line}\n" if offer.name != "text" else f"{line}\n"
        if offered:
            body += "".join(f"{'# ' if offer.name != 'text' else ''}{t}\n" for t in offered)
        return body
    if offer.name == "rdfxml":
        safe = line.replace("--", "- -").replace("&", "&amp;").replace("<", "&lt;")
        return ('<?xml version="1.0" encoding="utf-8"?>\n'
                f"<!-- {safe} -->\n"
                f'<rdf:RDF xmlns:rdf="{RDF}"/>\n')
    if offer.name in ("jsonld", "json"):
        data = {"status": status, "title": title, "detail": message}
        if offered:
            data["offered"] = offered
        return json.dumps([] if offer.name == "jsonld" else data, ensure_ascii=False)
    return render_template("error.html", lang=lang, status=status, title=title,
                           message=message, offered=offered)


def error_response(status: int, message: str = "", *, offered: list[str] | None = None,
                   headers: dict[str, str] | None = None, fmt: str | None = None) -> Response:
    """An error in the format the client accepts (HTML, RDF, JSON or text), never a traceback.

    `fmt` names the format the client asked for otherwise (a `format` parameter: json, html,
    turtle, …), which wins over Accept. A 406 is sent as plain text: the client accepts none
    of our formats by definition.
    """
    lang = page_language()
    de, en = _TITLES.get(status, ("Fehler", "Error"))
    title = de if lang == "de" else en
    named = next((o for o in _ERROR_OFFERS if o.name == fmt), None)
    if status == 406:
        offer = _ERROR_OFFERS[-1]
    elif named is not None:
        offer = named
    else:
        offer = choose(request.accept_mimetypes, _ERROR_OFFERS) or _ERROR_OFFERS[-1]
    body = _error_body(offer, status, title, message, lang, offered or [])
    response = Response(body, status=status, content_type=offer.content_type)
    add_vary(response, "Accept")
    if offer is HTML:
        add_vary(response, "Accept-Language")
        response.content_language = lang
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers.update(CORS_HEADERS)
    return response


def _http_error(exc: HTTPException) -> BaseResponse:
    status = exc.code or 500
    if status < 400:  # redirects raised as exceptions (RequestRedirect) pass through
        return exc.get_response()
    keep = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
    message = exc.description or ""
    if message == type(exc).description:  # werkzeug's own English text: say it ourselves
        message = ""
    if not message.strip() and status in _MESSAGES:
        de, en = _MESSAGES[status]
        message = de if page_language() == "de" else en
    return error_response(status, _plain(message), headers=keep)


def _plain(text: str) -> str:
    """werkzeug's descriptions carry a little HTML; the templates escape, so strip tags."""
    return re.sub(r"<[^>]+>", "", text).strip()


def _store_error(exc: StoreError) -> Response:
    status = 503
    headers = {"Retry-After": "30"} if isinstance(exc, StoreUnavailable) else {}
    return error_response(status, "Der Datenspeicher antwortet gerade nicht. / "
                                  "The store does not answer right now.", headers=headers)


def _internal_error(exc: Exception) -> Response:
    current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "Ein Fehler im Server; er wurde protokolliert. / "
                               "A server error; it was logged.")


def _url_too_long(environ: dict) -> bool:
    """Whether the request's URL (as werkzeug spells it) is longer than MAX_URL.

    werkzeug's decoding of the URL costs a tenth of a small SPARQL query's request, so it is
    done only for the few requests whose raw parts could make a URL that long: the query
    string only gets shorter when decoded, a decoded path character at most three times
    longer when quoted again.
    """
    raw = (len(environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or "")
           + 3 * (len(environ.get("SCRIPT_NAME", "")) + len(environ.get("PATH_INFO", "")))
           + len(environ.get("QUERY_STRING", "")) + len("https://:65535?"))
    return raw > MAX_URL and len(request.url) > MAX_URL


def _refuse_absurd_requests() -> Response | None:
    if len(request.path) > MAX_PATH + 64 or _url_too_long(request.environ):
        raise RequestURITooLarge()
    host = request.host
    if not _HOST.match(host):
        return error_response(400, "Ungültiger Host-Header. / Invalid Host header.")
    return None


def _compress(response: Response) -> Response:
    """gzip what other views send, when it is worth it and the client allows it."""
    if (response.status_code != 200 or response.direct_passthrough or response.is_streamed
            or "Content-Encoding" in response.headers
            or not _COMPRESSIBLE.match(response.mimetype or "")):
        return response
    data = response.get_data()
    if len(data) < MIN_GZIP:
        return response
    add_vary(response, "Accept-Encoding")
    if not _accepts_gzip():
        return response
    response.set_data(gzip.compress(data, GZIP_LEVEL, mtime=0))
    response.content_encoding = "gzip"
    etag, weak = response.get_etag()
    if etag:
        response.set_etag(etag + "-gz", weak=bool(weak))
    return response


def init_app(app: Flask) -> None:
    """Register the shared error handlers, request checks and gzip on the app."""
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(StoreError, _store_error)
    app.register_error_handler(Exception, _internal_error)
    app.before_request(_refuse_absurd_requests)
    app.after_request(_compress)
