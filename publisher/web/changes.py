"""The changes blueprint: /changes lists the releases, newest first, with what each changed."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, render_template, request, send_file

from publisher.changes import ADDED_FILE, REMOVED_FILE
from publisher.iris import local_path
from publisher.releases import list_releases
from publisher.web.http import page_language
from publisher.web.state import served

__all__ = ["bp", "init_app"]

bp = Blueprint("changes", __name__)


def init_app(app: Flask) -> None:
    """Register the changes routes on the app."""
    app.register_blueprint(bp)


def _releases():
    state = served()
    found = {r.version: r for r in list_releases(state.settings.out)}
    current = state.published.release
    if current is not None:
        found.setdefault(current.version, current)
    # list_releases keeps the index's order, oldest first; build dates repeat for
    # builds of one day's content, so they cannot order the list
    return list(reversed(found.values()))


@bp.get("/changes")
def changes_page() -> Response:
    """Every kept release with its summary, triples per named graph and the changed things."""
    lang = page_language()
    base = served().settings.base_uri

    def href(iri: str) -> str | None:
        local = local_path(iri, base)
        return request.url_root + local if local is not None else None

    html = render_template("changes.html", lang=lang, releases=_releases(), href=href,
                           base=base)
    response = Response(html, mimetype="text/html")
    response.content_language = lang
    response.vary.add("Accept-Language")
    response.cache_control.max_age = 60
    return response


@bp.get("/changes/<name>")
def quads(name: str) -> Response:
    """The quads a release added or removed (VERSION-added.nq, VERSION-removed.nq)."""
    match = re.fullmatch(r"(.+)-(added|removed)\.nq", name)
    if match is None:
        abort(404)
    version, which = match.groups()
    release = next((r for r in _releases() if r.version == version), None)
    file = {"added": ADDED_FILE, "removed": REMOVED_FILE}[which]
    if release is None or not (Path(release.path) / file).is_file():
        abort(404)
    return send_file(Path(release.path) / file, mimetype="application/n-quads",
                     download_name=f"kiezgraph-changes-{version}-{which}.nq", max_age=300)
