"""Links between our pages, relative to the page answered, so they work under any sub-path.

Behind a proxy that serves the site under a sub-path (https://example.org/x/ passed on to
this server's /), a root-relative link (/sparql) leaves the sub-path, and the request's own
URL (http://127.0.0.1:8080/) names the wrong host. A link relative to the page
(../../sparql from /doc/organisation/x) resolves against whatever URL the browser used, so
pages need no setting for it, and the static export's pages work where they are put.

An app that renders the static export (publisher.web.export) has EXPORT_FLAG set: its pages
link only what the export serves (the documents, the ontology, the static files), not the
pages only a running server has (search, SPARQL, catalogue, downloads, home, lists).
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for

__all__ = ["EXPORT_FLAG", "exporting", "init_app", "page_root", "page_url"]

EXPORT_FLAG = "KIEZGRAPH_STATIC_EXPORT"
# What the static export holds, by endpoint (everything else needs the running server).
EXPORTED = ("static", "resources.")


def init_app(app: Flask) -> None:
    """Give templates `root` (the way to the site's root), `page_url` and `exported`."""
    app.context_processor(lambda: {"root": page_root(), "page_url": page_url,
                                   "exported": exporting()})


def exporting() -> bool:
    """Whether this app renders the static export."""
    return bool(current_app.config.get(EXPORT_FLAG))


def page_root() -> str:
    """The site's root relative to the page being answered: './' or '../' per level."""
    depth = request.path.count("/") - 1
    return "../" * depth if depth > 0 else "./"


def page_url(endpoint: str, **values) -> str | None:
    """url_for, relative to the page being answered (see page_root); None for a page the
    static export does not hold, when rendering it."""
    if exporting() and not endpoint.startswith(EXPORTED):
        return None
    target = url_for(endpoint, **values)
    script = request.script_root
    if target.startswith(script + "/"):
        target = target[len(script) + 1:]
    return page_root() + target
