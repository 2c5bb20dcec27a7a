"""Dates as people know them: a year, a month, a day, or a day and a time.

A workbook says „2024", „Mai 2024", „05.05.2022" or „05.05.2022 15:00"; the graph holds the
same as xsd:gYear, xsd:gYearMonth, xsd:date or xsd:dateTime. A time of day is Berlin's local
time, so it is written with the UTC offset Europe/Berlin had on that day (+01:00 or +02:00):
a dateTime without an offset is a time nobody can place. Nothing finer than what was said
is invented: „Mai 2024" stays a month.

The gate compares such dates by the span each covers (a month covers all its days), and
calls an end before its start only when it is before for certain.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from rdflib import Literal
from rdflib.namespace import XSD

__all__ = ["BERLIN", "DATED", "GERMAN_MONTHS", "as_cell", "certainly_before", "parse_when", "span"]

BERLIN = ZoneInfo("Europe/Berlin")
# The datatypes a date of an event (and of other dated things) may have, coarsest first.
DATED = (XSD.gYear, XSD.gYearMonth, XSD.date, XSD.dateTime)
_MONTHS = {name: number for number, names in enumerate((
    ("januar", "jan", "jänner", "january"), ("februar", "feb", "february"),
    ("märz", "maerz", "mär", "mrz", "march", "mar"), ("april", "apr"), ("mai", "may"),
    ("juni", "jun", "june"), ("juli", "jul", "july"), ("august", "aug"),
    ("september", "sep", "sept"), ("oktober", "okt", "october", "oct"),
    ("november", "nov"), ("dezember", "dez", "december", "dec")), start=1)
    for name in names}
GERMAN_MONTHS = ("Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
                 "September", "Oktober", "November", "Dezember")
_YEAR = re.compile(r"^(\d{4})$")
_MONTH_NAME = re.compile(r"^([^\W\d_]+)\.?\s+(\d{4})$")
_MONTH_NUMBER = re.compile(r"^(\d{1,2})[./](\d{4})$|^(\d{4})-(\d{2})$")
_GERMAN_DAY = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:,?\s+(\d{1,2})[:.](\d{2})"
                         r"(?::(\d{2}))?(?:\s*Uhr)?)?$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$")
_OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _at(day: dt.date, hour: int, minute: int, second: int) -> Literal:
    """A day and a Berlin wall-clock time as an xsd:dateTime with that day's UTC offset."""
    local = dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=BERLIN)
    return Literal(local.isoformat(), datatype=XSD.dateTime)


def _from_cell(value: dt.date, allow_time: bool) -> Literal | None:
    """A spreadsheet's own date or date-and-time cell (a time 00:00 is a whole day)."""
    if isinstance(value, dt.datetime):
        if value.time() == dt.time() or not allow_time:
            return None if value.time() != dt.time() else Literal(
                value.date().isoformat(), datatype=XSD.date)
        if value.tzinfo is not None:
            return Literal(value.isoformat(), datatype=XSD.dateTime)
        return _at(value.date(), value.hour, value.minute, value.second)
    return Literal(value.isoformat(), datatype=XSD.date)


def parse_when(value: object, allow_time: bool = True) -> Literal | None:
    """The typed literal for a date as a person writes it, or None where it is none.

    Accepts a date or date-and-time cell, „2024", „Mai 2024" (or „05.2024", „2024-05"),
    „05.05.2022" (or „2022-05-05") and, where allow_time, „05.05.2022 15:00" (Berlin time)."""
    if isinstance(value, dt.date):
        return _from_cell(value, allow_time)
    if isinstance(value, int | float) and float(value).is_integer():
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    try:
        if match := _YEAR.match(text):
            return Literal(match.group(1), datatype=XSD.gYear)
        if match := _MONTH_NAME.match(text):
            month = _MONTHS.get(match.group(1).casefold())
            return None if month is None else Literal(
                f"{match.group(2)}-{month:02d}", datatype=XSD.gYearMonth)
        if match := _MONTH_NUMBER.match(text):
            month_text, year = ((match.group(1), match.group(2)) if match.group(1)
                                else (match.group(4), match.group(3)))
            month = int(month_text)
            return Literal(f"{year}-{month:02d}", datatype=XSD.gYearMonth) \
                if 1 <= month <= 12 else None
        if match := _GERMAN_DAY.match(text):
            d, m, y, hour, minute, second = match.groups()
        elif match := _ISO_DAY.match(text):
            y, m, d, hour, minute, second = match.groups()
        else:
            return None
        day = dt.date(int(y), int(m), int(d))
        if hour is None:
            return Literal(day.isoformat(), datatype=XSD.date)
        if not allow_time:
            return None
        dt.time(int(hour), int(minute), int(second or 0))  # a time that exists
        return _at(day, int(hour), int(minute), int(second or 0))
    except ValueError:  # a day or time that does not exist (31.02., 25:00)
        return None


def span(literal: Literal) -> tuple[dt.datetime, dt.datetime] | None:
    """The first and last instant a dated literal covers (a day: in Berlin), None if it is
    no date of these kinds or not a valid one."""
    text, datatype = str(literal), literal.datatype
    try:
        if datatype == XSD.gYear and re.fullmatch(r"\d{4}", text):
            start = dt.datetime(int(text), 1, 1, tzinfo=BERLIN)
            end = dt.datetime(int(text) + 1, 1, 1, tzinfo=BERLIN)
        elif datatype == XSD.gYearMonth and re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = int(text[:4]), int(text[5:])
            start = dt.datetime(year, month, 1, tzinfo=BERLIN)
            end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=BERLIN)
        elif datatype == XSD.date and re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            start = dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), BERLIN)
            end = start + dt.timedelta(days=1)
        elif datatype == XSD.dateTime and _OFFSET.search(text):
            start = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            return start, start
        else:
            return None
    except ValueError:
        return None
    return start, end - dt.timedelta(microseconds=1)


def certainly_before(end: Literal, start: Literal) -> bool:
    """Whether end lies before start for certain: all of end's span before all of start's.

    („März 2024" is not before „2024": it may be the same year's March.)"""
    end_span, start_span = span(end), span(start)
    if end_span is None or start_span is None:
        return False
    return end_span[1] < start_span[0]


def as_cell(literal: Literal) -> dt.date | str | None:
    """A dated literal as a workbook cell holds it: a day as a date cell, a time as Berlin
    wall-clock text („05.05.2022 15:00"), a month as „Mai 2024", a year as „2024"."""
    found = span(literal)
    if found is None:
        return None
    start = found[0]
    if literal.datatype == XSD.gYear:
        return f"{start.year}"
    if literal.datatype == XSD.gYearMonth:
        return f"{GERMAN_MONTHS[start.month - 1]} {start.year}"
    if literal.datatype == XSD.date:
        return start.date()
    return start.astimezone(BERLIN).strftime("%d.%m.%Y %H:%M")
