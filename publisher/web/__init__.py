"""The Flask layer: an app factory with one blueprint per concern."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package stays cheap: granian's main process imports
    from flask import Flask  # publisher.web.granian_main and nothing of the app

    from publisher.config import Settings
    from publisher.releases import Release
    from publisher.store import Store

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, release: Release | None = None,
               store: Store | None = None) -> Flask:
    """Build the app for a release (default: the current build in settings.out) and its store."""
    # Imported here, not above, for the reason at the top: the package itself stays cheap.
    from flask import Flask

    from publisher.config import load_settings
    from publisher.releases import current_release
    from publisher.store import open_store
    from publisher.web.state import SERVED, Published, Served

    settings = settings or load_settings()
    if release is None:
        release = current_release(settings.out)
    if store is None:
        store = open_store(settings, release)
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    SERVED.put(app, Served(settings=settings, published=Published(release=release, store=store)))

    from publisher.web import (
        catalogue,
        changes,
        cite,
        events,
        http,
        kinds,
        links,
        memento,
        network,
        observability,
        openapi,
        outage,
        pages,
        resources,
        search,
        security,
        sheets,
        sparql,
    )

    # observability first: it times and logs every request, even those refused early.
    # memento last: its headers on documents are set before the catalogue's Signposting
    # (after_request hooks run last registered first), which then leaves cite-as alone.
    for module in (observability, security, http, outage, links, pages, resources, kinds,
                   sparql, catalogue, search, network, openapi, events, changes, sheets,
                   memento, cite):
        module.init_app(app)
    security.outermost(app)  # X-Forwarded-* believed before any middleware reads a request
    return app
