"""The graph's events as a calendar: read them from the store, write RFC 5545 iCalendar.

Only what the data says: an event dated to a day is an all-day entry; one with a time of day
(`xsd:dateTime` with its UTC offset) is an entry at that time in Europe/Berlin, with the
zone's VTIMEZONE; one dated only to a month or a year is listed as such and left out of the
feed, never given an invented day. Names, places and organisers are read in German and
English, so every list and every JSON-LD follows the page's language.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from rdflib import Graph, Literal, URIRef

from publisher.dates import GERMAN_MONTHS
from publisher.namespaces import FOAF, RDF, RDFS, SCHEMA, SCHEMA_HTTPS, SKOS, XSD, prefixes
from publisher.sparql.prefixes import prologue

__all__ = ["Event", "Thing", "calendar", "event_jsonld", "read_events"]

NAMES = (SKOS.prefLabel, SCHEMA.name, RDFS.label)
STATUS = {  # schema.org EventStatusType -> RFC 5545 STATUS
    "EventScheduled": "CONFIRMED", "EventRescheduled": "CONFIRMED",
    "EventMovedOnline": "CONFIRMED", "EventPostponed": "TENTATIVE",
    "EventCancelled": "CANCELLED",
}
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
                  "September", "October", "November", "December")
ZONE = "Europe/Berlin"  # the district's time: a timed event is shown and filed in it
DESCRIPTIONS = (SCHEMA.description, RDFS.comment, SKOS.note)  # what an event is, in words
PEOPLE = (SCHEMA.Person, FOAF.Person)


def _s(name: str) -> URIRef:
    return SCHEMA[name]


@dataclass
class Thing:
    """A linked thing an event names (organiser, place), with its names by language."""

    iri: URIRef
    name: str  # German (or whatever language the data has)
    address: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    person: bool = False

    def name_in(self, lang: str) -> str:
        """Its name in lang where the data has one, else the German one."""
        return self.names.get(lang) or self.name


@dataclass
class Event:
    """One event as a calendar, a list and a search engine need it."""

    iri: URIRef
    name: str
    label: str
    start: Literal
    end: Literal | None = None
    organizers: list[Thing] = field(default_factory=list)
    location: Thing | None = None
    status: str | None = None  # the schema.org status name, e.g. EventScheduled
    url: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # schema:name by language
    labels: dict[str, str] = field(default_factory=dict)  # rdfs:label by language
    descriptions: dict[str, str] = field(default_factory=dict)
    image: str | None = None
    attendance: str | None = None  # the schema.org mode name, e.g. OfflineEventAttendanceMode

    @property
    def precision(self) -> str:
        """year, month, day or time: how exactly the data dates the event."""
        datatype = self.start.datatype
        if datatype == XSD.gYear:
            return "year"
        if datatype == XSD.gYearMonth:
            return "month"
        if isinstance(self.start.toPython(), dt.datetime) and self.moment is not None:
            return "time"
        return "day" if isinstance(self.day, dt.date) else "unknown"

    @property
    def moment(self) -> dt.datetime | None:
        """When it starts, in Europe/Berlin, where the data gives a time with its offset
        (a time without an offset names no moment: it is then dated to its day only)."""
        return _moment(self.start)

    @property
    def end_moment(self) -> dt.datetime | None:
        """When it ends, in Europe/Berlin, where the data gives a time with its offset."""
        return _moment(self.end) if self.end is not None else None

    @property
    def day(self) -> dt.date | None:
        """The day it starts on, where the data gives one (in Berlin, for a time)."""
        moment = self.moment
        if moment is not None:
            return moment.date()
        value = self.start.toPython()
        if isinstance(value, dt.datetime):
            return value.date()
        return value if isinstance(value, dt.date) else None

    @property
    def last_day(self) -> dt.date | None:
        """The day it ends on (the start day unless a later end day is given)."""
        value = self.end.toPython() if self.end is not None else None
        moment = self.end_moment
        if moment is not None:
            value = moment.date()
        elif isinstance(value, dt.datetime):
            value = value.date()
        first = self.day
        if isinstance(value, dt.date) and (first is None or value >= first):
            return value
        return first  # no end, or one before the start (the gate refuses it; never shown)

    @property
    def year(self) -> int:
        """The year, whatever the precision."""
        return int(str(self.start)[:4]) if str(self.start)[:4].isdigit() else 0

    def upcoming(self, today: dt.date) -> bool:
        """Whether it is still to come (or going on): by day, or by month or year as known."""
        if self.precision in ("day", "time"):
            return (self.last_day or today) >= today
        if self.precision == "month":
            return (self.year, int(str(self.start)[5:7])) >= (today.year, today.month)
        return self.precision == "year" and self.year >= today.year

    def name_in(self, lang: str) -> str:
        """The name shown in lang: its label, else its name, in lang, else the German one."""
        return self.labels.get(lang) or self.names.get(lang) or self.label

    def when(self, lang: str = "de") -> str:
        """The date as far as it is known, in words (a time in Berlin time)."""
        text = str(self.start)
        if self.precision == "year":
            return text[:4]
        if self.precision == "month":
            month = int(text[5:7])
            names = GERMAN_MONTHS if lang == "de" else ENGLISH_MONTHS
            return f"{names[month - 1]} {text[:4]}"
        day = self.day
        if day is None:
            return text
        shown = _day_text(day, lang)
        moment = self.moment
        if moment is not None:
            shown += ", " + moment.strftime("%H:%M") + (" Uhr" if lang == "de" else "")
        last, end = self.last_day, self.end_moment
        if last and last != day:
            shown += " – " + _day_text(last, lang)
            if end is not None:
                shown += ", " + end.strftime("%H:%M") + (" Uhr" if lang == "de" else "")
        elif end is not None and moment is not None and end > moment:
            shown += " – " + end.strftime("%H:%M") + (" Uhr" if lang == "de" else "")
        return shown


def _day_text(day: dt.date, lang: str) -> str:
    return day.strftime("%d.%m.%Y") if lang == "de" else day.isoformat()


def _moment(value: Literal) -> dt.datetime | None:
    parsed = value.toPython()
    if not isinstance(parsed, dt.datetime) or parsed.tzinfo is None:
        return None
    from zoneinfo import ZoneInfo

    return parsed.astimezone(ZoneInfo(ZONE))


def _texts(graph: Graph, node, *props) -> dict[str, str]:
    """The first literal per language among props (in order): {"de": …, "en": …, "": …}."""
    found: dict[str, str] = {}
    for prop in props:
        for value in sorted(graph.objects(node, prop), key=str):
            if isinstance(value, Literal):
                found.setdefault(value.language or "", str(value))
    return found


def _name(graph: Graph, node) -> str:
    for prop in NAMES:
        values = list(graph.objects(node, prop))
        for wanted in ("de", None, "en"):
            for v in values:
                if isinstance(v, Literal) and v.language == wanted:
                    return str(v)
    return str(node).rsplit("/", 1)[-1]


def _names(graph: Graph, node) -> dict[str, str]:
    """A thing's names by language, the preferred property first."""
    found: dict[str, str] = {}
    for prop in NAMES:
        for lang, text in _texts(graph, node, prop).items():
            found.setdefault(lang, text)
    return found


def _thing(graph: Graph, node) -> Thing:
    return Thing(node, _name(graph, node), names=_names(graph, node),
                 person=any((node, RDF.type, kind) in graph for kind in PEOPLE))


EVENTS_QUERY = prologue(prefixes("schema", "rdfs", "skos")) + """
CONSTRUCT { ?e ?p ?o . ?x ?lp ?l . ?x a ?xt . ?x schema:address ?a . ?a ?ap ?av . }
WHERE {
  ?e a schema:Event .
  %s
  { ?e ?p ?o }
  UNION { ?e schema:organizer|schema:location ?x . ?x ?lp ?l .
          FILTER(?lp IN (rdfs:label, skos:prefLabel, schema:name)) }
  UNION { ?e schema:organizer ?x . ?x a ?xt }
  UNION { ?e schema:location ?x . ?x schema:address ?a . OPTIONAL { ?a ?ap ?av } }
}
"""


def _address(graph: Graph, place) -> dict[str, str]:
    """The place's postal address as schema.org PostalAddress fields (empty: none given)."""
    found: dict[str, str] = {}
    for address in graph.objects(place, _s("address")):
        if isinstance(address, Literal):  # an address written as one line of text
            found.setdefault("streetAddress", str(address))
            continue
        for p, o in sorted(graph.predicate_objects(address)):
            if str(p).startswith(SCHEMA) and p != RDF.type and isinstance(o, Literal):
                found.setdefault(str(p).rsplit("/", 1)[-1], str(o))
    return found


def _local(value) -> str | None:
    return str(value).rsplit("/", 1)[-1] if value is not None else None


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
        organizers = sorted((_thing(graph, o) for o in graph.objects(iri, _s("organizer"))),
                            key=lambda t: t.name)
        location = None
        for place in sorted(graph.objects(iri, _s("location")), key=str):
            location = _thing(graph, place)
            location.address = _address(graph, place)
            break
        status = _local(next(graph.objects(iri, _s("eventStatus")), None))
        attendance = _local(next(graph.objects(iri, _s("eventAttendanceMode")), None))
        url = next((str(o) for o in graph.objects(iri, _s("url"))), None)
        image = next((str(o) for o in sorted(graph.objects(iri, _s("image")), key=str)), None)
        labels = _texts(graph, iri, RDFS.label, SKOS.prefLabel)
        names = _texts(graph, iri, _s("name"))
        name = names.get("de") or names.get("") or next(iter(names.values()), None) \
            or _name(graph, iri)
        events.append(Event(iri, name, labels.get("de") or name, start, end, organizers,
                            location, status, url, names=names, labels=labels,
                            descriptions=_texts(graph, iri, *DESCRIPTIONS), image=image,
                            attendance=attendance))
    events.sort(key=lambda e: (str(e.start), e.label))
    return events


def _address_text(thing: Thing, lang: str = "de") -> str:
    """The place in one line, each part once: its name, then street and town unless the
    name already says them (a site is often named by its address)."""
    name = thing.name_in(lang)
    parts = [name]
    street = thing.address.get("streetAddress")
    town = " ".join(v for v in (thing.address.get("postalCode"),
                                thing.address.get("addressLocality")) if v)
    for part in (street, town):
        if part and not any(part.casefold() in seen.casefold() for seen in parts):
            parts.append(part)
    return ", ".join(parts)


def calendar(events: list[Event], page_of, stamp: dt.datetime, name: str,
             lang: str = "de") -> bytes:
    """An RFC 5545 calendar of the events dated to a day: all-day entries, or entries at
    their time in Europe/Berlin (with its VTIMEZONE) where the data gives one."""
    import icalendar

    cal = icalendar.Calendar()
    cal.add("prodid", "-//kiezgraph//Pankow//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", ZONE)
    for event in events:
        first, last = event.day, event.last_day  # both set when the precision is day or time
        if event.precision not in ("day", "time") or first is None or last is None:
            continue
        entry = icalendar.Event()
        entry.add("uid", str(event.iri))
        entry.add("dtstamp", stamp)
        moment, end = event.moment, event.end_moment
        if moment is not None:
            entry.add("dtstart", moment)
            if end is not None and end > moment:
                entry.add("dtend", end)
            elif end is None and last != first:  # ends on a later day, time not given
                entry.add("dtend", dt.datetime.combine(last + dt.timedelta(days=1),
                                                       dt.time(), moment.tzinfo))
        else:
            entry.add("dtstart", first)
            entry.add("dtend", last + dt.timedelta(days=1))  # exclusive: all-day
        entry.add("summary", event.name_in(lang))
        entry.add("url", page_of(event.iri))
        if event.location is not None:
            entry.add("location", _address_text(event.location, lang))
        lines = []
        if event.descriptions:
            lines.append(event.descriptions.get(lang) or event.descriptions.get("de")
                         or next(iter(event.descriptions.values())))
        if event.organizers:
            lines.append("Veranstalter / organiser: "
                         + ", ".join(o.name_in(lang) for o in event.organizers))
        if lines:
            entry.add("description", "\n\n".join(lines))
        if event.status in STATUS:
            entry.add("status", STATUS[event.status])
        cal.add_component(entry)
    if any(e.moment is not None for e in events):
        cal.subcomponents.insert(0, _berlin())  # before the entries that name it
    return cal.to_ical()


def _berlin():
    """The VTIMEZONE of Europe/Berlin as calendar programs expect it: two yearly rules (the
    EU's since 1996: summer time from the last Sunday of March, 02:00, to the last Sunday of
    October, 03:00). icalendar's add_missing_timezones lists every change up to 2038 as
    RDATEs instead, which vobject (and so some programs) read as winter time all year."""
    import icalendar

    zone = icalendar.Timezone()
    zone.add("tzid", ZONE)
    for kind, name, before, after, start, month in (
            (icalendar.TimezoneDaylight, "CEST", 1, 2, dt.datetime(1996, 3, 31, 2), 3),
            (icalendar.TimezoneStandard, "CET", 2, 1, dt.datetime(1996, 10, 27, 3), 10)):
        part = kind()
        part.add("tzname", name)
        part.add("tzoffsetfrom", dt.timedelta(hours=before))
        part.add("tzoffsetto", dt.timedelta(hours=after))
        part.add("dtstart", start)
        part.add("rrule", {"freq": "yearly", "bymonth": month, "byday": "-1SU"})
        zone.add_component(part)
    return zone


def event_jsonld(event: Event, page_of, data: dict | None = None, lang: str = "de",
                 shown=str) -> dict:
    """schema.org Event JSON-LD with what search engines read, wherever the data has it:
    name in the page's language, dates, place with its PostalAddress, organiser, status,
    attendance mode, description, url and image. `@id`s are the things' IRIs as this server
    names them (`shown`), the same IRIs every other document uses; `url` is the page."""
    data = dict(data or {"@context": "https://schema.org"})
    data["@type"] = "Event"
    data.setdefault("@id", shown(str(event.iri)))
    data["name"] = event.names.get(lang) or event.labels.get(lang) or data.get("name") or \
        event.name_in(lang)
    data["startDate"] = str(event.start)
    if event.end is not None:
        data["endDate"] = str(event.end)
    else:
        data.pop("endDate", None)
    data["url"] = event.url or page_of(event.iri)
    data["eventStatus"] = SCHEMA_HTTPS + (event.status or "EventScheduled")
    attendance = event.attendance
    if attendance is None and event.location is not None and event.location.address \
            and event.status != "EventMovedOnline":
        attendance = "OfflineEventAttendanceMode"  # at a place with a postal address
    if attendance is not None:
        data["eventAttendanceMode"] = SCHEMA_HTTPS + attendance
    description = event.descriptions.get(lang) or event.descriptions.get("de") or \
        event.descriptions.get("")
    if description:
        data["description"] = description
    if event.image:
        data["image"] = event.image
    if event.location is not None:
        place = {"@type": "Place", "@id": shown(str(event.location.iri)),
                 "name": event.location.name_in(lang)}
        if event.location.address:
            place["address"] = {"@type": "PostalAddress", **event.location.address}
        data["location"] = place
    if event.organizers:
        found = [{"@type": "Person" if o.person else "Organization", "@id": shown(str(o.iri)),
                  "name": o.name_in(lang), "url": page_of(o.iri)} for o in event.organizers]
        data["organizer"] = found[0] if len(found) == 1 else found
    return data
