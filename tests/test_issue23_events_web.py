"""Issue 23 (items 4 and 8, the web part): events as precisely as they are known, in the
page's language, in a calendar that never invents a day, and as JSON-LD search engines read.

The fixture is written by hand in Turtle (the data half of the issue makes the shapes accept
these dates; here they are put next to the shipped build's graph in the store directly).
"""

from __future__ import annotations

import datetime as dt
import html as html_module
import json
import re

import pytest
from rdflib import Graph, URIRef

from publisher.config import load_settings

BASE = "https://w3id.org/kiezgraph/pankow/"
FIXTURE = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix schema: <http://schema.org/> .
@base <https://w3id.org/kiezgraph/pankow/> .
<id/event/i23-jahr> a schema:Event ; rdfs:label "Jahresfest I23"@de , "Annual fair I23"@en ;
    schema:name "Jahresfest I23"@de , "Annual fair I23"@en ;
    schema:startDate "2031"^^xsd:gYear .
<id/event/i23-monat> a schema:Event ; rdfs:label "Maifest I23"@de , "May fair I23"@en ;
    schema:name "Maifest I23"@de , "May fair I23"@en ;
    schema:startDate "2031-05"^^xsd:gYearMonth .
<id/event/i23-tag> a schema:Event ; rdfs:label "Hoftag I23"@de , "Courtyard day I23"@en ;
    schema:name "Hoftag I23"@de , "Courtyard day I23"@en ;
    schema:startDate "2031-05-17"^^xsd:date ; schema:endDate "2031-05-18"^^xsd:date ;
    schema:location <id/site/i23-haus> .
<id/event/i23-zeit> a schema:Event ; rdfs:label "Lesung I23"@de , "Reading I23"@en ;
    schema:name "Lesung I23"@de , "Reading I23"@en ;
    schema:description "Eine Lesung im Hof."@de , "A reading in the courtyard."@en ;
    schema:startDate "2031-06-20T17:00:00+02:00"^^xsd:dateTime ;
    schema:endDate "2031-06-20T19:30:00+02:00"^^xsd:dateTime ;
    schema:location <id/site/i23-haus> ;
    schema:organizer <id/organisation/i23-verein> ;
    schema:eventStatus schema:EventScheduled ;
    schema:image <https://www.berlin.de/i23.jpg> ;
    dcterms:source <https://www.berlin.de/ba-pankow/> .
<id/site/i23-haus> a schema:Place ;
    rdfs:label "Haus I23, Hofweg 5"@de , "House I23, Hofweg 5"@en ;
    schema:address [ a schema:PostalAddress ; schema:streetAddress "Hofweg 5" ;
                     schema:postalCode "13086" ; schema:addressLocality "Berlin" ] .
<id/organisation/i23-verein> a schema:Organization ;
    rdfs:label "Hofverein I23"@de , "Courtyard club I23"@en .
"""


@pytest.fixture(scope="module")
def events_client(build_dir, release, tmp_path_factory):
    """The app over the shipped build plus the fixture's events, in one store."""
    from publisher.store.embedded import EmbeddedStore
    from publisher.web import create_app

    extra = tmp_path_factory.mktemp("i23") / "events.nq"
    graph = Graph().parse(data=FIXTURE, format="turtle")
    extra.write_text("".join(f"{s.n3()} {p.n3()} {o.n3()} <{BASE}graph/data/i23> .\n"
                             for s, p, o in graph), encoding="utf-8")
    store = EmbeddedStore.from_files([release.graph_file, extra], release.build_id)
    app = create_app(load_settings(env={}, overrides={"out": str(build_dir)}),
                     release=release, store=store)
    app.config["TESTING"] = True
    yield app.test_client()
    store.close()


def _text(html: str) -> str:
    return html_module.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def test_issue23_events_lists_each_event_as_precisely_as_known_in_the_page_language(
        events_client):
    german = _text(events_client.get("/events").get_data(as_text=True))
    assert "2031 Jahresfest I23" in german
    assert "Mai 2031 Maifest I23" in german
    assert "17.05.2031 – 18.05.2031 Hoftag I23 · Haus I23, Hofweg 5" in german
    assert "20.06.2031, 17:00 Uhr – 19:30 Uhr Lesung I23" in german
    english = _text(events_client.get("/events?lang=en").get_data(as_text=True))
    assert "May 2031 May fair I23" in english and "Annual fair I23" in english
    assert "2031-06-20, 17:00 – 19:30 Reading I23 · House I23, Hofweg 5" in english
    assert "Lesung I23" not in english and "Maifest" not in english
    # the shipped events have English labels too: no German name on the English page
    assert "Fest der Nachbarn 2017 in Berlin (Neighbours' Day)" in english


def test_issue23_calendar_has_days_and_times_only_never_an_invented_day(events_client):
    import icalendar
    import vobject

    body = events_client.get("/events.ics").data
    entries = {str(e["UID"]).rsplit("/", 1)[-1]: e
               for e in icalendar.Calendar.from_ical(body).walk("VEVENT")}
    assert "i23-jahr" not in entries and "i23-monat" not in entries  # no day is known
    day = entries["i23-tag"]
    assert day["DTSTART"].dt == dt.date(2031, 5, 17)  # all-day, a date
    assert day["DTEND"].dt == dt.date(2031, 5, 19)  # exclusive
    timed = entries["i23-zeit"]
    start = timed["DTSTART"]
    assert start.params["TZID"] == "Europe/Berlin"
    assert start.dt.replace(tzinfo=None) == dt.datetime(2031, 6, 20, 17, 0)
    assert timed["DTEND"].dt.replace(tzinfo=None) == dt.datetime(2031, 6, 20, 19, 30)
    zones = icalendar.Calendar.from_ical(body).walk("VTIMEZONE")
    assert [str(z["TZID"]) for z in zones] == ["Europe/Berlin"]
    # the place once: "Haus I23, Hofweg 5" already names the street
    assert str(timed["LOCATION"]) == "Haus I23, Hofweg 5, 13086 Berlin"
    parsed = vobject.readOne(body.decode("utf-8"))  # a second, independent parser
    by_uid = {e.uid.value.rsplit("/", 1)[-1]: e for e in parsed.vevent_list}
    assert by_uid["i23-zeit"].dtstart.value.utcoffset() == dt.timedelta(hours=2)
    english = icalendar.Calendar.from_ical(events_client.get("/events.ics?lang=en").data)
    names = {str(e["SUMMARY"]) for e in english.walk("VEVENT")}
    assert "Reading I23" in names and "Lesung I23" not in names
    one = events_client.get("/events/i23-zeit.ics")
    assert one.status_code == 200 and b"TZID=Europe/Berlin" in one.data
    assert events_client.get("/events/i23-monat.ics").status_code == 404


def _jsonld(events_client, path: str) -> dict:
    html = events_client.get(path).get_data(as_text=True)
    raw = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S)
    return json.loads(raw.group(1))


def test_issue23_event_jsonld_carries_what_search_engines_read(events_client):
    data = _jsonld(events_client, "/doc/event/i23-zeit.html?lang=en")
    assert data["name"] == "Reading I23"
    assert data["description"] == "A reading in the courtyard."
    assert data["startDate"] == "2031-06-20T17:00:00+02:00"
    assert data["endDate"] == "2031-06-20T19:30:00+02:00"
    assert data["eventStatus"] == "https://schema.org/EventScheduled"
    assert data["eventAttendanceMode"] == "https://schema.org/OfflineEventAttendanceMode"
    assert data["image"] == "https://www.berlin.de/i23.jpg"
    assert data["url"]
    place = data["location"]
    assert place["@id"].endswith("/id/site/i23-haus") and place["name"] == "House I23, Hofweg 5"
    assert place["address"] == {"@type": "PostalAddress", "streetAddress": "Hofweg 5",
                                "postalCode": "13086", "addressLocality": "Berlin"}
    assert data["organizer"]["@id"].endswith("/id/organisation/i23-verein")
    assert data["organizer"]["name"] == "Courtyard club I23"
    assert "/doc/" not in json.dumps({k: v for k, v in data.items()
                                      if k not in ("url", "mainEntityOfPage", "organizer")})
    german = _jsonld(events_client, "/doc/event/i23-zeit.html")
    assert german["name"] == "Lesung I23" and german["location"]["name"] == "Haus I23, Hofweg 5"
    # as a JSON-LD processor reads it: one Event with its place's address and organiser
    data["@context"] = {"@vocab": "http://schema.org/"}  # schema.org's context, offline
    graph = Graph().parse(data=json.dumps(data), format="json-ld")
    schema = "http://schema.org/"
    event = URIRef(data["@id"])
    assert (event, URIRef(schema + "location"), URIRef(place["@id"])) in graph
    address = graph.value(URIRef(place["@id"]), URIRef(schema + "address"))
    assert str(graph.value(address, URIRef(schema + "streetAddress"))) == "Hofweg 5"
    assert (event, URIRef(schema + "organizer"), URIRef(data["organizer"]["@id"])) in graph


def test_issue23_shipped_events_jsonld_has_id_iris_and_the_page_language(events_client):
    data = _jsonld(events_client, "/doc/event/fest-der-nachbarn-berlin-2017.html?lang=en")
    assert data["@id"].endswith("/id/event/fest-der-nachbarn-berlin-2017")
    assert data["location"]["@id"].endswith("/id/place/berlin")
    assert data["organizer"]["@id"].startswith(BASE + "id/") or \
        "/id/organisation/" in data["organizer"]["@id"]
    assert data["name"] != "Fest der Nachbarn 2017"  # the English name, not the German
