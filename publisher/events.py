"""The graph's events as a calendar: read them from the store, write RFC 5545 iCalendar.

Only what the data says: an event dated to a day is an all-day entry; one dated only to a
month or a year is listed as such and left out of the feed, never given an invented day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from publisher.namespaces import RDF, RDFS, SCHEMA, SCHEMA_HTTPS, SKOS, XSD, prefixes
from publisher.sparql.prefixes import prologue

__all__ = ["Event", "calendar", "event_jsonld", "read_events"]

NAMES = (SKOS.prefLabel, SCHEMA.name, RDFS.label)
STATUS = {  # schema.org EventStatusType -> RFC 5545 STATUS
    "EventScheduled": "CONFIRMED", "EventRescheduled": "CONFIRMED",
    "EventMovedOnline": "CONFIRMED", "EventPostponed": "TENTATIVE",
    "EventCancelled": "CANCELLED",
}
GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember")


def _s(name: str) -> URIRef:
    return SCHEMA[name]


@dataclass
class Thing:
    """A linked thing an event names (organiser, place), with its German name."""

    iri: URIRef
    name: str
    address: dict[str, str] = field(default_factory=dict)


@dataclass
class Event:
    """One event as a calendar needs it."""

    iri: URIRef
    name: str
    label: str
    start: Literal
    end: Literal | None = None
    organizers: list[Thing] = field(default_factory=list)
    location: Thing | None = None
    status: str | None = None  # the schema.org status name, e.g. EventScheduled
    url: str | None = None

    @property
    def precision(self) -> str:
        """day, month or year: how exactly the data dates the event."""
        datatype = self.start.datatype
        if datatype == XSD.gYear:
            return "year"
        if datatype == XSD.gYearMonth:
            return "month"
        return "day" if isinstance(self.day, dt.date) else "unknown"

    @property
    def day(self) -> dt.date | None:
        """The day it starts on, where the data gives one."""
        value = self.start.toPython()
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else None

    @property
    def last_day(self) -> dt.date | None:
        """The day it ends on (the start day unless an end day is given)."""
        value = self.end.toPython() if self.end is not None else None
        if isinstance(value, dt.datetime):
            value = value.date()
        return value if isinstance(value, dt.date) else self.day

    @property
    def year(self) -> int:
        """The year, whatever the precision."""
        return int(str(self.start)[:4]) if str(self.start)[:4].isdigit() else 0

    def upcoming(self, today: dt.date) -> bool:
        """Whether it is still to come (or going on): by day, or by month or year as known."""
        if self.precision == "day":
            return (self.last_day or today) >= today
        if self.precision == "month":
            return (self.year, int(str(self.start)[5:7])) >= (today.year, today.month)
        return self.precision == "year" and self.year >= today.year

    def when(self, lang: str = "de") -> str:
        """The date as far as it is known, in words."""
        text = str(self.start)
        if self.precision == "year":
            return text[:4]
        if self.precision == "month":
            month = int(text[5:7])
            name = GERMAN_MONTHS[month - 1] if lang == "de" else \
                dt.date(2000, month, 1).strftime("%B")
            return f"{name} {text[:4]}"
        day = self.day
        if day is None:
            return text
        shown = day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat()
        last = self.last_day
        if last and last != day:
            shown += " – " + (last.strftime("%d.%m.%Y") if lang == "de" else last.isoformat())
        return shown


def _name(graph: Graph, node) -> str:
    for prop in NAMES:
        values = list(graph.objects(node, prop))
        for wanted in ("de", None, "en"):
            for v in values:
                if isinstance(v, Literal) and v.language == wanted:
                    return str(v)
    return str(node).rsplit("/", 1)[-1]


EVENTS_QUERY = prologue(prefixes("schema", "rdfs", "skos")) + """
CONSTRUCT { ?e ?p ?o . ?x ?lp ?l . ?x schema:address ?a . ?a ?ap ?av . }
WHERE {
  ?e a schema:Event .
  %s
  { ?e ?p ?o }
  UNION { ?e schema:organizer|schema:location ?x . ?x ?lp ?l .
          FILTER(?lp IN (rdfs:label, skos:prefLabel, schema:name)) }
  UNION { ?e schema:location ?x . ?x schema:address ?a . ?a ?ap ?av }
}
"""


def read_events(store, only: URIRef | None = None) -> list[Event]:
    """Every schema:Event with a start date (or only one), sorted by start."""
    values = f"VALUES ?e {{ <{only}> }}" if only is not None else ""
    graph = store.construct(EVENTS_QUERY % values)
    events = []
    for iri in set(graph.subjects(RDF.type, _s("Event"))):
        start = next((o for o in graph.objects(iri, _s("startDate"))
                      if isinstance(o, Literal)), None)
        if start is None or not isinstance(iri, URIRef):
            continue
        end = next((o for o in graph.objects(iri, _s("endDate")) if isinstance(o, Literal)),
                   None)
        organizers = sorted((Thing(o, _name(graph, o)) for o in graph.objects(
            iri, _s("organizer"))), key=lambda t: t.name)
        location = None
        for place in graph.objects(iri, _s("location")):
            location = Thing(place, _name(graph, place))
            for address in graph.objects(place, _s("address")):
                location.address = {str(p).rsplit("/", 1)[-1]: str(o)
                                    for p, o in graph.predicate_objects(address)
                                    if str(p).startswith(SCHEMA)}
        status = next((str(o).rsplit("/", 1)[-1] for o in graph.objects(iri, _s("eventStatus"))),
                      None)
        url = next((str(o) for o in graph.objects(iri, _s("url"))), None)
        label = next((str(o) for o in graph.objects(iri, RDFS.label)
                      if getattr(o, "language", None) == "de"), None)
        name = next((str(o) for o in graph.objects(iri, _s("name"))), None) or _name(graph, iri)
        events.append(Event(iri, name, label or name, start, end, organizers, location,
                            status, url))
    events.sort(key=lambda e: (str(e.start), e.label))
    return events


def _address_text(thing: Thing) -> str:
    parts = [thing.name]
    street = thing.address.get("streetAddress")
    town = " ".join(v for v in (thing.address.get("postalCode"),
                                thing.address.get("addressLocality")) if v)
    parts += [p for p in (street, town) if p]
    return ", ".join(parts)


def calendar(events: list[Event], page_of, stamp: dt.datetime, name: str) -> bytes:
    """An RFC 5545 calendar of the events dated to a day (all-day entries)."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//kiezgraph//Pankow//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    for event in events:
        first, last = event.day, event.last_day  # both set when the precision is "day"
        if event.precision != "day" or first is None or last is None:
            continue
        entry = icalendar.Event()
        entry.add("uid", str(event.iri))
        entry.add("dtstamp", stamp)
        entry.add("dtstart", first)
        entry.add("dtend", last + dt.timedelta(days=1))  # exclusive: all-day
        entry.add("summary", event.label)
        entry.add("url", page_of(event.iri))
        if event.location is not None:
            entry.add("location", _address_text(event.location))
        if event.organizers:
            entry.add("description", "Veranstalter / organiser: "
                      + ", ".join(o.name for o in event.organizers))
        if event.status in STATUS:
            entry.add("status", STATUS[event.status])
        cal.add_component(entry)
    return cal.to_ical()


def event_jsonld(event: Event, page_of, data: dict | None = None) -> dict:
    """schema.org Event JSON-LD with what search engines read: name, dates, place, organiser."""
    data = dict(data or {"@context": "https://schema.org"})
    data["@type"] = "Event"
    data["name"] = event.name
    data["startDate"] = str(event.start)
    if event.end is not None:
        data["endDate"] = str(event.end)
    data["url"] = event.url or page_of(event.iri)
    data["eventStatus"] = SCHEMA_HTTPS + (event.status or "EventScheduled")
    if event.location is not None:
        place = {"@type": "Place", "@id": page_of(event.location.iri),
                 "name": event.location.name}
        if event.location.address:
            place["address"] = {"@type": "PostalAddress", **event.location.address}
        data["location"] = place
    if event.organizers:
        found = [{"@type": "Organization", "@id": page_of(o.iri), "name": o.name}
                 for o in event.organizers]
        data["organizer"] = found[0] if len(found) == 1 else found
    return data
