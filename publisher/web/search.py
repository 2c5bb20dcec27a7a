"""The search blueprint: /search as a results page, or as JSON for autocomplete."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import Blueprint, Flask, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from publisher import labels
from publisher.iris import local_path
from publisher.search import SearchIndex, build_index
from publisher.web.http import error_response, page_language, public_base
from publisher.web.links import page_root
from publisher.web.negotiation import without_parameters
from publisher.web.state import Published, Slot, served

__all__ = ["bp", "current_index", "init_app", "local_url", "page_lang"]

bp = Blueprint("search", __name__)

MAX_QUERY = 200
MAX_LIMIT = 100


@dataclass
class _IndexCache:
    """The search index of the last snapshot asked about (rebuilt after each swap)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    entry: tuple[Published, SearchIndex] | None = None


_INDEX = Slot("kiezgraph.search", _IndexCache)

def init_app(app: Flask) -> None:
    """Register the search routes and the per-snapshot index cache on the app."""
    _INDEX.put(app, _IndexCache())
    app.register_blueprint(bp)


def current_index() -> SearchIndex:
    """The search index of the snapshot being served, built on first use after each swap."""
    state = served()
    published = state.published
    cache = _INDEX.get()
    with cache.lock:
        if cache.entry is not None and cache.entry[0] is published:
            return cache.entry[1]
        index = build_index(published.store, state.settings.base_uri)
        cache.entry = (published, index)
        return index


def page_lang() -> str:
    """The page language, chosen as on every other page (?lang=, Accept-Language, German)."""
    return page_language()


def local_url(iri: str, *, page: bool = True) -> str:
    """Where a resource's page is on this server (its document), else the IRI itself:
    relative to the page answered (see publisher.web.links), or with page=False (for JSON
    answers, which have no page to be relative to) from the site's root."""
    path = local_path(iri, served().settings.base_uri)
    if path is None:
        return iri
    return (page_root() if page else "/") + path


def _shown_iri(iri: str) -> str:
    """The IRI as this server names it (on the request's host when rewrite_base is on)."""
    settings = served().settings
    if settings.rewrite_base and iri.startswith(settings.base_uri):
        return public_base(settings) + iri[len(settings.base_uri):]
    return iri


class _BadSearch(ValueError):
    """A search request we cannot answer (sent as 400 in the format the client asked for)."""


def _wants_json() -> bool:
    fmt = request.args.get("format", "")
    if fmt:
        if fmt not in ("json", "html"):
            raise _BadSearch(f"format must be json or html, not {fmt!r}")
        return fmt == "json"
    best = without_parameters(request.accept_mimetypes).best_match(
        ["text/html", "application/json"])
    return best == "application/json"


def _limit() -> int:
    raw = request.args.get("limit", "")
    if not raw:
        return 20
    # isdigit() alone holds for "²" and other digits int() does not read
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise _BadSearch(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


@bp.get("/search")
def search() -> ResponseReturnValue:
    """Resources whose labels match ?q=, ranked; HTML page or JSON (Accept or ?format=json)."""
    as_json = None
    try:
        as_json = _wants_json()
        query = request.args.get("q", "").strip()
        if len(query) > MAX_QUERY:
            raise _BadSearch(f"the search text is longer than {MAX_QUERY} characters")
        kind = request.args.get("kind") or None
        if kind is not None and kind not in labels.kinds():
            raise _BadSearch(f"unknown kind {kind!r}; one of {', '.join(labels.kinds())}")
        limit = _limit()
    except _BadSearch as exc:
        # The page or JSON, as the answer would have been (Accept decides when ?format= is
        # itself the problem); Turtle, the site's default for */*, is no answer here.
        fmt = "html" if as_json is False else "json" if as_json else \
            ("json" if without_parameters(request.accept_mimetypes).best_match(
                ["text/html", "application/json"]) == "application/json" else "html")
        response = error_response(400, str(exc), fmt=fmt)
        response.vary.add("Accept")
        return response
    hits = current_index().search(query, limit=limit, kind=kind) if query else []
    lang = page_lang()
    if as_json:
        results = [{**hit.as_dict(), "iri": _shown_iri(hit.iri),
                    "url": local_url(hit.iri, page=False),
                    "label": hit.label(lang)} for hit in hits]
        response = jsonify({"query": query, "lang": lang, "results": results})
        response.vary.add("Accept")
        return response
    rows = [{"url": local_url(h.iri), "label": h.label(lang), "matched": h.matched,
             "kind": h.kind, "kind_name": labels.kind_name(h.kind, lang) or h.kind,
             "iri": _shown_iri(h.iri)} for h in hits]
    page = render_template("search.html", lang=lang, query=query, rows=rows, kind=kind,
                           limit=limit)
    return page, 200, {"Vary": "Accept, Accept-Language"}

