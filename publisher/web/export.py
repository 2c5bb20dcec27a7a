"""Render every representation of every resource through the app, for the static export."""

from __future__ import annotations

from pathlib import Path

from werkzeug.datastructures import LanguageAccept, MIMEAccept
from werkzeug.http import parse_accept_header

from publisher.config import Settings
from publisher.iris import DOC, document_path, graph_path, is_safe_path
from publisher.releases import Release
from publisher.static import (
    COMMON_ACCEPT_LANGUAGE,
    NOT_ACCEPTABLE,
    Answer,
    ExportError,
    Page,
    Representation,
    accept_headers,
    write_export,
)
from publisher.store import Store
from publisher.web import create_app
from publisher.web.http import build_time
from publisher.web.links import EXPORT_FLAG
from publisher.web.negotiation import OFFERS, choose, choose_language
from publisher.web.security import INTERNAL
from publisher.web.state import served

__all__ = ["PAGES", "accept_maps", "documents", "export_app", "export_static", "pages",
           "representations"]

LANGUAGES = ("de", "en")
PAGES = ("events", "events.ics", "changes")  # exported beside the documents, per language


def documents(store, base: str) -> list[str]:
    """The document paths (base-relative, without suffix) of every resource of ours."""
    rows = store.select('SELECT DISTINCT ?s WHERE { ?s ?p ?o FILTER(isIRI(?s) && '
                        f'STRSTARTS(STR(?s), "{base}")) }}')
    found = set()
    for row in rows:
        path = graph_path(str(row["s"]), base)
        if path and "#" not in path and is_safe_path(path):
            doc = document_path(path)
            if doc is not None:
                found.add(doc)
    return sorted(found)


def _answer(response) -> Answer:
    return Answer(response.status_code, tuple(response.headers.items()), response.get_data())


def representations(app, base: str, docs: list[str]):
    """Each document (and the ontology) in every variant, as the app answers for the base."""
    client = app.test_client()

    def get(path: str, **headers) -> Answer:
        # INTERNAL: rendered for the host the operator chose, whatever allowed_hosts says
        return _answer(client.get(path, base_url=base, headers=headers,
                                  environ_overrides={INTERNAL: True}))

    targets = [(("term" if d.startswith(DOC + "ontology/") else "doc"), d) for d in docs]
    targets.append(("ontology", "ontology"))
    for cls, doc in targets:
        rest = "" if cls == "ontology" else doc[len(DOC):]
        url = "/" + doc
        thing = None
        if cls != "ontology":
            thing = get("/" + (rest if cls == "term" else "id/" + rest))
        for offer in OFFERS:
            if offer.is_rdf:
                yield Representation(cls, rest, offer.name, offer.suffix,
                                     get(f"{url}.{offer.suffix}"),
                                     get(url, Accept=offer.media_type), thing)
                thing = None
                continue
            for lang in LANGUAGES:
                yield Representation(cls, rest, f"html-{lang}", "html",
                                     get(f"{url}.html", **{"Accept-Language": lang}),
                                     get(url, Accept="text/html",
                                         **{"Accept-Language": lang}))
                yield Representation(cls, rest, f"html-keep-{lang}", "html",
                                     get(f"{url}.html?lang={lang}"),
                                     get(f"{url}?lang={lang}", Accept="text/html"))


def pages(app, base: str):
    """/events, /events.ics and /changes in each page language, as the app answers them."""
    client = app.test_client()
    for path in PAGES:
        for lang in LANGUAGES:
            response = client.get("/" + path, base_url=base,
                                  headers={"Accept-Language": lang},
                                  environ_overrides={INTERNAL: True})
            yield Page(path, lang, _answer(response))


def accept_maps() -> tuple[dict[str, str], dict[str, str]]:
    """The Accept headers clients send (publisher.static.accept_headers) and the common
    Accept-Language headers, each with the server's answer (NOT_ACCEPTABLE: 406)."""
    formats = {}
    for value in accept_headers():
        offer = choose(parse_accept_header(value, MIMEAccept))
        formats[value] = offer.name if offer is not None else NOT_ACCEPTABLE
    languages = {value: choose_language(None, parse_accept_header(value, LanguageAccept))
                 for value in COMMON_ACCEPT_LANGUAGE}
    return formats, languages


def export_static(settings: Settings, release: Release, out: Path, store: Store | None = None,
                  url: str | None = None) -> dict:
    """Write the static export of a release into out (see publisher.static)."""
    app = create_app(settings.replace(rewrite_base=False), release=release, store=store)
    return export_app(app, out, url)


def export_app(app, out: Path, url: str | None = None) -> dict:
    """Write the static export of what an app (with rewrite_base off) serves into out.

    url is where the export will be served (default: the base itself); the links to other
    representations and the 303s point there, the IRIs in the documents stay the base's.
    The app renders as the export from then on: its pages link only what the export holds
    (publisher.web.links), and the export holds the pages' style sheets and icons."""
    state = served(app)
    settings, published = state.settings, state.published
    if settings.rewrite_base:
        raise ExportError("the export is written for the real base: turn rewrite_base off")
    url = url or settings.base_uri
    if not (url.startswith(("http://", "https://")) and url.endswith("/")):
        raise ExportError(f"the export's URL must be an http(s) URL ending in '/', not {url!r}")
    docs = documents(published.store, settings.base_uri)
    if not docs:
        raise ExportError("the graph holds no resources to export")
    formats, languages = accept_maps()
    modified = build_time(published.release)
    app.config[EXPORT_FLAG] = True
    return write_export(out, settings.base_uri, representations(app, url, docs),
                        formats, languages, modified.timestamp() if modified else None,
                        url=url, assets=Path(app.static_folder),
                        pages=pages(app, url))
