"""The Flask layer: an app factory with one blueprint per concern."""

from __future__ import annotations

from flask import Flask

from publisher.config import Settings, load_settings
from publisher.web.state import Published, Served

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, *, release=None, store=None) -> Flask:
    """Build the app for a release (default: the current build in settings.out) and its store."""
    from publisher.build import current_release
    from publisher.store import open_store

    settings = settings or load_settings()
    if release is None:
        release = current_release(settings.out)
    if store is None:
        store = open_store(settings, release)
    app = Flask(__name__)
    app.config["JSON_SORT_KEYS"] = False
    app.extensions["kiezgraph"] = Served(settings=settings,
                                         published=Published(release=release, store=store))

    from publisher.web import (
        catalogue,
        http,
        kinds,
        network,
        observability,
        openapi,
        outage,
        pages,
        resources,
        search,
        security,
        sparql,
    )

    # observability first: it times and logs every request, even those refused early.
    for module in (observability, security, http, outage, pages, resources, kinds, sparql,
                   catalogue, search, network, openapi):
        module.init_app(app)
    return app
