"""The changes blueprint: /changes lists the releases, newest first, with what each changed.

Only releases up to the one served are listed (a build written but not yet swapped in would
otherwise name things whose pages answer 404), and a thing is linked only when the served
graph has it. The page stays within the page budget for a change of any size: per release,
counts per kind and change and at most NAMES_SHOWN names each; the whole change is in the
N-Quads downloads (and changes.json in the release folder).
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from pathlib import Path

from flask import Blueprint, Flask, Response, abort, render_template, request, send_file

from publisher import labels
from publisher.changes import ADDED_FILE, CHANGES_FILE, KINDS, REMOVED_FILE
from publisher.iris import local_path
from publisher.releases import Release, list_releases
from publisher.web.http import page_language
from publisher.web.search import current_index
from publisher.web.state import served

__all__ = ["bp", "init_app"]

bp = Blueprint("changes", __name__)

NAMES_SHOWN = 20  # names listed per release, change and kind; the rest are counted
RELEASES_DETAILED = 10  # newest releases listed with names; older ones with counts only
SUMMARY_SHOWN = 600  # longest build summary sentence shown as it is
GRAPHS_SHOWN = 30  # named graphs listed per release
_THINGS: dict[str, list[dict]] = {}  # changes.json things by release folder (they never change)
_THINGS_LOCK = threading.Lock()


def init_app(app: Flask) -> None:
    """Register the changes routes on the app."""
    app.register_blueprint(bp)


def _releases() -> list[Release]:
    """The kept releases up to the one served, newest first."""
    state = served()
    current = state.published.release
    found: dict[str, Release] = {}
    for release in list_releases(state.settings.out):
        if current is not None and release.version == current.version:
            break  # releases after the served one are not served (yet)
        found[release.version] = release
    if current is not None:
        found.pop(current.version, None)
        found[current.version] = current
    # list_releases keeps the index's order, oldest first; build dates repeat for
    # builds of one day's content, so they cannot order the list
    return list(reversed(found.values()))


def _all_things(release: Release) -> list[dict]:
    """Every changed thing of a release (build.json keeps only the first 200)."""
    key = str(release.path)
    with _THINGS_LOCK:
        if key in _THINGS:
            return _THINGS[key]
    try:
        things = json.loads((Path(release.path) / CHANGES_FILE).read_text(encoding="utf-8"))
        things = [{k: t[k] for k in ("iri", "kind", "label", "change")}
                  for t in things.get("things", [])]
    except (OSError, ValueError, KeyError, AttributeError, TypeError):
        things = (release.info.get("changes") or {}).get("things", [])
    with _THINGS_LOCK:
        if len(_THINGS) > 50:
            _THINGS.clear()
        _THINGS[key] = things
    return things


def _kind_word(kind: str | None, count: int, lang: str) -> str:
    """A kind counted in the page's language: the pages' one name for it (publisher/
    vocabularies/pages/kinds.ttl), singular or plural; English in running text lower case."""
    if kind not in KINDS:
        return ("Sonstiges" if lang == "de" else "other") if kind is None else kind
    word = labels.kind_name(kind, lang, plural=count != 1) or kind
    return word if lang == "de" else word.lower()


def _summary(release: Release, lang: str, detailed: bool) -> dict:
    """What the page shows of one release's change: groups per change and kind, each with
    its count and at most NAMES_SHOWN things (label in the page's language, link if served)."""
    changes = release.info.get("changes") or {}
    things = _all_things(release) if changes.get("things") else []
    counts: Counter[tuple[str, str | None]] = Counter((t["change"], t["kind"]) for t in things)
    index = current_index() if detailed else None
    groups = []
    order = {"added": 0, "changed": 1, "removed": 2}
    for (change, kind), count in sorted(counts.items(),
                                        key=lambda item: (order.get(item[0][0], 3),
                                                          str(item[0][1]))):
        shown = []
        if index is not None:
            for thing in things:
                if thing["change"] != change or thing["kind"] != kind:
                    continue
                names = index.names.get(thing["iri"], {})
                label = names.get(lang) or names.get("de") or thing["label"]
                linked = change != "removed" and thing["iri"] in index.kinds
                shown.append({"iri": thing["iri"], "label": label, "linked": linked})
                if len(shown) == NAMES_SHOWN:
                    break
        groups.append({"change": change, "kind": _kind_word(kind, count, lang),
                       "count": count, "shown": shown, "more": count - len(shown)})
    summary = changes.get("summary", "")
    graphs = list((changes.get("graphs") or {}).items())
    return {"groups": groups, "graphs": graphs[:GRAPHS_SHOWN],
            "graphs_more": max(0, len(graphs) - GRAPHS_SHOWN),
            "summary": summary if lang == "de" and len(summary) <= SUMMARY_SHOWN else None}


@bp.get("/changes")
def changes_page() -> Response:
    """Every kept release with its summary, triples per named graph and the changed things."""
    lang = page_language()
    base = served().settings.base_uri

    def href(iri: str) -> str | None:
        local = local_path(iri, base)
        return request.url_root + local if local is not None else None

    releases = _releases()
    shown = [(r, _summary(r, lang, i < RELEASES_DETAILED)) for i, r in enumerate(releases)]
    html = render_template("changes.html", lang=lang, releases=shown, href=href, base=base,
                           list_name=lambda kind: labels.kind_name(kind, lang, plural=True))
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
