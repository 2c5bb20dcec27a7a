"""Events as a calendar (issue 17): the /events page, /events.ics, one .ics each, JSON-LD."""

from __future__ import annotations

import datetime as dt
import json
import re

import httpx
import pytest
from rdflib import Literal, URIRef

from publisher.events import Event, Thing, calendar, event_jsonld

XS = "http://www.w3.org/2001/XMLSchema#"
BUNDLED = {  # the bundled data's events and their real dates
    "fest-der-nachbarn-berlin-2016": dt.date(2016, 5, 27),
    "fest-der-nachbarn-berlin-2017": dt.date(2017, 5, 19),
    "fest-der-nachbarn-2016-frei-zeit-haus-weissensee": dt.date(2016, 5, 27),
    "fest-der-nachbarn-2017-teutoburger-platz": dt.date(2017, 5, 19),
    "kooperationsvertrag-2022": dt.date(2022, 5, 5),  # the signing (kg:Signing is an Event)
}


def _parse_both(body: bytes) -> tuple[dict, dict]:
    """The feed's events by UID, read by icalendar and by vobject (two independent parsers)."""
    import icalendar
    import vobject

    by_icalendar = {str(c["UID"]): c for c in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    parsed = vobject.readOne(body.decode("utf-8"))
    by_vobject = {e.uid.value: e for e in parsed.vevent_list}
    return by_icalendar, by_vobject


@pytest.mark.live
def test_issue17_feed_has_the_bundled_events_with_their_real_dates(live_server):
    response = httpx.get(f"{live_server.url}/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    by_icalendar, by_vobject = _parse_both(response.content)
    assert set(by_icalendar) == set(by_vobject)
    found = {uid.rsplit("/", 1)[-1]: e for uid, e in by_icalendar.items()}
    assert {k: v["DTSTART"].dt for k, v in found.items()} == BUNDLED
    for uid, event in by_vobject.items():
        day = BUNDLED[uid.rsplit("/", 1)[-1]]
        assert event.dtstart.value == day  # all-day: a date, not a date-time
        assert event.dtend.value == day + dt.timedelta(days=1)
        assert event.url.value.startswith(live_server.url)
    # the series (no date of its own) is not in the feed
    assert not any(uid.endswith("/fest-der-nachbarn-berlin") for uid in by_icalendar)


@pytest.mark.live
def test_issue17_one_ics_per_event_and_404_for_unknown(live_server):
    response = httpx.get(f"{live_server.url}/events/fest-der-nachbarn-berlin-2017.ics")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    by_icalendar, by_vobject = _parse_both(response.content)
    assert len(by_icalendar) == len(by_vobject) == 1
    assert httpx.get(f"{live_server.url}/events/gibt-es-nicht.ics").status_code == 404
    assert httpx.get(f"{live_server.url}/events/../x.ics").status_code == 404
    signing = httpx.get(f"{live_server.url}/events/signing/kooperationsvertrag-2022.ics")
    assert signing.status_code == 200, signing.text
    # the series has no day: no calendar file, no invented date
    assert httpx.get(f"{live_server.url}/events/fest-der-nachbarn-berlin.ics").status_code \
        == 404


def test_issue17_events_page_lists_past_by_year_and_links_the_feed(client):
    html = client.get("/events").get_data(as_text=True)
    assert '<h3 id="y2017">2017</h3>' in html and '<h3 id="y2016">2016</h3>' in html
    assert html.index('id="y2017"') < html.index('id="y2016"')
    assert 'href="./events.ics"' in html
    assert "19.05.2017" in html and "In den Kalender" in html
    english = client.get("/events?lang=en").get_data(as_text=True)
    assert "Past events" in english and "2017-05-19" in english


def test_issue17_home_and_sitemap_link_events_and_changes(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="./events"' in home and 'href="./events.ics"' in home
    assert 'href="./changes"' in home
    sitemap = client.get("/sitemap.xml").get_data(as_text=True)
    assert "/events</loc>" in sitemap and "/events.ics</loc>" in sitemap


def test_issue17_event_page_has_schema_org_event_jsonld(client):
    html = client.get("/doc/event/fest-der-nachbarn-berlin-2017.html").get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    data = json.loads(raw)
    assert data["@type"] == "Event"
    assert data["name"] == "Fest der Nachbarn 2017"
    assert data["startDate"] == "2017-05-19"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["location"]["name"] == "Berlin"
    assert data["organizer"]["@type"] == "Organization" and data["organizer"]["name"]
    assert data["url"]


def _event(start: Literal, **kw) -> Event:
    return Event(URIRef("https://example.org/id/event/x"), "X", "X", start, **kw)


def test_issue17_year_or_month_only_is_listed_honestly_and_left_out_of_the_feed():
    year = _event(Literal("2024", datatype=URIRef(XS + "gYear")))
    month = _event(Literal("2024-05", datatype=URIRef(XS + "gYearMonth")))
    day = _event(Literal("2024-05-31", datatype=URIRef(XS + "date")),
                 location=Thing(URIRef("https://example.org/id/site/s"), "Haus",
                                {"streetAddress": "Weg 1", "postalCode": "13086"}),
                 status="EventCancelled")
    assert (year.precision, year.when()) == ("year", "2024")
    today = dt.date(2024, 5, 15)
    assert year.upcoming(today) and month.upcoming(today)
    assert not year.upcoming(dt.date(2025, 1, 1)) and not month.upcoming(dt.date(2024, 6, 1))
    assert (month.precision, month.when(), month.when("en")) == ("month", "Mai 2024",
                                                                 "May 2024")
    body = calendar([year, month, day], str, dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "t")
    by_icalendar, by_vobject = _parse_both(body)
    assert len(by_icalendar) == len(by_vobject) == 1
    [entry] = by_vobject.values()
    assert entry.dtstart.value == dt.date(2024, 5, 31)
    assert entry.status.value == "CANCELLED"
    assert entry.location.value == "Haus, Weg 1, 13086"
    data = event_jsonld(day, str)
    assert data["eventStatus"] == "https://schema.org/EventCancelled"
    assert data["location"]["address"] == {"@type": "PostalAddress",
                                           "streetAddress": "Weg 1", "postalCode": "13086"}


def test_issue17_events_and_changes_pages_are_valid_html5(client, tmp_path):
    import subprocess

    from tests.test_web_kinds import _vnu

    files = []
    for i, path in enumerate(["/events", "/events?lang=en", "/changes", "/download/"]):
        target = tmp_path / f"page{i}.html"
        target.write_bytes(client.get(path).get_data())
        files.append(str(target))
    result = subprocess.run([*_vnu(), "--format", "json", "--errors-only", *files],
                            capture_output=True, text=True, timeout=120)
    messages = json.loads(result.stderr or result.stdout)["messages"]
    assert not messages, messages
