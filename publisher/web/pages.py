"""The pages blueprint: the home page (kinds of things, with counts) and /health."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, jsonify, render_template, request

from publisher import describe, labels
from publisher.iris import own_path
from publisher.overview import read_overview
from publisher.store import StoreError
from publisher.web.cache import Rendered, render_cache
from publisher.web.facts import kind_list_name
from publisher.web.http import page_language, send
from publisher.web.links import page_root
from publisher.web.search import current_index, local_url
from publisher.web.state import served
from publisher.web.view import term_label

log = logging.getLogger(__name__)

__all__ = ["HOME_LIMIT", "bp", "init_app"]

bp = Blueprint("pages", __name__)

HOME_LIMIT = 200  # members listed per kind on the home page; the rest are counted


def init_app(app: Flask) -> None:
    """Register the pages routes on the app."""
    app.register_blueprint(bp)


@bp.get("/")
def home() -> Response:
    """The kinds of things in the graph, each with its count and its members."""
    published = served().published
    settings = served().settings
    lang = page_language()
    keep_lang = bool(request.args.get("lang"))
    key = (published.build_id, "home", lang, keep_lang, request.url_root)

    def make() -> Rendered:
        store = published.store
        base = settings.base_uri
        found = describe.kinds(store, base)
        shown = [m for k in found for m in k.members[:HOME_LIMIT]]
        names = describe.labels(store, shown + [k.main_type for k in found if k.main_type])
        suffix = f"?lang={lang}" if keep_lang else ""
        kinds = []
        for kind in found:
            label = _kind_label(kind, names, lang)
            members = sorted(
                ({"label": describe.label_of(names, m, lang),
                  "href": page_root() + own_path(str(m), base) + suffix}
                 for m in kind.members[:HOME_LIMIT]), key=lambda m: m["label"].lower())
            kinds.append({"name": kind.name, "label": label, "count": kind.count,
                          "members": members, "more": max(0, kind.count - HOME_LIMIT)})
        overview = read_overview(store, base, current_index())
        html = render_template("home.html", lang=lang, kinds=kinds, overview=overview,
                               list_name=lambda kind: kind_list_name(kind, lang),
                               href=lambda iri: local_url(iri) + suffix,
                               triples=store.triple_count(), build_id=published.build_id)
        return Rendered(html.encode("utf-8"), "text/html; charset=utf-8")

    response = send(render_cache().get_or_render(key, make), release=published.release)
    response.content_language = lang
    if not keep_lang:
        response.vary.add("Accept-Language")
    return response


def _kind_label(kind, labels_graph, lang: str) -> str:
    """A kind's name in the page language: the one name the pages give it (vocabularies/
    pages/kinds.ttl), else its class's label (the graph's, else the table of reused terms)."""
    named = labels.kind_name(kind.name, lang)
    if named is not None:
        return named
    if kind.main_type is not None:
        return term_label(labels_graph, kind.main_type, lang)
    return kind.name.capitalize()


@bp.get("/health")
def health() -> Response:
    """Liveness: 200 with the triple count and build id once the graph is loaded, else 503."""
    published = served().published
    store = published.store
    # ping() asks the store within a second (a remote store), the count is cached. Why the
    # store does not answer names its internal address: the log and /ready from loopback
    # say it, /health (public) does not.
    if store is not None and not store.ping():
        log.warning("health: %s", getattr(store, "unavailable_reason", "") or "no answer")
        return _no_store({"status": "unavailable", "build_id": published.build_id,
                          "store": store.name, "error": "the store does not answer"})
    try:
        triples = store.triple_count() if store is not None else 0
    except StoreError as exc:
        log.warning("health: %s", exc)
        body = {"status": "unavailable", "build_id": published.build_id,
                "error": "the store does not answer"}
        return _no_store(body)
    if not triples:
        return _no_store({"status": "no graph", "build_id": published.build_id, "triples": 0})
    # problems: e.g. a new build that was refused while this one keeps serving
    response = jsonify({"status": "ok", "build_id": published.build_id, "triples": triples,
                        "store": store.name, "problems": list(served().problems)})
    response.cache_control.no_store = True
    return response


def _no_store(body: dict) -> Response:
    response = jsonify(body)
    response.status_code = 503
    response.headers["Retry-After"] = "30"
    response.cache_control.no_store = True
    return response
