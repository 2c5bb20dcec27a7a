"""The events blueprint: /events (upcoming, then past by year), /events.ics and one .ics each."""

from __future__ import annotations

import datetime as dt
import re

from flask import Blueprint, Flask, Response, abort, render_template, request
from rdflib import URIRef

from publisher.events import Event, calendar, event_jsonld, read_events
from publisher.iris import local_path
from publisher.web.cache import Rendered, render_cache
from publisher.web.http import build_time, page_language, public_base, send
from publisher.web.links import page_root
from publisher.web.state import served

__all__ = ["bp", "enrich_schema", "init_app"]

bp = Blueprint("events", __name__)
ICS = "text/calendar; charset=utf-8"
NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*(?:/[a-z0-9]+(?:-[a-z0-9]+)*)?$")


def init_app(app: Flask) -> None:
    """Register the events routes on the app."""
    app.register_blueprint(bp)


def _page_of(iri) -> str:
    base = served().settings.base_uri
    local = local_path(str(iri), base)
    return request.url_root + local if local is not None else str(iri)


def _stamp() -> dt.datetime:
    """DTSTAMP: when the release was built, so the same build gives the same feed."""
    return build_time(served().published.release) or dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _events() -> list[Event]:
    return read_events(served().published.store)


@bp.get("/events")
def events_page() -> Response:
    """Upcoming events first (soonest first), then past ones by year, newest first."""
    published = served().published
    lang = page_language()
    today = dt.date.today()
    key = (published.build_id, "events", lang, today.isoformat(), request.url_root)

    def make() -> Rendered:
        found = _events()
        upcoming = [e for e in found if e.upcoming(today)]
        past = [e for e in reversed(found) if e not in upcoming]
        years: dict[int, list[Event]] = {}
        for event in past:
            years.setdefault(event.year, []).append(event)
        html = render_template("events.html", lang=lang, upcoming=upcoming,
                               years=sorted(years.items(), reverse=True), page_of=_page_of,
                               ics_of=ics_of)
        return Rendered(html.encode("utf-8"), "text/html; charset=utf-8")

    response = send(render_cache().get_or_render(key, make), release=published.release)
    response.content_language = lang
    response.vary.add("Accept-Language")
    return response


@bp.get("/events.ics")
def feed() -> Response:
    """Every event dated to a day, as an RFC 5545 calendar: all-day entries, or at their time
    in Europe/Berlin; names in the page's language (?lang=en, Accept-Language; German)."""
    published = served().published
    lang = page_language()
    key = (published.build_id, "events.ics", lang, request.url_root)

    def make() -> Rendered:
        title = "kiezgraph Pankow: " + ("Veranstaltungen" if lang == "de" else "events")
        body = calendar(_events(), _page_of, _stamp(), title, lang)
        return Rendered(body, ICS)

    response = send(render_cache().get_or_render(key, make), release=published.release)
    response.content_language = lang
    response.vary.add("Accept-Language")
    return response


@bp.get("/events/<path:name>.ics")
def one(name: str) -> Response:
    """One event as a calendar file ("In den Kalender"); 404 where it has no known day.

    name is the event's slug, or kind/slug for events of other kinds (a signing)."""
    published = served().published
    base = served().settings.base_uri
    if not NAME.match(name):
        abort(404)
    lang = page_language()
    key = (published.build_id, "event.ics", name, lang, request.url_root)

    def make() -> Rendered | None:
        local = name if "/" in name else f"event/{name}"
        found = read_events(published.store, only=URIRef(f"{base}id/{local}"))
        if not found or found[0].precision not in ("day", "time"):
            return None
        return Rendered(calendar(found, _page_of, _stamp(), found[0].name_in(lang), lang), ICS)

    rendered = render_cache().get(key) or make()
    if rendered is None:
        abort(404)
    render_cache().put(key, rendered)
    response = send(rendered, release=published.release)
    filename = name.rsplit("/", 1)[-1]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}.ics"'
    return response


def ics_of(event: Event) -> str:
    """Where one event's calendar file is served."""
    local = local_path(str(event.iri), served().settings.base_uri) or ""
    name = local.removeprefix("doc/").removesuffix(".html").removeprefix("id/")
    return f"{page_root()}events/{name.removeprefix('event/')}.ics"


def _shown(iri: str) -> str:
    """The IRI as this server names it (on the request's host when rewrite_base is on)."""
    settings = served().settings
    if settings.rewrite_base and iri.startswith(settings.base_uri):
        return public_base(settings) + iri[len(settings.base_uri):]
    return iri


def enrich_schema(schema: dict, iri, lang: str = "de") -> dict:
    """An event page's schema.org JSON-LD with the fields search engines read for events,
    in the page's language, `@id`s the /id/ IRIs."""
    types = schema.get("@type")
    if "Event" not in (types if isinstance(types, list) else [types]):
        return schema
    found = read_events(served().published.store, only=iri)
    return event_jsonld(found[0], _page_of, schema, lang, _shown) if found else schema
