"""„Zitieren / Cite" (issue 25): the citation block of pages, and BibTeX, RIS and CSL-JSON.

A document cites its versioned IRI (the memento of the release the page shows, see
publisher.web.memento), the release's date and the access date; the dataset page (/catalog)
cites the dataset's document in the current release. Downloads live at
/cite/<format>/release/<version>/doc/<path> (bibtex, ris, csl).
"""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Flask, Response, abort, request
from rdflib import URIRef

from publisher import describe
from publisher.iris import DOC, is_safe_path, thing_path
from publisher.metadata import citation
from publisher.metadata.catalog import TITLE
from publisher.metadata.names import Names
from publisher.releases import Release, find_release
from publisher.web.http import CORS_HEADERS, error_response
from publisher.web.links import exporting, page_root
from publisher.web.memento import release_store, releases, versioned_path
from publisher.web.state import served

__all__ = ["bp", "cite_block", "init_app"]

bp = Blueprint("cite", __name__)


def init_app(app: Flask) -> None:
    """Register the download routes and give templates `cite_block(title)`."""
    app.register_blueprint(bp)
    app.context_processor(lambda: {"cite_block": cite_block})


def _dataset_doc() -> str:
    """The dataset's document path (doc/dataset/<name>)."""
    names = Names(served().settings.base_uri)
    return "doc/" + str(names.dataset)[len(served().settings.base_uri) + len("id/"):]


def _page_target() -> tuple[Release, str] | None:
    """The release and document path the page being rendered shows, or None."""
    path = request.path.lstrip("/")
    current = served().published.release
    if request.endpoint == "memento.memento":
        version = (request.view_args or {}).get("version", "")
        release = find_release(releases(), version)
        rest = (request.view_args or {})["rest"].removesuffix(".html")  # the page's suffix
        return (release, DOC + rest) if release else None
    if current is None:
        return None
    if request.endpoint == "resources.document":
        return current, path.removesuffix(".html")
    if request.endpoint == "catalogue.catalog":
        return current, _dataset_doc()
    return None


def _citation(release: Release, doc: str, title: str) -> citation.Citation:
    return citation.Citation(title=title, url=request.url_root + versioned_path(release, doc),
                             version=release.version, released=release.published_at,
                             accessed=dt.datetime.now(dt.UTC).date())


def cite_block(title: str, lang: str = "de") -> dict | None:
    """What the page's „Zitieren / Cite" block shows (None: nothing to cite, or the export)."""
    if exporting():
        return None
    target = _page_target()
    if target is None:
        return None
    release, doc = target
    if request.endpoint == "catalogue.catalog" or not title:  # the dataset page
        title = TITLE[lang if lang in TITLE else "en"]
    c = _citation(release, doc, title)
    root = page_root()
    downloads = [(label, f"{root}cite/{name}/{versioned_path(release, doc)}")
                 for name, label in (("bibtex", "BibTeX"), ("ris", "RIS"), ("csl", "CSL-JSON"))]
    return {"text": citation.text(c, lang), "url": c.url, "version": c.version,
            "released": c.released.date().isoformat(), "accessed": c.accessed.isoformat(),
            "downloads": downloads}


@bp.get("/cite/<fmt>/release/<version>/doc/<path:rest>")
def download(fmt: str, version: str, rest: str) -> Response:
    """A citation of a release's document as BibTeX, RIS or CSL-JSON."""
    if fmt not in citation.FORMATS:
        return error_response(404, "Formate / formats: " + ", ".join(citation.FORMATS))
    release = find_release(releases(), version)
    doc = DOC + rest
    thing = thing_path(doc) if is_safe_path(doc) else None
    if release is None or thing is None:
        abort(404)
    store = release_store(release)
    iri = URIRef(served().settings.base_uri + thing)
    if not describe.exists(store, iri):
        abort(404)
    lang = "en" if request.args.get("lang") == "en" else "de"
    graph = describe.describe(store, iri, served().settings.base_uri)
    c = _citation(release, doc, str(describe.label_of(graph, iri, lang)))
    media_type, suffix = citation.FORMATS[fmt]
    if fmt == "bibtex":
        body = citation.bibtex(c)
    elif fmt == "ris":
        body = citation.ris(c)
    else:
        body = json.dumps(citation.csl_json(c), ensure_ascii=False, indent=1)
    response = Response(body, content_type=f"{media_type}; charset=utf-8",
                        headers=CORS_HEADERS)
    response.headers["Content-Disposition"] = f'attachment; filename="{c.key}.{suffix}"'
    response.headers["Link"] = f'<{c.url}>; rel="cite-as"'
    return response
